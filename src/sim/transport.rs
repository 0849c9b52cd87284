//! A libp2p `Transport` over turmoil's simulated TCP.
//!
//! It carries raw bytes only; [`crate::protocol::transport::upgrade`] adds the
//! same noise + yamux stack real runs use. turmoil hosts bind `0.0.0.0`, so a
//! listener is announced under the host's simulated IP, which is what peers dial.
//! Every byte written is fed to a [`WireTap`], whose digest is how determinism
//! is checked byte for byte.

use std::{
    collections::VecDeque,
    io,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use futures::{future::BoxFuture, AsyncRead, AsyncWrite, FutureExt};
use libp2p::{
    core::transport::{DialOpts, ListenerId, Transport, TransportError, TransportEvent},
    multiaddr::Protocol,
    Multiaddr,
};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};
use turmoil::net::{TcpListener, TcpStream};

pub use crate::net::WireStats;

/// Shared record of the simulated wire, one per simulation.
#[derive(Clone, Debug, Default)]
pub struct WireTap(Arc<Mutex<WireStats>>);

impl WireTap {
    /// The digest and count so far.
    pub fn stats(&self) -> WireStats {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn record(&self, bytes: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .absorb(bytes);
    }
}

/// A simulated TCP stream whose writes are recorded.
pub struct TappedStream {
    inner: Compat<TcpStream>,
    tap: WireTap,
}

impl AsyncRead for TappedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TappedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &written {
            self.tap.record(&buf[..*n]);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

enum ListenerState {
    Binding(BoxFuture<'static, io::Result<TcpListener>>),
    Accepting {
        listener: Arc<TcpListener>,
        accept: BoxFuture<'static, io::Result<(TcpStream, SocketAddr)>>,
    },
}

struct Listener {
    id: ListenerId,
    port: u16,
    state: ListenerState,
}

fn accept_next(
    listener: Arc<TcpListener>,
) -> BoxFuture<'static, io::Result<(TcpStream, SocketAddr)>> {
    async move { listener.accept().await }.boxed()
}

/// The raw simulated-TCP transport of one host.
pub struct SimTcp {
    local_ip: IpAddr,
    tap: WireTap,
    listeners: VecDeque<Listener>,
}

impl SimTcp {
    /// A transport for the host whose simulated address is `local_ip`.
    pub fn new(local_ip: IpAddr, tap: WireTap) -> Self {
        Self {
            local_ip,
            tap,
            listeners: VecDeque::new(),
        }
    }

    fn wrap(&self, stream: TcpStream) -> TappedStream {
        TappedStream {
            inner: stream.compat(),
            tap: self.tap.clone(),
        }
    }
}

/// The socket address of `/ip4/…/tcp/…` (trailing `/p2p/…` ignored).
pub(super) fn socket_addr(addr: &Multiaddr) -> Option<SocketAddr> {
    let mut parts = addr.iter();
    let ip: IpAddr = match parts.next()? {
        Protocol::Ip4(ip) => ip.into(),
        Protocol::Ip6(ip) => ip.into(),
        _ => return None,
    };
    match parts.next()? {
        Protocol::Tcp(port) => Some(SocketAddr::new(ip, port)),
        _ => None,
    }
}

/// `/ip4/…/tcp/…` (or `/ip6/…`) of `addr`.
pub(super) fn multiaddr(addr: SocketAddr) -> Multiaddr {
    Multiaddr::empty()
        .with(match addr.ip() {
            IpAddr::V4(ip) => Protocol::Ip4(ip),
            IpAddr::V6(ip) => Protocol::Ip6(ip),
        })
        .with(Protocol::Tcp(addr.port()))
}

impl Transport for SimTcp {
    type Output = TappedStream;
    type Error = io::Error;
    type ListenerUpgrade = futures::future::Ready<io::Result<TappedStream>>;
    type Dial = BoxFuture<'static, io::Result<TappedStream>>;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<io::Error>> {
        let Some(socket) = socket_addr(&addr) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        let port = socket.port();
        let bind = async move { TcpListener::bind(("0.0.0.0", port)).await }.boxed();
        self.listeners.push_back(Listener {
            id,
            port,
            state: ListenerState::Binding(bind),
        });
        Ok(())
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        let before = self.listeners.len();
        self.listeners.retain(|l| l.id != id);
        before != self.listeners.len()
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        _: DialOpts,
    ) -> Result<Self::Dial, TransportError<io::Error>> {
        let Some(socket) = socket_addr(&addr) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        let tap = self.tap.clone();
        Ok(async move {
            let stream = TcpStream::connect(socket).await?;
            Ok(TappedStream {
                inner: stream.compat(),
                tap,
            })
        }
        .boxed())
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, io::Error>> {
        let local_ip = self.local_ip;
        for index in 0..self.listeners.len() {
            let listener = &mut self.listeners[index];
            let (id, port) = (listener.id, listener.port);
            let local = multiaddr(SocketAddr::new(local_ip, port));
            match &mut listener.state {
                ListenerState::Binding(bind) => match bind.poll_unpin(cx) {
                    Poll::Pending => {}
                    Poll::Ready(Ok(bound)) => {
                        let bound = Arc::new(bound);
                        listener.state = ListenerState::Accepting {
                            accept: accept_next(bound.clone()),
                            listener: bound,
                        };
                        cx.waker().wake_by_ref();
                        return Poll::Ready(TransportEvent::NewAddress {
                            listener_id: id,
                            listen_addr: local,
                        });
                    }
                    Poll::Ready(Err(error)) => {
                        self.listeners.remove(index);
                        return Poll::Ready(TransportEvent::ListenerClosed {
                            listener_id: id,
                            reason: Err(error),
                        });
                    }
                },
                ListenerState::Accepting {
                    listener: bound,
                    accept,
                } => match accept.poll_unpin(cx) {
                    Poll::Pending => {}
                    Poll::Ready(result) => {
                        *accept = accept_next(bound.clone());
                        cx.waker().wake_by_ref();
                        return Poll::Ready(match result {
                            Ok((stream, remote)) => {
                                let stream = self.wrap(stream);
                                TransportEvent::Incoming {
                                    listener_id: id,
                                    upgrade: futures::future::ready(Ok(stream)),
                                    local_addr: local,
                                    send_back_addr: multiaddr(remote),
                                }
                            }
                            Err(error) => TransportEvent::ListenerError {
                                listener_id: id,
                                error,
                            },
                        });
                    }
                },
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_depends_on_every_byte_and_order() {
        let mut a = WireStats::default();
        a.absorb(b"ab");
        let mut b = WireStats::default();
        b.absorb(b"ba");
        assert_ne!(a.digest, b.digest);
        assert_eq!(a.bytes, 2);
    }

    #[test]
    fn addresses_round_trip() {
        let addr: Multiaddr =
            "/ip4/192.168.0.1/tcp/4000/p2p/12D3KooWAtEtnixk6dky5d9TFApTHnMr46qcdsb676J4vMByMnSK"
                .parse()
                .unwrap();
        let socket = socket_addr(&addr).unwrap();
        assert_eq!(socket, "192.168.0.1:4000".parse().unwrap());
        assert_eq!(multiaddr(socket).to_string(), "/ip4/192.168.0.1/tcp/4000");
        assert!(socket_addr(&"/dns4/x/tcp/1".parse().unwrap()).is_none());
    }
}
