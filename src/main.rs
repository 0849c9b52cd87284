//! The `simnet` command line. Thin: parses arguments, calls the library, maps
//! outcomes to exit codes (0 pass, 1 a check failed, 2 bad input or usage).
//! Each command's arguments and body live in its own file under `cli/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::{
    bench_report::BenchReportArgs, conformance::ConformanceArgs, demo::DemoArgs,
    explore::ExploreArgs, fuzz::FuzzArgs, logging::init_logging,
    reference_report::ReferenceReportArgs, run::RunArgs, schema::SchemaArgs, shrink::ShrinkArgs,
    simulate::SimulateArgs, sweep::SweepArgs, EXIT_PASS, EXIT_USAGE,
};

mod cli;

/// simnet: a conformance harness for the simnet peer-to-peer protocol on libp2p.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command takes: how much goes to stderr, and how.
#[derive(clap::Args, Debug)]
pub(crate) struct Global {
    /// More log output on stderr (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// How a bad scenario file is shown: `frame` draws the offending line
    /// with a caret under the column, `compact` is one `file:line:column:
    /// message` line (what CI logs and editors read); `auto` is `frame` on a
    /// terminal unless CI is set.
    #[arg(long, global = true, value_enum, default_value_t = cli::ErrorFormat::Auto)]
    pub(crate) error_format: cli::ErrorFormat,
}

/// The commands, in the order `simnet --help` lists them; each one's help is
/// its arguments' doc comment.
#[derive(Subcommand, Debug)]
enum Command {
    Conformance(ConformanceArgs),
    ReferenceReport(ReferenceReportArgs),
    Sweep(SweepArgs),
    Explore(ExploreArgs),
    Run(RunArgs),
    Shrink(ShrinkArgs),
    Fuzz(FuzzArgs),
    BenchReport(BenchReportArgs),
    Schema(SchemaArgs),
    Demo(DemoArgs),
    Simulate(SimulateArgs),
}

impl Command {
    fn exec(self, global: &Global) -> anyhow::Result<u8> {
        match self {
            Command::Conformance(args) => args.exec(global),
            Command::ReferenceReport(args) => args.exec(global),
            Command::Sweep(args) => args.exec(global),
            Command::Explore(args) => args.exec(global),
            Command::Run(args) => args.exec(global),
            Command::Shrink(args) => args.exec(global),
            Command::Fuzz(args) => args.exec(global),
            Command::BenchReport(args) => args.exec(global),
            Command::Schema(args) => args.exec(global),
            Command::Demo(args) => args.exec(global),
            Command::Simulate(args) => args.exec(global),
        }
    }
}

fn main() -> ExitCode {
    stop_quietly_on_a_closed_pipe();
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
    init_logging(cli.global.verbose, cli.global.quiet);
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
    match cli.command.exec(&cli.global) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `simnet … | head` closes stdout early; with Rust's default (SIGPIPE
/// ignored) the next `println!` would panic. Restore the Unix default, so
/// the process ends quietly like any command-line tool.
fn stop_quietly_on_a_closed_pipe() {
    // SAFETY: setting a signal's disposition to its default, before any
    // thread starts, has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
