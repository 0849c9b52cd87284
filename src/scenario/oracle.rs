//! The pure parts of the liveness oracles that `simnet explore` writes into
//! its scenarios as checks (`agree`, `reached`), so each can be tested on
//! made-up states without running a network.

use std::collections::{BTreeSet, VecDeque};

/// Whether two sides agree on their session: both verified, or neither.
pub fn sessions_agree(a_verified_b: bool, b_verified_a: bool) -> bool {
    a_verified_b == b_verified_a
}

/// The members `from` reaches through `linked` pairs (links verified on both
/// sides), moving only through members: who a broadcast must reach.
pub fn reachable<'a>(
    from: &'a str,
    members: &[&'a str],
    linked: &BTreeSet<(&'a str, &'a str)>,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::from([from]);
    let mut queue = VecDeque::from([from]);
    while let Some(node) = queue.pop_front() {
        for next in members {
            let link = linked.contains(&(node, *next)) || linked.contains(&(*next, node));
            if link && seen.insert(*next) {
                queue.push_back(next);
            }
        }
    }
    seen.remove(from);
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_open_session_disagrees() {
        assert!(sessions_agree(true, true));
        assert!(sessions_agree(false, false));
        assert!(!sessions_agree(true, false));
        assert!(!sessions_agree(false, true));
    }

    #[test]
    fn only_members_linked_to_the_publisher_must_be_reached() {
        // a - b - c, d alone; e linked to c but not a member.
        let linked = BTreeSet::from([("a", "b"), ("c", "b"), ("c", "e")]);
        let members = ["a", "b", "c", "d"];
        assert_eq!(
            reachable("a", &members, &linked),
            BTreeSet::from(["b", "c"])
        );
        assert_eq!(reachable("d", &members, &linked), BTreeSet::new());
        // Through a non-member the path does not count.
        let via_outsider = BTreeSet::from([("a", "x"), ("x", "b")]);
        assert_eq!(reachable("a", &["a", "b"], &via_outsider), BTreeSet::new());
    }
}
