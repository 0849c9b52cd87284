//! Profiles: how the generator weights what it draws. Each is a [`Weights`]
//! value; `simnet explore --profile NAME` picks one.

use std::{fmt, str::FromStr};

/// A named weighting of the generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Everything, evenly: honest and adversarial nodes, all faults, gossip.
    All,
    /// Honest nodes only, many network faults: partitions, holds, loss,
    /// latency changes, disconnects.
    Faults,
    /// One to three adversaries of every kind among honest nodes, few faults.
    Adversaries,
    /// Subscriptions and broadcasts under partitions and bans.
    Gossip,
    /// Crashes, restarts, disconnects, bans and redials.
    Churn,
}

/// Every profile, in the order `--help` lists them.
pub const PROFILES: [Profile; 5] = [
    Profile::All,
    Profile::Faults,
    Profile::Adversaries,
    Profile::Gossip,
    Profile::Churn,
];

/// Relative weights of the chaos phase's actions, and the node mix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    /// Chance that a node beyond the first two honest ones is an adversary.
    pub adversary: f64,
    /// Chance that an honest node gets non-default settings.
    pub settings: f64,
    /// Dials between random nodes.
    pub dial: u32,
    /// Direct sends, of every response kind and size.
    pub send: u32,
    /// Subscriptions and broadcasts.
    pub gossip: u32,
    /// Bans (timed and permanent) and unbans.
    pub ban: u32,
    /// Partitions, holds, latency and loss on a link.
    pub link_fault: u32,
    /// Crashes and restarts.
    pub crash: u32,
    /// Clock offsets.
    pub clock: u32,
    /// Disconnects.
    pub disconnect: u32,
}

impl Profile {
    /// The profile's weights.
    pub fn weights(self) -> Weights {
        let even = Weights {
            adversary: 0.3,
            settings: 0.3,
            dial: 6,
            send: 5,
            gossip: 4,
            ban: 2,
            link_fault: 3,
            crash: 1,
            clock: 1,
            disconnect: 1,
        };
        match self {
            Profile::All => even,
            Profile::Faults => Weights {
                adversary: 0.0,
                link_fault: 8,
                disconnect: 3,
                ..even
            },
            Profile::Adversaries => Weights {
                adversary: 0.7,
                link_fault: 1,
                crash: 0,
                ..even
            },
            Profile::Gossip => Weights {
                gossip: 12,
                ban: 3,
                link_fault: 3,
                ..even
            },
            Profile::Churn => Weights {
                crash: 5,
                disconnect: 4,
                ban: 4,
                dial: 8,
                ..even
            },
        }
    }

    /// The name `--profile` takes.
    pub fn name(self) -> &'static str {
        match self {
            Profile::All => "all",
            Profile::Faults => "faults",
            Profile::Adversaries => "adversaries",
            Profile::Gossip => "gossip",
            Profile::Churn => "churn",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown profile name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile `{0}`; the profiles are all, faults, adversaries, gossip, churn")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PROFILES
            .into_iter()
            .find(|p| p.name() == text)
            .ok_or_else(|| UnknownProfile(text.to_owned()))
    }
}
