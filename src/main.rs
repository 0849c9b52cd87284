//! The `simnet` command line. Thin: parses arguments, calls the library, maps
//! outcomes to exit codes (0 pass, 1 a check failed, 2 bad input or usage).

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use clap::{Parser, Subcommand};
use simnet::{
    scenario::{
        load_file, run_with_seed,
        suite::{self, FileResult},
        Outcome,
    },
    sim::{
        simulate,
        workload::{self, Workload},
        WorldConfig,
    },
};

/// Exit code when every check passed.
const EXIT_PASS: u8 = 0;
/// Exit code when a check failed.
const EXIT_FAIL: u8 = 1;
/// Exit code for bad input, bad usage or an environment problem.
const EXIT_USAGE: u8 = 2;

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
    /// failing run) and results.json to --report-dir.
    /// Exits 0 when all pass, 1 when a scenario fails, 2 when a file is not a
    /// valid scenario (its error names file:line:column) or a path is unreadable.
    ///
    /// Example: simnet conformance scenarios/
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

fn parse_target(text: &str) -> Result<simnet::fuzz::Target, String> {
    simnet::fuzz::Target::from_name(text)
        .ok_or_else(|| format!("unknown target `{text}`: use wire, frame, handshake or scenario"))
}

fn parse_shard_arg(text: &str) -> Result<(usize, usize), String> {
    suite::parse_shard(text).map_err(|e| e.to_string())
}

/// Parses `A..B` with A < B.
fn parse_seed_range(text: &str) -> Result<std::ops::Range<u64>, String> {
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

/// Parses `40s`, `1500ms`, `2m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| text.split_at(i))
        .ok_or_else(|| format!("{text:?} needs a unit: ms, s or m"))?;
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a whole number"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(value),
        "s" => Duration::from_secs(value),
        "m" => Duration::from_secs(value.saturating_mul(60)),
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use ms, s or m"
            ))
        }
    };
    const DAY: Duration = Duration::from_secs(24 * 3600);
    if duration > DAY {
        return Err(format!("{text:?} is longer than the limit of one day"));
    }
    Ok(duration)
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
        } => conformance(&paths, jobs, &report_dir, seeds, shard),
        Command::Sweep { file, seeds, jobs } => sweep(&file, seeds, jobs, quiet),
        Command::Run {
            file,
            seed,
            trace,
            mermaid,
        } => run_one(&file, seed, trace, mermaid),
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

fn simulate_workload(
    seed: u64,
    nodes: usize,
    duration: Duration,
    traffic: bool,
    print_trace: bool,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    let workload = Workload {
        nodes,
        duration,
        traffic,
    };
    let config = WorldConfig {
        seed,
        ..WorldConfig::default()
    };
    let (summary, lines) = simulate(config, move |world| {
        let summary = workload::run(world, workload)?;
        Ok::<_, simnet::sim::SimError>((summary, world.trace_lines()))
    })??;
    let wall = started.elapsed();
    if print_trace {
        for line in &lines {
            println!("{line}");
        }
    }
    println!(
        "seed {seed}: {nodes} nodes, {:.3}s virtual, {} events, {} verified, {} broadcasts delivered, {} sends answered",
        summary.virtual_time.as_secs_f64(),
        summary.events,
        summary.verified,
        summary.broadcasts_delivered,
        summary.sends_answered
    );
    println!(
        "trace digest {:016x}, wire digest {:016x} over {} bytes",
        summary.trace_digest, summary.wire.digest, summary.wire.bytes
    );
    eprintln!(
        "wall time {:.3}s ({:.0}x real time)",
        wall.as_secs_f64(),
        summary.virtual_time.as_secs_f64() / wall.as_secs_f64().max(1e-9)
    );
    Ok(EXIT_PASS)
}

fn default_jobs(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn conformance(
    paths: &[PathBuf],
    jobs: Option<usize>,
    report_dir: &std::path::Path,
    seeds: u64,
    shard: Option<(usize, usize)>,
) -> anyhow::Result<u8> {
    let mut files = match suite::discover(paths) {
        Ok(files) => files,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(EXIT_USAGE);
        }
    };
    if let Some((k, n)) = shard {
        files = suite::shard(&files, k, n);
        println!("shard {k}/{n}: {} scenario file(s)", files.len());
    }
    let entries = suite::run_all(&files, seeds, default_jobs(jobs), &|| {});
    let (mut passed, mut failed, mut invalid) = (0, 0, 0);
    for entry in &entries {
        match &entry.result {
            FileResult::Ran(outcome) if outcome.passed => {
                passed += 1;
                println!("pass   {} (seed {})", outcome.scenario, outcome.seed);
            }
            FileResult::Ran(outcome) => {
                failed += 1;
                println!("FAIL   {} (seed {})", outcome.scenario, outcome.seed);
                for failure in outcome.failures() {
                    println!("         {failure}");
                }
                println!(
                    "         replay: simnet run {} --seed {} --trace",
                    entry.path.display(),
                    outcome.seed
                );
            }
            FileResult::Crashed(error) => {
                failed += 1;
                println!(
                    "FAIL   {}: the simulation failed: {error}",
                    entry.path.display()
                );
            }
            FileResult::Invalid(error) => {
                invalid += 1;
                println!("ERROR  {error}");
            }
        }
    }
    let report = simnet::report::Report::from_suite(&entries);
    if let Err(error) = report.write_all(report_dir) {
        eprintln!(
            "error: cannot write reports to {}: {error}",
            report_dir.display()
        );
        return Ok(EXIT_USAGE);
    }
    println!(
        "reports: {}/{{junit.xml, summary.md, results.json}}",
        report_dir.display()
    );
    println!("{passed} passed, {} failed", failed + invalid);
    Ok(if invalid > 0 {
        EXIT_USAGE
    } else if failed > 0 {
        EXIT_FAIL
    } else {
        EXIT_PASS
    })
}

/// Loads a scenario, printing its error (file:line:column) when it is invalid.
fn load_or_report(file: &std::path::Path) -> Option<simnet::scenario::Plan> {
    load_file(file)
        .map_err(|error| eprintln!("error: {error}"))
        .ok()
}

fn sweep(
    file: &std::path::Path,
    seeds: std::ops::Range<u64>,
    jobs: Option<usize>,
    quiet: bool,
) -> anyhow::Result<u8> {
    use std::io::IsTerminal;

    let Some(plan) = load_or_report(file) else {
        return Ok(EXIT_USAGE);
    };
    let seeds: Vec<u64> = seeds.collect();
    let bar = if quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(seeds.len() as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} seeds, {elapsed} elapsed, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let outcomes = suite::run_parallel(
        &seeds,
        default_jobs(jobs),
        &|seed| run_with_seed(&plan, *seed),
        &|| bar.inc(1),
    );
    bar.finish_and_clear();
    // Failures grouped by signature, in order of first appearance.
    let mut groups: Vec<(String, Vec<u64>, Vec<String>)> = Vec::new();
    for (seed, outcome) in seeds.iter().zip(&outcomes) {
        let (signature, failures) = match outcome {
            Ok(outcome) if outcome.passed => continue,
            Ok(outcome) => (suite::failure_signature(outcome), outcome.failures()),
            Err(error) => {
                let line = format!("the simulation failed: {error}");
                (line.clone(), vec![line])
            }
        };
        match groups.iter_mut().find(|(s, _, _)| *s == signature) {
            Some((_, hits, _)) => hits.push(*seed),
            None => groups.push((signature, vec![*seed], failures)),
        }
    }
    let failing: usize = groups.iter().map(|(_, hits, _)| hits.len()).sum();
    println!(
        "{} ({} seeds): {} passed, {failing} failed",
        plan.name,
        seeds.len(),
        seeds.len() - failing
    );
    for (i, (_, hits, failures)) in groups.iter().enumerate() {
        let shown: Vec<String> = hits.iter().take(10).map(u64::to_string).collect();
        println!(
            "\nfailure {} — {} seed(s): {}{}",
            i + 1,
            hits.len(),
            shown.join(" "),
            if hits.len() > 10 { " …" } else { "" }
        );
        println!("  as seed {} failed:", hits[0]);
        for line in failures {
            println!("    {line}");
        }
        println!(
            "  replay: simnet run {} --seed {} --trace",
            file.display(),
            hits[0]
        );
    }
    Ok(if failing == 0 { EXIT_PASS } else { EXIT_FAIL })
}

fn shrink(
    file: &std::path::Path,
    seed: Option<u64>,
    out: Option<PathBuf>,
    (max_runs, seeds_per_candidate): (usize, u64),
    quiet: bool,
) -> anyhow::Result<u8> {
    use simnet::scenario::shrink::{self as shrinker, ShrinkError, ShrinkOptions};

    let Some(plan) = load_or_report(file) else {
        return Ok(EXIT_USAGE);
    };
    let text = std::fs::read_to_string(file)?;
    let seed = seed.unwrap_or(plan.seed);
    let out = out.unwrap_or_else(|| {
        PathBuf::from("reports/shrunk").join(format!("{}-seed{seed}.yaml", plan.name))
    });
    let spinner = progress_spinner(quiet);
    let options = ShrinkOptions {
        seed,
        max_runs,
        seeds_per_candidate,
    };
    let result = shrinker::shrink(
        &text,
        &file.display().to_string(),
        &options,
        &|runs, size| {
            spinner.set_message(format!("{runs} runs, now {size}"));
            spinner.tick();
        },
    );
    spinner.finish_and_clear();
    let shrunk = match result {
        Ok(shrunk) => shrunk,
        Err(error @ (ShrinkError::Invalid(_) | ShrinkError::Passes { .. })) => {
            eprintln!("error: {error}");
            return Ok(EXIT_USAGE);
        }
        Err(error) => return Err(error.into()),
    };
    println!(
        "{} at seed {seed}: {} -> {} (fails at seed {}) in {} runs{}",
        plan.name,
        shrunk.original,
        shrunk.shrunk,
        shrunk.outcome.seed,
        shrunk.runs,
        if shrunk.budget_exhausted {
            " (run budget spent; --max-runs to go further)"
        } else {
            ""
        }
    );
    println!("  still fails the same way:");
    for line in shrunk.outcome.failures() {
        println!("    {line}");
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let header = format!(
        "# Shrunk by `simnet shrink` from {} at seed {seed}; fails at seed {}.\n# {} -> {}.\n# Replay: simnet run {} --trace\n",
        file.display(),
        shrunk.outcome.seed,
        shrunk.original,
        shrunk.shrunk,
        out.display()
    );
    std::fs::write(&out, header + &shrunk.yaml)?;
    println!("  wrote {}", out.display());
    println!("  replay: simnet run {} --trace", out.display());
    Ok(EXIT_PASS)
}

/// A spinner on stderr, hidden when quiet or not on a terminal.
fn progress_spinner(quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;

    if quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    }
}

fn run_one(
    file: &std::path::Path,
    seed: Option<u64>,
    trace: bool,
    mermaid: bool,
) -> anyhow::Result<u8> {
    let Some(plan) = load_or_report(file) else {
        return Ok(EXIT_USAGE);
    };
    let seed = seed.unwrap_or(plan.seed);
    let outcome = run_with_seed(&plan, seed)?;
    print_outcome(&outcome, trace);
    if mermaid {
        println!(
            "```mermaid\n{}```",
            simnet::report::markdown::sequence_diagram(&outcome.trace)
        );
    }
    Ok(if outcome.passed { EXIT_PASS } else { EXIT_FAIL })
}

fn print_outcome(outcome: &Outcome, trace: bool) {
    println!(
        "{} (seed {}): {}",
        outcome.scenario, outcome.seed, outcome.about
    );
    if trace {
        for line in &outcome.trace {
            println!("  {line}");
        }
    }
    for check in &outcome.checks {
        match &check.failure {
            None => println!(
                "  ok    line {} at {}: {}",
                check.line, check.at, check.check
            ),
            Some(why) => println!(
                "  FAIL  line {} at {}: {}: {why}",
                check.line, check.at, check.check
            ),
        }
    }
    for violation in &outcome.violations {
        println!("  FAIL  {violation}");
    }
    println!("{}", if outcome.passed { "passed" } else { "FAILED" });
}

fn fuzz(
    seed: u64,
    max_inputs: u64,
    max_time: Duration,
    targets: Vec<simnet::fuzz::Target>,
    findings_dir: &std::path::Path,
    quiet: bool,
) -> anyhow::Result<u8> {
    let options = simnet::fuzz::FuzzOptions {
        seed,
        max_inputs,
        max_time,
        targets: if targets.is_empty() {
            simnet::fuzz::Target::ALL.to_vec()
        } else {
            targets
        },
    };
    let spinner = progress_spinner(quiet);
    // Panics are findings, caught and reported below; keep them off stderr.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let reports = simnet::fuzz::run(&options, &|target, inputs| {
        spinner.set_message(format!("{}: {inputs} inputs", target.name()));
        spinner.tick();
    });
    std::panic::set_hook(default_hook);
    spinner.finish_and_clear();
    let mut findings = 0;
    for report in &reports {
        let rate = report.inputs as f64 / report.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{:<10} {:>10} inputs in {:>7.1}s ({:>8.0}/s), {:>8} accepted, {} finding(s)",
            report.target.name(),
            report.inputs,
            report.elapsed.as_secs_f64(),
            rate,
            report.accepted,
            report.findings.len()
        );
        for finding in &report.findings {
            findings += 1;
            std::fs::create_dir_all(findings_dir)?;
            let path = findings_dir.join(format!(
                "{}-seed{seed}-input{}.bin",
                report.target.name(),
                finding.index
            ));
            std::fs::write(&path, &finding.input)?;
            println!(
                "  input {}: {} ({})",
                finding.index,
                finding.problem,
                path.display()
            );
        }
    }
    let total: u64 = reports.iter().map(|r| r.inputs).sum();
    println!("{total} inputs, {findings} finding(s)");
    Ok(if findings == 0 { EXIT_PASS } else { EXIT_FAIL })
}

fn demo() -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let checks = runtime.block_on(simnet::demo::run())?;
    let failed = checks.iter().filter(|c| c.failure.is_some()).count();
    for check in &checks {
        match &check.failure {
            None => println!("pass  {}", check.name),
            Some(why) => println!("FAIL  {}: {why}", check.name),
        }
    }
    println!("{} passed, {} failed", checks.len() - failed, failed);
    Ok(if failed == 0 { EXIT_PASS } else { EXIT_FAIL })
}

/// Log timestamps: virtual seconds on a simulation's thread, wall-clock time
/// elsewhere. (turmoil puts each host's events in a `node{name}` span.)
struct SimOrWallTime;

impl tracing_subscriber::fmt::time::FormatTime for SimOrWallTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        match simnet::sim::determinism::elapsed() {
            Some(virtual_time) => write!(w, "[sim {:>9.3}s]", virtual_time.as_secs_f64()),
            None => tracing_subscriber::fmt::time::SystemTime.format_time(w),
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    use std::io::IsTerminal;

    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "simnet=debug,turmoil=info,warn",
        (false, _) => "simnet=trace,turmoil=info,debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(SimOrWallTime)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .try_init();
}
