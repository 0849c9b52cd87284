//! [`Node`]: one peer of the protocol. It owns a libp2p swarm, takes commands
//! from a [`Control`], applies the protocol's rules and reports [`Event`]s.
//!
//! The node does not know what carries its bytes: it is given a
//! [`BoxedTransport`] (real TCP, or the simulator's), and reads time only
//! through tokio and the system clock, which a simulation makes virtual.
//!
//! The event loop serves, in this order of priority: commands from the
//! application, handing queued events to the application, timers (handshake
//! deadlines, send deadlines, redials, ban expiry), and only then the network.
//! Local work goes before new remote work, and when the application stops
//! reading events the node stops reading the network instead of buffering
//! without bound.

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use futures::StreamExt;
use libp2p::{
    core::ConnectedPoint,
    gossipsub::{self, IdentTopic, MessageAcceptance},
    identify,
    request_response::{
        self, InboundFailure, InboundRequestId, OutboundFailure, OutboundRequestId, ResponseChannel,
    },
    swarm::{self, dial_opts::DialOpts, ConnectionId, DialError, ListenError, SwarmEvent},
    Multiaddr, PeerId, Swarm,
};
use tokio::{
    sync::mpsc,
    time::{Instant, Sleep},
};
use tracing::{debug, trace};

use super::{
    behaviour::{Behaviour, BehaviourError, BehaviourEvent},
    bounds::{Overload, RateLimiter},
    codec::FrameError,
    codes,
    config::{NodeConfig, Responder},
    control::{
        BanState, Command, CommandError, Control, Counters, NodeHandle, NodeState, PeerState,
    },
    event::{Event, InboundId, SendError, SendFailure, SendId},
    handshake::{self, HandshakeFailure, HandshakeState, Policy, Session},
    keys::NodeKeys,
    misbehaviour::Misbehaviour,
    peers::{Direction, Refusal, MIN_PER_PEER},
    planted::{self, PlantedBug},
    sends::Sends,
    transport::BoxedTransport,
    wire::{HandshakeRequest, HandshakeResponse, InstanceMessageRequest, InstanceMessageResponse},
};

/// Commands queued before `Control` calls wait for the node.
const COMMAND_BUFFER: usize = 256;
/// Undecodable direct requests reported to the event loop before further
/// reports are dropped.
const REJECTION_BUFFER: usize = 64;
/// How long a rejected handshake's connection stays open for the rejection to
/// be delivered.
const REJECT_GRACE: Duration = Duration::from_secs(1);

/// Why a node could not be created.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The behaviour's configuration is invalid.
    #[error(transparent)]
    Behaviour(#[from] BehaviourError),
    /// A setting is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// What an inbound handshake response we sent was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accepted,
    Rejected,
}

/// One peer of the protocol. Create with [`Node::new`], then drive [`Node::run`]
/// on a tokio runtime and use the returned [`NodeHandle`].
pub struct Node {
    swarm: Swarm<Behaviour>,
    config: NodeConfig,
    keys: NodeKeys,
    local: PeerId,
    policy: Policy,
    commands: mpsc::Receiver<Command>,
    rejections: mpsc::Receiver<String>,
    events_tx: mpsc::Sender<Event>,
    events: VecDeque<Event>,
    events_closed: bool,
    sessions: BTreeMap<PeerId, Session>,
    handshake_requests: HashMap<OutboundRequestId, PeerId>,
    handshake_answers: HashMap<InboundRequestId, (PeerId, Answer)>,
    silent_channels: Vec<ResponseChannel<HandshakeResponse>>,
    disconnect_at: BTreeMap<PeerId, Instant>,
    inbound: BTreeMap<InboundId, (PeerId, ResponseChannel<InstanceMessageResponse>)>,
    in_flight: BTreeMap<PeerId, u32>,
    rate: RateLimiter,
    next_inbound: u64,
    next_send: u64,
    sends: Sends,
    connections: HashMap<ConnectionId, u64>,
    next_connection: u64,
    listen_addresses: Vec<Multiaddr>,
    subscriptions: HashSet<String>,
    counters: Counters,
}

impl Node {
    /// Builds a node with `keys` on `transport`. Must be called inside a tokio
    /// runtime (gossipsub starts its heartbeat timer here).
    pub fn new(
        config: NodeConfig,
        keys: NodeKeys,
        transport: BoxedTransport,
    ) -> Result<(Node, NodeHandle), NodeError> {
        if config.limits.max_per_peer < MIN_PER_PEER {
            return Err(NodeError::Config(format!(
                "the per-peer connection limit must be at least {MIN_PER_PEER} (a simultaneous dial needs one connection each way)"
            )));
        }
        let local = keys.peer_id();
        let (rejections_tx, rejections) = mpsc::channel(REJECTION_BUFFER);
        let behaviour = Behaviour::new(&keys.identity, &config, rejections_tx)?;
        let swarm = Swarm::new(
            transport,
            behaviour,
            local,
            swarm::Config::with_tokio_executor()
                .with_idle_connection_timeout(config.idle_connection_timeout),
        );
        let (commands_tx, commands) = mpsc::channel(COMMAND_BUFFER);
        let (events_tx, events_rx) = mpsc::channel(config.event_buffer.max(1));
        let policy = Policy {
            local_version: config.protocol_version.clone(),
            freshness: config.freshness,
            allow_list: config.allow_list.clone(),
        };
        let control = Control::new(local, commands_tx);
        let node = Node {
            swarm,
            config,
            keys,
            local,
            policy,
            commands,
            rejections,
            events_tx,
            events: VecDeque::new(),
            events_closed: false,
            sessions: BTreeMap::new(),
            handshake_requests: HashMap::new(),
            handshake_answers: HashMap::new(),
            silent_channels: Vec::new(),
            disconnect_at: BTreeMap::new(),
            inbound: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            rate: RateLimiter::default(),
            next_inbound: 0,
            next_send: 0,
            sends: Sends::default(),
            connections: HashMap::new(),
            next_connection: 0,
            listen_addresses: Vec::new(),
            subscriptions: HashSet::new(),
            counters: Counters::default(),
        };
        Ok((node, NodeHandle::new(control, events_rx)))
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.local
    }

    /// Starts listening on `address`, before or while the node runs. The bound
    /// address arrives as [`Event::Listening`].
    pub fn listen_on(&mut self, address: Multiaddr) -> Result<(), CommandError> {
        self.swarm
            .listen_on(address)
            .map(drop)
            .map_err(|e| CommandError::Transport(e.to_string()))
    }

    /// Runs the node until [`Control::shutdown`] or until every `Control` is dropped.
    pub async fn run(mut self) {
        let mut timer: std::pin::Pin<Box<Sleep>> = Box::pin(tokio::time::sleep_until(far_future()));
        // A second handle on the event channel, so a reserved slot does not
        // borrow `self` while the handlers below mutate it.
        let events_tx = self.events_tx.clone();
        loop {
            let wake = self.next_wakeup();
            if let Some(at) = wake {
                if timer.deadline() != at {
                    timer.as_mut().reset(at);
                }
            }
            let may_read_network = self.events.len() < self.config.event_buffer;
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.on_command(command),
                },
                permit = events_tx.reserve(), if !self.events.is_empty() => match permit {
                    Ok(permit) => {
                        if let Some(event) = self.events.pop_front() {
                            permit.send(event);
                        }
                    }
                    Err(_) => {
                        self.events_closed = true;
                        self.events.clear();
                    }
                },
                () = &mut timer, if wake.is_some() => self.on_timer(),
                Some(error) = self.rejections.recv() => {
                    self.counters.malformed += 1;
                    self.emit(Event::Malformed { peer: None, protocol: "instance", error });
                }
                event = self.swarm.select_next_some(), if may_read_network => {
                    self.on_swarm_event(event);
                }
            }
            self.counters.peak_buffered = self.counters.peak_buffered.max(self.buffered());
            let pending = self.sessions.values().filter(|s| !s.is_finished()).count();
            self.swarm
                .behaviour_mut()
                .gate
                .book
                .set_pending_handshakes(u32::try_from(pending).unwrap_or(u32::MAX));
        }
        for (id, send) in self.sends.drain() {
            self.emit(Event::SendOutcome {
                id,
                peer: send.peer,
                result: Err(SendFailure::Shutdown),
            });
        }
        // Hand over what is queued while the receiver still listens.
        while let Some(event) = self.events.pop_front() {
            if self.events_tx.send(event).await.is_err() {
                break;
            }
        }
    }

    /// Items held in memory on behalf of peers and the application: queued
    /// events, unanswered inbound requests, pending sends, rate-limit
    /// entries, held handshake channels. Every term has a configured bound.
    fn buffered(&self) -> u64 {
        (self.events.len()
            + self.inbound.len()
            + self.sends.len()
            + self.rate.held()
            + self.silent_channels.len()) as u64
    }

    fn emit(&mut self, event: Event) {
        trace!(?event, "event");
        if !self.events_closed {
            self.events.push_back(event);
        }
    }

    fn next_wakeup(&self) -> Option<Instant> {
        let handshakes = self
            .sessions
            .values()
            .filter(|s| s.timer_running())
            .map(Session::deadline);
        let disconnects = self.disconnect_at.values().copied();
        handshakes
            .chain(disconnects)
            .chain(self.sends.next_wakeup())
            .chain(self.swarm.behaviour().gate.book.next_expiry())
            .min()
    }

    // ---- commands -------------------------------------------------------

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Listen(address, reply) => {
                let _ = reply.send(self.listen_on(address));
            }
            Command::Dial(address, reply) => {
                let result = self
                    .swarm
                    .dial(address)
                    .map_err(|e| CommandError::Transport(describe_dial_error(&e)));
                let _ = reply.send(result);
            }
            Command::Send(peer, request, reply) => {
                let _ = reply.send(self.start_send(peer, request));
            }
            Command::Respond(id, response, reply) => {
                let result = match self.take_inbound(id) {
                    Some(channel) => {
                        // Fails only if the request already timed out or its
                        // connection closed; the sender sees that failure.
                        let _ = self
                            .swarm
                            .behaviour_mut()
                            .instance
                            .send_response(channel, response);
                        Ok(())
                    }
                    None => Err(CommandError::UnknownRequest(id)),
                };
                let _ = reply.send(result);
            }
            Command::Subscribe(topic, reply) => {
                let result = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .subscribe(&IdentTopic::new(topic.clone()))
                    .map(|_| {
                        self.subscriptions.insert(topic);
                    })
                    .map_err(|e| CommandError::Publish(e.to_string()));
                let _ = reply.send(result);
            }
            Command::Broadcast(topic, data, reply) => {
                let _ = reply.send(self.broadcast(topic, data));
            }
            Command::Ban(peer, reason, duration) => self.ban(peer, reason, duration),
            Command::Unban(peer) => {
                if self.swarm.behaviour_mut().gate.book.unban(&peer) {
                    self.emit(Event::Unbanned {
                        peer,
                        expired: false,
                    });
                }
            }
            Command::Disconnect(peer) => {
                let _ = self.swarm.disconnect_peer_id(peer);
            }
            Command::State(reply) => {
                let _ = reply.send(self.state());
            }
            Command::Shutdown => {}
        }
    }

    fn start_send(
        &mut self,
        peer: PeerId,
        request: InstanceMessageRequest,
    ) -> Result<SendId, SendError> {
        let skip_check = self.config.misbehaviour == Misbehaviour::SkipHandshake;
        if !skip_check && !self.is_verified(&peer) {
            return Err(SendError::NotVerified(peer));
        }
        let size = encoded_request_size(&request);
        let enforce_limit = self.config.misbehaviour != Misbehaviour::IgnoreSizeLimit;
        if enforce_limit && size > self.config.max_message_size as usize {
            return Err(SendError::TooLarge {
                size,
                max: self.config.max_message_size,
            });
        }
        let id = SendId(self.next_send);
        self.next_send += 1;
        let request = Arc::new(request);
        let request_id = self
            .swarm
            .behaviour_mut()
            .instance
            .send_request(&peer, request.clone());
        let deadline = Instant::now() + self.config.send_deadline;
        self.sends.start(id, peer, request, deadline, request_id);
        Ok(id)
    }

    fn broadcast(&mut self, topic: String, data: Vec<u8>) -> Result<(), CommandError> {
        if data.len() > self.config.max_broadcast_size {
            return Err(CommandError::Publish(format!(
                "{} bytes exceeds the broadcast limit of {}",
                data.len(),
                self.config.max_broadcast_size
            )));
        }
        self.swarm
            .behaviour_mut()
            .gossipsub
            .publish(IdentTopic::new(topic), data)
            .map(drop)
            .map_err(|e| CommandError::Publish(e.to_string()))
    }

    fn ban(&mut self, peer: PeerId, reason: String, duration: Option<Duration>) {
        let until = duration.map(|d| Instant::now() + d);
        self.swarm
            .behaviour_mut()
            .gate
            .book
            .ban(peer, reason.clone(), until);
        self.emit(Event::Banned {
            peer,
            reason,
            duration,
        });
        for (id, _) in self.sends.remove_peer(&peer) {
            self.emit(Event::SendOutcome {
                id,
                peer,
                result: Err(SendFailure::PeerBanned),
            });
        }
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    fn state(&self) -> NodeState {
        let now = Instant::now();
        let book = &self.swarm.behaviour().gate.book;
        let peers = self
            .sessions
            .iter()
            .map(|(peer, session)| {
                let state = PeerState {
                    handshake: session.state(),
                    failure: session.failure().cloned(),
                    connections: book.connections_with(peer),
                };
                (*peer, state)
            })
            .collect();
        let bans = book
            .bans()
            .filter(|(peer, _)| book.ban_of(peer, now).is_some())
            .map(|(peer, ban)| {
                let state = BanState {
                    reason: ban.reason.clone(),
                    remaining: ban.until.map(|u| u.saturating_duration_since(now)),
                };
                (*peer, state)
            })
            .collect();
        NodeState {
            peer_id: self.local,
            listen_addresses: self.listen_addresses.clone(),
            peers,
            bans,
            pending_sends: self.sends.len(),
            counters: self.counters,
        }
    }

    // ---- timers ---------------------------------------------------------

    fn on_timer(&mut self) {
        let now = Instant::now();
        let overdue: Vec<PeerId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.timer_running() && now >= s.deadline())
            .map(|(peer, _)| *peer)
            .collect();
        for peer in overdue {
            debug!(%peer, "handshake timed out");
            self.transition(peer, |s| s.check_timeout(now));
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        let due: Vec<PeerId> = self
            .disconnect_at
            .iter()
            .filter(|(_, at)| now >= **at)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in due {
            self.disconnect_at.remove(&peer);
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        for (id, send) in self.sends.expired(now) {
            self.emit(Event::SendOutcome {
                id,
                peer: send.peer,
                result: Err(SendFailure::DeadlineExceeded {
                    attempts: send.attempts,
                    last_error: send.last_error,
                }),
            });
        }
        for peer in self.sends.due_redials(now) {
            if self.is_verified(&peer) {
                self.on_verified(peer);
            } else if !self.swarm.is_connected(&peer) {
                debug!(%peer, "redialing for pending sends");
                let _ = self.swarm.dial(DialOpts::peer_id(peer).build());
            }
        }
        for peer in self.swarm.behaviour_mut().gate.book.take_expired(now) {
            self.emit(Event::Unbanned {
                peer,
                expired: true,
            });
        }
    }

    // ---- swarm events ---------------------------------------------------

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Handshake(e)) => self.on_handshake_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Instance(e)) => self.on_instance_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossip_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(e)) => self.on_identify_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Gate(never)) => match never {},
            SwarmEvent::NewListenAddr { address, .. } => {
                self.listen_addresses.push(address.clone());
                self.emit(Event::Listening { address });
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                ..
            } => self.on_connection_established(
                peer_id,
                connection_id,
                &endpoint,
                num_established.get(),
            ),
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => self.on_connection_closed(peer_id, connection_id, num_established),
            SwarmEvent::IncomingConnectionError { error, peer_id, .. } => match error {
                ListenError::Denied { cause } => {
                    self.refused(peer_id, Direction::Inbound, cause);
                }
                other => debug!(error = %other, "incoming connection failed"),
            },
            SwarmEvent::OutgoingConnectionError { error, peer_id, .. } => match error {
                DialError::Denied { cause } => self.refused(peer_id, Direction::Outbound, cause),
                other => self.emit(Event::DialFailed {
                    peer: peer_id,
                    error: describe_dial_error(&other),
                }),
            },
            _ => {}
        }
    }

    fn refused(
        &mut self,
        peer: Option<PeerId>,
        direction: Direction,
        cause: swarm::ConnectionDenied,
    ) {
        self.counters.refused_connections += 1;
        let reason = cause
            .downcast::<Refusal>()
            .unwrap_or_else(|other| Refusal::Banned {
                reason: format!("denied: {other}"),
            });
        self.emit(Event::ConnectionRefused {
            peer,
            direction,
            reason,
        });
    }

    fn on_connection_established(
        &mut self,
        peer: PeerId,
        connection_id: ConnectionId,
        endpoint: &ConnectedPoint,
        num_established: u32,
    ) {
        let connection = self.next_connection;
        self.next_connection += 1;
        self.connections.insert(connection_id, connection);
        let direction = match endpoint {
            ConnectedPoint::Dialer { .. } => Direction::Outbound,
            ConnectedPoint::Listener { .. } => Direction::Inbound,
        };
        self.emit(Event::ConnectionEstablished {
            peer,
            connection,
            direction,
        });
        self.sends.cancel_redial(&peer);
        if num_established == 1 || !self.sessions.contains_key(&peer) {
            self.sessions.insert(
                peer,
                Session::new(Instant::now(), self.config.handshake_timeout),
            );
            self.emit(Event::Handshake {
                peer,
                state: HandshakeState::Connected,
                failure: None,
            });
        }
        let Some(session) = self.sessions.get(&peer) else {
            return;
        };
        if session.state() == HandshakeState::Failed {
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        }
        let awaiting_our_request =
            !session.is_finished() && !self.handshake_requests.values().any(|p| *p == peer);
        if direction == Direction::Outbound && awaiting_our_request {
            self.send_handshake_request(peer);
        }
    }

    fn on_connection_closed(&mut self, peer: PeerId, connection_id: ConnectionId, remaining: u32) {
        let connection = self.connections.remove(&connection_id).unwrap_or(u64::MAX);
        if remaining == 0 {
            // The session ends with its last connection: a pending handshake
            // fails first, then the connection is reported closed.
            self.disconnect_at.remove(&peer);
            self.forget_inbound(peer);
            if let Some(mut session) = self.sessions.remove(&peer) {
                if session.fail(HandshakeFailure::ConnectionClosed).is_some() {
                    self.counters.handshake_failures += 1;
                    self.emit(Event::Handshake {
                        peer,
                        state: HandshakeState::Failed,
                        failure: Some(HandshakeFailure::ConnectionClosed),
                    });
                }
            }
        }
        self.emit(Event::ConnectionClosed {
            peer,
            connection,
            remaining,
        });
        if remaining > 0 {
            return;
        }
        if self.sends.waiting_for(&peer).is_empty() {
            return;
        }
        self.sends
            .schedule_redial(peer, Instant::now(), self.config.redial_backoff);
    }

    // ---- handshake ------------------------------------------------------

    fn is_verified(&self, peer: &PeerId) -> bool {
        self.sessions.get(peer).is_some_and(Session::is_verified)
    }

    fn credentials_for(&self, receiver: &PeerId) -> HandshakeRequest {
        let mut timestamp = unix_millis();
        if let Misbehaviour::StaleTimestamp(age) = &self.config.misbehaviour {
            timestamp = timestamp.saturating_sub(age.as_millis() as u64);
        }
        let mut creds = handshake::sign(
            &self.keys.instance,
            &self.local,
            receiver,
            timestamp,
            &self.config.protocol_version,
        );
        match &self.config.misbehaviour {
            Misbehaviour::ForgeSignature => creds.signature[0] ^= 0x01,
            Misbehaviour::Replay(captured) => creds = captured.clone(),
            _ => {}
        }
        creds
    }

    fn never_handshakes(&self) -> bool {
        matches!(
            self.config.misbehaviour,
            Misbehaviour::SilentHandshake | Misbehaviour::SkipHandshake
        )
    }

    fn send_handshake_request(&mut self, peer: PeerId) {
        if self.never_handshakes() {
            return;
        }
        let creds = self.credentials_for(&peer);
        let request_id = self
            .swarm
            .behaviour_mut()
            .handshake
            .send_request(&peer, Arc::new(creds));
        self.handshake_requests.insert(request_id, peer);
        self.transition(peer, |s| s.request_sent());
    }

    /// Applies a session transition and reports it.
    fn transition(
        &mut self,
        peer: PeerId,
        step: impl FnOnce(&mut Session) -> Option<HandshakeState>,
    ) {
        let Some(session) = self.sessions.get_mut(&peer) else {
            return;
        };
        let Some(state) = step(session) else {
            return;
        };
        let failure = session.failure().cloned();
        self.emit(Event::Handshake {
            peer,
            state,
            failure: failure.clone(),
        });
        match (state, failure) {
            (HandshakeState::Verified, _) => self.on_verified(peer),
            (HandshakeState::Failed, Some(failure)) => self.on_failed(peer, failure),
            _ => {}
        }
    }

    fn on_verified(&mut self, peer: PeerId) {
        debug!(%peer, "verified");
        self.sends.cancel_redial(&peer);
        for (id, request) in self.sends.waiting_for(&peer) {
            let request_id = self
                .swarm
                .behaviour_mut()
                .instance
                .send_request(&peer, request);
            self.sends.retried(id, request_id);
        }
    }

    /// Bookkeeping for a session that just entered `Failed`.
    fn on_failed(&mut self, peer: PeerId, failure: HandshakeFailure) {
        debug!(%peer, %failure, "handshake failed");
        self.counters.handshake_failures += 1;
        if !failure.counts_toward_ban() {
            return;
        }
        let now = Instant::now();
        if let Some(ban) = self
            .swarm
            .behaviour_mut()
            .gate
            .book
            .record_failure(peer, now)
        {
            let duration = ban.until.map(|u| u.saturating_duration_since(now));
            self.emit(Event::Banned {
                peer,
                reason: ban.reason,
                duration,
            });
            for (id, _) in self.sends.remove_peer(&peer) {
                self.emit(Event::SendOutcome {
                    id,
                    peer,
                    result: Err(SendFailure::PeerBanned),
                });
            }
        }
    }

    /// Fails the session of `peer` (if still running) with `failure`.
    fn after_failure(&mut self, peer: PeerId, failure: HandshakeFailure) {
        self.transition(peer, |s| s.fail(failure));
    }

    fn fail_and_disconnect(&mut self, peer: PeerId, failure: HandshakeFailure) {
        self.after_failure(peer, failure);
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    fn on_handshake_event(
        &mut self,
        event: request_response::Event<Arc<HandshakeRequest>, HandshakeResponse>,
    ) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request_id,
                    request,
                    channel,
                } => self.on_handshake_request(peer, request_id, &request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    self.handshake_requests.remove(&request_id);
                    self.on_handshake_response(peer, response);
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                self.handshake_requests.remove(&request_id);
                self.on_handshake_outbound_failure(peer, error);
            }
            request_response::Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                let answer = self.handshake_answers.remove(&request_id);
                if let Some(frame) = io_frame_error(&error) {
                    self.malformed(peer, "handshake", frame.to_string());
                    self.fail_and_disconnect(peer, HandshakeFailure::Malformed(frame.to_string()));
                } else if matches!(answer, Some((_, Answer::Rejected))) {
                    let _ = self.swarm.disconnect_peer_id(peer);
                }
            }
            request_response::Event::ResponseSent {
                peer, request_id, ..
            } => match self.handshake_answers.remove(&request_id) {
                Some((_, Answer::Accepted)) => self.transition(peer, Session::response_sent),
                // The rejected peer closes the connection when it reads the
                // rejection; closing here could cut the rejection off. The
                // grace timer set with the rejection closes it otherwise.
                Some((_, Answer::Rejected)) | None => {}
            },
        }
    }

    fn on_handshake_request(
        &mut self,
        peer: PeerId,
        request_id: InboundRequestId,
        request: &HandshakeRequest,
        channel: ResponseChannel<HandshakeResponse>,
    ) {
        if self.never_handshakes() {
            // Hold the channel so the requester waits for its timeout.
            self.silent_channels.push(channel);
            return;
        }
        if planted::active(PlantedBug::NoCrossedHandshake)
            && self
                .sessions
                .get(&peer)
                .is_some_and(|s| s.state() == HandshakeState::OutboundPending)
        {
            let duplicate = HandshakeResponse::Rejected {
                code: codes::BAD_HANDSHAKE,
                message: "handshake already in progress".into(),
            };
            let _ = self
                .swarm
                .behaviour_mut()
                .handshake
                .send_response(channel, duplicate);
            return;
        }
        let verdict = match self.sessions.get(&peer) {
            None => Err(HandshakeFailure::ConnectionClosed),
            Some(s) if s.state() == HandshakeState::Failed => Err(s
                .failure()
                .cloned()
                .unwrap_or(HandshakeFailure::ConnectionClosed)),
            Some(_) => handshake::verify(request, &peer, &self.local, unix_millis(), &self.policy),
        };
        let verdict = match verdict {
            Err(HandshakeFailure::InvalidSignature)
                if planted::active(PlantedBug::VerifiedBeforeSignatureCheck) =>
            {
                Ok(request.public_key)
            }
            verdict => verdict,
        };
        let (response, answer) = match verdict {
            Ok(key) => {
                self.transition(peer, |s| s.request_verified(key));
                if self
                    .sessions
                    .get(&peer)
                    .is_some_and(|s| s.state() == HandshakeState::Failed)
                {
                    (rejection(&HandshakeFailure::KeyMismatch), Answer::Rejected)
                } else {
                    (
                        HandshakeResponse::Accepted(self.credentials_for(&peer)),
                        Answer::Accepted,
                    )
                }
            }
            Err(failure) => {
                let response = rejection(&failure);
                self.after_failure(peer, failure);
                (response, Answer::Rejected)
            }
        };
        if answer == Answer::Rejected {
            self.disconnect_at
                .insert(peer, Instant::now() + REJECT_GRACE);
        }
        if self
            .swarm
            .behaviour_mut()
            .handshake
            .send_response(channel, response)
            .is_ok()
        {
            self.handshake_answers.insert(request_id, (peer, answer));
        }
    }

    fn on_handshake_response(&mut self, peer: PeerId, response: HandshakeResponse) {
        match response {
            HandshakeResponse::Accepted(creds) => {
                match handshake::verify(&creds, &peer, &self.local, unix_millis(), &self.policy) {
                    Ok(key) => self.transition(peer, |s| s.response_verified(key)),
                    Err(failure) => self.fail_and_disconnect(peer, failure),
                }
            }
            HandshakeResponse::Rejected { code, message } => {
                self.fail_and_disconnect(peer, HandshakeFailure::Rejected { code, message });
            }
        }
    }

    fn on_handshake_outbound_failure(&mut self, peer: PeerId, error: OutboundFailure) {
        let failure = match &error {
            // libp2p also reports a stream that could not even be opened (10 s)
            // as a timeout; the session's own deadline decides when it failed.
            OutboundFailure::Timeout => return self.retry_handshake_if_connected(peer),
            OutboundFailure::UnsupportedProtocols => HandshakeFailure::UnsupportedProtocol,
            OutboundFailure::Io(e) => match FrameError::find(e) {
                Some(frame) => {
                    let text = frame.to_string();
                    self.malformed(peer, "handshake", text.clone());
                    HandshakeFailure::Malformed(text)
                }
                None => return self.retry_handshake_if_connected(peer),
            },
            OutboundFailure::ConnectionClosed | OutboundFailure::DialFailure => {
                return self.retry_handshake_if_connected(peer)
            }
        };
        self.fail_and_disconnect(peer, failure);
    }

    /// Our request's connection closed but another connection to the peer
    /// remains (a simultaneous dial): ask again on that one.
    fn retry_handshake_if_connected(&mut self, peer: PeerId) {
        let pending = self.sessions.get(&peer).is_some_and(|s| !s.is_finished());
        if pending && self.swarm.is_connected(&peer) {
            self.send_handshake_request(peer);
        }
    }

    // ---- direct messages --------------------------------------------------

    fn on_instance_event(
        &mut self,
        event: request_response::Event<Arc<InstanceMessageRequest>, InstanceMessageResponse>,
    ) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.on_instance_request(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some((id, send)) = self.sends.complete(&request_id) {
                        self.emit(Event::SendOutcome {
                            id,
                            peer: send.peer,
                            result: Ok(response),
                        });
                    }
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => self.on_send_failure(peer, request_id, error),
            request_response::Event::InboundFailure { peer, error, .. } => {
                if let Some(frame) = io_frame_error(&error) {
                    self.malformed(peer, "instance", frame.to_string());
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_instance_request(
        &mut self,
        peer: PeerId,
        request: Arc<InstanceMessageRequest>,
        channel: ResponseChannel<InstanceMessageResponse>,
    ) {
        if !self.sessions.get(&peer).is_some_and(Session::is_verified) {
            self.counters.rejected_unverified += 1;
            return self.reject_request(
                peer,
                channel,
                codes::HANDSHAKE_REQUIRED,
                "handshake required",
            );
        }
        if let Some(overload) = self.overload(peer) {
            let message = match overload {
                Overload::Rate => {
                    self.counters.rate_limited += 1;
                    "too many requests"
                }
                Overload::InFlight => {
                    self.counters.in_flight_limited += 1;
                    "too many requests in flight"
                }
            };
            return self.reject_request(peer, channel, codes::RATE_LIMITED, message);
        }
        let instance = &mut self.swarm.behaviour_mut().instance;
        let request = Arc::unwrap_or_clone(request);
        let automatic = match &self.config.responder {
            Responder::Manual => None,
            Responder::Echo => Some(InstanceMessageResponse::Success {
                data: Some(request.payload.clone()),
            }),
            Responder::Protocol => Some(InstanceMessageResponse::Protocol {
                data: request.payload.clone(),
            }),
            Responder::Fixed(response) => Some(response.clone()),
            Responder::Silent => {
                // Dropping the channel would fail the request at once; keep the
                // sender waiting for its own timeout, like a hung application.
                let id = InboundId(self.next_inbound);
                self.next_inbound += 1;
                self.hold_inbound(id, peer, channel);
                self.counters.requests_delivered += 1;
                self.emit(Event::Request { peer, id, request });
                return;
            }
        };
        let id = InboundId(self.next_inbound);
        self.next_inbound += 1;
        self.counters.requests_delivered += 1;
        match automatic {
            Some(response) => {
                let _ = instance.send_response(channel, response);
            }
            None => self.hold_inbound(id, peer, channel),
        }
        self.emit(Event::Request { peer, id, request });
    }

    /// Answers a request with an error before it reaches the application.
    fn reject_request(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<InstanceMessageResponse>,
        code: u16,
        message: &str,
    ) {
        let response = InstanceMessageResponse::Error {
            code,
            message: message.into(),
        };
        let _ = self
            .swarm
            .behaviour_mut()
            .instance
            .send_response(channel, response);
        self.emit(Event::RequestRejected { peer, code });
    }

    /// Whether a request from `peer` exceeds its bounds; admits it into the
    /// rate window otherwise.
    fn overload(&mut self, peer: PeerId) -> Option<Overload> {
        let bounds = self.config.requests;
        if self.in_flight.get(&peer).copied().unwrap_or(0) >= bounds.max_in_flight {
            return Some(Overload::InFlight);
        }
        if !self.rate.admit(peer, Instant::now(), &bounds) {
            return Some(Overload::Rate);
        }
        None
    }

    fn hold_inbound(
        &mut self,
        id: InboundId,
        peer: PeerId,
        channel: ResponseChannel<InstanceMessageResponse>,
    ) {
        self.inbound.insert(id, (peer, channel));
        *self.in_flight.entry(peer).or_default() += 1;
    }

    fn take_inbound(&mut self, id: InboundId) -> Option<ResponseChannel<InstanceMessageResponse>> {
        let (peer, channel) = self.inbound.remove(&id)?;
        if let Some(count) = self.in_flight.get_mut(&peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.in_flight.remove(&peer);
            }
        }
        Some(channel)
    }

    /// Drops what is held for a peer whose last connection closed: its
    /// requests can no longer be answered.
    fn forget_inbound(&mut self, peer: PeerId) {
        let held: Vec<InboundId> = self
            .inbound
            .iter()
            .filter(|(_, (p, _))| *p == peer)
            .map(|(id, _)| *id)
            .collect();
        for id in held {
            self.take_inbound(id);
        }
        self.rate.prune(Instant::now(), &self.config.requests);
    }

    fn on_send_failure(
        &mut self,
        peer: PeerId,
        request_id: OutboundRequestId,
        error: OutboundFailure,
    ) {
        if !self.sends.owns(&request_id) {
            return;
        }
        let terminal = match &error {
            OutboundFailure::UnsupportedProtocols => Some(SendFailure::UnsupportedProtocol),
            OutboundFailure::Io(e) => FrameError::find(e).map(|f| {
                self.counters.malformed += 1;
                SendFailure::MalformedResponse(f.to_string())
            }),
            OutboundFailure::Timeout => {
                // No answer in time: the connection is suspect (a peer that
                // stalled, a link that lost data). Close it, so the retry below
                // runs over a fresh, re-verified connection.
                let _ = self.swarm.disconnect_peer_id(peer);
                None
            }
            OutboundFailure::ConnectionClosed | OutboundFailure::DialFailure => None,
        };
        if let Some(failure) = terminal {
            if let Some((id, send)) = self.sends.complete(&request_id) {
                self.emit(Event::SendOutcome {
                    id,
                    peer: send.peer,
                    result: Err(failure),
                });
            }
            return;
        }
        let Some((id, send)) = self
            .sends
            .interrupted(&request_id, describe_failure(&error))
        else {
            return;
        };
        let (attempts, deadline) = (send.attempts, send.deadline);
        let now = Instant::now();
        if now >= deadline {
            if let Some(send) = self.sends.remove(id) {
                self.emit(Event::SendOutcome {
                    id,
                    peer,
                    result: Err(SendFailure::DeadlineExceeded {
                        attempts,
                        last_error: send.last_error,
                    }),
                });
            }
            return;
        }
        self.emit(Event::SendRetrying {
            id,
            peer,
            attempts,
            error: describe_failure(&error),
        });
        // Never resend at once: the same failure repeating immediately would
        // spin. After a backoff the peer is redialed if it is gone, or the send
        // goes again if it is still (or again) verified.
        self.sends
            .schedule_redial(peer, now, self.config.redial_backoff);
    }

    // ---- broadcast and identify -------------------------------------------

    fn on_gossip_event(&mut self, event: gossipsub::Event) {
        let (propagation_source, message_id, message) = match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => (propagation_source, message_id, message),
            gossipsub::Event::Subscribed { peer_id, topic } => {
                self.emit(Event::Subscribed {
                    peer: peer_id,
                    topic: topic.into_string(),
                });
                return;
            }
            _ => return,
        };
        let topic = message.topic.as_str().to_owned();
        let verified = self.is_verified(&propagation_source)
            || planted::active(PlantedBug::GossipFromUnverified);
        let acceptance = if verified {
            MessageAcceptance::Accept
        } else {
            MessageAcceptance::Reject
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&message_id, &propagation_source, acceptance);
        if verified {
            self.emit(Event::Broadcast {
                topic,
                author: message.source,
                from: propagation_source,
                data: message.data,
            });
        } else {
            self.counters.broadcasts_rejected += 1;
            self.emit(Event::BroadcastRejected {
                topic,
                from: propagation_source,
                reason: "forwarded by an unverified peer".into(),
            });
        }
    }

    fn on_identify_event(&mut self, event: identify::Event) {
        if let identify::Event::Received { peer_id, info, .. } = event {
            for address in info.listen_addrs {
                self.swarm
                    .behaviour_mut()
                    .gate
                    .add_address(peer_id, address);
            }
        }
    }

    fn malformed(&mut self, peer: PeerId, protocol: &'static str, error: String) {
        self.counters.malformed += 1;
        self.emit(Event::Malformed {
            peer: Some(peer),
            protocol,
            error,
        });
    }
}

fn rejection(failure: &HandshakeFailure) -> HandshakeResponse {
    HandshakeResponse::Rejected {
        code: failure.code(),
        message: failure.to_string(),
    }
}

/// A send failure in stable words. libp2p's own messages can embed
/// process-wide counters (yamux numbers its connections), which would make the
/// same simulated run read differently depending on what ran before it.
fn describe_failure(error: &OutboundFailure) -> String {
    match error {
        OutboundFailure::DialFailure => "dial failed".into(),
        OutboundFailure::Timeout => "no response in time".into(),
        OutboundFailure::ConnectionClosed => "connection closed before the response".into(),
        OutboundFailure::UnsupportedProtocols => "peer does not support the protocol".into(),
        OutboundFailure::Io(e) => match FrameError::find(e) {
            Some(frame) => frame.to_string(),
            None => format!("stream error ({:?})", e.kind()),
        },
    }
}

/// A dial failure in stable words (see [`describe_failure`]).
fn describe_dial_error(error: &DialError) -> String {
    match error {
        DialError::LocalPeerId { .. } => "dialed our own address".into(),
        DialError::NoAddresses => "no address known".into(),
        DialError::DialPeerConditionFalse(_) => "already connected or dialing".into(),
        DialError::Aborted => "dial aborted".into(),
        DialError::WrongPeerId { .. } => "the address belongs to another peer".into(),
        DialError::Denied { .. } => "denied".into(),
        DialError::Transport(attempts) => {
            let kinds: Vec<String> = attempts
                .iter()
                .map(|(address, error)| match error {
                    libp2p::TransportError::MultiaddrNotSupported(_) => {
                        format!("{address}: address not supported")
                    }
                    libp2p::TransportError::Other(e) => format!("{address}: {:?}", e.kind()),
                })
                .collect();
            format!("transport failed: {}", kinds.join("; "))
        }
    }
}

fn io_frame_error(error: &InboundFailure) -> Option<&FrameError> {
    match error {
        InboundFailure::Io(e) => FrameError::find(e),
        _ => None,
    }
}

/// Upper bound of a request's encoded size (tag, three lengths, option flag).
fn encoded_request_size(request: &InstanceMessageRequest) -> usize {
    1 + 4
        + request.protocol.len()
        + 4
        + request.payload.len()
        + 1
        + request.metadata.as_ref().map_or(0, |m| 4 + m.len())
}

/// Milliseconds since the Unix epoch on the system clock (virtual in a simulation).
fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
