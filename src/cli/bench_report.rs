//! `simnet bench-report`: criterion's results as reports/bench.md and a chart.
//! The report is made by [`simnet::bench_report`]; this file adds what
//! comes from the machine it runs on: today's date and the CPU.

use std::path::PathBuf;

use simnet::bench_report::{write_bench_report, BenchReportError, Machine};

use super::{EXIT_PASS, EXIT_USAGE};
use crate::Global;

/// Turn criterion's benchmark results and the interleaved comparisons into
/// reports/bench.md (medians, ratios to the baselines measured beside them,
/// the last two interleaved runs side by side, whether the targets hold)
/// and reports/bench-throughput.svg.
///
/// Run the benchmarks first. Exits 0 when the report is written (whether
/// or not every target held), 2 when there are no results.
///
/// Example: cargo bench --bench real_sockets --bench simulation && simnet bench-report
#[derive(clap::Args, Debug)]
pub(crate) struct BenchReportArgs {
    /// Where criterion wrote its results.
    #[arg(long, default_value = "target/criterion")]
    criterion_dir: PathBuf,
    /// Where the real-socket benchmark wrote its interleaved runs (the
    /// last two full runs are compared).
    #[arg(long, default_value = "target/simnet-bench/interleaved")]
    interleaved_dir: PathBuf,
    /// Where to write bench.md and bench-throughput.svg.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
}

impl BenchReportArgs {
    /// Writes the benchmark report and prints each target; returns the exit code.
    pub(crate) fn exec(self, _global: &Global) -> anyhow::Result<u8> {
        match write_bench_report(
            &self.criterion_dir,
            &self.interleaved_dir,
            &self.out,
            &today(),
            &this_machine(),
        ) {
            Ok(checked) => {
                let held = |met: bool| if met { "held  " } else { "MISSED" };
                for target in checked.targets {
                    println!(
                        "{} {}: {:.2}×",
                        held(target.met),
                        target.text,
                        target.measured
                    );
                }
                for target in checked.scale {
                    println!("{} {}: {}", held(target.met), target.text, target.measured);
                }
                println!(
                    "wrote {}/bench.md and bench-throughput.svg",
                    self.out.display()
                );
                Ok(EXIT_PASS)
            }
            Err(error @ BenchReportError::Empty(_)) => {
                eprintln!("error: {error}");
                Ok(EXIT_USAGE)
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// This machine: the CPU model from `/proc/cpuinfo` where it exists, and the
/// logical cores.
fn this_machine() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Machine { cpu, cores }
}

/// Today's date (UTC) as YYYY-MM-DD, from the system clock.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Days since 1970-01-01 to a civil date (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
