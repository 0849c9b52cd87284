//! Which connections have gone silent: each connection is pinged every
//! keep-alive interval, and one that has answered no ping for
//! `interval + timeout` is taken for dead.
//!
//! libp2p's ping reports a failure only on the second missed ping in a row,
//! and the second one waits 10 s for a stream that cannot open on a dead link,
//! so a silent death took about 22 s to see. Counting from the last answer
//! sees it within `interval + timeout` (5 s by default), which a link that
//! loses data needs: in the simulator a lost segment kills the connection,
//! as real TCP would after its retransmissions ran out.
//!
//! A node that stopped reading the network (backpressure) cannot hear
//! answers, so every connection's silence starts over when it reads again.

use std::{collections::HashMap, time::Duration};

use libp2p::swarm::ConnectionId;
use tokio::time::Instant;

/// Last answered ping of each open connection that speaks ping.
pub(crate) struct Liveness {
    silent_after: Duration,
    last_heard: HashMap<ConnectionId, Instant>,
}

impl Liveness {
    /// Connections are dead after `silent_after` without an answered ping.
    pub(crate) fn new(silent_after: Duration) -> Self {
        Self {
            silent_after,
            last_heard: HashMap::new(),
        }
    }

    /// A connection opened at `now`: its silence counts from here.
    pub(crate) fn opened(&mut self, id: ConnectionId, now: Instant) {
        self.last_heard.insert(id, now);
    }

    /// A ping on `id` was answered at `now`.
    pub(crate) fn answered(&mut self, id: ConnectionId, now: Instant) {
        if let Some(last) = self.last_heard.get_mut(&id) {
            *last = now;
        }
    }

    /// The connection closed, or its peer does not speak ping (its silence
    /// says nothing): it is not judged any more.
    pub(crate) fn forget(&mut self, id: ConnectionId) {
        self.last_heard.remove(&id);
    }

    /// The node reads the network again after not doing so: nothing could be
    /// heard meanwhile, so silence counts from `now`.
    pub(crate) fn resumed(&mut self, now: Instant) {
        for last in self.last_heard.values_mut() {
            *last = (*last).max(now);
        }
    }

    /// Connections silent for too long at `now`, oldest silence first; each
    /// is forgotten (the caller closes it).
    pub(crate) fn take_dead(&mut self, now: Instant) -> Vec<ConnectionId> {
        let mut dead: Vec<(Instant, ConnectionId)> = self
            .last_heard
            .iter()
            .filter(|(_, last)| now >= **last + self.silent_after)
            .map(|(id, last)| (*last, *id))
            .collect();
        dead.sort_unstable();
        for (_, id) in &dead {
            self.last_heard.remove(id);
        }
        dead.into_iter().map(|(_, id)| id).collect()
    }

    /// How long a connection may stay silent.
    pub(crate) fn silent_after(&self) -> Duration {
        self.silent_after
    }

    /// When the next connection would be taken for dead.
    pub(crate) fn next_wakeup(&self) -> Option<Instant> {
        self.last_heard
            .values()
            .map(|last| *last + self.silent_after)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SILENT: Duration = Duration::from_secs(5);

    #[test]
    fn a_connection_that_keeps_answering_is_never_dead() {
        let start = Instant::now();
        let mut live = Liveness::new(SILENT);
        let id = ConnectionId::new_unchecked(1);
        live.opened(id, start);
        for s in [2, 4, 6, 8] {
            live.answered(id, start + Duration::from_secs(s));
            assert!(live
                .take_dead(start + Duration::from_secs(s + 1))
                .is_empty());
        }
        assert_eq!(live.next_wakeup(), Some(start + Duration::from_secs(13)));
    }

    #[test]
    fn silence_past_the_limit_is_death_reported_once() {
        let start = Instant::now();
        let mut live = Liveness::new(SILENT);
        let (a, b) = (
            ConnectionId::new_unchecked(1),
            ConnectionId::new_unchecked(2),
        );
        live.opened(a, start);
        live.opened(b, start + Duration::from_secs(1));
        assert!(live
            .take_dead(start + Duration::from_millis(4_999))
            .is_empty());
        assert_eq!(live.take_dead(start + Duration::from_secs(6)), [a, b]);
        assert!(live.take_dead(start + Duration::from_secs(60)).is_empty());
        assert_eq!(live.next_wakeup(), None);
    }

    #[test]
    fn silence_restarts_when_the_node_reads_again_and_forgotten_ones_are_not_judged() {
        let start = Instant::now();
        let mut live = Liveness::new(SILENT);
        let (a, b) = (
            ConnectionId::new_unchecked(1),
            ConnectionId::new_unchecked(2),
        );
        live.opened(a, start);
        live.opened(b, start);
        live.forget(b);
        live.resumed(start + Duration::from_secs(4));
        assert!(live.take_dead(start + Duration::from_secs(8)).is_empty());
        assert_eq!(live.take_dead(start + Duration::from_secs(9)), [a]);
    }
}
