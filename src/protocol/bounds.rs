//! Bounds on the work one peer can make a node do, so that a flood from one
//! peer costs honest peers nothing: a request rate per peer, a cap on a
//! peer's requests held by the application, and the bookkeeping behind them.
//! Pure: the node feeds it times and peers.
//!
//! Connection counts and pending handshakes are bounded in [`super::peers`];
//! frame sizes in [`super::codec`].

use std::{
    collections::{BTreeMap, VecDeque},
    time::Duration,
};

use libp2p::PeerId;
use tokio::time::Instant;

/// Per-peer bounds on inbound direct requests.
///
/// ## Default values
/// - `rate`: 100 requests per 10 s window (the reference implementation's)
/// - `max_in_flight`: 64 requests held by the application unanswered
/// - `max_unverified`: 10 requests per window from a peer that is not
///   verified (each answered 403) before that peer is banned
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestBounds {
    /// Requests accepted from one peer per `window`.
    pub rate: u32,
    /// The sliding window of `rate`.
    pub window: Duration,
    /// Requests from one peer delivered to the application and not yet answered.
    pub max_in_flight: u32,
    /// Requests per `window` from a peer that has not completed the
    /// handshake, each answered 403 (or refused unread if large), before the
    /// peer is banned for the ban policy's duration. An honest peer sends
    /// none: it sends only once it has verified us, and we verify it first.
    pub max_unverified: u32,
}

impl Default for RequestBounds {
    fn default() -> Self {
        Self {
            rate: 100,
            window: Duration::from_secs(10),
            max_in_flight: 64,
            max_unverified: 10,
        }
    }
}

/// Why a request was refused before reaching the application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overload {
    /// More than `rate` requests in the window.
    Rate,
    /// `max_in_flight` requests already waiting for the application.
    InFlight,
}

/// A sliding-window log per peer: at most `rate` instants each, so memory is
/// bounded by `rate` × peers; peers idle for a whole window are forgotten.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: BTreeMap<PeerId, VecDeque<Instant>>,
}

impl RateLimiter {
    /// Records a request from `peer` at `now` if `bounds` allow it.
    pub fn admit(&mut self, peer: PeerId, now: Instant, bounds: &RequestBounds) -> bool {
        self.admit_up_to(peer, now, bounds.rate, bounds)
    }

    /// Records a request from `peer` at `now` if fewer than `rate` were
    /// recorded in the window of `bounds`.
    pub fn admit_up_to(
        &mut self,
        peer: PeerId,
        now: Instant,
        rate: u32,
        bounds: &RequestBounds,
    ) -> bool {
        let window = self.windows.entry(peer).or_default();
        while window
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= bounds.window)
        {
            window.pop_front();
        }
        if window.len() >= rate as usize {
            return false;
        }
        window.push_back(now);
        true
    }

    /// Forgets peers whose every request is older than the window.
    pub fn prune(&mut self, now: Instant, bounds: &RequestBounds) {
        self.windows.retain(|_, window| {
            window
                .back()
                .is_some_and(|t| now.saturating_duration_since(*t) < bounds.window)
        });
    }

    /// Instants held, over all peers (for the buffered-items count).
    pub fn held(&self) -> usize {
        self.windows.values().map(VecDeque::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(rate: u32) -> RequestBounds {
        RequestBounds {
            rate,
            window: Duration::from_secs(10),
            max_in_flight: 4,
            max_unverified: 2,
        }
    }

    #[test]
    fn a_peer_gets_rate_requests_per_window() {
        let mut limiter = RateLimiter::default();
        let (peer, other) = (PeerId::random(), PeerId::random());
        let start = Instant::now();
        let bounds = bounds(3);
        for _ in 0..3 {
            assert!(limiter.admit(peer, start, &bounds));
        }
        assert!(!limiter.admit(peer, start + Duration::from_secs(9), &bounds));
        assert!(limiter.admit(other, start, &bounds), "per peer");
        assert!(limiter.admit(peer, start + Duration::from_secs(10), &bounds));
    }

    #[test]
    fn memory_is_bounded_by_rate_and_pruned_when_idle() {
        let mut limiter = RateLimiter::default();
        let peer = PeerId::random();
        let start = Instant::now();
        let bounds = bounds(5);
        for _ in 0..1000 {
            limiter.admit(peer, start, &bounds);
        }
        assert_eq!(limiter.held(), 5);
        limiter.prune(start + Duration::from_secs(11), &bounds);
        assert_eq!(limiter.held(), 0);
    }
}
