//! simnet and its baseline measured in alternation, so a ratio survives a
//! noisy machine: each round runs a batch of one side, then of the other
//! (the order flips every round), and gives one ratio. The rounds are
//! written as a [`simnet::bench_report::interleaved::InterleavedRun`] for
//! `simnet bench-report`.

use std::time::{Duration, Instant};

use simnet::bench_report::interleaved::{write_run, InterleavedRun, Pair, Round, DEFAULT_DIR};

/// One side of a comparison: runs `iters` iterations and returns the time
/// they took (as criterion's `iter_custom` does).
pub type Side<'a> = &'a mut dyn FnMut(u64) -> Duration;

/// How long each side's batch should take in a full run.
const BATCH_TIME: Duration = Duration::from_millis(100);
/// Rounds per comparison in a full run.
const ROUNDS: usize = 30;
/// Time each side runs before anything is measured in a full run.
const WARM_UP: Duration = Duration::from_millis(500);

/// Collects the comparisons of one benchmark process and writes them.
pub struct Interleaver {
    quick: bool,
    filter: Option<String>,
    run: InterleavedRun,
}

impl Interleaver {
    /// A run; `quick` takes two rounds of one iteration (a smoke run), and
    /// only comparisons whose `interleaved/GROUP/PARAMETER` contains
    /// `filter` are measured.
    pub fn new(quick: bool, filter: Option<String>) -> Self {
        let started_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            quick,
            filter,
            run: InterleavedRun {
                started_unix,
                quick,
                pairs: Vec::new(),
            },
        }
    }

    /// Whether `group`/`parameter` is to be measured; lets a caller skip
    /// building what the comparison needs.
    pub fn wants(&self, group: &str, parameter: &str) -> bool {
        let name = format!("interleaved/{group}/{parameter}");
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }

    /// Measures `ours` against `baseline` (named `baseline_name`) in
    /// alternation and keeps the rounds.
    pub fn compare(
        &mut self,
        group: &str,
        parameter: &str,
        baseline_name: &str,
        ours: Side<'_>,
        baseline: Side<'_>,
    ) {
        if !self.wants(group, parameter) {
            return;
        }
        let (rounds, batch) = if self.quick {
            (2, 1)
        } else {
            let per_iter = warm_up(ours).max(warm_up(baseline));
            let batch = (BATCH_TIME.as_secs_f64() / per_iter.as_secs_f64()).ceil();
            (ROUNDS, (batch as u64).max(1))
        };
        let mut measured = Vec::with_capacity(rounds);
        for round in 0..rounds {
            // (wall, CPU) per iteration.
            let per_iter = |side: Side<'_>| {
                let cpu = process_cpu();
                let wall = side(batch).as_nanos() as f64;
                let cpu = process_cpu().saturating_sub(cpu).as_nanos() as f64;
                (wall / batch as f64, cpu / batch as f64)
            };
            let ((ours_ns, ours_cpu_ns), (baseline_ns, baseline_cpu_ns)) = if round % 2 == 0 {
                let o = per_iter(ours);
                (o, per_iter(baseline))
            } else {
                let b = per_iter(baseline);
                (per_iter(ours), b)
            };
            measured.push(Round {
                ours_ns,
                baseline_ns,
                ours_cpu_ns,
                baseline_cpu_ns,
            });
        }
        let pair = Pair {
            group: group.into(),
            parameter: parameter.into(),
            baseline: baseline_name.into(),
            batch,
            rounds: measured,
        };
        if let Some(s) = pair.summary() {
            let cpu = pair
                .cpu_summary()
                .map_or(String::new(), |c| format!("; CPU {:.3}×", c.median));
            println!(
                "interleaved/{group}/{parameter}: simnet ÷ {baseline_name} = {:.3}× (quartiles {:.3}–{:.3}, {} rounds of {batch}{cpu})",
                s.median, s.low, s.high, s.rounds
            );
        }
        self.run.pairs.push(pair);
    }

    /// Writes the run under the target directory, unless nothing was measured.
    pub fn finish(self) {
        if self.run.pairs.is_empty() {
            return;
        }
        let target = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
        let dir = std::path::Path::new(&target).join(DEFAULT_DIR);
        match write_run(&dir, &self.run) {
            Ok(path) => println!("interleaved comparisons written to {}", path.display()),
            Err(error) => eprintln!("interleaved comparisons not written: {error}"),
        }
    }
}

/// Runs `side` for [`WARM_UP`]; returns its time per iteration.
fn warm_up(side: Side<'_>) -> Duration {
    let started = Instant::now();
    let mut iters = 0u32;
    let mut spent = Duration::ZERO;
    while started.elapsed() < WARM_UP || iters == 0 {
        spent += side(1);
        iters += 1;
    }
    spent / iters
}

/// CPU time this process has used so far, all threads, user and system
/// (`getrusage`, which simnet's simulated clock leaves alone).
fn process_cpu() -> Duration {
    // SAFETY: `usage` is a valid, writable rusage for getrusage to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}
