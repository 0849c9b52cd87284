//! A libp2p `Transport` over the engine's network ([`super::net`]).
//!
//! It carries raw bytes, like the turmoil transport; the node's stack adds
//! noise + yamux with [`crate::protocol::transport::upgrade`]. Each stream
//! knows its connection, so nothing here depends on which task polls it:
//! libp2p's tokio executor may spawn the connection tasks anywhere.

use std::{
    collections::VecDeque,
    io,
    net::{Ipv4Addr, SocketAddr, SocketAddrV4},
    pin::Pin,
    task::{Context, Poll},
};

use futures::{future::BoxFuture, FutureExt};
use libp2p::{
    core::transport::{DialOpts, ListenerId, Transport, TransportError, TransportEvent},
    Multiaddr,
};

use super::net::{HostId, SimNet, SimStream};
use crate::sim::transport::{multiaddr, socket_addr};

#[derive(Clone, Copy)]
struct Listener {
    id: ListenerId,
    port: u16,
    token: u64,
    announced: bool,
}

/// The raw transport of one host.
pub struct EngineTcp {
    net: SimNet,
    host: HostId,
    ip: Ipv4Addr,
    listeners: VecDeque<Listener>,
}

impl EngineTcp {
    /// The transport of `host`, whose address is `ip`.
    pub fn new(net: SimNet, host: HostId, ip: Ipv4Addr) -> Self {
        Self {
            net,
            host,
            ip,
            listeners: VecDeque::new(),
        }
    }
}

impl Drop for EngineTcp {
    fn drop(&mut self) {
        for listener in &self.listeners {
            self.net.unlisten(self.host, listener.port, listener.token);
        }
    }
}

/// The IPv4 address and port of `/ip4/…/tcp/…`: the engine's hosts have
/// IPv4 addresses only.
fn ipv4_socket(addr: &Multiaddr) -> Option<SocketAddrV4> {
    match socket_addr(addr)? {
        SocketAddr::V4(socket) => Some(socket),
        SocketAddr::V6(_) => None,
    }
}

impl Transport for EngineTcp {
    type Output = SimStream;
    type Error = io::Error;
    type ListenerUpgrade = futures::future::Ready<io::Result<SimStream>>;
    type Dial = BoxFuture<'static, io::Result<SimStream>>;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<io::Error>> {
        let Some(socket) = ipv4_socket(&addr) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        let (ip, port) = (*socket.ip(), socket.port());
        if !ip.is_unspecified() && ip != self.ip {
            return Err(TransportError::MultiaddrNotSupported(addr));
        }
        let token = self
            .net
            .listen(self.host, port)
            .map_err(TransportError::Other)?;
        self.listeners.push_back(Listener {
            id,
            port,
            token,
            announced: false,
        });
        Ok(())
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        let Some(index) = self.listeners.iter().position(|l| l.id == id) else {
            return false;
        };
        if let Some(listener) = self.listeners.remove(index) {
            self.net.unlisten(self.host, listener.port, listener.token);
        }
        true
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        _: DialOpts,
    ) -> Result<Self::Dial, TransportError<io::Error>> {
        let Some(socket) = ipv4_socket(&addr) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        let connect = self
            .net
            .connect(self.host, *socket.ip(), socket.port())
            .map_err(TransportError::Other)?;
        Ok(connect.boxed())
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, io::Error>> {
        let (host, ip) = (self.host, self.ip);
        for index in 0..self.listeners.len() {
            let Listener {
                id, port, token, ..
            } = self.listeners[index];
            let local = multiaddr(SocketAddr::from((ip, port)));
            if !self.listeners[index].announced {
                self.listeners[index].announced = true;
                cx.waker().wake_by_ref();
                return Poll::Ready(TransportEvent::NewAddress {
                    listener_id: id,
                    listen_addr: local,
                });
            }
            match self.net.poll_accept(host, port, token, cx) {
                Poll::Pending => {}
                Poll::Ready(Some((stream, peer_ip, peer_port))) => {
                    cx.waker().wake_by_ref();
                    return Poll::Ready(TransportEvent::Incoming {
                        listener_id: id,
                        upgrade: futures::future::ready(Ok(stream)),
                        local_addr: local,
                        send_back_addr: multiaddr(SocketAddr::from((peer_ip, peer_port))),
                    });
                }
                Poll::Ready(None) => {
                    // The host crashed under the listener.
                    self.listeners.remove(index);
                    return Poll::Ready(TransportEvent::ListenerClosed {
                        listener_id: id,
                        reason: Ok(()),
                    });
                }
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ipv4_socket_addresses_are_engine_addresses() {
        let addr: Multiaddr = "/ip4/10.0.0.1/tcp/4000".parse().unwrap();
        let socket = ipv4_socket(&addr).unwrap();
        assert_eq!(multiaddr(SocketAddr::V4(socket)), addr);
        assert!(ipv4_socket(&"/ip6/::1/tcp/4000".parse().unwrap()).is_none());
        assert!(ipv4_socket(&"/dns4/x/tcp/1".parse().unwrap()).is_none());
    }
}
