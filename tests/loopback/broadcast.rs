//! Gossipsub broadcast over real sockets.

use simnet::protocol::{Event, NodeConfig};

use crate::util::{connect, LoopbackNode};

#[tokio::test]
async fn broadcast_reaches_every_subscriber() {
    let mut nodes = Vec::new();
    for _ in 0..4 {
        nodes.push(LoopbackNode::start(NodeConfig::default()).await);
    }
    // A star around node 0, plus 1–2, so one message has two paths.
    let (hub, rest) = nodes.split_at_mut(1);
    for node in rest.iter_mut() {
        connect(node, &mut hub[0]).await;
    }
    let (left, right) = rest.split_at_mut(1);
    connect(&mut left[0], &mut right[0]).await;
    for node in &nodes {
        node.handle.subscribe("news").await.unwrap();
    }

    // Subscriptions travel asynchronously: publish once the hub knows all three.
    for _ in 0..3 {
        nodes[0]
            .wait_for(
                "a subscription",
                |e| matches!(e, Event::Subscribed { topic, .. } if topic == "news"),
            )
            .await;
    }
    nodes[0]
        .handle
        .broadcast("news", b"hello all".to_vec())
        .await
        .unwrap();
    let author = nodes[0].peer_id();
    for node in nodes.iter_mut().skip(1) {
        let got = node
            .wait_for("the broadcast", |e| matches!(e, Event::Broadcast { .. }))
            .await;
        let Event::Broadcast {
            topic,
            author: a,
            data,
            ..
        } = got
        else {
            unreachable!()
        };
        assert_eq!(topic, "news");
        assert_eq!(a, Some(author));
        assert_eq!(data, b"hello all");
    }
}
