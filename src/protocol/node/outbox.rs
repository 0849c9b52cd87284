//! Events waiting for the application, and what happens when it stops
//! reading them.

use std::collections::VecDeque;

use tokio::sync::mpsc::{self, error::SendError, Permit};

use crate::protocol::event::Event;

/// The node's queue of events for the application. Its length is what the
/// event loop compares with `event_buffer` before reading the network.
pub(super) struct Outbox {
    tx: mpsc::Sender<Event>,
    queue: VecDeque<Event>,
    /// The application dropped its receiver: events are discarded from now on.
    closed: bool,
}

impl Outbox {
    pub(super) fn new(tx: mpsc::Sender<Event>) -> Self {
        Self {
            tx,
            queue: VecDeque::new(),
            closed: false,
        }
    }

    /// A second handle on the channel, to reserve a slot with while the node
    /// is borrowed by the handler that fills it.
    pub(super) fn sender(&self) -> mpsc::Sender<Event> {
        self.tx.clone()
    }

    /// Queues `event`, unless the application is gone.
    pub(super) fn push(&mut self, event: Event) {
        if !self.closed {
            self.queue.push_back(event);
        }
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Hands the oldest event over through a reserved slot, or, if the
    /// application is gone, drops everything queued.
    pub(super) fn deliver(&mut self, permit: Result<Permit<'_, Event>, SendError<()>>) {
        match permit {
            Ok(permit) => {
                if let Some(event) = self.queue.pop_front() {
                    permit.send(event);
                }
            }
            Err(_) => {
                self.closed = true;
                self.queue.clear();
            }
        }
    }

    /// Hands over what is queued while the receiver still listens.
    pub(super) async fn flush(&mut self) {
        while let Some(event) = self.queue.pop_front() {
            if self.tx.send(event).await.is_err() {
                break;
            }
        }
    }
}
