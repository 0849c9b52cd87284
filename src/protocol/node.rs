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
//! without bound, and its deadlines wait (`node/backpressure.rs`).
//!
//! This file is the loop, the commands, the timers and the connection events.
//! Each protocol's events are handled in a file of its own under `node/`; the
//! state they keep lives in owned types (`Handshakes`, `Inbound`, [`Sends`]),
//! which make no swarm calls.

mod backpressure;
mod direct;
mod gossip;
mod handshake;
mod liveness;
mod outbox;

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    time::Duration,
};

use futures::StreamExt;
use libp2p::{
    core::ConnectedPoint,
    gossipsub::IdentTopic,
    swarm::{self, dial_opts::DialOpts, ConnectionId, DialError, ListenError, SwarmEvent},
    Multiaddr, PeerId, Swarm,
};
use tokio::{
    sync::mpsc,
    time::{Instant, Sleep},
};
use tracing::{debug, trace};

use self::outbox::Outbox;
use super::{
    admission::Admission,
    behaviour::{Behaviour, BehaviourError, BehaviourEvent},
    codec::Rejection,
    config::{NodeConfig, Responder},
    control::{
        check_response, BanState, Command, CommandError, Control, Counters, NodeHandle, NodeState,
        PeerState,
    },
    describe::describe_dial_error,
    event::{Event, SendFailure, SendId},
    handshake::{HandshakeFailure, HandshakeState, Session},
    handshakes::Handshakes,
    inbound::Inbound,
    keys::NodeKeys,
    liveness::Liveness,
    peers::{Direction, Refusal, MIN_PER_PEER},
    planted::{self, PlantedBug},
    sends::{SendIds, Sends},
    transport::BoxedTransport,
};

/// Commands queued before `Control` calls wait for the node.
const COMMAND_BUFFER: usize = 256;
/// Undecodable direct requests reported to the event loop before further
/// reports are dropped.
const REJECTION_BUFFER: usize = 64;

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

/// One peer of the protocol. Create with [`Node::new`], then drive [`Node::run`]
/// on a tokio runtime and use the returned [`NodeHandle`].
pub struct Node {
    swarm: Swarm<Behaviour>,
    config: NodeConfig,
    commands: mpsc::Receiver<Command>,
    rejections: mpsc::Receiver<Rejection>,
    admission: Admission,
    outbox: Outbox,
    handshakes: Handshakes,
    inbound: Inbound,
    sends: Sends,
    /// Send ids, shared with the node's controls.
    send_ids: SendIds,
    connections: ConnectionNumbers,
    liveness: Liveness,
    /// Since when the node has not read the network (backpressure), if it
    /// has not.
    deaf_since: Option<Instant>,
    listen_addresses: Vec<Multiaddr>,
    subscriptions: HashSet<String>,
    peer_topics: BTreeSet<(PeerId, String)>,
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
        if let Responder::Fixed(response) = &config.responder {
            check_response(response, config.max_message_size)
                .map_err(|e| NodeError::Config(format!("the fixed response: {e}")))?;
        }
        let local = keys.peer_id();
        let (rejections_tx, rejections) = mpsc::channel(REJECTION_BUFFER);
        let admission = Admission::default();
        let behaviour = Behaviour::new(&keys.identity, &config, rejections_tx, admission.clone())?;
        let swarm = Swarm::new(
            transport,
            behaviour,
            local,
            swarm::Config::with_tokio_executor()
                .with_idle_connection_timeout(config.idle_connection_timeout),
        );
        let (commands_tx, commands) = mpsc::channel(COMMAND_BUFFER);
        let (events_tx, events_rx) = mpsc::channel(config.event_buffer.max(1));
        let send_ids = SendIds::default();
        let control = Control::new(local, commands_tx, send_ids.clone());
        let node = Node {
            swarm,
            commands,
            rejections,
            admission,
            outbox: Outbox::new(events_tx),
            handshakes: Handshakes::new(&config, local, keys.instance),
            inbound: Inbound::new(config.requests),
            sends: Sends::default(),
            send_ids,
            connections: ConnectionNumbers::default(),
            liveness: Liveness::new(config.keep_alive.interval + config.keep_alive.timeout),
            deaf_since: None,
            listen_addresses: Vec::new(),
            subscriptions: HashSet::new(),
            peer_topics: BTreeSet::new(),
            counters: Counters::default(),
            config,
        };
        Ok((node, NodeHandle::new(control, events_rx)))
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
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
        let events_tx = self.outbox.sender();
        loop {
            let may_read_network = self.outbox.len() < self.config.event_buffer;
            self.set_reading(may_read_network, Instant::now());
            let wake = self.next_wakeup();
            if let Some(at) = wake {
                if timer.deadline() != at {
                    timer.as_mut().reset(at);
                }
            }
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.on_command(command),
                },
                permit = events_tx.reserve(), if !self.outbox.is_empty() => {
                    self.outbox.deliver(permit);
                }
                () = &mut timer, if wake.is_some() => self.on_timer(),
                Some(rejection) = self.rejections.recv() => self.on_rejection(rejection),
                event = self.swarm.select_next_some(), if may_read_network => {
                    self.on_swarm_event(event);
                }
            }
            self.counters.peak_buffered = self.counters.peak_buffered.max(self.buffered());
            let pending = self.handshakes.committed_inbound_pending();
            self.swarm
                .behaviour_mut()
                .gate
                .set_pending_handshakes(pending);
        }
        for (id, send) in self.sends.drain() {
            self.send_failed(id, send.peer, SendFailure::Shutdown);
        }
        self.outbox.flush().await;
    }

    /// Items held in memory on behalf of peers and the application: queued
    /// events, unanswered inbound requests, pending sends, rate-limit
    /// entries, held handshake channels. Every term has a configured bound.
    fn buffered(&self) -> u64 {
        (self.outbox.len() + self.inbound.buffered() + self.sends.len() + self.handshakes.held())
            as u64
    }

    fn emit(&mut self, event: Event) {
        trace!(?event, "event");
        self.outbox.push(event);
    }

    /// Reports that send `id` to `peer` failed for good.
    fn send_failed(&mut self, id: SendId, peer: PeerId, failure: SendFailure) {
        self.emit(Event::SendOutcome {
            id,
            peer,
            result: Err(failure),
        });
    }

    /// The next timer. A node that does not read the network waits only for
    /// ban expiries: it cannot hear pings or answers, so no deadline runs.
    fn next_wakeup(&self) -> Option<Instant> {
        let bans = self.swarm.behaviour().gate.next_ban_expiry();
        if !self.reading() {
            return bans;
        }
        self.handshakes
            .next_wakeup()
            .into_iter()
            .chain(self.sends.next_wakeup())
            .chain(bans)
            .chain(self.liveness.next_wakeup())
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
                let _ = reply.send(self.start_send(peer, request, None));
            }
            Command::Submit(id, peer, request) => self.submit_send(id, peer, request),
            Command::Respond(id, response, reply) => {
                // Checked before the request is taken, so that an application
                // whose answer is refused can still answer it another way.
                let result = check_response(&response, self.config.max_message_size).and_then(
                    |()| match self.inbound.take(id) {
                        Some(channel) => {
                            self.answer(channel, response);
                            Ok(())
                        }
                        None => Err(CommandError::UnknownRequest(id)),
                    },
                );
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
                if self.swarm.behaviour_mut().gate.unban(&peer) {
                    self.emit(Event::Unbanned {
                        peer,
                        expired: false,
                    });
                }
            }
            Command::Disconnect(peer) => {
                self.disconnect(peer);
            }
            Command::State(reply) => {
                let _ = reply.send(self.state());
            }
            Command::Shutdown => {}
        }
    }

    fn ban(&mut self, peer: PeerId, reason: String, duration: Option<Duration>) {
        let until = duration.map(|d| Instant::now() + d);
        self.swarm
            .behaviour_mut()
            .gate
            .ban(peer, reason.clone(), until);
        self.ban_fallout(peer, reason, duration);
        self.disconnect(peer);
    }

    /// Reports a new ban of `peer`, ends its session at once (before its
    /// connections finish closing: nothing it sent from now on counts as
    /// verified, and gossipsub drops it) and fails every send waiting for it.
    fn ban_fallout(&mut self, peer: PeerId, reason: String, duration: Option<Duration>) {
        self.emit(Event::Banned {
            peer,
            reason,
            duration,
        });
        self.transition(peer, Session::banned);
        self.fail_sends_banned(peer);
    }

    /// Fails every send waiting for `peer`, which is banned.
    fn fail_sends_banned(&mut self, peer: PeerId) {
        for (id, _) in self.sends.remove_peer(&peer) {
            self.send_failed(id, peer, SendFailure::PeerBanned);
        }
    }

    /// Whether `peer` is banned now.
    fn is_banned(&self, peer: &PeerId) -> bool {
        self.swarm.behaviour().gate.is_banned(peer, Instant::now())
    }

    /// Dials `peer` again for the sends waiting for it. A ban is terminal for
    /// them: the dial would be denied now and on every later try.
    fn redial(&mut self, peer: PeerId) {
        if self.is_banned(&peer) {
            return self.fail_sends_banned(peer);
        }
        debug!(%peer, "redialing for pending sends");
        if let Err(DialError::Denied { cause }) = self.swarm.dial(DialOpts::peer_id(peer).build()) {
            if matches!(
                cause.downcast_ref::<Refusal>(),
                Some(Refusal::Banned { .. })
            ) {
                self.fail_sends_banned(peer);
            }
        }
    }

    fn state(&self) -> NodeState {
        let now = Instant::now();
        let gate = &self.swarm.behaviour().gate;
        let peers = self
            .handshakes
            .sessions()
            .map(|(peer, session)| {
                let state = PeerState {
                    handshake: session.state(),
                    failure: session.failure().cloned(),
                    connections: gate.connections_with(peer),
                    key: session.remote_key(),
                };
                (*peer, state)
            })
            .collect();
        let bans = gate
            .active_bans(now)
            .map(|(peer, ban)| (*peer, BanState::at(&ban.reason, ban.until, now)))
            .collect();
        NodeState {
            peer_id: self.peer_id(),
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
        if self.reading() {
            self.on_protocol_timers(now);
        }
        for peer in self.swarm.behaviour_mut().gate.take_expired_bans(now) {
            self.emit(Event::Unbanned {
                peer,
                expired: true,
            });
        }
    }

    /// Handshake and send deadlines, delayed handshake steps, redials and
    /// keep-alive, due at `now`.
    fn on_protocol_timers(&mut self, now: Instant) {
        for peer in self.handshakes.overdue(now) {
            debug!(%peer, "handshake timed out");
            self.transition(peer, |s| s.check_timeout(now));
            self.disconnect(peer);
        }
        self.send_due_retries(now);
        for peer in self.handshakes.due_disconnects(now) {
            self.disconnect(peer);
        }
        for peer in self.handshakes.due_asks(now) {
            if self.swarm.is_connected(&peer) {
                self.send_handshake_request(peer);
            }
        }
        for (id, send) in self.sends.expired(now) {
            let failure = SendFailure::DeadlineExceeded {
                attempts: send.attempts,
                last_error: send.last_error,
            };
            self.send_failed(id, send.peer, failure);
        }
        for peer in self.sends.due_redials(now) {
            if self.handshakes.is_verified(&peer) {
                self.on_verified(peer);
            } else if !self.swarm.is_connected(&peer) {
                self.redial(peer);
            }
        }
        self.close_silent_connections(now);
    }

    // ---- swarm events ---------------------------------------------------

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Handshake(e)) => self.on_handshake_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Instance(e)) => self.on_instance_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossip_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(e)) => self.on_identify_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(e)) => self.on_ping_event(e),
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
        let direction = match endpoint {
            ConnectedPoint::Dialer { .. } => Direction::Outbound,
            ConnectedPoint::Listener { .. } => Direction::Inbound,
        };
        let connection = self.connections.open(connection_id, peer, direction);
        self.liveness.opened(connection_id, Instant::now());
        self.emit(Event::ConnectionEstablished {
            peer,
            connection,
            direction,
        });
        self.sends.cancel_redial(&peer);
        if num_established == 1 || self.handshakes.state_of(&peer).is_none() {
            let inbound = direction == Direction::Inbound;
            self.handshakes.begin(peer, Instant::now(), inbound);
            // Out of gossip until verified; gossipsub has seen the connection
            // but no message on it yet.
            self.set_gossip_trust(peer, false);
            self.emit(Event::Handshake {
                peer,
                state: HandshakeState::Connected,
                failure: None,
                key: None,
            });
            let limit = self.config.limits.max_pending_handshakes;
            if let Some(silent) = self.handshakes.displaced_by(&peer, limit) {
                debug!(%silent, newcomer = %peer, "pending-handshake limit full: displacing");
                self.fail_and_disconnect(silent, HandshakeFailure::Displaced);
            }
        }
        match self.handshakes.state_of(&peer) {
            None => return,
            Some(HandshakeState::Failed) => {
                // A rejection still on its way keeps the connections open
                // for its grace period (they close together then); otherwise
                // a failed peer's new connection closes at once.
                if !self.handshakes.closing_after_grace(&peer) {
                    self.disconnect(peer);
                }
                return;
            }
            Some(_) => {}
        }
        self.handshakes
            .step_quietly(peer, Session::connection_added);
        let verified = self.handshakes.is_verified(&peer);
        if planted::active(PlantedBug::StaleSessionNoRehandshake) {
            if direction == Direction::Outbound && self.handshakes.awaiting_our_request(&peer) {
                self.send_handshake_request(peer);
            }
            return;
        }
        match direction {
            // A new connection of ours to a peer we count verified: the
            // peer may have lost the session we still hold (a half-open
            // connection), so it is asked again; it answers at once if not.
            Direction::Outbound if verified && num_established > 1 => {
                self.send_handshake_request(peer);
            }
            Direction::Outbound if self.handshakes.awaiting_our_request(&peer) => {
                self.send_handshake_request(peer);
            }
            Direction::Outbound => {}
            Direction::Inbound if verified => {
                self.replace_older_connections(peer, connection_id);
            }
            Direction::Inbound => self.handshakes.ask_after_grace(peer, Instant::now()),
        }
    }

    fn on_connection_closed(&mut self, peer: PeerId, connection_id: ConnectionId, remaining: u32) {
        let connection = self.connections.close(connection_id);
        self.liveness.forget(connection_id);
        if remaining == 0 {
            // The session ends with its last connection: a pending handshake
            // fails first, then the connection is reported closed.
            self.inbound.forget_peer(peer, Instant::now());
            self.peer_topics.retain(|(p, _)| *p != peer);
            // Gossipsub keeps a departed peer's score for a while: keep it out.
            self.set_gossip_trust(peer, false);
            self.admission.forget(&peer);
            if self.handshakes.end(peer) {
                self.counters.handshake_failures += 1;
                self.emit(Event::Handshake {
                    peer,
                    state: HandshakeState::Failed,
                    failure: Some(HandshakeFailure::ConnectionClosed),
                    key: None,
                });
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

    fn malformed(&mut self, peer: PeerId, protocol: &'static str, error: String) {
        self.counters.malformed += 1;
        self.emit(Event::Malformed {
            peer: Some(peer),
            protocol,
            error,
        });
    }
}

/// The node's own connection numbers, in the order connections opened, and
/// whose each open connection is. libp2p's `ConnectionId`s count over the
/// whole process, so they would differ between runs of one simulation
/// depending on what ran before it.
#[derive(Default)]
struct ConnectionNumbers {
    by_id: HashMap<ConnectionId, (u64, PeerId, Direction)>,
    next: u64,
}

impl ConnectionNumbers {
    fn open(&mut self, id: ConnectionId, peer: PeerId, direction: Direction) -> u64 {
        let number = self.next;
        self.next += 1;
        self.by_id.insert(id, (number, peer, direction));
        number
    }

    /// Whether this node dialed one of its open connections with `peer`.
    fn dialed(&self, peer: &PeerId) -> bool {
        self.by_id
            .values()
            .any(|(_, p, d)| p == peer && *d == Direction::Outbound)
    }

    /// The number of a connection that closed; `u64::MAX` for one never seen.
    fn close(&mut self, id: ConnectionId) -> u64 {
        self.by_id
            .remove(&id)
            .map_or(u64::MAX, |(number, ..)| number)
    }

    /// The peer of an open connection.
    fn peer_of(&self, id: ConnectionId) -> Option<PeerId> {
        self.by_id.get(&id).map(|(_, peer, _)| *peer)
    }

    /// The number of an open connection; `u64::MAX` for one never seen.
    fn number_of(&self, id: ConnectionId) -> u64 {
        self.by_id.get(&id).map_or(u64::MAX, |(number, ..)| *number)
    }

    /// Every open connection with `peer`, in the order they opened.
    fn of(&self, peer: &PeerId) -> Vec<ConnectionId> {
        self.older_than(peer, u64::MAX)
    }

    /// The open connections with `peer` opened before connection `number`,
    /// in the order they opened.
    fn older_than(&self, peer: &PeerId, number: u64) -> Vec<ConnectionId> {
        let mut older: Vec<(u64, ConnectionId)> = self
            .by_id
            .iter()
            .filter(|(_, (n, p, _))| p == peer && *n < number)
            .map(|(id, (n, ..))| (*n, *id))
            .collect();
        older.sort_unstable();
        older.into_iter().map(|(_, id)| id).collect()
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
