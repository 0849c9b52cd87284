//! Direct (instance) messages over real sockets.

use std::time::Duration;

use simnet::protocol::{
    codes, CommandError, Event, HandshakeState, InstanceMessageRequest, InstanceMessageResponse,
    Misbehaviour, NodeConfig, NodeError, NodeKeys, Responder, SendError, SendFailure,
};

use crate::util::{connect, LoopbackNode};

fn request(payload: &[u8]) -> InstanceMessageRequest {
    InstanceMessageRequest {
        protocol: "test/echo".into(),
        payload: payload.to_vec().into(),
        metadata: Some(b"meta".to_vec().into()),
    }
}

/// Sends from `a` to `b`, lets `b`'s application answer with `response`, and
/// returns what `a` received.
async fn round_trip(response: InstanceMessageResponse) -> InstanceMessageResponse {
    let mut a = LoopbackNode::start(NodeConfig::default()).await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut a, &mut b).await;

    let id = a.handle.send(b.peer_id(), request(b"ping")).await.unwrap();
    let delivered = b
        .wait_for("the request", |e| matches!(e, Event::Request { .. }))
        .await;
    let Event::Request {
        peer,
        id: inbound,
        request: got,
    } = delivered
    else {
        unreachable!()
    };
    assert_eq!(peer, a.peer_id());
    assert_eq!(got, request(b"ping"));
    b.handle.respond(inbound, response).await.unwrap();

    let outcome = a
        .wait_for(
            "the send's outcome",
            |e| matches!(e, Event::SendOutcome { id: i, .. } if *i == id),
        )
        .await;
    let Event::SendOutcome { result, peer, .. } = outcome else {
        unreachable!()
    };
    assert_eq!(peer, b.peer_id());
    result.expect("a response")
}

#[tokio::test]
async fn success_response_reaches_the_sender() {
    let response = InstanceMessageResponse::Success {
        data: Some(b"pong".to_vec().into()),
    };
    assert_eq!(round_trip(response.clone()).await, response);
    let empty = InstanceMessageResponse::Success { data: None };
    assert_eq!(round_trip(empty.clone()).await, empty);
}

#[tokio::test]
async fn protocol_response_reaches_the_sender() {
    let response = InstanceMessageResponse::Protocol {
        data: vec![1, 2, 3].into(),
    };
    assert_eq!(round_trip(response.clone()).await, response);
}

#[tokio::test]
async fn error_response_reaches_the_sender() {
    let response = InstanceMessageResponse::Error {
        code: 418,
        message: "teapot".into(),
    };
    assert_eq!(round_trip(response.clone()).await, response);
}

#[tokio::test]
async fn sending_to_an_unverified_peer_is_refused_locally() {
    let a = LoopbackNode::start(NodeConfig::default()).await;
    let b = LoopbackNode::start(NodeConfig::default()).await;
    assert_eq!(
        a.handle.send(b.peer_id(), request(b"x")).await,
        Err(SendError::NotVerified(b.peer_id()))
    );
}

#[tokio::test]
async fn message_from_an_unverified_peer_is_rejected_with_403() {
    let mut honest = LoopbackNode::start(NodeConfig {
        responder: Responder::Echo,
        ..NodeConfig::default()
    })
    .await;
    let mut rogue = LoopbackNode::start(NodeConfig {
        misbehaviour: Misbehaviour::SkipHandshake,
        ..NodeConfig::default()
    })
    .await;
    rogue.handle.dial(honest.address.clone()).await.unwrap();
    let peer = honest.peer_id();
    rogue
        .wait_for(
            "a connection",
            |e| matches!(e, Event::ConnectionEstablished { peer: p, .. } if *p == peer),
        )
        .await;
    let id = rogue
        .handle
        .send(honest.peer_id(), request(b"sneaky"))
        .await
        .unwrap();
    let outcome = rogue
        .wait_for(
            "the outcome",
            |e| matches!(e, Event::SendOutcome { id: i, .. } if *i == id),
        )
        .await;
    assert_eq!(
        outcome,
        Event::SendOutcome {
            id,
            peer: honest.peer_id(),
            result: Ok(InstanceMessageResponse::Error {
                code: codes::HANDSHAKE_REQUIRED,
                message: "handshake required".into()
            }),
        }
    );
    honest
        .wait_for("the rejection", |e| {
            matches!(e, Event::RequestRejected { code: 403, .. })
        })
        .await;
    assert!(!honest
        .seen
        .iter()
        .any(|e| matches!(e, Event::Request { .. })));
    assert_eq!(
        honest
            .handle
            .state()
            .await
            .unwrap()
            .counters
            .rejected_unverified,
        1
    );
}

#[tokio::test]
async fn oversized_request_is_refused_before_sending() {
    let mut a = LoopbackNode::start(NodeConfig {
        max_message_size: 1024,
        ..NodeConfig::default()
    })
    .await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut a, &mut b).await;
    let result = a.handle.send(b.peer_id(), request(&[0; 2048])).await;
    assert!(
        matches!(result, Err(SendError::TooLarge { max: 1024, .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn send_is_retried_across_a_lost_connection() {
    let mut a = LoopbackNode::start(NodeConfig::default()).await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut a, &mut b).await;

    let id = a
        .handle
        .send(b.peer_id(), request(b"important"))
        .await
        .unwrap();
    b.wait_for("the first attempt", |e| matches!(e, Event::Request { .. }))
        .await;
    // The connection drops before b answers.
    b.handle.disconnect(a.peer_id()).await.unwrap();
    a.wait_for(
        "the retry notice",
        |e| matches!(e, Event::SendRetrying { id: i, .. } if *i == id),
    )
    .await;
    // a redials b by itself, verifies again, and sends again.
    a.wait_handshake(b.peer_id(), HandshakeState::Verified)
        .await;
    let again = b
        .wait_for("the second attempt", |e| matches!(e, Event::Request { .. }))
        .await;
    let Event::Request {
        id: inbound,
        request: got,
        ..
    } = again
    else {
        unreachable!()
    };
    assert_eq!(got.payload, &b"important"[..]);
    b.handle
        .respond(inbound, InstanceMessageResponse::Success { data: None })
        .await
        .unwrap();
    a.wait_for(
        "the outcome",
        |e| matches!(e, Event::SendOutcome { id: i, .. } if *i == id),
    )
    .await;
    a.drain_for(Duration::from_millis(300)).await;
    let outcomes: Vec<_> = a
        .seen
        .iter()
        .filter(|e| matches!(e, Event::SendOutcome { id: i, .. } if *i == id))
        .collect();
    assert_eq!(outcomes.len(), 1, "exactly one outcome: {outcomes:?}");
    assert!(matches!(
        outcomes[0],
        Event::SendOutcome { result: Ok(_), .. }
    ));
}

#[tokio::test]
async fn send_gives_up_at_its_deadline() {
    let mut a = LoopbackNode::start(NodeConfig {
        send_deadline: Duration::from_millis(1500),
        redial_backoff: Duration::from_millis(200),
        ..NodeConfig::default()
    })
    .await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut a, &mut b).await;
    let id = a.handle.send(b.peer_id(), request(b"lost")).await.unwrap();
    b.wait_for("the request", |e| matches!(e, Event::Request { .. }))
        .await;
    b.handle.shutdown().await.unwrap();
    let outcome = a
        .wait_for(
            "the outcome",
            |e| matches!(e, Event::SendOutcome { id: i, .. } if *i == id),
        )
        .await;
    assert!(
        matches!(
            outcome,
            Event::SendOutcome {
                result: Err(SendFailure::DeadlineExceeded { .. }),
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(a.handle.state().await.unwrap().pending_sends, 0);
}

#[tokio::test]
async fn a_response_no_peer_could_decode_is_refused_and_the_request_stays_answerable() {
    let config = NodeConfig {
        max_message_size: 4096,
        ..NodeConfig::default()
    };
    let mut a = LoopbackNode::start(config.clone()).await;
    let mut b = LoopbackNode::start(config).await;
    connect(&mut a, &mut b).await;

    let id = a.handle.send(b.peer_id(), request(b"ping")).await.unwrap();
    let Event::Request { id: inbound, .. } = b
        .wait_for("the request", |e| matches!(e, Event::Request { .. }))
        .await
    else {
        unreachable!()
    };
    let too_large = InstanceMessageResponse::Success {
        data: Some(vec![0; 5000].into()),
    };
    assert!(matches!(
        b.handle.respond(inbound, too_large).await,
        Err(CommandError::ResponseTooLarge { max: 4096, .. })
    ));
    let long_message = InstanceMessageResponse::Error {
        code: 500,
        message: "x".repeat(1025),
    };
    assert!(matches!(
        b.handle.respond(inbound, long_message).await,
        Err(CommandError::ResponseFieldTooLong {
            field: "error message",
            len: 1025,
            max: 1024
        })
    ));
    let fits = InstanceMessageResponse::Success {
        data: Some(b"pong".to_vec().into()),
    };
    b.handle.respond(inbound, fits.clone()).await.unwrap();
    let Event::SendOutcome { result, .. } = a
        .wait_for(
            "the send's outcome",
            |e| matches!(e, Event::SendOutcome { id: i, .. } if *i == id),
        )
        .await
    else {
        unreachable!()
    };
    assert_eq!(result.expect("a response"), fits);
    assert_eq!(b.handle.state().await.unwrap().counters.malformed, 0);
}

#[tokio::test]
async fn a_fixed_response_no_peer_could_decode_is_refused_when_the_node_is_built() {
    let config = NodeConfig {
        responder: Responder::Fixed(InstanceMessageResponse::Error {
            code: 500,
            message: "x".repeat(1025),
        }),
        ..NodeConfig::default()
    };
    let built = simnet::protocol::loopback::spawn(config, NodeKeys::generate()).await;
    assert!(matches!(
        built,
        Err(simnet::protocol::loopback::LoopbackError::Node(
            NodeError::Config(_)
        ))
    ));
}

#[tokio::test]
async fn a_submitted_send_has_its_id_at_once_and_exactly_one_outcome_even_when_refused() {
    let mut a = LoopbackNode::start(NodeConfig::default()).await;
    let mut b = LoopbackNode::start(NodeConfig {
        responder: Responder::Echo,
        ..NodeConfig::default()
    })
    .await;

    // Not verified yet: the refusal is the submitted send's outcome.
    let early = a
        .handle
        .submit(b.peer_id(), request(b"early"))
        .await
        .unwrap();
    let refused = a
        .wait_for("the refusal", |e| matches!(e, Event::SendOutcome { .. }))
        .await;
    assert_eq!(
        refused,
        Event::SendOutcome {
            id: early,
            peer: b.peer_id(),
            result: Err(SendFailure::Refused(SendError::NotVerified(b.peer_id()))),
        }
    );

    connect(&mut a, &mut b).await;
    // Ids come from the same counter as `send`'s, so none repeats.
    let sent = a.handle.send(b.peer_id(), request(b"sent")).await.unwrap();
    let submitted = [
        a.handle.submit(b.peer_id(), request(b"one")).await.unwrap(),
        a.handle.submit(b.peer_id(), request(b"two")).await.unwrap(),
    ];
    let mut ids = vec![early, sent, submitted[0], submitted[1]];
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "every id is new: {ids:?}");
    let mut answered = Vec::new();
    while answered.len() < 3 {
        if let Event::SendOutcome { id, result, .. } = a
            .wait_for("an outcome", |e| matches!(e, Event::SendOutcome { .. }))
            .await
        {
            assert!(result.is_ok(), "{id:?}: {result:?}");
            answered.push(id);
        }
    }
    answered.sort();
    let mut expected = vec![sent, submitted[0], submitted[1]];
    expected.sort();
    assert_eq!(answered, expected);
}
