//! What the node does while its application does not take events: it stops
//! reading the network (so a slow application bounds what the node holds),
//! and the protocol's deadlines wait with it. An answer that arrived while
//! the node was not reading is read when it reads again, before any deadline
//! that would have called it missing (review L3). Keep-alive silence counts
//! afresh too (`protocol::liveness`).
//!
//! The remote cannot tell a node that does not read from a dead one: if the
//! pause outlasts its keep-alive timeout, it closes the connection.

use tokio::time::Instant;
use tracing::debug;

use super::Node;

impl Node {
    /// Records whether the node reads the network on this turn; when it
    /// starts reading again, moves its deadlines on by the pause.
    pub(super) fn set_reading(&mut self, reading: bool, now: Instant) {
        match (self.deaf_since, reading) {
            (None, false) => {
                debug!("the application is not taking events: not reading the network");
                self.deaf_since = Some(now);
            }
            (Some(since), true) => {
                debug!(paused = ?now - since, "reading the network again");
                self.deaf_since = None;
                self.liveness.resumed(now);
                self.handshakes.postpone(now - since);
                self.sends.postpone(since, now);
            }
            _ => {}
        }
    }

    /// Whether the node read the network on its last turn.
    pub(super) fn reading(&self) -> bool {
        self.deaf_since.is_none()
    }
}
