//! The engine's network: hosts, listeners and byte-stream connections whose
//! segments travel in one queue ordered by (delivery time, sequence number).
//!
//! A write is one segment. It leaves at once and is delivered after a
//! latency drawn from the network's own seeded generator (shaped as turmoil
//! shapes it, see `Inner::draw_latency`), never earlier than
//! the segment sent before it from the same host to the same host (links are
//! FIFO, as turmoil's are). One driver task ([`SimNet::driver`]) sleeps until
//! the head of the queue is due, so a paused tokio runtime jumps straight to
//! the next delivery or timer: no tick, no per-host or per-link cost.
//!
//! What a connection models: connect (SYN, SYN-ACK or refusal), ordered
//! bytes, a bounded window of unread bytes per direction (a writer waits
//! while its peer's application has not read [`WINDOW`] bytes), FIN, and RST
//! for a segment that reaches a closed or crashed end. It does not
//! retransmit: a segment lost to a partition or to loss leaves a hole, and
//! nothing after it on that connection is delivered (the stream is broken,
//! as today's turmoil streams are); libp2p's timeouts then close it.
//!
//! Everything sits behind one mutex so streams are `Send` as libp2p needs;
//! the whole simulation runs on one thread, so it is never contended.
//! Wakers are woken after the lock is released.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    future::Future,
    io,
    net::Ipv4Addr,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
    task::{Context, Poll, Waker},
    time::Duration,
};

use futures::{AsyncRead, AsyncWrite};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use tokio::time::{Instant, Sleep};

use crate::sim::transport::WireTap;

/// Unread bytes one end may have in flight towards its peer.
pub const WINDOW: usize = 1 << 20;
/// Largest segment one write sends.
const MAX_SEGMENT: usize = 64 * 1024;
/// Rate of the exponential that shapes latencies inside their range.
const LATENCY_RATE: f64 = 5.0;
/// First port a dialing host picks for its side of a connection.
const FIRST_EPHEMERAL_PORT: u16 = 49_152;

/// Index of a host in the network.
pub type HostId = usize;

/// The simulated network of one engine. Cheap to clone.
#[derive(Clone)]
pub struct SimNet(Arc<Mutex<Inner>>);

/// Counters over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Segments handed to the network (data, control and refusals).
    pub sent: u64,
    /// Segments delivered to their host.
    pub delivered: u64,
    /// Segments dropped: partition, loss, a hole before them.
    pub dropped: u64,
}

struct Inner {
    rng: ChaCha20Rng,
    latency: (Duration, Duration),
    global_loss: f64,
    hosts: Vec<Host>,
    by_ip: HashMap<Ipv4Addr, HostId>,
    /// Link faults by unordered host pair (smaller id first); absent = healthy.
    links: BTreeMap<(HostId, HostId), Link>,
    /// When the last segment from one host to another is delivered (FIFO).
    last_delivery: HashMap<(HostId, HostId), Instant>,
    conns: BTreeMap<u64, Conn>,
    next_conn: u64,
    next_listener: u64,
    queue: BTreeMap<(Instant, u64), Segment>,
    next_seq: u64,
    driver: Option<Waker>,
    /// The deadline the driver sleeps until, if it sleeps on one.
    driver_deadline: Option<Instant>,
    stats: NetStats,
    tap: WireTap,
}

struct Host {
    ip: Ipv4Addr,
    next_port: u16,
    listeners: BTreeMap<u16, Listener>,
}

struct Listener {
    /// Tells this listener from a later one on the same port.
    token: u64,
    backlog: VecDeque<u64>,
    waker: Option<Waker>,
}

#[derive(Default)]
struct Link {
    partitioned: bool,
    held: bool,
    /// Segments that came due while the link was held, in order.
    held_segments: VecDeque<Segment>,
    latency: Option<(Duration, Duration)>,
    loss: f64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ConnState {
    Connecting,
    Established,
    Refused,
}

struct Conn {
    state: ConnState,
    /// `ends[0]` dialed, `ends[1]` accepted.
    ends: [End; 2],
}

struct End {
    host: HostId,
    port: u16,
    /// Delivered, not yet read.
    recv: VecDeque<u8>,
    /// The peer's FIN arrived.
    eof: bool,
    /// An RST arrived, or this end's host crashed.
    reset: bool,
    /// This end sent its FIN.
    closed: bool,
    /// This end's stream was dropped.
    dropped: bool,
    /// A segment towards this end was lost; later ones are dropped too.
    broken: bool,
    /// Bytes this end wrote that its peer's application has not read.
    unread_out: usize,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

impl End {
    fn new(host: HostId, port: u16) -> Self {
        Self {
            host,
            port,
            recv: VecDeque::new(),
            eof: false,
            reset: false,
            closed: false,
            dropped: false,
            broken: false,
            unread_out: 0,
            read_waker: None,
            write_waker: None,
        }
    }

    fn wake_all(&mut self, wakers: &mut Vec<Waker>) {
        wakers.extend(self.read_waker.take());
        wakers.extend(self.write_waker.take());
    }
}

struct Segment {
    from: HostId,
    to: HostId,
    conn: u64,
    /// Which end of `conn` it is for.
    side: usize,
    kind: Kind,
}

enum Kind {
    Syn { port: u16 },
    SynAck,
    Refuse,
    Data(Vec<u8>),
    Fin,
    Rst,
}

fn link_key(a: HostId, b: HostId) -> (HostId, HostId) {
    (a.min(b), a.max(b))
}

fn wake(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

impl SimNet {
    /// An empty network whose latencies and losses follow `seed`.
    pub fn new(seed: u64, latency: (Duration, Duration), tap: WireTap) -> Self {
        Self(Arc::new(Mutex::new(Inner {
            // Its own stream of the seed, so the network's draws do not
            // shift when libp2p draws more or fewer random bytes.
            rng: ChaCha20Rng::seed_from_u64(seed ^ 0x6e65_7477_6f72_6b00),
            latency,
            global_loss: 0.0,
            hosts: Vec::new(),
            by_ip: HashMap::new(),
            links: BTreeMap::new(),
            last_delivery: HashMap::new(),
            conns: BTreeMap::new(),
            next_conn: 0,
            next_listener: 0,
            queue: BTreeMap::new(),
            next_seq: 0,
            driver: None,
            driver_deadline: None,
            stats: NetStats::default(),
            tap,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a host with address `ip`.
    pub fn add_host(&self, ip: Ipv4Addr) -> HostId {
        let mut net = self.lock();
        let id = net.hosts.len();
        net.hosts.push(Host {
            ip,
            next_port: FIRST_EPHEMERAL_PORT,
            listeners: BTreeMap::new(),
        });
        net.by_ip.insert(ip, id);
        id
    }

    /// The host with address `ip`.
    pub fn host_of(&self, ip: Ipv4Addr) -> Option<HostId> {
        self.lock().by_ip.get(&ip).copied()
    }

    /// Counters so far.
    pub fn stats(&self) -> NetStats {
        self.lock().stats
    }

    /// Segments waiting for delivery (held ones included).
    pub fn in_flight(&self) -> usize {
        let net = self.lock();
        net.queue.len()
            + net
                .links
                .values()
                .map(|l| l.held_segments.len())
                .sum::<usize>()
    }

    // ---- faults ----------------------------------------------------------

    fn with_link(&self, a: HostId, b: HostId, f: impl FnOnce(&mut Link)) {
        f(self.lock().links.entry(link_key(a, b)).or_default());
    }

    /// Drops every segment between `a` and `b`, sent or in flight.
    pub fn partition(&self, a: HostId, b: HostId) {
        self.with_link(a, b, |l| l.partitioned = true);
    }

    /// Ends a partition.
    pub fn repair(&self, a: HostId, b: HostId) {
        self.with_link(a, b, |l| l.partitioned = false);
    }

    /// Keeps segments between `a` and `b` that come due, in order, until
    /// [`Self::release`].
    pub fn hold(&self, a: HostId, b: HostId) {
        self.with_link(a, b, |l| l.held = true);
    }

    /// Sends the held segments on again (each with a fresh latency, in their
    /// order) and lets new ones through.
    pub fn release(&self, a: HostId, b: HostId) {
        let now = Instant::now();
        let mut net = self.lock();
        let held = {
            let link = net.links.entry(link_key(a, b)).or_default();
            link.held = false;
            std::mem::take(&mut link.held_segments)
        };
        let mut wakers = Vec::new();
        for segment in held {
            net.schedule(segment, now, &mut wakers);
        }
        drop(net);
        wake(wakers);
    }

    /// Latency range of the link between `a` and `b`.
    pub fn set_latency(&self, a: HostId, b: HostId, min: Duration, max: Duration) {
        self.with_link(a, b, |l| l.latency = Some((min, max.max(min))));
    }

    /// Probability that a segment between `a` and `b` is lost.
    pub fn set_loss(&self, a: HostId, b: HostId, rate: f64) {
        self.with_link(a, b, |l| l.loss = rate.clamp(0.0, 1.0));
    }

    /// Probability that any segment is lost.
    pub fn set_global_loss(&self, rate: f64) {
        self.lock().global_loss = rate.clamp(0.0, 1.0);
    }

    /// The process on `host` dies and its operating system cleans up: its
    /// listeners close (later dials are refused) and every connection end on
    /// it is reset, with an RST sent to each peer, which therefore learns of
    /// the crash one latency later (as with turmoil's crash). A restarted
    /// node simply listens again.
    pub fn crash(&self, host: HostId) {
        let now = Instant::now();
        let mut net = self.lock();
        let mut wakers = Vec::new();
        for listener in std::mem::take(&mut net.hosts[host].listeners).into_values() {
            wakers.extend(listener.waker);
        }
        let mut resets = Vec::new();
        for (&id, conn) in net.conns.iter_mut() {
            for side in 0..2 {
                let end = &mut conn.ends[side];
                if end.host != host || end.reset {
                    continue;
                }
                end.reset = true;
                end.wake_all(&mut wakers);
                let peer = &conn.ends[1 - side];
                if !peer.reset && conn.state != ConnState::Refused {
                    resets.push(Segment {
                        from: host,
                        to: peer.host,
                        conn: id,
                        side: 1 - side,
                        kind: Kind::Rst,
                    });
                }
            }
        }
        for rst in resets {
            net.send(rst, now, &mut wakers);
        }
        drop(net);
        wake(wakers);
    }

    // ---- listeners and connections ---------------------------------------

    /// Listens on `port` of `host`; the token names this listener.
    pub fn listen(&self, host: HostId, port: u16) -> io::Result<u64> {
        let mut net = self.lock();
        let token = net.next_listener;
        net.next_listener += 1;
        let listeners = &mut net.hosts[host].listeners;
        if listeners.contains_key(&port) {
            return Err(io::ErrorKind::AddrInUse.into());
        }
        let listener = Listener {
            token,
            backlog: VecDeque::new(),
            waker: None,
        };
        listeners.insert(port, listener);
        Ok(token)
    }

    /// Stops listener `token` on `port` of `host`, if it still listens
    /// (a crash closed it, and a restarted node may listen there again).
    pub fn unlisten(&self, host: HostId, port: u16, token: u64) {
        let mut net = self.lock();
        let listeners = &mut net.hosts[host].listeners;
        if listeners.get(&port).is_some_and(|l| l.token == token) {
            listeners.remove(&port);
        }
    }

    /// The next connection accepted by listener `token` on `port` of `host`, with the peer's
    /// address and port.
    pub fn poll_accept(
        &self,
        host: HostId,
        port: u16,
        token: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(SimStream, Ipv4Addr, u16)>> {
        let mut net = self.lock();
        let listener = net.hosts[host].listeners.get_mut(&port);
        let Some(listener) = listener.filter(|l| l.token == token) else {
            return Poll::Ready(None);
        };
        let Some(conn) = listener.backlog.pop_front() else {
            listener.waker = Some(cx.waker().clone());
            return Poll::Pending;
        };
        let peer = &net.conns[&conn].ends[0];
        let (ip, peer_port) = (net.hosts[peer.host].ip, peer.port);
        let tap = net.tap.clone();
        drop(net);
        Poll::Ready(Some((self.stream(conn, 1, tap), ip, peer_port)))
    }

    fn stream(&self, conn: u64, side: usize, tap: WireTap) -> SimStream {
        SimStream {
            net: self.clone(),
            conn,
            side,
            tap,
        }
    }

    /// Starts a connection from `host` to `to:port`; the future resolves
    /// once the SYN-ACK (or a refusal) is back.
    pub fn connect(&self, host: HostId, to: Ipv4Addr, port: u16) -> io::Result<Connect> {
        let now = Instant::now();
        let mut net = self.lock();
        let Some(&dst) = net.by_ip.get(&to) else {
            return Err(io::ErrorKind::HostUnreachable.into());
        };
        let h = &mut net.hosts[host];
        let local_port = h.next_port;
        h.next_port = h.next_port.checked_add(1).unwrap_or(FIRST_EPHEMERAL_PORT);
        let conn = net.next_conn;
        net.next_conn += 1;
        net.conns.insert(
            conn,
            Conn {
                state: ConnState::Connecting,
                ends: [End::new(host, local_port), End::new(dst, port)],
            },
        );
        let mut wakers = Vec::new();
        let syn = Segment {
            from: host,
            to: dst,
            conn,
            side: 1,
            kind: Kind::Syn { port },
        };
        net.send(syn, now, &mut wakers);
        drop(net);
        wake(wakers);
        Ok(Connect {
            net: self.clone(),
            conn,
            done: false,
        })
    }

    /// The task that delivers segments when they are due. Spawn it once.
    pub fn driver(&self) -> impl Future<Output = ()> {
        Driver {
            net: self.clone(),
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(86_400 * 365 * 30))),
        }
    }
}

impl Inner {
    /// A latency in `range`, shaped as today's turmoil world draws it:
    /// `min + (max − min) · X` with X exponential of rate 5 (mean 0.2), capped
    /// at `max`, so most segments are near the minimum and a few are slow.
    fn draw_latency(&mut self, range: (Duration, Duration)) -> Duration {
        let (min, max) = range;
        let span = max.saturating_sub(min);
        if span.is_zero() {
            return min;
        }
        // Uniform in (0, 1], then the exponential's inverse distribution.
        let uniform = ((self.rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let x = -uniform.ln() / LATENCY_RATE;
        (min + span.mul_f64(x.min(1.0))).min(max)
    }

    fn lost(&mut self, rate: f64) -> bool {
        rate > 0.0 && (self.rng.next_u64() as f64 / u64::MAX as f64) < rate
    }

    /// A segment leaves `from`: dropped by a partition or loss, or queued.
    fn send(&mut self, segment: Segment, now: Instant, wakers: &mut Vec<Waker>) {
        self.stats.sent += 1;
        let link = self.links.get(&link_key(segment.from, segment.to));
        let (partitioned, loss) = link.map_or((false, 0.0), |l| (l.partitioned, l.loss));
        let loss = loss.max(self.global_loss);
        if partitioned || self.lost(loss) {
            self.drop_segment(&segment);
            return;
        }
        self.schedule(segment, now, wakers);
    }

    /// Queues `segment` for delivery after a latency, behind the link's
    /// earlier segments.
    fn schedule(&mut self, segment: Segment, now: Instant, wakers: &mut Vec<Waker>) {
        let range = self
            .links
            .get(&link_key(segment.from, segment.to))
            .and_then(|l| l.latency)
            .unwrap_or(self.latency);
        let latency = self.draw_latency(range);
        let direction = (segment.from, segment.to);
        let mut at = now + latency;
        if let Some(&last) = self.last_delivery.get(&direction) {
            at = at.max(last);
        }
        self.last_delivery.insert(direction, at);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.insert((at, seq), segment);
        if self.driver_deadline.is_none_or(|d| at < d) {
            wakers.extend(self.driver.take());
        }
    }

    /// A lost data segment or FIN leaves a hole in its direction.
    fn drop_segment(&mut self, segment: &Segment) {
        self.stats.dropped += 1;
        if matches!(segment.kind, Kind::Data(_) | Kind::Fin) {
            if let Some(conn) = self.conns.get_mut(&segment.conn) {
                conn.ends[segment.side].broken = true;
            }
        }
    }

    /// Hands every due segment to its host, in (time, sequence) order.
    fn deliver_due(&mut self, now: Instant, wakers: &mut Vec<Waker>) {
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let segment = entry.remove();
            let link = self.links.get_mut(&link_key(segment.from, segment.to));
            if let Some(link) = link {
                if link.partitioned {
                    self.drop_segment(&segment);
                    continue;
                }
                if link.held {
                    link.held_segments.push_back(segment);
                    continue;
                }
            }
            self.deliver(segment, now, wakers);
        }
    }

    /// Sends `kind` back to the sender of a segment `(from, to, conn, side)`.
    fn reply(&mut self, header: Header, kind: Kind, now: Instant, wakers: &mut Vec<Waker>) {
        let reply = Segment {
            from: header.to,
            to: header.from,
            conn: header.conn,
            side: 1 - header.side,
            kind,
        };
        self.send(reply, now, wakers);
    }

    fn deliver(&mut self, segment: Segment, now: Instant, wakers: &mut Vec<Waker>) {
        self.stats.delivered += 1;
        let Segment {
            from,
            to,
            conn: id,
            side,
            kind,
        } = segment;
        let header = Header {
            from,
            to,
            conn: id,
            side,
        };
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        match kind {
            Kind::Syn { port } => match self.hosts[to].listeners.get_mut(&port) {
                Some(listener) => {
                    listener.backlog.push_back(id);
                    wakers.extend(listener.waker.take());
                    self.reply(header, Kind::SynAck, now, wakers);
                }
                None => self.reply(header, Kind::Refuse, now, wakers),
            },
            Kind::SynAck | Kind::Refuse => {
                if conn.state == ConnState::Connecting {
                    conn.state = if matches!(kind, Kind::SynAck) {
                        ConnState::Established
                    } else {
                        ConnState::Refused
                    };
                }
                conn.ends[0].wake_all(wakers);
            }
            Kind::Data(bytes) => {
                let end = &mut conn.ends[side];
                // Data for a socket its application closed is answered with
                // an RST, as a kernel does, even behind a hole.
                if end.dropped || end.reset {
                    self.reply(header, Kind::Rst, now, wakers);
                    return;
                }
                if end.broken {
                    self.stats.dropped += 1;
                    return;
                }
                end.recv.extend(bytes);
                wakers.extend(end.read_waker.take());
            }
            Kind::Fin => {
                let end = &mut conn.ends[side];
                if !end.broken {
                    end.eof = true;
                    wakers.extend(end.read_waker.take());
                }
            }
            Kind::Rst => {
                let end = &mut conn.ends[side];
                end.reset = true;
                end.wake_all(wakers);
            }
        }
    }
}

/// Where a segment went, to answer it.
#[derive(Clone, Copy)]
struct Header {
    from: HostId,
    to: HostId,
    conn: u64,
    side: usize,
}

struct Driver {
    net: SimNet,
    sleep: Pin<Box<Sleep>>,
}

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let now = Instant::now();
            let mut wakers = Vec::new();
            let next = {
                let mut net = self.net.lock();
                net.deliver_due(now, &mut wakers);
                let next = net.queue.first_key_value().map(|((at, _), _)| *at);
                net.driver_deadline = next;
                net.driver = Some(cx.waker().clone());
                next
            };
            wake(wakers);
            let Some(at) = next else {
                return Poll::Pending;
            };
            if self.sleep.deadline() != at {
                self.sleep.as_mut().reset(at);
            }
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

/// A connection being set up; resolves to the dialer's stream.
pub struct Connect {
    net: SimNet,
    conn: u64,
    done: bool,
}

impl Future for Connect {
    type Output = io::Result<SimStream>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut net = self.net.lock();
        let tap = net.tap.clone();
        let Some(conn) = net.conns.get_mut(&self.conn) else {
            return Poll::Ready(Err(io::ErrorKind::ConnectionAborted.into()));
        };
        if conn.ends[0].reset {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        match conn.state {
            ConnState::Connecting => {
                conn.ends[0].write_waker = Some(cx.waker().clone());
                Poll::Pending
            }
            ConnState::Refused => Poll::Ready(Err(io::ErrorKind::ConnectionRefused.into())),
            ConnState::Established => {
                drop(net);
                self.done = true;
                Poll::Ready(Ok(self.net.stream(self.conn, 0, tap)))
            }
        }
    }
}

impl Drop for Connect {
    fn drop(&mut self) {
        if !self.done {
            // Given up (a timeout, a dropped dial): this end is gone.
            let mut net = self.net.lock();
            if let Some(conn) = net.conns.get_mut(&self.conn) {
                conn.ends[0].dropped = true;
            }
        }
    }
}

/// One end of a simulated connection: a futures-io byte stream.
pub struct SimStream {
    net: SimNet,
    conn: u64,
    side: usize,
    tap: WireTap,
}

impl AsyncRead for SimStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut net = self.net.lock();
        let Some(conn) = net.conns.get_mut(&self.conn) else {
            return Poll::Ready(Err(io::ErrorKind::ConnectionAborted.into()));
        };
        let [a, b] = &mut conn.ends;
        let (end, peer) = if self.side == 0 { (a, b) } else { (b, a) };
        if end.reset {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if end.recv.is_empty() {
            if end.eof {
                return Poll::Ready(Ok(0));
            }
            end.read_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = end.recv.len().min(buf.len());
        let (front, back) = end.recv.as_slices();
        let first = front.len().min(n);
        buf[..first].copy_from_slice(&front[..first]);
        buf[first..n].copy_from_slice(&back[..n - first]);
        end.recv.drain(..n);
        // The window opens at once: acknowledgements are not modelled.
        peer.unread_out = peer.unread_out.saturating_sub(n);
        let writer = peer.write_waker.take();
        drop(net);
        if let Some(waker) = writer {
            waker.wake();
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let now = Instant::now();
        let mut net = self.net.lock();
        let Some(conn) = net.conns.get_mut(&self.conn) else {
            return Poll::Ready(Err(io::ErrorKind::ConnectionAborted.into()));
        };
        let end = &mut conn.ends[self.side];
        if end.reset {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if end.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = WINDOW.saturating_sub(end.unread_out);
        if room == 0 {
            end.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(room).min(MAX_SEGMENT);
        end.unread_out += n;
        let (from, to) = (end.host, conn.ends[1 - self.side].host);
        self.tap.record(&buf[..n]);
        let mut wakers = Vec::new();
        let segment = Segment {
            from,
            to,
            conn: self.conn,
            side: 1 - self.side,
            kind: Kind::Data(buf[..n].to_vec()),
        };
        net.send(segment, now, &mut wakers);
        drop(net);
        wake(wakers);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.close();
        Poll::Ready(Ok(()))
    }
}

impl SimStream {
    /// Sends this end's FIN, once.
    fn close(&self) {
        let now = Instant::now();
        let mut net = self.net.lock();
        let Some(conn) = net.conns.get_mut(&self.conn) else {
            return;
        };
        let end = &mut conn.ends[self.side];
        if end.closed || end.reset {
            return;
        }
        end.closed = true;
        let (from, to) = (end.host, conn.ends[1 - self.side].host);
        let mut wakers = Vec::new();
        let fin = Segment {
            from,
            to,
            conn: self.conn,
            side: 1 - self.side,
            kind: Kind::Fin,
        };
        net.send(fin, now, &mut wakers);
        drop(net);
        wake(wakers);
    }
}

impl Drop for SimStream {
    fn drop(&mut self) {
        self.close();
        let mut net = self.net.lock();
        let Some(conn) = net.conns.get_mut(&self.conn) else {
            return;
        };
        conn.ends[self.side].dropped = true;
        if conn.ends.iter().all(|e| e.dropped) {
            net.conns.remove(&self.conn);
        }
    }
}
