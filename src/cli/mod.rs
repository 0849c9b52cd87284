//! The commands of the `simnet` binary, one file each (its arguments as a
//! `clap::Args` struct whose doc comment is its `--help`, and an `exec`
//! method), and what they share: exit codes, value parsers, logging,
//! progress display and scenario loading.

pub(crate) mod args;
pub(crate) mod bench_report;
pub(crate) mod conformance;
pub(crate) mod demo;
pub(crate) mod explore;
pub(crate) mod fuzz;
pub(crate) mod logging;
pub(crate) mod reference_report;
pub(crate) mod run;
pub(crate) mod schema;
pub(crate) mod shrink;
pub(crate) mod simulate;
pub(crate) mod suite_lines;
pub(crate) mod sweep;

use std::path::Path;

use simnet::scenario::load_file;

use crate::Global;

/// Exit code when every check passed.
pub(crate) const EXIT_PASS: u8 = 0;
/// Exit code when a check failed.
pub(crate) const EXIT_FAIL: u8 = 1;
/// Exit code for bad input, bad usage or an environment problem.
pub(crate) const EXIT_USAGE: u8 = 2;

/// `--jobs`, or the number of cores.
pub(crate) fn default_jobs(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// How a scenario file's error is shown on stderr (`--error-format`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorFormat {
    /// `frame` on a terminal unless `CI` is set, `compact` otherwise.
    Auto,
    /// The offending line with a caret under the column, and the help line.
    Frame,
    /// `file:line:column: message`, then `help:`.
    Compact,
}

/// Loads a scenario, printing its error (file:line:column) when it is invalid.
pub(crate) fn load_or_report(file: &Path, global: &Global) -> Option<simnet::scenario::Plan> {
    use std::io::IsTerminal;

    load_file(file)
        .map_err(|error| {
            let terminal = std::io::stderr().is_terminal();
            let frame = match global.error_format {
                ErrorFormat::Frame => true,
                ErrorFormat::Compact => false,
                ErrorFormat::Auto => terminal && !simnet::scenario::snapshot::in_ci(),
            };
            if frame {
                let color = terminal && std::env::var_os("NO_COLOR").is_none();
                eprintln!("{}", error.code_frame(color));
            } else {
                eprintln!("error: {error}");
            }
        })
        .ok()
}

/// A progress bar of `length` steps on stderr (a spinner without a length),
/// hidden when quiet or not on a terminal.
pub(crate) fn progress(quiet: bool, length: Option<u64>) -> indicatif::ProgressBar {
    use std::io::IsTerminal;

    match length {
        _ if quiet || !std::io::stderr().is_terminal() => indicatif::ProgressBar::hidden(),
        Some(length) => indicatif::ProgressBar::new(length),
        None => indicatif::ProgressBar::new_spinner(),
    }
}
