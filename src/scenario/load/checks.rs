//! Expectations and `never` patterns. [`ExpectSpec`], [`NeverSpec`] and each
//! item are destructured field by field, so an expectation added to the file
//! model does not compile until it becomes a [`Check`] here: a check cannot
//! be silently left unchecked.

use serde_saphyr::Location;

use super::{validate::Validator, LoadError};
use crate::scenario::{
    model::{
        BufferedExpect, ConnectionsExpect, DeliveryExpect, ExpectSpec, HandshakeExpect,
        HandshakeNever, Located, MalformedExpect, MessageNever, NeverSpec, NodeRef, ReachedExpect,
        RefusedExpect, RejectedExpect, RequestsExpect, RetriedExpect, StateSpec,
    },
    plan::{Check, Never},
};

impl Validator<'_> {
    pub(super) fn checks(&self, spec: &ExpectSpec, at: &Location) -> Result<Vec<Check>, LoadError> {
        let ExpectSpec {
            verified,
            not_verified,
            handshake,
            delivered,
            not_delivered,
            requests,
            rejected,
            banned,
            not_banned,
            refused,
            connections,
            retried,
            malformed,
            buffered,
            agree,
            reached,
        } = spec;
        let mut out = Vec::new();
        let pairs = |list: &[Vec<NodeRef>], what, make: fn(String, String) -> Check| {
            list.iter()
                .map(|p| self.pair(p, at, what).map(|(a, b)| make(a, b)))
                .collect::<Result<Vec<_>, _>>()
        };
        out.extend(pairs(verified, "verified", |a, b| Check::Verified {
            a,
            b,
        })?);
        out.extend(pairs(not_verified, "not_verified", |a, b| {
            Check::NotVerified { a, b }
        })?);
        for h in handshake {
            let HandshakeExpect {
                node,
                peer,
                state,
                reason,
                key,
            } = h;
            out.push(Check::Handshake {
                node: self.node(node)?,
                peer: self.node(peer)?,
                state: *state,
                reason: *reason,
                key: key.as_ref().map(|k| self.node(k)).transpose()?,
            });
        }
        for d in delivered {
            out.extend(self.deliveries(d, false)?);
        }
        for d in not_delivered {
            out.extend(self.deliveries(d, true)?);
        }
        for r in requests {
            let RequestsExpect { node, from, count } = r;
            out.push(Check::Requests {
                node: self.node(node)?,
                from: self.node(from)?,
                count: *count,
            });
        }
        for r in rejected {
            let RejectedExpect {
                node,
                from,
                code,
                count,
            } = r;
            out.push(Check::Rejected {
                node: self.node(node)?,
                from: self.node(from)?,
                code: *code,
                at_least: count.unwrap_or(1),
            });
        }
        out.extend(pairs(banned, "banned", |node, peer| Check::Banned {
            node,
            peer,
        })?);
        out.extend(pairs(not_banned, "not_banned", |node, peer| {
            Check::NotBanned { node, peer }
        })?);
        for r in refused {
            let RefusedExpect {
                node,
                peer,
                rule,
                at_most,
            } = r;
            out.push(Check::Refused {
                node: self.node(node)?,
                peer: self.node(peer)?,
                rule: *rule,
                at_most: *at_most,
            });
        }
        for c in connections {
            let ConnectionsExpect { node, peer, count } = c;
            out.push(Check::Connections {
                peer: peer.as_ref().map(|p| self.node(p)).transpose()?,
                node: self.node(node)?,
                count: *count,
            });
        }
        for r in retried {
            let RetriedExpect { node, at_least } = r;
            out.push(Check::Retried {
                node: self.node(node)?,
                at_least: *at_least,
            });
        }
        for b in buffered {
            let BufferedExpect { node, at_most } = b;
            out.push(Check::Buffered {
                node: self.node(node)?,
                at_most: *at_most,
            });
        }
        for m in malformed {
            let MalformedExpect { node, at_least } = m;
            out.push(Check::Malformed {
                node: self.node(node)?,
                at_least: *at_least,
            });
        }
        out.extend(pairs(agree, "agree", |a, b| Check::Agree { a, b })?);
        for r in reached {
            let ReachedExpect {
                from,
                topic,
                data,
                to,
            } = r;
            out.push(Check::Reached {
                from: self.node(from)?,
                topic: topic.clone(),
                data: data.as_ref().map(|d| d.as_bytes().to_vec()),
                to: self.nodes(to)?,
            });
        }
        if out.is_empty() {
            return Err(self.error_at(at, "`expect` lists no checks"));
        }
        Ok(out)
    }

    fn deliveries(&self, spec: &DeliveryExpect, negate: bool) -> Result<Vec<Check>, LoadError> {
        let DeliveryExpect { topic, to, data } = spec;
        let data = data.as_ref().map(|s| s.as_bytes().to_vec());
        self.nodes(to).map(|nodes| {
            nodes
                .into_iter()
                .map(|node| {
                    let (topic, data) = (topic.clone(), data.clone());
                    if negate {
                        Check::NotDelivered { topic, node, data }
                    } else {
                        Check::Delivered { topic, node, data }
                    }
                })
                .collect()
        })
    }

    pub(super) fn never(&self, spanned: &Located<NeverSpec>) -> Result<Never, LoadError> {
        let NeverSpec {
            handshake,
            request,
            broadcast,
        } = &spanned.value;
        let message = |m: &MessageNever| -> Result<(String, String), LoadError> {
            let MessageNever { node, from } = m;
            Ok((self.node(node)?, self.node(from)?))
        };
        let found: Vec<Never> = [
            handshake.as_ref().map(|h| {
                let HandshakeNever {
                    node,
                    peer,
                    state,
                    reason,
                } = h;
                if reason.is_some() && *state != StateSpec::Failed {
                    return Err(self.error_at(
                        &node.referenced,
                        "a `never` handshake with a `reason` needs `state: failed`",
                    ));
                }
                Ok(Never::Handshake {
                    node: self.node(node)?,
                    peer: self.node(peer)?,
                    state: *state,
                    reason: *reason,
                })
            }),
            request
                .as_ref()
                .map(|m| message(m).map(|(node, from)| Never::Request { node, from })),
            broadcast
                .as_ref()
                .map(|m| message(m).map(|(node, from)| Never::Broadcast { node, from })),
        ]
        .into_iter()
        .flatten()
        .collect::<Result<_, _>>()?;
        match <[Never; 1]>::try_from(found) {
            Ok([never]) => Ok(never),
            Err(_) => Err(self.error_at(
                &spanned.referenced,
                "each `never` entry names exactly one of `handshake`, `request` or `broadcast`",
            )),
        }
    }
}
