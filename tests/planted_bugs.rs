//! Proof that simnet finds races: each planted bug (the `planted-bugs`
//! feature, on in test builds only, switched on per process by
//! `SIMNET_PLANTED_BUG`) is found by a sweep over a fixed seed range; the
//! failing seed replays identically; `shrink` returns a scenario no larger
//! that fails the same way. With no bug switched on, the same sweeps are clean.

use serde_json::Value;
use simnet::scenario::shrink::{size_of, ScenarioSize};

use crate::cli::{scratch, simnet, simnet_with_env, text};

/// A planted bug and the sweep that must catch it.
struct Case {
    bug: &'static str,
    scenario: &'static str,
    seeds: &'static str,
}

const NO_CROSSED_HANDSHAKE: Case = Case {
    bug: "no-crossed-handshake",
    scenario: "scenarios/near-simultaneous-dial.yaml",
    seeds: "0..16",
};
const VERIFIED_BEFORE_SIGNATURE_CHECK: Case = Case {
    bug: "verified-before-signature-check",
    scenario: "scenarios/forged-signature.yaml",
    seeds: "0..8",
};
const BAN_SKIPS_IN_FLIGHT_CONNECTION: Case = Case {
    bug: "ban-skips-in-flight-connection",
    scenario: "tests/planted/ban-during-dial-busy.yaml",
    seeds: "0..16",
};
const HANDSHAKE_TIMER_NOT_CANCELLED: Case = Case {
    bug: "handshake-timer-not-cancelled",
    scenario: "scenarios/verified-outlives-handshake-timeout.yaml",
    seeds: "0..8",
};
const GOSSIP_FROM_UNVERIFIED: Case = Case {
    bug: "gossip-from-unverified",
    scenario: "scenarios/gossip-from-unverified.yaml",
    seeds: "0..8",
};

const GOSSIP_AUTHOR_UNCHECKED: Case = Case {
    bug: "gossip-author-unchecked",
    scenario: "scenarios/gossip-banned-author.yaml",
    seeds: "0..8",
};

const STALE_SESSION_NO_REHANDSHAKE: Case = Case {
    bug: "stale-session-no-rehandshake",
    scenario: "scenarios/half-open-session-rehandshakes.yaml",
    seeds: "0..8",
};

const ALL: [&Case; 7] = [
    &NO_CROSSED_HANDSHAKE,
    &VERIFIED_BEFORE_SIGNATURE_CHECK,
    &BAN_SKIPS_IN_FLIGHT_CONNECTION,
    &HANDSHAKE_TIMER_NOT_CANCELLED,
    &GOSSIP_FROM_UNVERIFIED,
    &GOSSIP_AUTHOR_UNCHECKED,
    &STALE_SESSION_NO_REHANDSHAKE,
];

/// The failure lines `simnet run` printed, with line numbers, times and
/// padding masked, so a shrunk scenario's failures compare with the original's.
fn failures(stdout: &str) -> Vec<String> {
    let mut lines: Vec<String> = stdout
        .lines()
        .filter_map(|line| line.trim().strip_prefix("FAIL"))
        .map(|line| {
            let masked: String = line
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            let masked = masked.split_whitespace().collect::<Vec<_>>().join(" ");
            // "line ## at #.#s: <check>": the check, not where it was written.
            match masked.strip_prefix("line ") {
                Some(rest) => rest.split_once(": ").map_or(rest, |(_, c)| c).to_owned(),
                None => masked,
            }
        })
        .collect();
    lines.sort();
    lines
}

fn size_of_file(path: &str) -> ScenarioSize {
    let text = std::fs::read_to_string(path).expect("scenario file");
    let doc: Value = serde_saphyr::from_str(&text).expect("scenario YAML");
    size_of(&doc)
}

fn catches(case: &Case) {
    let env = [("SIMNET_PLANTED_BUG", case.bug)];

    // The sweep finds a failing seed and prints the command that replays it.
    let sweep = simnet_with_env(
        &["sweep", case.scenario, "--seeds", case.seeds, "--quiet"],
        &env,
    );
    let report = text(&sweep.stdout);
    assert_eq!(sweep.status.code(), Some(1), "{}: {report}", case.bug);
    let replay = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: simnet "))
        .expect("a replay command");
    let args: Vec<&str> = replay.split_whitespace().collect();
    let seed = args[args.iter().position(|a| *a == "--seed").expect("--seed") + 1];
    let (start, _) = case.seeds.split_once("..").expect("range");
    let tried = seed.parse::<u64>().expect("seed") - start.parse::<u64>().expect("start") + 1;
    eprintln!(
        "{}: first failing seed {seed} ({tried} seed(s) tried)",
        case.bug
    );

    // Replaying it fails, the same way each time.
    let first = simnet_with_env(&args, &env);
    let second = simnet_with_env(&args, &env);
    assert_eq!(first.status.code(), Some(1), "{}: replay fails", case.bug);
    assert_eq!(text(&first.stdout), text(&second.stdout), "{}", case.bug);
    let original_failures = failures(&text(&first.stdout));
    assert!(!original_failures.is_empty());

    // Shrinking keeps the failure in a scenario no larger than the original.
    let out = scratch(&format!("shrink-{}", case.bug)).join("shrunk.yaml");
    let out = out.to_str().expect("utf-8 path");
    let shrink = simnet_with_env(
        &[
            "shrink",
            case.scenario,
            "--seed",
            seed,
            "--out",
            out,
            "--quiet",
        ],
        &env,
    );
    assert_eq!(
        shrink.status.code(),
        Some(0),
        "{}: {}{}",
        case.bug,
        text(&shrink.stdout),
        text(&shrink.stderr)
    );
    let (before, after) = (size_of_file(case.scenario), size_of_file(out));
    eprintln!("{}: shrunk from {before} to {after}", case.bug);
    assert!(after.total() <= before.total(), "{}", case.bug);
    let rerun = simnet_with_env(&["run", out], &env);
    assert_eq!(rerun.status.code(), Some(1), "{}: shrunk fails", case.bug);
    assert_eq!(
        failures(&text(&rerun.stdout)),
        original_failures,
        "{}",
        case.bug
    );
}

#[test]
fn a_sweep_catches_no_tie_break_for_crossed_handshakes() {
    catches(&NO_CROSSED_HANDSHAKE);
}

#[test]
fn a_sweep_catches_verified_before_the_signature_check() {
    catches(&VERIFIED_BEFORE_SIGNATURE_CHECK);
}

#[test]
fn a_sweep_catches_a_ban_that_misses_an_in_flight_connection() {
    catches(&BAN_SKIPS_IN_FLIGHT_CONNECTION);
}

#[test]
fn a_sweep_catches_a_handshake_timer_left_running() {
    catches(&HANDSHAKE_TIMER_NOT_CANCELLED);
}

#[test]
fn a_sweep_catches_gossip_accepted_from_unverified_peers() {
    catches(&GOSSIP_FROM_UNVERIFIED);
}

#[test]
fn a_sweep_catches_gossip_judged_by_its_forwarder_only() {
    catches(&GOSSIP_AUTHOR_UNCHECKED);
}

/// `simnet explore` over the first `runs` seeds of profile `all`, with
/// `bug` planted or not: the failure classes of the groups it reports.
#[test]
fn a_sweep_catches_a_stale_session_that_never_rehandshakes() {
    catches(&STALE_SESSION_NO_REHANDSHAKE);
}

fn explored_classes(bug: Option<&str>, runs: &str, name: &str) -> Vec<String> {
    let out = scratch(name);
    let env: Vec<(&str, &str)> = bug.map(|b| ("SIMNET_PLANTED_BUG", b)).into_iter().collect();
    let result = simnet_with_env(
        &[
            "explore",
            "--runs",
            runs,
            "--shrink-runs",
            "0",
            "--out",
            out.join("found").to_str().expect("utf-8 path"),
            "--report-dir",
            out.join("reports").to_str().expect("utf-8 path"),
            "--quiet",
        ],
        &env,
    );
    let stdout = text(&result.stdout);
    // Each group prints its class on the line after its heading.
    let lines: Vec<&str> = stdout.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[0].starts_with("group "))
        .map(|pair| pair[1].trim().to_owned())
        .collect()
}

#[test]
fn explore_finds_the_unchecked_gossip_author_within_its_budget() {
    let author = |classes: &[String]| classes.iter().any(|c| c.contains("author"));
    let planted = explored_classes(Some(GOSSIP_AUTHOR_UNCHECKED.bug), "10", "explore-author");
    assert!(author(&planted), "10 runs: {planted:#?}");
    let clean = explored_classes(None, "10", "explore-author-clean");
    assert!(!author(&clean), "without the plant: {clean:#?}");
}

#[test]
fn shrinking_strips_the_busy_network_around_the_ban_race() {
    let env = [("SIMNET_PLANTED_BUG", BAN_SKIPS_IN_FLIGHT_CONNECTION.bug)];
    let out = scratch("shrink-busy").join("shrunk.yaml");
    let out = out.to_str().expect("utf-8 path");
    let shrink = simnet_with_env(
        &[
            "shrink",
            BAN_SKIPS_IN_FLIGHT_CONNECTION.scenario,
            "--seed",
            "0",
            "--out",
            out,
            "--quiet",
        ],
        &env,
    );
    assert_eq!(shrink.status.code(), Some(0), "{}", text(&shrink.stderr));
    let after = size_of_file(out);
    // carol and dave, their handshake, message and broadcast have nothing to
    // do with the race between alice's dial and her ban.
    assert_eq!((after.nodes, after.steps), (2, 3), "{after}");
    let shrunk = std::fs::read_to_string(out).expect("shrunk file");
    assert!(shrunk.contains("ban:"), "the ban is the race: {shrunk}");
}

#[test]
fn without_a_planted_bug_the_same_sweeps_are_clean() {
    for case in ALL {
        let sweep = simnet_with_env(
            &["sweep", case.scenario, "--seeds", case.seeds, "--quiet"],
            &[],
        );
        assert_eq!(
            sweep.status.code(),
            Some(0),
            "{}: {}",
            case.scenario,
            text(&sweep.stdout)
        );
    }
}

#[test]
fn an_unknown_planted_bug_is_refused() {
    let out = simnet_with_env(
        &["run", "scenarios/handshake-basic.yaml"],
        &[("SIMNET_PLANTED_BUG", "no-such-bug")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no-such-bug"));
}

/// Generated runs of profile `all` that `explore` may spend finding a bug.
const EXPLORE_BUDGET: &str = "200";

/// Each planted bug is found by `explore` within the budget, and the file it
/// wrote fails again with the bug and passes without it: what explore found
/// is the plant, not an oracle's false alarm.
#[test]
fn explore_finds_every_planted_bug_within_its_budget() {
    for case in ALL {
        let out = scratch(&format!("explore-every-{}", case.bug));
        let found = out.join("found");
        let plant = [("SIMNET_PLANTED_BUG", case.bug)];
        let result = simnet_with_env(
            &[
                "explore",
                "--runs",
                EXPLORE_BUDGET,
                "--first-failure",
                "--jobs",
                "1",
                "--shrink-runs",
                "0",
                "--out",
                found.to_str().expect("utf-8 path"),
                "--report-dir",
                out.join("reports").to_str().expect("utf-8 path"),
                "--quiet",
            ],
            &plant,
        );
        let stdout = text(&result.stdout);
        assert_eq!(result.status.code(), Some(1), "{}: {stdout}", case.bug);
        // With one job the runs made are the seeds up to the first failing one.
        let summary = stdout
            .lines()
            .find(|l| l.starts_with("explore (profile all): "))
            .unwrap_or_default();
        eprintln!("{}: {summary}", case.bug);
        let written: Vec<_> = std::fs::read_dir(&found)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert_eq!(written.len(), 1, "{}: {stdout}", case.bug);
        let path = written[0].to_str().expect("utf-8 path");
        let replay = simnet_with_env(&["run", path], &plant);
        assert_eq!(replay.status.code(), Some(1), "{}: {path}", case.bug);
        let clean = simnet(&["run", path]);
        assert_eq!(
            clean.status.code(),
            Some(0),
            "{}: {path} fails without the plant: {}",
            case.bug,
            text(&clean.stdout)
        );
    }
}
