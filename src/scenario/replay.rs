//! [`Replay`]: the command that runs one scenario again as it ran, written
//! in one place for every report and command that prints it.

use std::fmt;

use super::Mode;
use crate::{implementation::Implementation, sim::Simulator};

/// `simnet run FILE --seed N --trace`, with `--real` for a real-socket run,
/// `--simulator turmoil` for a run on turmoil and `--impl reference` for a
/// run on the reference implementation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// The scenario file, as the run named it.
    pub file: String,
    /// The seed it ran with (absent when the file could not even be run).
    pub seed: Option<u64>,
    /// Where it ran.
    pub mode: Mode,
    /// What ran its nodes.
    pub implementation: Implementation,
}

impl Replay {
    /// Whether the replay reproduces the run exactly (simulated runs do;
    /// real-socket runs keep identities but not timing).
    pub fn is_exact(&self) -> bool {
        self.mode.is_simulated()
    }
}

impl fmt::Display for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "simnet run {}", self.file)?;
        match self.mode {
            Mode::Real => f.write_str(" --real")?,
            Mode::Simulated(Simulator::Turmoil) => f.write_str(" --simulator turmoil")?,
            Mode::Simulated(Simulator::Events) => {}
        }
        if self.implementation != Implementation::Simnet {
            write!(f, " --impl {}", self.implementation)?;
        }
        if let Some(seed) = self.seed {
            write!(f, " --seed {seed}")?;
        }
        f.write_str(" --trace")
    }
}

/// Reports hold a replay as its command line.
impl serde::Serialize for Replay {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_replayed_where_it_ran() {
        let mut replay = Replay {
            file: "scenarios/a.yaml".into(),
            seed: Some(3),
            mode: Mode::SIMULATED,
            implementation: Implementation::Simnet,
        };
        assert_eq!(
            replay.to_string(),
            "simnet run scenarios/a.yaml --seed 3 --trace"
        );
        replay.mode = Mode::Simulated(Simulator::Turmoil);
        assert_eq!(
            replay.to_string(),
            "simnet run scenarios/a.yaml --simulator turmoil --seed 3 --trace"
        );
        assert!(replay.is_exact());
        replay.mode = Mode::Real;
        assert_eq!(
            replay.to_string(),
            "simnet run scenarios/a.yaml --real --seed 3 --trace"
        );
        assert!(!replay.is_exact());
        replay.implementation = Implementation::Reference;
        assert_eq!(
            replay.to_string(),
            "simnet run scenarios/a.yaml --real --impl reference --seed 3 --trace"
        );
    }
}
