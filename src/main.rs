//! The `simnet` command line. Thin: parses arguments, calls the library, maps
//! outcomes to exit codes (0 pass, 1 a check failed, 2 bad input or usage).

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use simnet::scenario::suite::Mode;

use cli::{
    args::{parse_duration, parse_seed_range, parse_shard_arg, parse_target},
    bench_report::bench_report,
    conformance::conformance,
    fuzz::fuzz,
    logging::init_logging,
    run::run_one,
    shrink::shrink,
    simulate::{demo, simulate_workload},
    sweep::sweep,
    EXIT_PASS, EXIT_USAGE,
};

mod cli;

/// simnet: a conformance harness for the simnet peer-to-peer protocol on libp2p.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Cli {
    /// More log output on stderr (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every scenario in the simulator and report which conform.
    ///
    /// Prints one line per scenario and a closing `N passed, N failed` line,
    /// and writes junit.xml, summary.md (with a sequence diagram of each
    /// failing run) and results.json to --report-dir. Each simulated run of
    /// a file's own seed is also compared with its snapshot,
    /// `snapshots/NAME.snap` beside the file (insta's format): a missing or
    /// changed one fails with a diff and leaves `NAME.snap.new` for review
    /// (`cargo insta review`, or --accept); with CI set nothing is written.
    /// Exits 0 when all pass, 1 when a scenario fails, 2 when a file is not a
    /// valid scenario (its error names file:line:column) or a path is unreadable.
    ///
    /// Example: simnet conformance scenarios/
    ///
    /// Example: simnet conformance --real   # the same scenarios over 127.0.0.1
    ///
    /// Example: simnet conformance their/scenarios --accept   # write new snapshots
    Conformance {
        /// Scenario files or directories of `*.yaml` files.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// Scenarios run at once (default: the number of cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Where to write junit.xml, summary.md and results.json.
        #[arg(long, default_value = "reports/latest")]
        report_dir: PathBuf,
        /// Run each scenario with this many seeds: its own, then the next ones.
        #[arg(long, default_value_t = 1)]
        seeds: u64,
        /// Run only slice K of N (1-based) of the sorted files, so N CI
        /// machines together run each scenario exactly once.
        #[arg(long, value_parser = parse_shard_arg)]
        shard: Option<(usize, usize)>,
        /// Run on real sockets (127.0.0.1) in real time instead of the
        /// simulator; scenarios with simulator-only steps are skipped.
        #[arg(long)]
        real: bool,
        /// Write each missing or changed snapshot (`snapshots/NAME.snap`
        /// beside its scenario) instead of failing. Never writes when the
        /// CI environment variable is set.
        #[arg(long, conflicts_with = "no_snapshots")]
        accept: bool,
        /// Check only each scenario's expectations and invariants, not its
        /// snapshot.
        #[arg(long)]
        no_snapshots: bool,
    },
    /// Run one scenario over a range of seeds and group the failures.
    ///
    /// Shows a progress bar (on a terminal, unless --quiet), then each distinct
    /// failure with the number of seeds that hit it and a command that replays
    /// one of them exactly. Exits 0 when every seed passes, 1 otherwise.
    ///
    /// Example: simnet sweep scenarios/simultaneous-dial.yaml --seeds 0..200
    Sweep {
        /// The scenario file.
        file: PathBuf,
        /// Seeds to run, `A..B` (B excluded).
        #[arg(long, value_parser = parse_seed_range)]
        seeds: std::ops::Range<u64>,
        /// Simulations run at once (default: the number of cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Run one scenario and print its checks, invariant violations and,
    /// with --trace, every event.
    ///
    /// Exits 0 when it passes, 1 when it fails, 2 when the file is invalid.
    ///
    /// Example: simnet run scenarios/simultaneous-dial.yaml --seed 9 --trace --mermaid
    ///
    /// Example: simnet run scenarios/handshake-basic.yaml --real
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Run with this seed instead of the file's.
        #[arg(long)]
        seed: Option<u64>,
        /// Print the whole trace.
        #[arg(long)]
        trace: bool,
        /// Print the run as a mermaid sequence diagram.
        #[arg(long)]
        mermaid: bool,
        /// Run on real sockets (127.0.0.1) in real time instead of the
        /// simulator. Steps only a simulator can do (partition, repair, hold,
        /// release, latency, loss, clock, crash, restart) are refused, exit 2.
        #[arg(long)]
        real: bool,
    },
    /// Make a failing scenario smaller while it keeps failing the same way.
    ///
    /// Runs FILE at --seed, then tries removing nodes (with every step and
    /// check that names them), runs of steps, single checks, `never`
    /// patterns, flood repetitions, node settings and network faults, keeping
    /// each cut only while the run still fails with the same failure (line
    /// numbers aside). Writes the smallest scenario found, with the seed in
    /// it, so `simnet run OUT` replays the failure. Exits 0 when it wrote the
    /// scenario, 2 when FILE is invalid or passes at that seed.
    ///
    /// Example: simnet shrink scenarios/near-simultaneous-dial.yaml --seed 3 --out /tmp/small.yaml
    Shrink {
        /// The failing scenario file.
        file: PathBuf,
        /// The failing seed (default: the file's own).
        #[arg(long)]
        seed: Option<u64>,
        /// Where to write the shrunk scenario (default:
        /// reports/shrunk/NAME-seedN.yaml).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Give up after this many simulation runs and keep the smallest so far.
        #[arg(long, default_value_t = 400)]
        max_runs: usize,
        /// Seeds tried per cut: removing a node shifts every later random
        /// draw, so a lost race may need a neighbouring seed to be lost again.
        /// The written scenario records the seed it fails with; 1 keeps the
        /// seed fixed.
        #[arg(long, default_value_t = 8)]
        reseed: u64,
    },
    /// Fuzz what peers and files can send: the wire decoders, the frame
    /// reader, the handshake verifier and the scenario loader.
    ///
    /// Generates inputs from --seed (random bytes, bit flips, truncations,
    /// extreme length fields, splices of valid messages) until --inputs per
    /// target or --duration in all, whichever comes first. A panic, or a
    /// property that breaks (a decoded message that re-encodes differently,
    /// altered credentials that verify), is a finding: its input is written
    /// to --findings-dir. Exits 0 with no findings, 1 otherwise.
    ///
    /// Example: simnet fuzz --duration 10m --inputs 100000000
    Fuzz {
        /// Seed of every generated input.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Stop after this many inputs per target.
        #[arg(long, default_value_t = 100_000)]
        inputs: u64,
        /// Stop after this much time in all, e.g. `30s`, `10m`.
        #[arg(long, default_value = "60s", value_parser = parse_duration)]
        duration: Duration,
        /// Only these targets: wire, frame, handshake, scenario (default: all).
        #[arg(long, value_delimiter = ',', value_parser = parse_target)]
        target: Vec<simnet::fuzz::Target>,
        /// Where inputs that found something are written.
        #[arg(long, default_value = "reports/fuzz")]
        findings_dir: PathBuf,
    },
    /// Turn criterion's benchmark results into reports/bench.md (medians,
    /// ratios to the baselines measured beside them, whether the targets
    /// hold) and reports/bench-throughput.svg.
    ///
    /// Run the benchmarks first. Exits 0 when the report is written (whether
    /// or not every target held), 2 when there are no results.
    ///
    /// Example: cargo bench --bench real_sockets --bench simulation && simnet bench-report
    BenchReport {
        /// Where criterion wrote its results.
        #[arg(long, default_value = "target/criterion")]
        criterion_dir: PathBuf,
        /// Where to write bench.md and bench-throughput.svg.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
    /// Print the JSON Schema of scenario files, for editors and validators.
    ///
    /// Scenario files name it on their first line
    /// (`# yaml-language-server: $schema=scenario.schema.json`) so editors
    /// validate and complete them.
    ///
    /// Example: simnet schema > scenarios/scenario.schema.json
    Schema,
    /// Run three real nodes on 127.0.0.1 through handshake, direct messages,
    /// broadcast and a forged-handshake rejection; print each check.
    ///
    /// Exits 0 when every check passes, 1 when one fails, 2 when the nodes
    /// cannot start.
    ///
    /// Example: simnet demo
    Demo,
    /// Run the standard workload in the deterministic simulator and print what
    /// happened: counts, a digest of the trace and a digest of every byte
    /// written to the simulated wire. The same seed prints the same output,
    /// byte for byte, in every process; wall time goes to stderr.
    ///
    /// Example: simnet simulate --seed 7 --nodes 5 --duration 60s --trace
    Simulate {
        /// Seed of every random choice in the run.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Number of nodes (1 to 500).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=500))]
        nodes: u16,
        /// Virtual time to run, e.g. `40s`, `1500ms`, `2m`.
        #[arg(long, default_value = "40s", value_parser = parse_duration)]
        duration: Duration,
        /// Only handshake and broadcast once, no periodic traffic.
        #[arg(long)]
        quiet_network: bool,
        /// Print the whole trace, one line per event.
        #[arg(long)]
        trace: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_PASS
            });
        }
    };
    init_logging(cli.verbose, cli.quiet);
    match simnet::protocol::planted::from_env() {
        Ok(None) => {}
        Ok(Some(bug)) => eprintln!("warning: planted bug `{bug}` is active in this process"),
        Err(name) => {
            eprintln!(
                "error: {} names no planted bug: `{name}`",
                simnet::protocol::planted::ENV_VAR
            );
            return ExitCode::from(EXIT_USAGE);
        }
    }
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Conformance {
            paths,
            jobs,
            report_dir,
            seeds,
            shard,
            real,
            accept,
            no_snapshots,
        } => conformance(
            &paths,
            jobs,
            &report_dir,
            seeds,
            shard,
            simnet::scenario::suite::Options {
                mode: if real { Mode::Real } else { Mode::Simulated },
                snapshots: (!no_snapshots)
                    .then(|| simnet::scenario::snapshot::Update::from_environment(accept)),
            },
        ),
        Command::Sweep { file, seeds, jobs } => sweep(&file, seeds, jobs, quiet),
        Command::Run {
            file,
            seed,
            trace,
            mermaid,
            real,
        } => run_one(&file, seed, trace, mermaid, real),
        Command::Shrink {
            file,
            seed,
            out,
            max_runs,
            reseed,
        } => shrink(&file, seed, out, (max_runs, reseed), quiet),
        Command::Schema => {
            print!("{}", simnet::scenario::load::json_schema());
            Ok(EXIT_PASS)
        }
        Command::Demo => demo(),
        Command::BenchReport { criterion_dir, out } => bench_report(&criterion_dir, &out),
        Command::Fuzz {
            seed,
            inputs,
            duration,
            target,
            findings_dir,
        } => fuzz(seed, inputs, duration, target, &findings_dir, quiet),
        Command::Simulate {
            seed,
            nodes,
            duration,
            quiet_network,
            trace,
        } => simulate_workload(seed, nodes.into(), duration, !quiet_network, trace),
    }
}
