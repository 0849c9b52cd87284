//! One node on the reference implementation, driven like a simnet node:
//! the same [`Command`]s in, the same [`Event`]s out.
//!
//! The adapter plays the part of the crate's `NetworkService` (which cannot
//! run here: it binds real sockets and always starts UPnP), re-written from
//! what the service does per event, not copied: it retries the handshake
//! with every connected, unverified, unbanned peer every 3 s; creates the
//! peer manager's record of a peer it dialed, or that identified itself;
//! bans for an hour a peer whose identify lacks the blueprint protocol; and
//! forgets a peer when its last connection closes. Sends go only to verified
//! peers, wrapped in the service's `ProtocolMessage` envelope; like the
//! service, a send to an unverified peer is accepted and dropped.
//!
//! Events come from the swarm ([`swarm`]), from the crate's log
//! ([`super::capture`]), from its peer manager's events and verified set,
//! and from the messages it hands over ([`observe`]).

mod commands;
mod observe;
mod swarm;

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::Arc,
    task::Poll,
    time::Duration,
};

use blueprint_networking::{
    blueprint_protocol::BlueprintProtocolBehaviour,
    discovery::{PeerEvent, PeerManager},
    types::ProtocolMessage,
};
use futures::StreamExt;
use libp2p::{
    request_response::{OutboundRequestId, ResponseChannel},
    swarm::{ConnectionId, SwarmEvent},
    Multiaddr, PeerId, Swarm,
};
use tokio::{
    sync::{broadcast, mpsc},
    time::Instant,
};

use super::{
    adversary::Adversary,
    behaviour::{RefBehaviour, RefBehaviourEvent, Response},
    capture::{Capture, Observed},
    keys::{Directory, Key},
};
use crate::protocol::{
    control::{Command, Counters},
    event::{Event, SendId},
    sends::SendIds,
    HandshakeFailure, HandshakeState,
};

/// How often the service retries the handshake with unverified peers
/// (`HANDSHAKE_RETRY_INTERVAL`, 3 s, although its comment says 5).
pub const HANDSHAKE_RETRY: Duration = Duration::from_secs(3);
/// How long the service bans a peer whose identify lacks the protocol.
pub const UNSUPPORTED_BAN: Duration = Duration::from_secs(3600);

/// What the adapter knows of one connected peer.
#[derive(Debug)]
struct Session {
    connections: u32,
    /// The state last reported in an [`Event::Handshake`].
    state: HandshakeState,
    failure: Option<HandshakeFailure>,
}

/// A ban the peer manager reported, for the state snapshot.
#[derive(Debug)]
struct Ban {
    reason: String,
    until: Option<Instant>,
}

/// A reference node and the adapter around it.
pub struct RefNode {
    swarm: Swarm<RefBehaviour>,
    peers: Arc<PeerManager<Key>>,
    peer_events: broadcast::Receiver<PeerEvent>,
    messages: crossbeam_channel::Receiver<ProtocolMessage>,
    capture: Capture,
    directory: Directory,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    outbox: VecDeque<Event>,
    protocol_name: String,
    connections: HashMap<ConnectionId, u64>,
    next_connection: u64,
    sessions: BTreeMap<PeerId, Session>,
    bans: BTreeMap<PeerId, Ban>,
    /// Probe requests in flight.
    sends: HashMap<OutboundRequestId, (SendId, PeerId)>,
    /// Sends accepted for unverified peers and dropped, as the service does.
    dropped_sends: usize,
    send_ids: SendIds,
    /// Set on a reference-dialect adversary.
    adversary: Option<Adversary>,
    /// An adversary's own handshake requests in flight.
    handshakes: HashMap<OutboundRequestId, PeerId>,
    /// Requests an adversary holds unanswered.
    held: Vec<ResponseChannel<Response>>,
    next_message_id: u64,
    next_inbound: u64,
    /// Topic names by the hash gossipsub prints, for the topics this node
    /// subscribed or published to.
    topics: BTreeMap<String, String>,
    /// Deliveries the log announced, waiting for their message.
    announced: VecDeque<Observed>,
    listen_addresses: Vec<Multiaddr>,
    counters: Counters,
}

/// Everything a [`RefNode`] is made of, built by [`super::start`].
pub(crate) struct RefParts {
    pub(crate) swarm: Swarm<RefBehaviour>,
    pub(crate) peers: Arc<PeerManager<Key>>,
    pub(crate) messages: crossbeam_channel::Receiver<ProtocolMessage>,
    pub(crate) capture: Capture,
    pub(crate) directory: Directory,
    pub(crate) commands: mpsc::Receiver<Command>,
    pub(crate) events: mpsc::Sender<Event>,
    pub(crate) protocol_name: String,
    pub(crate) send_ids: SendIds,
    pub(crate) adversary: Option<Adversary>,
}

impl RefNode {
    /// Assembles the node.
    pub(crate) fn new(parts: RefParts) -> Self {
        Self {
            peer_events: parts.peers.subscribe(),
            swarm: parts.swarm,
            peers: parts.peers,
            messages: parts.messages,
            capture: parts.capture,
            directory: parts.directory,
            commands: parts.commands,
            events: parts.events,
            outbox: VecDeque::new(),
            protocol_name: parts.protocol_name,
            connections: HashMap::new(),
            next_connection: 0,
            sessions: BTreeMap::new(),
            bans: BTreeMap::new(),
            sends: HashMap::new(),
            dropped_sends: 0,
            send_ids: parts.send_ids,
            adversary: parts.adversary,
            handshakes: HashMap::new(),
            held: Vec::new(),
            next_message_id: 0,
            next_inbound: 0,
            topics: BTreeMap::new(),
            announced: VecDeque::new(),
            listen_addresses: Vec::new(),
            counters: Counters::default(),
        }
    }

    /// Runs until shut down or until every control is dropped.
    pub async fn run(mut self) {
        let mut retry = tokio::time::interval_at(Instant::now() + HANDSHAKE_RETRY, HANDSHAKE_RETRY);
        retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let events = self.events.clone();
        loop {
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.on_command(command),
                },
                permit = events.reserve(), if !self.outbox.is_empty() => match permit {
                    Ok(permit) => {
                        if let Some(event) = self.outbox.pop_front() {
                            permit.send(event);
                        }
                    }
                    Err(_) => self.outbox.clear(),
                },
                event = next_swarm_event(&mut self.swarm, &self.capture) => {
                    if let Some(event) = event {
                        self.on_swarm_event(event);
                    }
                }
                _ = retry.tick() => self.retry_handshakes(),
            }
            self.observe();
        }
        while let Some(event) = self.outbox.pop_front() {
            if events.send(event).await.is_err() {
                break;
            }
        }
    }

    /// The crate's protocol behaviour; `None` on an adversary.
    fn protocol(&mut self) -> Option<&mut BlueprintProtocolBehaviour<Key>> {
        self.swarm.behaviour_mut().protocol.as_mut()
    }

    fn emit(&mut self, event: Event) {
        self.outbox.push_back(event);
    }

    /// The service's retry: a handshake request to every connected peer
    /// that is neither verified nor banned.
    fn retry_handshakes(&mut self) {
        if self.adversary.is_some() {
            return;
        }
        let waiting: Vec<PeerId> = self
            .sessions
            .keys()
            .filter(|p| !self.peers.is_peer_verified(p) && !self.peers.is_banned(p))
            .copied()
            .collect();
        for peer in waiting {
            if let Some(protocol) = self.protocol() {
                let _ = protocol.send_handshake(&peer);
            }
            self.set_handshake(peer, HandshakeState::OutboundPending, None);
        }
    }

    /// Reports `peer`'s handshake in `state` if that is news.
    fn set_handshake(
        &mut self,
        peer: PeerId,
        state: HandshakeState,
        failure: Option<HandshakeFailure>,
    ) {
        let Some(session) = self.sessions.get_mut(&peer) else {
            return;
        };
        if session.state == state && session.failure == failure {
            return;
        }
        session.state = state;
        session.failure = failure.clone();
        let key = match state {
            HandshakeState::Verified => self.proven_key(&peer),
            _ => None,
        };
        self.emit(Event::Handshake {
            peer,
            state,
            failure,
            key,
        });
    }

    /// The simnet instance key of the node whose k256 key `peer` proved.
    fn proven_key(&self, peer: &PeerId) -> Option<[u8; 32]> {
        self.directory
            .all()
            .into_iter()
            .find(|(_, key)| self.peers.get_peer_id_from_verification_id_key(key) == Some(*peer))
            .map(|(simnet, _)| simnet)
    }
}

/// The swarm's next event, or `None` as soon as a poll made the crate do
/// something without one (it verified a peer, delivered a message): its
/// behaviour works inside the swarm's poll and reports nothing, so the
/// adapter looks after every poll in which it logged.
async fn next_swarm_event(
    swarm: &mut Swarm<RefBehaviour>,
    capture: &Capture,
) -> Option<SwarmEvent<RefBehaviourEvent>> {
    std::future::poll_fn(|cx| match swarm.poll_next_unpin(cx) {
        Poll::Ready(event) => Poll::Ready(event),
        Poll::Pending if capture.take_activity() => Poll::Ready(None),
        Poll::Pending => Poll::Pending,
    })
    .await
}
