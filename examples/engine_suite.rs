//! Runs every scenario file of a directory (default `scenarios/`) with its own
//! seed on turmoil and on the event-driven engine, and prints each one's
//! result on both, the engine's failures, and the wall time of each.
//! For the spike of issue 15: how far the engine is from passing the suite.
//!
//! With `--seeds N` it runs each file on the engine only, at its own seed
//! and the N − 1 after it (a sweep, one thread), and prints every failing
//! seed.
//!
//! With `--explore N` it generates N scenarios (`simnet explore`'s
//! generator, profile `all`, seeds 0..N) and runs each on both simulators.
//!
//! With `--compare` it runs each file at its own seed on both and compares
//! the traces without their times: `same` (the same lines in the same
//! order), `reordered` (the same lines, another order) or `differs` (lines
//! only one side has, printed with `-` for turmoil and `+` for the engine).
//!
//! `--show` prints both traces too.
//!
//! ```sh
//! cargo run --release --example engine_suite -- [DIR] [--only NAME] [--seeds N] [--explore N] [--compare] [--show]
//! ```

use std::{path::PathBuf, time::Instant};

use simnet::scenario::{
    load::load_file,
    run::{run, run_on_engine, Mode},
};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = PathBuf::from("scenarios");
    let mut only: Option<String> = None;
    let mut seeds: Option<u64> = None;
    let mut compare_all = false;
    let mut show = false;
    while let Some(arg) = args.next() {
        if arg == "--show" {
            show = true;
        } else if arg == "--compare" {
            compare_all = true;
        } else if arg == "--explore" {
            let runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(20);
            explore(runs);
            return;
        } else if arg == "--seeds" {
            seeds = args.next().and_then(|n| n.parse().ok());
        } else if arg == "--only" {
            only = args.next();
        } else {
            dir = PathBuf::from(arg);
        }
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenario directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter(|p| {
            only.as_ref()
                .is_none_or(|o| p.to_string_lossy().contains(o.as_str()))
        })
        .collect();
    files.sort();
    if compare_all || show {
        compare(&files, show);
        return;
    }
    if let Some(seeds) = seeds {
        sweep(&files, seeds);
        return;
    }
    let (mut both, mut turmoil_only, mut engine_only, mut neither) = (0, 0, 0, 0);
    let (mut wall_turmoil, mut wall_engine) = (0.0, 0.0);
    for path in &files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let plan = match load_file(path) {
            Ok(plan) => plan,
            Err(e) => {
                println!("invalid {name}: {e}");
                continue;
            }
        };
        let started = Instant::now();
        let on_turmoil = run(&plan, plan.seed, Mode::Simulated);
        let t = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let on_engine = run_on_engine(&plan, plan.seed);
        let e = started.elapsed().as_secs_f64();
        wall_turmoil += t;
        wall_engine += e;
        let passed =
            |r: &Result<simnet::scenario::outcome::Outcome, _>| r.as_ref().is_ok_and(|o| o.passed);
        let (pt, pe) = (passed(&on_turmoil), passed(&on_engine));
        match (pt, pe) {
            (true, true) => both += 1,
            (true, false) => turmoil_only += 1,
            (false, true) => engine_only += 1,
            (false, false) => neither += 1,
        }
        let mark = |p: bool| if p { "pass" } else { "FAIL" };
        println!(
            "{:<4} turmoil {:6.3}s  {:<4} engine {:6.3}s  {name}",
            mark(pt),
            t,
            mark(pe),
            e
        );
        if !pe {
            match &on_engine {
                Ok(outcome) => {
                    for failure in outcome.failures().iter().take(4) {
                        println!(
                            "        engine: {}",
                            failure.replace('\n', "\n                ")
                        );
                    }
                }
                Err(error) => println!("        engine error: {error}"),
            }
        }
    }
    println!(
        "{} files: {both} pass on both, {turmoil_only} only on turmoil, {engine_only} only on the engine, {neither} on neither; wall turmoil {wall_turmoil:.2}s, engine {wall_engine:.2}s",
        files.len()
    );
}

/// Each file at `seeds` seeds on the engine; prints failures and totals.
fn sweep(files: &[PathBuf], seeds: u64) {
    let started = Instant::now();
    let (mut runs, mut failed) = (0u64, 0u64);
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let Ok(plan) = load_file(path) else {
            println!("invalid {name}");
            continue;
        };
        let file_started = Instant::now();
        let mut failing = Vec::new();
        for offset in 0..seeds {
            let seed = plan.seed.wrapping_add(offset);
            runs += 1;
            let outcome = run_on_engine(&plan, seed);
            if !outcome.as_ref().is_ok_and(|o| o.passed) {
                failed += 1;
                let why = match &outcome {
                    Ok(o) => o.failures().first().cloned().unwrap_or_default(),
                    Err(e) => e.to_string(),
                };
                failing.push((seed, why));
            }
        }
        println!(
            "{:>3}/{seeds} fail  {:6.2}s  {name}",
            failing.len(),
            file_started.elapsed().as_secs_f64()
        );
        for (seed, why) in failing.iter().take(3) {
            println!("        seed {seed}: {}", why.lines().next().unwrap_or(""));
        }
    }
    let wall = started.elapsed().as_secs_f64();
    println!(
        "{runs} runs, {failed} failed, {wall:.1}s wall on one thread ({:.0} runs/s)",
        runs as f64 / wall
    );
}

/// `runs` generated scenarios on turmoil and on the engine.
fn explore(runs: u64) {
    use simnet::{
        explore::{generate, Profile},
        scenario::load_str,
    };
    let (mut wall_turmoil, mut wall_engine) = (0.0, 0.0);
    let (mut agree, mut differ) = (0, 0);
    for seed in 0..runs {
        let model = generate(seed, Profile::All);
        let yaml = serde_saphyr::to_string(&model).expect("serialise");
        let plan = load_str(&yaml, "generated").expect("loads");
        let started = Instant::now();
        let on_turmoil = run(&plan, seed, Mode::Simulated);
        wall_turmoil += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let on_engine = run_on_engine(&plan, seed);
        wall_engine += started.elapsed().as_secs_f64();
        let verdict = |r: &Result<simnet::scenario::outcome::Outcome, _>| match r {
            Ok(o) if o.passed => "pass".to_owned(),
            Ok(o) => format!("FAIL {}", simnet::explore::failure_class(o)),
            Err(e) => format!("error {e}"),
        };
        let (t, e) = (verdict(&on_turmoil), verdict(&on_engine));
        if t == e {
            agree += 1;
        } else {
            differ += 1;
            println!("seed {seed}: turmoil {t} | engine {e}");
        }
    }
    println!(
        "{runs} generated runs: {agree} same verdict, {differ} differ; turmoil {:.1} runs/s, engine {:.1} runs/s (one thread)",
        runs as f64 / wall_turmoil,
        runs as f64 / wall_engine
    );
}

/// Each file's trace on both simulators, times left out.
fn compare(files: &[PathBuf], show: bool) {
    use std::collections::BTreeMap;
    let timeless = |o: &simnet::scenario::outcome::Outcome| -> Vec<String> {
        o.trace
            .iter()
            .map(|l| format!("{}: {}", l.node, l.text))
            .collect()
    };
    let (mut same, mut reordered, mut differs) = (0, 0, 0);
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let Ok(plan) = load_file(path) else { continue };
        let (Ok(t), Ok(e)) = (
            run(&plan, plan.seed, Mode::Simulated),
            run_on_engine(&plan, plan.seed),
        ) else {
            println!("error   {name}");
            continue;
        };
        if show {
            println!("--- {name} on turmoil");
            t.trace.iter().for_each(|l| println!("{l}"));
            println!("+++ {name} on the engine");
            e.trace.iter().for_each(|l| println!("{l}"));
        }
        let (lt, le) = (timeless(&t), timeless(&e));
        if lt == le {
            same += 1;
            println!("same       {name} ({} lines)", lt.len());
            continue;
        }
        let mut count: BTreeMap<&str, i64> = BTreeMap::new();
        for l in &lt {
            *count.entry(l).or_default() -= 1;
        }
        for l in &le {
            *count.entry(l).or_default() += 1;
        }
        let extra: Vec<_> = count.iter().filter(|(_, c)| **c != 0).collect();
        if extra.is_empty() {
            reordered += 1;
            println!("reordered  {name} ({} lines)", lt.len());
        } else {
            differs += 1;
            println!("differs    {name} ({} vs {} lines)", lt.len(), le.len());
            for (line, c) in extra.iter().take(6) {
                let sign = if **c > 0 { '+' } else { '-' };
                println!("    {sign}{} {line}", c.abs());
            }
        }
    }
    println!("{same} same, {reordered} reordered, {differs} differ (times left out)");
}
