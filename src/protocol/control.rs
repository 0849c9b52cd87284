//! How the outside world drives a [`super::node::Node`]: commands in through a
//! cloneable [`Control`], events out through [`NodeHandle::next_event`].
//!
//! Commands that can be refused answer through a oneshot channel. The node
//! never waits on the application to take events (it queues them and pauses
//! reading the network when the queue is full), so awaiting a command's answer
//! while not reading events cannot deadlock.

use std::{collections::BTreeMap, time::Duration};

use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use super::{
    event::{Event, InboundId, SendError, SendId},
    handshake::{HandshakeFailure, HandshakeState},
    sends::SendIds,
    wire::{InstanceMessageRequest, InstanceMessageResponse, Wire},
};

/// Why a command other than a send failed.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    /// The node has shut down.
    #[error("node shut down")]
    Shutdown,
    /// The address could not be listened on or dialed.
    #[error("transport: {0}")]
    Transport(String),
    /// No pending inbound request has this id (answered already, or timed out).
    #[error("no pending request {0:?}")]
    UnknownRequest(InboundId),
    /// The broadcast could not be published (no subscribed peers, too large, …).
    #[error("broadcast not published: {0}")]
    Publish(String),
    /// The response's encoding is larger than the direct-message frame
    /// limit; the request is still pending and may be answered again.
    #[error("response of {size} bytes exceeds the message size limit of {max}")]
    ResponseTooLarge {
        /// Encoded size.
        size: usize,
        /// The limit (`NodeConfig::max_message_size`).
        max: u32,
    },
    /// A response field is longer than any peer's decoder accepts; the
    /// request is still pending and may be answered again.
    #[error("response {field} is {len} bytes, the limit is {max}")]
    ResponseFieldTooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The decoders' limit.
        max: usize,
    },
}

/// Checks that a response can be sent and decoded under a frame limit of
/// `max` bytes: what `respond` and a fixed responder must pass.
pub fn check_response(response: &InstanceMessageResponse, max: u32) -> Result<(), CommandError> {
    if let Some((field, len, max)) = response.field_over_limit() {
        return Err(CommandError::ResponseFieldTooLong { field, len, max });
    }
    let size = response.encoded_len();
    if size > max as usize {
        return Err(CommandError::ResponseTooLarge { size, max });
    }
    Ok(())
}

/// Counters of rejected or refused input; observable in [`NodeState`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Frames that did not decode or exceeded the size limit.
    pub malformed: u64,
    /// Direct requests answered 403 because the sender was not verified.
    pub rejected_unverified: u64,
    /// Connections refused by a ban or limit.
    pub refused_connections: u64,
    /// Handshakes that ended `Failed`.
    pub handshake_failures: u64,
    /// Gossip messages the node rejected (forwarder not verified or banned,
    /// author banned or not allowed). Gossip that gossipsub itself drops from
    /// an unverified peer, before validation, is not counted.
    pub broadcasts_rejected: u64,
    /// Direct requests delivered to the application.
    pub requests_delivered: u64,
    /// Direct requests answered 429: over the sender's rate.
    pub rate_limited: u64,
    /// Direct requests answered 429: too many of the sender's unanswered.
    pub in_flight_limited: u64,
    /// Gossipsub reports of a peer whose send queue was full, so broadcasts
    /// to it were dropped (gossipsub's `SlowPeer`).
    pub gossip_slow_peer: u64,
    /// Most items held at once for peers and the application (queued events,
    /// unanswered requests, pending sends, rate-window entries, held
    /// handshake channels): what a flood would grow if a bound were missing.
    pub peak_buffered: u64,
}

/// One peer as the node sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerState {
    /// Handshake state.
    pub handshake: HandshakeState,
    /// Why it failed, if it did.
    pub failure: Option<HandshakeFailure>,
    /// Established connections.
    pub connections: u32,
    /// The instance public key the peer proved in this session, once its
    /// signature checked out (set when verified).
    pub key: Option<[u8; 32]>,
}

/// One active ban.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BanState {
    /// Why.
    pub reason: String,
    /// Time left, `None` for permanent.
    pub remaining: Option<Duration>,
}

impl BanState {
    /// A ban for `reason` that ends at `until` (`None`: never), as seen at `now`.
    pub fn at(
        reason: &str,
        until: Option<tokio::time::Instant>,
        now: tokio::time::Instant,
    ) -> Self {
        Self {
            reason: reason.to_owned(),
            remaining: until.map(|u| u.saturating_duration_since(now)),
        }
    }
}

/// A snapshot of a node, for tests, traces and final-state reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeState {
    /// This node's peer id.
    pub peer_id: PeerId,
    /// Addresses it listens on.
    pub listen_addresses: Vec<Multiaddr>,
    /// Connected peers and their handshake state.
    pub peers: BTreeMap<PeerId, PeerState>,
    /// Active bans.
    pub bans: BTreeMap<PeerId, BanState>,
    /// Accepted sends without an outcome yet.
    pub pending_sends: usize,
    /// Rejections and refusals so far.
    pub counters: Counters,
}

impl NodeState {
    /// Peers whose handshake is `Verified`, in peer-id order.
    pub fn verified_peers(&self) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, p)| p.handshake == HandshakeState::Verified)
            .map(|(id, _)| *id)
            .collect()
    }
}

type Reply<T> = oneshot::Sender<T>;

/// A command for the node's event loop.
#[derive(Debug)]
pub(crate) enum Command {
    Listen(Multiaddr, Reply<Result<(), CommandError>>),
    Dial(Multiaddr, Reply<Result<(), CommandError>>),
    Send(
        PeerId,
        InstanceMessageRequest,
        Reply<Result<SendId, SendError>>,
    ),
    Submit(SendId, PeerId, InstanceMessageRequest),
    Respond(
        InboundId,
        InstanceMessageResponse,
        Reply<Result<(), CommandError>>,
    ),
    Subscribe(String, Reply<Result<(), CommandError>>),
    Broadcast(String, Vec<u8>, Reply<Result<(), CommandError>>),
    Ban(PeerId, String, Option<Duration>),
    Unban(PeerId),
    Disconnect(PeerId),
    State(Reply<NodeState>),
    Shutdown,
}

/// Sends commands to a node. Cheap to clone; every clone drives the same node.
#[derive(Clone, Debug)]
pub struct Control {
    peer_id: PeerId,
    commands: mpsc::Sender<Command>,
    send_ids: SendIds,
}

impl Control {
    pub(crate) fn new(peer_id: PeerId, commands: mpsc::Sender<Command>, send_ids: SendIds) -> Self {
        Self {
            peer_id,
            commands,
            send_ids,
        }
    }

    /// The node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, CommandError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| CommandError::Shutdown)?;
        rx.await.map_err(|_| CommandError::Shutdown)
    }

    async fn tell(&self, command: Command) -> Result<(), CommandError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| CommandError::Shutdown)
    }

    /// Listens on `address`; the bound address arrives as [`Event::Listening`].
    pub async fn listen(&self, address: Multiaddr) -> Result<(), CommandError> {
        self.ask(|r| Command::Listen(address, r)).await?
    }

    /// Dials `address`. The outcome arrives as events (connection, handshake).
    pub async fn dial(&self, address: Multiaddr) -> Result<(), CommandError> {
        self.ask(|r| Command::Dial(address, r)).await?
    }

    /// Sends a direct message to a verified peer. `Ok` means accepted: exactly
    /// one [`Event::SendOutcome`] with this id follows.
    pub async fn send(
        &self,
        peer: PeerId,
        request: InstanceMessageRequest,
    ) -> Result<SendId, SendError> {
        self.ask(|r| Command::Send(peer, request, r))
            .await
            .map_err(|_| SendError::Shutdown)?
    }

    /// Sends a direct message without waiting for the node to accept it:
    /// the id is known at once, and exactly one [`Event::SendOutcome`] with
    /// it follows, a refusal included (as [`super::SendFailure::Refused`]). An
    /// application that sends many at once saves a round trip through the
    /// node per message; [`Control::send`] reports a refusal directly.
    pub async fn submit(
        &self,
        peer: PeerId,
        request: InstanceMessageRequest,
    ) -> Result<SendId, CommandError> {
        let id = self.send_ids.next();
        self.tell(Command::Submit(id, peer, request)).await?;
        Ok(id)
    }

    /// Answers an inbound request delivered as [`Event::Request`].
    pub async fn respond(
        &self,
        id: InboundId,
        response: InstanceMessageResponse,
    ) -> Result<(), CommandError> {
        self.ask(|r| Command::Respond(id, response, r)).await?
    }

    /// Subscribes to a broadcast topic.
    pub async fn subscribe(&self, topic: impl Into<String>) -> Result<(), CommandError> {
        let topic = topic.into();
        self.ask(|r| Command::Subscribe(topic, r)).await?
    }

    /// Broadcasts `data` on `topic` (best effort).
    pub async fn broadcast(
        &self,
        topic: impl Into<String>,
        data: Vec<u8>,
    ) -> Result<(), CommandError> {
        let topic = topic.into();
        self.ask(|r| Command::Broadcast(topic, data, r)).await?
    }

    /// Bans `peer` for `duration` (`None`: until unbanned) and closes its connections.
    pub async fn ban(
        &self,
        peer: PeerId,
        reason: impl Into<String>,
        duration: Option<Duration>,
    ) -> Result<(), CommandError> {
        self.tell(Command::Ban(peer, reason.into(), duration)).await
    }

    /// Lifts a ban.
    pub async fn unban(&self, peer: PeerId) -> Result<(), CommandError> {
        self.tell(Command::Unban(peer)).await
    }

    /// Closes every connection with `peer`.
    pub async fn disconnect(&self, peer: PeerId) -> Result<(), CommandError> {
        self.tell(Command::Disconnect(peer)).await
    }

    /// A snapshot of the node's state.
    pub async fn state(&self) -> Result<NodeState, CommandError> {
        self.ask(Command::State).await
    }

    /// Stops the node's event loop; its connections close.
    pub async fn shutdown(&self) -> Result<(), CommandError> {
        self.tell(Command::Shutdown).await
    }
}

/// The application's side of a node: commands and its event stream.
#[derive(Debug)]
pub struct NodeHandle {
    /// Sends commands; clone it to drive the node from several tasks.
    pub control: Control,
    events: mpsc::Receiver<Event>,
}

impl NodeHandle {
    pub(crate) fn new(control: Control, events: mpsc::Receiver<Event>) -> Self {
        Self { control, events }
    }

    /// The node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.control.peer_id()
    }

    /// The next event; `None` once the node has stopped and all events were read.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// An event if one is queued right now.
    pub fn try_next_event(&mut self) -> Option<Event> {
        self.events.try_recv().ok()
    }
}

impl std::ops::Deref for NodeHandle {
    type Target = Control;

    fn deref(&self) -> &Control {
        &self.control
    }
}
