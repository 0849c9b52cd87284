//! The `simnet` command line. Thin: parses arguments, calls the library, maps
//! outcomes to exit codes (0 pass, 1 a check failed, 2 bad input or usage).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run three real nodes on 127.0.0.1 through handshake, direct messages,
    /// broadcast and a forged-handshake rejection; print each check.
    ///
    /// Exits 0 when every check passes, 1 when one fails, 2 when the nodes
    /// cannot start.
    ///
    /// Example: simnet demo
    Demo,
}

fn main() -> ExitCode {
    init_logging();
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
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Demo => demo(),
    }
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

fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
}
