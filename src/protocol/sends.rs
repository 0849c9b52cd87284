//! Bookkeeping for direct sends: which attempt is in flight, which sends wait
//! for their peer to verify again, when to redial and when to give up.
//!
//! "Guaranteed delivery attempt": a send whose attempt loses its connection or
//! goes unanswered is kept and re-sent once the peer is verified again, until
//! its deadline. Delivery is therefore at least once: the remote may see a
//! request again if an answer was lost. Every accepted send leaves this table
//! exactly once, through [`Sends::complete`], [`Sends::remove`],
//! [`Sends::expired`], [`Sends::remove_peer`] or [`Sends::drain`], and the
//! node reports exactly one outcome for each.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use libp2p::{request_response::OutboundRequestId, PeerId};
use tokio::time::Instant;

use super::{event::SendId, wire::InstanceMessageRequest};

/// Longest wait between redials of a peer that pending sends need.
pub const MAX_REDIAL_BACKOFF: Duration = Duration::from_secs(8);

/// One accepted send.
#[derive(Debug, Clone)]
pub struct PendingSend {
    /// Destination.
    pub peer: PeerId,
    /// The request, shared with in-flight attempts.
    pub request: Arc<InstanceMessageRequest>,
    /// When the application handed it over.
    pub accepted: Instant,
    /// When retrying stops.
    pub deadline: Instant,
    /// Attempts handed to the transport so far.
    pub attempts: u32,
    /// The attempt currently in flight, if any.
    pub in_flight: Option<OutboundRequestId>,
    /// Why the last attempt failed.
    pub last_error: String,
}

/// The redial state of one peer that pending sends need. The backoff is kept
/// across connections that open and fail again (a peer that accepts the
/// connection but refuses us, or a send that keeps failing on a verified
/// session), and starts over only when a send to the peer succeeds or no
/// send waits for it any more.
#[derive(Debug, Clone, Copy)]
struct Redial {
    at: Option<Instant>,
    backoff: Duration,
}

/// Where a node's send ids come from, shared by the node and every clone of
/// its [`super::Control`]: an application that submits a send gets its id
/// at once, without waiting for the node (see [`super::Control::submit`]).
#[derive(Debug, Clone, Default)]
pub struct SendIds(Arc<AtomicU64>);

impl SendIds {
    /// A new id, never handed out before by this node.
    pub fn next(&self) -> SendId {
        SendId(self.0.fetch_add(1, Ordering::Relaxed))
    }
}

/// All pending sends of one node.
#[derive(Debug, Default)]
pub struct Sends {
    pending: BTreeMap<SendId, PendingSend>,
    by_request: HashMap<OutboundRequestId, SendId>,
    redials: BTreeMap<PeerId, Redial>,
}

impl Sends {
    /// Registers the new send `id`, accepted at `accepted`, whose first
    /// attempt is `request_id`.
    pub fn start(
        &mut self,
        id: SendId,
        peer: PeerId,
        request: Arc<InstanceMessageRequest>,
        (accepted, deadline): (Instant, Instant),
        request_id: OutboundRequestId,
    ) {
        self.pending.insert(
            id,
            PendingSend {
                peer,
                request,
                accepted,
                deadline,
                attempts: 1,
                in_flight: Some(request_id),
                last_error: String::new(),
            },
        );
        self.by_request.insert(request_id, id);
    }

    /// Records another attempt of a waiting send.
    pub fn retried(&mut self, id: SendId, request_id: OutboundRequestId) {
        if let Some(send) = self.pending.get_mut(&id) {
            send.attempts += 1;
            send.in_flight = Some(request_id);
            self.by_request.insert(request_id, id);
        }
    }

    /// Whether `request_id` is an attempt of a send.
    pub fn owns(&self, request_id: &OutboundRequestId) -> bool {
        self.by_request.contains_key(request_id)
    }

    /// Removes the send whose attempt `request_id` finished for good.
    pub fn complete(&mut self, request_id: &OutboundRequestId) -> Option<(SendId, PendingSend)> {
        let id = self.by_request.remove(request_id)?;
        self.pending.remove(&id).map(|send| (id, send))
    }

    /// A send to `peer` was answered: the peer is reachable again, so its
    /// backoff starts over from `initial` (a redial already scheduled for
    /// other sends still waiting stays scheduled).
    pub fn answered(&mut self, peer: &PeerId, initial: Duration) {
        if let Some(redial) = self.redials.get_mut(peer) {
            redial.backoff = initial;
        }
    }

    /// Removes send `id` whatever its state.
    pub fn remove(&mut self, id: SendId) -> Option<PendingSend> {
        let send = self.pending.remove(&id)?;
        if let Some(request_id) = send.in_flight {
            self.by_request.remove(&request_id);
        }
        Some(send)
    }

    /// Marks the attempt `request_id` as lost; the send waits for its peer.
    pub fn interrupted(
        &mut self,
        request_id: &OutboundRequestId,
        error: String,
    ) -> Option<(SendId, &PendingSend)> {
        let id = self.by_request.remove(request_id)?;
        let send = self.pending.get_mut(&id)?;
        send.in_flight = None;
        send.last_error = error;
        Some((id, send))
    }

    /// Sends to `peer` waiting for an attempt, in send order.
    pub fn waiting_for(&self, peer: &PeerId) -> Vec<(SendId, Arc<InstanceMessageRequest>)> {
        self.pending
            .iter()
            .filter(|(_, s)| s.peer == *peer && s.in_flight.is_none())
            .map(|(id, s)| (*id, s.request.clone()))
            .collect()
    }

    /// Removes the sends whose deadline has passed, with an attempt in flight
    /// or not: a deadline is kept even while an attempt hangs (the request
    /// timeout alone could overrun it by up to 30 s). A late answer to such an
    /// attempt is ignored, since its request no longer belongs to a send.
    pub fn expired(&mut self, now: Instant) -> Vec<(SendId, PendingSend)> {
        let ids: Vec<SendId> = self
            .pending
            .iter()
            .filter(|(_, s)| now >= s.deadline)
            .map(|(id, _)| *id)
            .collect();
        let expired: Vec<_> = ids
            .into_iter()
            .filter_map(|id| self.remove(id).map(|s| (id, s)))
            .map(|(id, mut send)| {
                if send.in_flight.is_some() {
                    send.last_error = "attempt unanswered at the deadline".into();
                }
                (id, send)
            })
            .collect();
        self.forget_idle_redials();
        expired
    }

    /// Removes every send to `peer` (for example when it is banned).
    pub fn remove_peer(&mut self, peer: &PeerId) -> Vec<(SendId, PendingSend)> {
        let ids: Vec<SendId> = self
            .pending
            .iter()
            .filter(|(_, s)| s.peer == *peer)
            .map(|(id, _)| *id)
            .collect();
        let removed: Vec<_> = ids
            .into_iter()
            .filter_map(|id| self.pending.remove(&id).map(|s| (id, s)))
            .collect();
        for (_, send) in &removed {
            if let Some(request_id) = send.in_flight {
                self.by_request.remove(&request_id);
            }
        }
        self.redials.remove(peer);
        removed
    }

    /// Removes every send (node shutdown).
    pub fn drain(&mut self) -> Vec<(SendId, PendingSend)> {
        self.by_request.clear();
        self.redials.clear();
        std::mem::take(&mut self.pending).into_iter().collect()
    }

    /// Pending sends.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no send is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Schedules a redial of `peer` after its current backoff (`initial` for
    /// a peer with none yet), unless one is scheduled already.
    pub fn schedule_redial(&mut self, peer: PeerId, now: Instant, initial: Duration) {
        let redial = self.redials.entry(peer).or_insert(Redial {
            at: None,
            backoff: initial,
        });
        redial.at.get_or_insert(now + redial.backoff);
    }

    /// Stops the redial timer of `peer` (it is connected again); its backoff
    /// is kept for the next failure.
    pub fn cancel_redial(&mut self, peer: &PeerId) {
        if let Some(redial) = self.redials.get_mut(peer) {
            redial.at = None;
        }
    }

    /// Peers due for a redial at `now`; each is rescheduled with doubled backoff.
    pub fn due_redials(&mut self, now: Instant) -> Vec<PeerId> {
        let mut due = Vec::new();
        for (peer, redial) in self.redials.iter_mut() {
            if redial.at.is_some_and(|at| now >= at) {
                redial.backoff = (redial.backoff * 2).min(MAX_REDIAL_BACKOFF);
                redial.at = Some(now + redial.backoff);
                due.push(*peer);
            }
        }
        due
    }

    fn forget_idle_redials(&mut self) {
        let pending = &self.pending;
        self.redials.retain(|peer, _| {
            pending
                .values()
                .any(|s| s.peer == *peer && s.in_flight.is_none())
        });
    }

    /// The node did not read the network from `since` until `now`: answers
    /// that came meanwhile are read only now, so each deadline moves on by
    /// the part of that time the send was waiting (a send accepted during
    /// the pause waits from `now`). Redials are not deadlines and stay put.
    pub fn postpone(&mut self, since: Instant, now: Instant) {
        for send in self.pending.values_mut() {
            send.deadline += now.saturating_duration_since(send.accepted.max(since));
        }
    }

    /// The earliest moment something here needs attention.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let deadlines = self.pending.values().map(|s| s.deadline);
        let redials = self.redials.values().filter_map(|r| r.at);
        deadlines.chain(redials).min()
    }
}
