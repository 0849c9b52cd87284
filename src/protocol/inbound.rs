//! Direct requests from peers that the application holds: their response
//! channels until answered, how many each peer has in flight, and each peer's
//! rate window. Owned by the node, which checks [`Inbound::overload`] before
//! delivering a request and answers through the channels held here.

use std::collections::BTreeMap;

use libp2p::{request_response::ResponseChannel, PeerId};
use tokio::time::Instant;

use super::{
    bounds::{Overload, RateLimiter, RequestBounds},
    event::InboundId,
    wire::InstanceMessageResponse,
};

/// Inbound direct requests of one node, bounded per peer by [`RequestBounds`].
pub(crate) struct Inbound {
    bounds: RequestBounds,
    held: BTreeMap<InboundId, (PeerId, ResponseChannel<InstanceMessageResponse>)>,
    in_flight: BTreeMap<PeerId, u32>,
    rate: RateLimiter,
    next_id: u64,
}

impl Inbound {
    /// Nothing held yet; requests will be bounded by `bounds`.
    pub(crate) fn new(bounds: RequestBounds) -> Self {
        Self {
            bounds,
            held: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            rate: RateLimiter::default(),
            next_id: 0,
        }
    }

    /// Whether a request from `peer` exceeds its bounds; admits it into the
    /// rate window otherwise.
    pub(crate) fn overload(&mut self, peer: PeerId, now: Instant) -> Option<Overload> {
        if self.in_flight.get(&peer).copied().unwrap_or(0) >= self.bounds.max_in_flight {
            return Some(Overload::InFlight);
        }
        if !self.rate.admit(peer, now, &self.bounds) {
            return Some(Overload::Rate);
        }
        None
    }

    /// A fresh id for a request delivered to the application.
    pub(crate) fn next_id(&mut self) -> InboundId {
        let id = InboundId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Keeps the channel of request `id` until the application answers it.
    pub(crate) fn hold(
        &mut self,
        id: InboundId,
        peer: PeerId,
        channel: ResponseChannel<InstanceMessageResponse>,
    ) {
        self.held.insert(id, (peer, channel));
        *self.in_flight.entry(peer).or_default() += 1;
    }

    /// The channel to answer request `id` on, if it is still held.
    pub(crate) fn take(
        &mut self,
        id: InboundId,
    ) -> Option<ResponseChannel<InstanceMessageResponse>> {
        let (peer, channel) = self.held.remove(&id)?;
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
    pub(crate) fn forget_peer(&mut self, peer: PeerId, now: Instant) {
        let held: Vec<InboundId> = self
            .held
            .iter()
            .filter(|(_, (p, _))| *p == peer)
            .map(|(id, _)| *id)
            .collect();
        for id in held {
            self.take(id);
        }
        self.rate.prune(now, &self.bounds);
    }

    /// Items held in memory: unanswered requests and rate-window entries.
    pub(crate) fn buffered(&self) -> usize {
        self.held.len() + self.rate.held()
    }
}
