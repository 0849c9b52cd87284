//! A bound on how long closing a connection may take.
//!
//! Closing a yamux connection flushes its last frames before the socket
//! closes. On a link that died without a reset (a partition, a crashed peer)
//! that flush can wait forever: libp2p puts no deadline on it, and until it
//! finishes the connection still counts as open, holds its session and fills
//! the per-peer limit (found by `simnet explore`, where a send's retries then
//! never ended). Real TCP would give up after its retransmissions, minutes
//! later; this gives up after [`CLOSE_TIMEOUT`] and drops the socket.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures::FutureExt;
use libp2p::core::muxing::{StreamMuxer, StreamMuxerEvent, StreamMuxerExt};
use tokio::time::Sleep;

/// Longest wait for a connection's close to flush.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A stream muxer whose close finishes within [`CLOSE_TIMEOUT`].
pub struct CloseDeadline<M> {
    inner: M,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<M> CloseDeadline<M> {
    /// Wraps `inner`.
    pub fn new(inner: M) -> Self {
        Self {
            inner,
            deadline: None,
        }
    }
}

impl<M: StreamMuxer + Unpin> StreamMuxer for CloseDeadline<M> {
    type Substream = M::Substream;
    type Error = M::Error;

    fn poll_inbound(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        self.inner.poll_inbound_unpin(cx)
    }

    fn poll_outbound(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        self.inner.poll_outbound_unpin(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if let Poll::Ready(result) = self.inner.poll_close_unpin(cx) {
            return Poll::Ready(result);
        }
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(CLOSE_TIMEOUT)));
        match deadline.poll_unpin(cx) {
            Poll::Ready(()) => {
                tracing::debug!("connection close did not flush in time; dropping it");
                Poll::Ready(Ok(()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<StreamMuxerEvent, Self::Error>> {
        self.inner.poll_unpin(cx)
    }
}
