//! `simnet demo`: three honest nodes on 127.0.0.1 verify each other, exchange
//! each kind of direct response, broadcast, and refuse a peer with a forged
//! handshake; every step is a check that can fail. It needs no scenario file,
//! so it is the quickest look at the protocol on real sockets;
//! `simnet run FILE --real` runs scenario files over 127.0.0.1 the same way.

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use simnet::protocol::{
    loopback::{self, LoopbackError},
    Event, HandshakeFailure, HandshakeState, InstanceMessageRequest, InstanceMessageResponse,
    Misbehaviour, NodeConfig, NodeHandle, NodeKeys,
};
use tokio::time::{timeout_at, Instant};

use super::{EXIT_FAIL, EXIT_PASS};
use crate::Global;

/// Run three real nodes on 127.0.0.1 through handshake, direct messages,
/// broadcast and a forged-handshake rejection; print each check.
///
/// Exits 0 when every check passes, 1 when one fails, 2 when the nodes
/// cannot start.
///
/// Example: simnet demo
#[derive(clap::Args, Debug)]
pub(crate) struct DemoArgs {}

impl DemoArgs {
    /// Runs the demo and prints each check; returns the exit code.
    pub(crate) fn exec(self, _global: &Global) -> anyhow::Result<u8> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let checks = runtime.block_on(run())?;
        let failed = checks.iter().filter(|c| c.failure.is_some()).count();
        for check in &checks {
            match &check.failure {
                None => println!("pass  {}", check.name),
                Some(why) => println!("FAIL  {}: {why}", check.name),
            }
        }
        println!("{} passed, {} failed", checks.len() - failed, failed);
        Ok(if failed == 0 { EXIT_PASS } else { EXIT_FAIL })
    }
}

/// Longest the demo waits for any one event.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// One check of the demo and whether it held.
#[derive(Debug, Clone)]
struct Check {
    /// What was checked.
    name: String,
    /// `None` if it held, otherwise what went wrong.
    failure: Option<String>,
}

struct DemoNode {
    handle: NodeHandle,
    address: Multiaddr,
}

impl DemoNode {
    async fn start(config: NodeConfig) -> Result<Self, LoopbackError> {
        let (handle, address) = loopback::spawn(config, NodeKeys::generate()).await?;
        Ok(Self { handle, address })
    }

    fn peer(&self) -> PeerId {
        self.handle.peer_id()
    }
}

/// Reads events until `pick` returns a value or [`STEP_TIMEOUT`] passes.
async fn wait<T>(handle: &mut NodeHandle, mut pick: impl FnMut(&Event) -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    while let Ok(Some(event)) = timeout_at(deadline, handle.next_event()).await {
        if let Some(found) = pick(&event) {
            return Some(found);
        }
    }
    None
}

async fn verified(handle: &mut NodeHandle, peer: PeerId) -> Result<(), String> {
    let outcome = wait(handle, |e| match e {
        Event::Handshake {
            peer: p,
            state: HandshakeState::Verified,
            ..
        } if *p == peer => Some(Ok(())),
        Event::Handshake {
            peer: p,
            state: HandshakeState::Failed,
            failure,
            ..
        } if *p == peer => Some(Err(format!("handshake with {peer} failed: {failure:?}"))),
        _ => None,
    })
    .await;
    outcome.unwrap_or_else(|| Err(format!("{peer} did not verify in time")))
}

fn check(checks: &mut Vec<Check>, name: &str, result: Result<(), String>) {
    checks.push(Check {
        name: name.to_owned(),
        failure: result.err(),
    });
}

/// Runs the demo and returns every check in order.
async fn run() -> Result<Vec<Check>, LoopbackError> {
    let mut checks = Vec::new();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(DemoNode::start(NodeConfig::default()).await?);
    }

    for (i, j) in [(0, 1), (1, 2), (2, 0)] {
        let (a, b) = two_mut(&mut nodes, i, j);
        let result = match a.handle.dial(b.address.clone()).await {
            Ok(()) => {
                let (pa, pb) = (a.peer(), b.peer());
                let first = verified(&mut a.handle, pb).await;
                let second = verified(&mut b.handle, pa).await;
                first.and(second)
            }
            Err(e) => Err(e.to_string()),
        };
        check(&mut checks, "handshake: both sides verified", result);
    }

    for response in [
        InstanceMessageResponse::Success {
            data: Some(bytes::Bytes::from_static(b"pong")),
        },
        InstanceMessageResponse::Protocol {
            data: bytes::Bytes::from_static(b"proto"),
        },
        InstanceMessageResponse::Error {
            code: 418,
            message: "teapot".into(),
        },
    ] {
        let name = format!("direct message answered with {}", response.kind());
        let (alice, bob) = two_mut(&mut nodes, 0, 1);
        let result = round_trip(alice, bob, response).await;
        check(&mut checks, &name, result);
    }

    let result = broadcast(&mut nodes).await;
    check(&mut checks, "broadcast reached both other nodes", result);

    let forger = DemoNode::start(NodeConfig {
        misbehaviour: Misbehaviour::ForgeSignature,
        ..NodeConfig::default()
    })
    .await?;
    let alice = &mut nodes[0];
    let result = match forger.handle.dial(alice.address.clone()).await {
        Ok(()) => {
            let fp = forger.peer();
            wait(&mut alice.handle, |e| match e {
                Event::Handshake {
                    peer,
                    failure: Some(HandshakeFailure::InvalidSignature),
                    ..
                } if *peer == fp => Some(()),
                _ => None,
            })
            .await
            .ok_or_else(|| "forged handshake was not rejected".to_owned())
        }
        Err(e) => Err(e.to_string()),
    };
    check(&mut checks, "forged handshake rejected", result);

    for node in nodes.iter().chain([&forger]) {
        let _ = node.handle.shutdown().await;
    }
    Ok(checks)
}

async fn round_trip(
    from: &mut DemoNode,
    to: &mut DemoNode,
    response: InstanceMessageResponse,
) -> Result<(), String> {
    let request = InstanceMessageRequest {
        protocol: "demo/echo".into(),
        payload: bytes::Bytes::from_static(b"ping"),
        metadata: None,
    };
    let id = from
        .handle
        .send(to.peer(), request)
        .await
        .map_err(|e| e.to_string())?;
    let inbound = wait(&mut to.handle, |e| match e {
        Event::Request { id, .. } => Some(*id),
        _ => None,
    })
    .await
    .ok_or("request never arrived")?;
    to.handle
        .respond(inbound, response.clone())
        .await
        .map_err(|e| e.to_string())?;
    let got = wait(&mut from.handle, |e| match e {
        Event::SendOutcome { id: i, result, .. } if *i == id => Some(result.clone()),
        _ => None,
    })
    .await
    .ok_or("no outcome")?;
    match got {
        Ok(r) if r == response => Ok(()),
        other => Err(format!("expected {response:?}, got {other:?}")),
    }
}

/// Mutable references to two different nodes.
fn two_mut(nodes: &mut [DemoNode], i: usize, j: usize) -> (&mut DemoNode, &mut DemoNode) {
    assert_ne!(i, j, "two different nodes");
    if i < j {
        let (left, right) = nodes.split_at_mut(j);
        (&mut left[i], &mut right[0])
    } else {
        let (left, right) = nodes.split_at_mut(i);
        (&mut right[0], &mut left[j])
    }
}

async fn broadcast(nodes: &mut [DemoNode]) -> Result<(), String> {
    for node in nodes.iter() {
        node.handle
            .subscribe("demo")
            .await
            .map_err(|e| e.to_string())?;
    }
    let publisher = &mut nodes[0];
    for _ in 0..2 {
        wait(&mut publisher.handle, |e| {
            matches!(e, Event::Subscribed { .. }).then_some(())
        })
        .await
        .ok_or("peers never subscribed")?;
    }
    publisher
        .handle
        .broadcast("demo", b"hello".to_vec())
        .await
        .map_err(|e| e.to_string())?;
    for node in nodes.iter_mut().skip(1) {
        wait(&mut node.handle, |e| {
            matches!(e, Event::Broadcast { data, .. } if data == b"hello").then_some(())
        })
        .await
        .ok_or("broadcast not delivered")?;
    }
    Ok(())
}
