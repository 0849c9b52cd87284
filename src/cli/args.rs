//! Value parsers for command-line arguments: each says what it expected.
//! Durations use [`simnet::scenario::time::parse_duration`], so the command
//! line accepts exactly what scenario files do.

use simnet::{implementation::Implementation, scenario::suite, sim::Simulator};

/// Parses a fuzz target name.
pub(crate) fn parse_target(text: &str) -> Result<simnet::fuzz::Target, String> {
    simnet::fuzz::Target::from_name(text)
        .ok_or_else(|| format!("unknown target `{text}`: use wire, frame, handshake or scenario"))
}

/// Parses `K/N`.
pub(crate) fn parse_shard_arg(text: &str) -> Result<(usize, usize), String> {
    suite::parse_shard(text).map_err(|e| e.to_string())
}

/// Parses `A..B` with A < B.
pub(crate) fn parse_seed_range(text: &str) -> Result<std::ops::Range<u64>, String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("expected a seed range like 0..100, got `{text}`"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not a seed"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not a seed"))?;
    if a >= b {
        return Err(format!("the range `{text}` is empty"));
    }
    Ok(a..b)
}

/// Parses a simulator's name.
pub(crate) fn parse_simulator(text: &str) -> Result<Simulator, String> {
    Simulator::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = Simulator::ALL.iter().map(|s| s.name()).collect();
        format!("unknown simulator `{text}`: use {}", names.join(" or "))
    })
}

/// `--simulator`, for every command that runs a simulation.
#[derive(clap::Args, Debug, Clone, Copy)]
pub(crate) struct SimulatorArg {
    /// Which simulator runs the nodes: `events`, the event-driven engine
    /// (the default; snapshots are taken on it), or `turmoil`, turmoil's
    /// network stepped every millisecond.
    #[arg(long, default_value = "events", value_parser = parse_simulator)]
    pub(crate) simulator: Simulator,
}

/// Parses an implementation's name; one this build lacks is refused here,
/// before anything runs.
pub(crate) fn parse_implementation(text: &str) -> Result<Implementation, String> {
    let found = Implementation::ALL.into_iter().find(|i| i.name() == text);
    match found {
        None => {
            let names: Vec<&str> = Implementation::ALL.iter().map(|i| i.name()).collect();
            Err(format!(
                "unknown implementation `{text}`: use {}",
                names.join(" or ")
            ))
        }
        Some(implementation) if !implementation.is_built() => {
            Err(simnet::implementation::NotBuilt.to_string())
        }
        Some(implementation) => Ok(implementation),
    }
}

/// `--impl`, for every command that runs scenarios.
#[derive(clap::Args, Debug, Clone, Copy)]
pub(crate) struct ImplementationArg {
    /// Which implementation runs every node: `simnet` (the default), or
    /// `reference`, blueprint-networking 0.2.0-alpha.13, the implementation
    /// the protocol document describes (in a build with `--features
    /// reference`).
    #[arg(long = "impl", default_value = "simnet", value_parser = parse_implementation)]
    pub(crate) implementation: Implementation,
}
