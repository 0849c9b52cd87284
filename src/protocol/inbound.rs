//! Direct requests from peers that the application holds: their response
//! channels until answered, how many each peer has in flight, and each peer's
//! rate window. Owned by the node, which checks [`Inbound::overload`] before
//! delivering a request and answers through the channels held here.
//!
//! A held request is released when the application answers it, when its
//! stream fails (request-response's timeout also covers the time the
//! application takes, and one of several connections may close), and when
//! the peer's last connection closes: a dead request must not keep its
//! in-flight slot, or the peer's next requests are refused with 429.

use std::collections::BTreeMap;

use libp2p::{
    request_response::{InboundRequestId, ResponseChannel},
    PeerId,
};
use tokio::time::Instant;

use super::{
    bounds::{Overload, RateLimiter, RequestBounds},
    event::InboundId,
    wire::InstanceMessageResponse,
};

/// One request the application has not answered yet.
struct Held {
    peer: PeerId,
    request_id: InboundRequestId,
    channel: ResponseChannel<InstanceMessageResponse>,
}

/// Inbound direct requests of one node, bounded per peer by [`RequestBounds`].
pub(crate) struct Inbound {
    bounds: RequestBounds,
    held: BTreeMap<InboundId, Held>,
    by_request: BTreeMap<InboundRequestId, InboundId>,
    in_flight: BTreeMap<PeerId, u32>,
    rate: RateLimiter,
    unverified: RateLimiter,
    next_id: u64,
}

impl Inbound {
    /// Nothing held yet; requests will be bounded by `bounds`.
    pub(crate) fn new(bounds: RequestBounds) -> Self {
        Self {
            bounds,
            held: BTreeMap::new(),
            by_request: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            rate: RateLimiter::default(),
            unverified: RateLimiter::default(),
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

    /// Records a request from `peer`, which is not verified, at `now`;
    /// returns whether it is still within `max_unverified` for the window
    /// (beyond it, the node bans the peer).
    pub(crate) fn unverified_within_bounds(&mut self, peer: PeerId, now: Instant) -> bool {
        let bounds = self.bounds;
        self.unverified
            .admit_up_to(peer, now, bounds.max_unverified, &bounds)
    }

    /// A fresh id for a request delivered to the application.
    pub(crate) fn next_id(&mut self) -> InboundId {
        let id = InboundId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Keeps the channel of request `id` (libp2p's `request_id`) until the
    /// application answers it or its stream fails.
    pub(crate) fn hold(
        &mut self,
        id: InboundId,
        request_id: InboundRequestId,
        peer: PeerId,
        channel: ResponseChannel<InstanceMessageResponse>,
    ) {
        self.held.insert(
            id,
            Held {
                peer,
                request_id,
                channel,
            },
        );
        self.by_request.insert(request_id, id);
        *self.in_flight.entry(peer).or_default() += 1;
    }

    /// The channel to answer request `id` on, if it is still held.
    pub(crate) fn take(
        &mut self,
        id: InboundId,
    ) -> Option<ResponseChannel<InstanceMessageResponse>> {
        let held = self.held.remove(&id)?;
        self.by_request.remove(&held.request_id);
        if let Some(count) = self.in_flight.get_mut(&held.peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.in_flight.remove(&held.peer);
            }
        }
        Some(held.channel)
    }

    /// Releases the request whose stream failed (timed out, or its
    /// connection closed): it can no longer be answered. Returns its id if it
    /// was held.
    pub(crate) fn release(&mut self, request_id: &InboundRequestId) -> Option<InboundId> {
        let id = *self.by_request.get(request_id)?;
        self.take(id).map(|_| id)
    }

    /// Drops what is held for a peer whose last connection closed: its
    /// requests can no longer be answered.
    pub(crate) fn forget_peer(&mut self, peer: PeerId, now: Instant) {
        let held: Vec<InboundId> = self
            .held
            .iter()
            .filter(|(_, held)| held.peer == peer)
            .map(|(id, _)| *id)
            .collect();
        for id in held {
            self.take(id);
        }
        self.rate.prune(now, &self.bounds);
        self.unverified.prune(now, &self.bounds);
    }

    /// Items held in memory: unanswered requests and rate-window entries.
    pub(crate) fn buffered(&self) -> usize {
        self.held.len() + self.rate.held() + self.unverified.held()
    }
}
