//! The baselines: bare libp2p swarms on the same transport (tokio TCP, noise,
//! yamux) with no simnet protocol on top, and a raw tokio TCP echo.

use std::{io, time::Duration};

use bytes::Bytes;
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{
    gossipsub, identity::Keypair, request_response, swarm::dummy, Multiaddr, PeerId,
    StreamProtocol, Swarm,
};
use simnet::protocol::{behaviour::gossipsub_config, transport, NodeConfig};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
    sync::mpsc,
};

use super::WAIT;

const BARE_PROTOCOL: StreamProtocol = StreamProtocol::new("/bench/echo/1");
/// The largest bare request or response, as for simnet's direct messages.
const MAX_FRAME: usize = 16 * 1024 * 1024;

fn swarm<B: libp2p::swarm::NetworkBehaviour>(keypair: &Keypair, behaviour: B) -> Swarm<B> {
    Swarm::new(
        transport::tcp(keypair).expect("transport"),
        behaviour,
        keypair.public().to_peer_id(),
        libp2p::swarm::Config::with_tokio_executor()
            .with_idle_connection_timeout(Duration::from_secs(3600)),
    )
}

async fn listen<B: libp2p::swarm::NetworkBehaviour>(swarm: &mut Swarm<B>) -> Multiaddr {
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("address"))
        .expect("listen");
    loop {
        if let libp2p::swarm::SwarmEvent::NewListenAddr { address, .. } =
            swarm.select_next_some().await
        {
            return address;
        }
    }
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within {WAIT:?}"))
}

/// What a bare swarm's task reports.
#[derive(Debug)]
pub enum Report {
    Established(PeerId),
    Closed(PeerId),
    Response,
    Message,
}

/// What a bare swarm's task is told.
pub enum Order {
    Dial(Multiaddr),
    Disconnect(PeerId),
    Request(PeerId, Bytes),
    Publish(Vec<u8>),
}

/// A bare swarm running in its own task.
pub struct Bare {
    pub id: PeerId,
    pub address: Multiaddr,
    orders: mpsc::UnboundedSender<Order>,
    reports: mpsc::UnboundedReceiver<Report>,
}

impl Bare {
    pub fn order(&self, order: Order) {
        self.orders.send(order).expect("bare swarm running");
    }

    /// Waits for one report naming each of `peers`, in any order; `peer_of`
    /// picks the peer out of the kind of report wanted.
    pub async fn wait_each(
        &mut self,
        peers: &[PeerId],
        peer_of: impl Fn(&Report) -> Option<PeerId>,
    ) {
        let mut left: Vec<PeerId> = peers.to_vec();
        while !left.is_empty() {
            let mut seen = None;
            self.wait(|r| {
                seen = peer_of(r).filter(|p| left.contains(p));
                seen.is_some()
            })
            .await;
            left.retain(|p| Some(*p) != seen);
        }
    }

    /// The next report that matches.
    pub async fn wait(&mut self, mut pred: impl FnMut(&Report) -> bool) {
        within("bare swarm", async {
            loop {
                let report = self.reports.recv().await.expect("bare swarm running");
                if pred(&report) {
                    return;
                }
            }
        })
        .await
    }
}

/// Runs `swarm` in a task: orders in, reports out. `handle` turns the
/// behaviour's own events into reports (and may act on the swarm).
async fn spawn<B, H>(mut swarm: Swarm<B>, mut handle: H) -> Bare
where
    B: libp2p::swarm::NetworkBehaviour + Send + 'static,
    B::ToSwarm: Send,
    H: FnMut(&mut Swarm<B>, B::ToSwarm) -> Option<Report> + Send + 'static,
    Swarm<B>: BareOrders,
{
    let address = listen(&mut swarm).await;
    let id = *swarm.local_peer_id();
    let (orders, mut order_rx) = mpsc::unbounded_channel();
    let (report_tx, reports) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                order = order_rx.recv() => match order {
                    Some(order) => swarm.obey(order),
                    None => break,
                },
                event = swarm.select_next_some() => {
                    use libp2p::swarm::SwarmEvent;
                    let report = match event {
                        SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                            Some(Report::Established(peer_id))
                        }
                        SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                            Some(Report::Closed(peer_id))
                        }
                        SwarmEvent::Behaviour(event) => handle(&mut swarm, event),
                        _ => None,
                    };
                    if let Some(report) = report {
                        let _ = report_tx.send(report);
                    }
                }
            }
        }
    });
    Bare {
        id,
        address,
        orders,
        reports,
    }
}

/// How each kind of bare swarm carries out orders.
pub trait BareOrders {
    fn obey(&mut self, order: Order);
}

fn common<B: libp2p::swarm::NetworkBehaviour>(swarm: &mut Swarm<B>, order: Order) -> Option<Order> {
    match order {
        Order::Dial(address) => {
            swarm.dial(address).expect("dial");
            None
        }
        Order::Disconnect(peer) => {
            let _ = swarm.disconnect_peer_id(peer);
            None
        }
        other => Some(other),
    }
}

impl BareOrders for Swarm<dummy::Behaviour> {
    fn obey(&mut self, order: Order) {
        let _ = common(self, order);
    }
}

/// A bare connection: noise + yamux, no protocol on it.
pub async fn connection_node() -> Bare {
    let keypair = Keypair::generate_ed25519();
    spawn(swarm(&keypair, dummy::Behaviour), |_, event| match event {}).await
}

/// Request-response with a length-prefixed bytes codec.
#[derive(Clone, Default)]
pub struct BytesCodec;

async fn read_bytes<T: futures::AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<Bytes> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut body = vec![0u8; len];
    io.read_exact(&mut body).await?;
    Ok(body.into())
}

async fn write_bytes<T: futures::AsyncWrite + Unpin + Send>(
    io: &mut T,
    body: &[u8],
) -> io::Result<()> {
    io.write_all(&(body.len() as u32).to_be_bytes()).await?;
    io.write_all(body).await?;
    io.close().await
}

impl request_response::Codec for BytesCodec {
    type Protocol = StreamProtocol;
    type Request = Bytes;
    type Response = Bytes;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Bytes>
    where
        T: futures::AsyncRead + Unpin + Send,
    {
        read_bytes(io).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Bytes>
    where
        T: futures::AsyncRead + Unpin + Send,
    {
        read_bytes(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Bytes,
    ) -> io::Result<()>
    where
        T: futures::AsyncWrite + Unpin + Send,
    {
        write_bytes(io, &req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Bytes,
    ) -> io::Result<()>
    where
        T: futures::AsyncWrite + Unpin + Send,
    {
        write_bytes(io, &res).await
    }
}

type Rr = request_response::Behaviour<BytesCodec>;

impl BareOrders for Swarm<Rr> {
    fn obey(&mut self, order: Order) {
        if let Some(Order::Request(peer, body)) = common(self, order) {
            self.behaviour_mut().send_request(&peer, body);
        }
    }
}

/// A bare request-response node that echoes every request.
pub async fn rr_node() -> Bare {
    let keypair = Keypair::generate_ed25519();
    let behaviour = Rr::new(
        [(BARE_PROTOCOL, request_response::ProtocolSupport::Full)],
        request_response::Config::default().with_request_timeout(WAIT),
    );
    spawn(swarm(&keypair, behaviour), |swarm, event| match event {
        request_response::Event::Message { message, .. } => match message {
            request_response::Message::Request {
                request, channel, ..
            } => {
                let _ = swarm.behaviour_mut().send_response(channel, request);
                None
            }
            request_response::Message::Response { .. } => Some(Report::Response),
        },
        request_response::Event::OutboundFailure { error, .. } => {
            panic!("bare request failed: {error}")
        }
        _ => None,
    })
    .await
}

const TOPIC: &str = "bench";

impl BareOrders for Swarm<gossipsub::Behaviour> {
    fn obey(&mut self, order: Order) {
        if let Some(Order::Publish(data)) = common(self, order) {
            self.behaviour_mut()
                .publish(gossipsub::IdentTopic::new(TOPIC), data)
                .expect("publish");
        }
    }
}

/// A bare gossipsub node with simnet's gossipsub configuration, subscribed
/// to the benchmark topic; it accepts every message.
pub async fn gossip_node() -> Bare {
    let keypair = Keypair::generate_ed25519();
    let config = gossipsub_config(&NodeConfig::default()).expect("gossipsub config");
    let mut behaviour = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(keypair.clone()),
        config,
    )
    .expect("gossipsub");
    behaviour
        .subscribe(&gossipsub::IdentTopic::new(TOPIC))
        .expect("subscribe");
    spawn(swarm(&keypair, behaviour), |swarm, event| match event {
        gossipsub::Event::Message {
            propagation_source,
            message_id,
            ..
        } => {
            let _ = swarm.behaviour_mut().report_message_validation_result(
                &message_id,
                &propagation_source,
                gossipsub::MessageAcceptance::Accept,
            );
            Some(Report::Message)
        }
        gossipsub::Event::Subscribed { peer_id, .. } => Some(Report::Established(peer_id)),
        _ => None,
    })
    .await
}

/// A raw TCP echo server on 127.0.0.1 for length-prefixed frames.
pub async fn tcp_echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let mut len = [0u8; 4];
                let mut body = Vec::new();
                while stream.read_exact(&mut len).await.is_ok() {
                    body.resize(u32::from_be_bytes(len) as usize, 0);
                    if stream.read_exact(&mut body).await.is_err()
                        || stream.write_all(&len).await.is_err()
                        || stream.write_all(&body).await.is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    address
}

/// A client of [`tcp_echo_server`].
pub struct TcpEcho {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl TcpEcho {
    pub async fn connect(address: std::net::SocketAddr) -> Self {
        let stream = TcpStream::connect(address).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buffer: Vec::new(),
        }
    }

    /// Writes `count` frames of `payload` (pipelined) and reads every echo.
    pub async fn round_trips(&mut self, payload: &[u8], count: usize) {
        let (mut reader, mut writer) = self.stream.split();
        let len = (payload.len() as u32).to_be_bytes();
        let buffer = &mut self.buffer;
        let write = async {
            for _ in 0..count {
                writer.write_all(&len).await.expect("write");
                writer.write_all(payload).await.expect("write");
            }
        };
        let read = async {
            let mut header = [0u8; 4];
            for _ in 0..count {
                reader.read_exact(&mut header).await.expect("read");
                buffer.resize(u32::from_be_bytes(header) as usize, 0);
                reader.read_exact(buffer).await.expect("read");
            }
        };
        within("tcp echo", futures::future::join(write, read)).await;
    }
}
