//! What `simnet conformance` prints for each run, and a printer that prints
//! runs in suite order as soon as every run before them has finished, above
//! the progress bar on a terminal and as plain lines elsewhere (a CI log
//! reads the same as before there was a bar).

use std::{collections::BTreeMap, fmt::Write as _, sync::Mutex};

use simnet::scenario::suite::{FileResult, SuiteEntry};

/// The lines printed for one run; empty for a pass when passes are not shown.
pub(crate) fn lines(entry: &SuiteEntry, show_pass: bool) -> String {
    let mut out = String::new();
    match &entry.result {
        FileResult::Ran(outcome) if entry.passed() => {
            if show_pass {
                let _ = writeln!(out, "pass   {} (seed {})", outcome.scenario, outcome.seed);
                if let Some(accepted) = entry.snapshot.as_ref().filter(|c| !c.is_match()) {
                    let _ = writeln!(out, "         {accepted}");
                }
            }
        }
        FileResult::Ran(outcome) => {
            let _ = writeln!(out, "FAIL   {} (seed {})", outcome.scenario, outcome.seed);
            for failure in outcome.failures() {
                let _ = writeln!(out, "         {failure}");
            }
            if let Some(snapshot) = entry.snapshot.as_ref().filter(|c| !c.passed()) {
                for line in snapshot.to_string().lines() {
                    let _ = writeln!(out, "         {line}");
                }
            }
            let replay = entry.replay();
            if replay.is_exact() {
                let _ = writeln!(out, "         replay: {replay}");
            } else {
                let _ = writeln!(
                    out,
                    "         again: {replay} (real time: not exactly reproducible)"
                );
            }
        }
        FileResult::Crashed(error) => {
            let _ = writeln!(
                out,
                "FAIL   {}: the simulation failed: {error}",
                entry.path.display()
            );
        }
        FileResult::Invalid(error) => {
            let _ = writeln!(out, "ERROR  {error}");
        }
        FileResult::Skipped(reason) => {
            let _ = writeln!(out, "skip   {}: {reason}", entry.path.display());
        }
    }
    out
}

/// Prints each run's text in run order, once all earlier runs are printed.
pub(crate) struct OrderedPrinter<'a> {
    bar: &'a indicatif::ProgressBar,
    state: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    next: usize,
    waiting: BTreeMap<usize, String>,
}

impl<'a> OrderedPrinter<'a> {
    /// A printer that prints above `bar` (hidden or not).
    pub(crate) fn new(bar: &'a indicatif::ProgressBar) -> Self {
        OrderedPrinter {
            bar,
            state: Mutex::new(Pending::default()),
        }
    }

    /// Run `index` finished with `text`: prints it and every later run that
    /// was waiting for it, and advances the bar.
    pub(crate) fn finished(&self, index: usize, text: String) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.waiting.insert(index, text);
        let mut ready = String::new();
        loop {
            let next = state.next;
            let Some(text) = state.waiting.remove(&next) else {
                break;
            };
            ready.push_str(&text);
            state.next += 1;
        }
        if !ready.is_empty() {
            self.bar.suspend(|| print!("{ready}"));
        }
        self.bar.inc(1);
    }
}
