//! The `simnet` binary as CI and people use it: exit codes, reports, errors.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use simnet::bench_report::interleaved::{write_run, InterleavedRun, Pair, Round};

/// Runs the `simnet` binary from the crate root.
pub(crate) fn simnet(args: &[&str]) -> Output {
    simnet_with_env(args, &[])
}

/// Runs the `simnet` binary from the crate root with extra environment
/// variables.
pub(crate) fn simnet_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simnet"))
        .args(args)
        .env_remove("SIMNET_PLANTED_BUG")
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run simnet")
}

/// A fresh directory under the system temp dir for this test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simnet-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Output bytes as text.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn conformance_passes_and_writes_three_reports() {
    let reports = scratch("pass");
    let out = simnet(&[
        "conformance",
        "scenarios",
        "--report-dir",
        reports.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let scenarios = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert!(
        stdout.contains(&format!("{scenarios} passed, 0 failed")),
        "{stdout}"
    );

    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    let xml = roxmltree::Document::parse(&junit).expect("junit.xml is well-formed XML");
    let cases = xml
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, scenarios);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("results.json")).unwrap())
            .unwrap();
    assert_eq!(json["passed"], scenarios);
    let summary = std::fs::read_to_string(reports.join("summary.md")).unwrap();
    assert!(
        summary.contains(&format!("**{scenarios} passed, 0 failed**")),
        "{summary}"
    );
}

const FAILING: &str = "\
name: wrong-claim
about: Claims two peers that dialed each other are not verified, so it must fail.
seed: 3
nodes:
  alice: {}
  bob: {}
steps:
  - at: 0s
    dial: { from: alice, to: bob }
  - at: 2s
    expect:
      not_verified: [[alice, bob]]
";

#[test]
fn a_failing_scenario_exits_1_with_replay_command_and_diagram() {
    let dir = scratch("fail");
    std::fs::write(dir.join("wrong-claim.yaml"), FAILING).unwrap();
    let reports = dir.join("reports");
    let out = simnet(&[
        "conformance",
        dir.to_str().unwrap(),
        "--report-dir",
        reports.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL   wrong-claim (seed 3)"), "{stdout}");
    assert!(
        stdout.contains("alice and bob not verified: alice verified bob: true"),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");

    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    let xml = roxmltree::Document::parse(&junit).expect("well-formed");
    let failure = xml
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure element");
    assert!(
        failure.text().unwrap_or("").contains("replay: simnet run"),
        "{junit}"
    );
    let summary = std::fs::read_to_string(reports.join("summary.md")).unwrap();
    assert!(summary.contains("```mermaid\nsequenceDiagram"), "{summary}");
    assert!(
        summary.contains("alice-->>bob") || summary.contains("bob-->>alice"),
        "{summary}"
    );

    // The replay command reproduces the failure.
    let file = dir.join("wrong-claim.yaml");
    let replay = simnet(&["run", file.to_str().unwrap(), "--seed", "3"]);
    assert_eq!(replay.status.code(), Some(1));
    assert!(text(&replay.stdout).contains("FAILED"));
}

#[test]
fn an_invalid_file_exits_2_naming_its_location() {
    let dir = scratch("invalid");
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "name: bad\nabout: A.\nnodes:\n  a: {}\nsteps:\n  - at: 1s\n    dail: { from: a, to: a }\n",
    )
    .unwrap();
    let out = simnet(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.yaml:7:5: unknown field `dail`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `dial`?"), "{stderr}");

    let out = simnet(&[
        "conformance",
        dir.to_str().unwrap(),
        "--report-dir",
        dir.join("r").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("ERROR  "),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn bad_usage_exits_2_and_help_exits_0() {
    assert_eq!(
        simnet(&["conformance", "--no-such-flag"]).status.code(),
        Some(2)
    );
    assert_eq!(simnet(&["no-such-command"]).status.code(), Some(2));
    assert_eq!(
        simnet(&["conformance", "/no/such/path"]).status.code(),
        Some(2)
    );
    for command in ["conformance", "run", "simulate", "schema", "demo"] {
        let out = simnet(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command}");
        assert!(
            text(&out.stdout).contains("Example: simnet"),
            "{command} --help has an example"
        );
    }
}

#[test]
fn shards_together_run_each_scenario_exactly_once() {
    let mut seen: Vec<String> = Vec::new();
    for k in 1..=3 {
        let reports = scratch(&format!("shard{k}"));
        let shard = format!("{k}/3");
        let out = simnet(&[
            "conformance",
            "--shard",
            &shard,
            "--report-dir",
            reports.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        seen.extend(
            text(&out.stdout)
                .lines()
                .filter_map(|l| l.strip_prefix("pass   "))
                .map(str::to_owned),
        );
    }
    let mut all: Vec<String> = text(
        &simnet(&[
            "conformance",
            "--report-dir",
            scratch("all").to_str().unwrap(),
        ])
        .stdout,
    )
    .lines()
    .filter_map(|l| l.strip_prefix("pass   "))
    .map(str::to_owned)
    .collect();
    seen.sort();
    all.sort();
    assert!(!all.is_empty());
    assert_eq!(seen, all, "no overlap, no gap");
}

/// Claims success for every send over a lossy link: true for some seeds only.
const SEED_DEPENDENT: &str = "\
name: lossy-claims-success
about: Claims every send over a very lossy link succeeds, which holds for some seeds only.
seed: 100
nodes:
  alice: {}
  bob: {}
steps:
  - at: 0s
    dial: { from: alice, to: bob }
  - at: 1s
    loss: { between: [alice, bob], rate: 0.01 }
  - at: 1100ms
    send: { from: alice, to: bob, payload: \"x\", expect: success, repeat: 8 }
";

#[test]
fn sweep_finds_failing_seeds_and_its_replay_fails_the_same_way() {
    let dir = scratch("sweep");
    let file = dir.join("lossy-claims-success.yaml");
    std::fs::write(&file, SEED_DEPENDENT).unwrap();
    let out = simnet(&[
        "sweep",
        file.to_str().unwrap(),
        "--seeds",
        "100..116",
        "--quiet",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("failure 1 — "), "{stdout}");
    let replay = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: simnet "))
        .expect("a replay command")
        .to_owned();
    let args: Vec<&str> = replay.split_whitespace().collect();
    let first = simnet(&args);
    let second = simnet(&args);
    assert_eq!(first.status.code(), Some(1), "the replayed seed fails");
    assert_eq!(
        text(&first.stdout),
        text(&second.stdout),
        "and fails the same way every time"
    );
}

/// Writes one criterion result the way criterion lays it out:
/// `GROUP/FUNCTION[/PARAMETER]/new/{benchmark,estimates}.json`, with a
/// throughput of `amount` `unit`s (`Bytes`, `Elements`; `""` for none).
fn write_criterion_result(dir: &Path, id: &str, median_ns: f64, (unit, amount): (&str, u64)) {
    let mut parts = id.splitn(3, '/');
    let (group, function) = (parts.next().unwrap(), parts.next().unwrap());
    let value = parts.next().map_or("null".to_owned(), |p| format!("{p:?}"));
    let throughput = match unit {
        "" => "null".to_owned(),
        unit => format!(r#"{{"{unit}":{amount}}}"#),
    };
    for kind in ["new", "base"] {
        let at = dir.join(id).join(kind);
        std::fs::create_dir_all(&at).unwrap();
        std::fs::write(
            at.join("benchmark.json"),
            format!(
                r#"{{"group_id":"{group}","function_id":"{function}","value_str":{value},"throughput":{throughput},"full_id":"{id}","directory_name":"{id}","title":"{id}"}}"#
            ),
        )
        .unwrap();
        // `base/` holds the previous run, which the report must not read.
        let median = if kind == "new" { median_ns } else { 1.0 };
        std::fs::write(
            at.join("estimates.json"),
            format!(
                r#"{{"median":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0}},"point_estimate":{median},"standard_error":2.0}}}}"#
            ),
        )
        .unwrap();
    }
}

#[test]
fn bench_report_writes_the_expected_markdown_and_chart_from_criterion_results() {
    let dir = scratch("bench-report");
    let criterion = dir.join("criterion");
    for (id, median_ns, throughput) in [
        ("direct/simnet/64B-1", 61_000.0, ("Bytes", 64)),
        ("direct/bare_rr/64B-1", 52_000.0, ("Bytes", 64)),
        ("direct/tcp_echo/64B-1", 9_500.0, ("Bytes", 64)),
        ("direct/simnet/64B-32", 410_000.0, ("Bytes", 2048)),
        ("direct/bare_rr/64B-32", 395_000.0, ("Bytes", 2048)),
        ("direct/simnet/64KiB-1", 384_489.5, ("Bytes", 65536)),
        ("direct/bare_rr/64KiB-1", 371_000.0, ("Bytes", 65536)),
        ("direct/simnet/1MiB-1", 4_200_000.0, ("Bytes", 1 << 20)),
        ("direct/bare_rr/1MiB-1", 3_500_000.0, ("Bytes", 1 << 20)),
        ("handshake/simnet/1", 1_300_000.0, ("Elements", 1)),
        ("handshake/bare/1", 1_000_000.0, ("Elements", 1)),
        ("handshake/simnet/16", 9_100_000.0, ("Elements", 16)),
        ("handshake/bare/16", 5_000_000.0, ("Elements", 16)),
        ("broadcast/simnet/2", 2_500_000_000.0, ("Elements", 40)),
        ("simulate/simnet/3-nodes", 850.0, ("", 0)),
        ("scale/simnet/10 nodes", 44_000_000.0, ("Elements", 100)),
        ("scale/turmoil/10 nodes", 150_000_000.0, ("Elements", 100)),
        ("scale/simnet/100 nodes", 520_000_000.0, ("Elements", 1000)),
        (
            "scale/simnet/1000 nodes",
            8_050_000_000.0,
            ("Elements", 10_000),
        ),
        (
            "workload_40s/simnet/100 nodes",
            1_250_000_000.0,
            ("Elements", 4000),
        ),
        (
            "sweep/simnet/handshake-basic",
            29_000_000.0,
            ("Elements", 20),
        ),
        (
            "sweep/turmoil/handshake-basic",
            410_000_000.0,
            ("Elements", 20),
        ),
    ] {
        write_criterion_result(&criterion, id, median_ns, throughput);
    }
    // Two full interleaved runs and a smoke run, which the report skips:
    // the latest full run's medians replace criterion's ratios for the
    // targets, and each stands beside the run before it.
    let interleaved = dir.join("interleaved");
    for (started, quick, handshake, direct) in [
        (100, false, 1.25, 1.10),
        (200, false, 1.18, 1.02),
        (300, true, 9.0, 9.0),
    ] {
        let pair = |group: &str, parameter: &str, baseline: &str, ratios: [f64; 3]| Pair {
            group: group.into(),
            parameter: parameter.into(),
            baseline: baseline.into(),
            batch: 10,
            rounds: ratios
                .iter()
                .map(|r| Round {
                    ours_ns: r * 1000.0,
                    baseline_ns: 1000.0,
                    ours_cpu_ns: r * 900.0,
                    baseline_cpu_ns: 1000.0,
                })
                .collect(),
        };
        let run = InterleavedRun {
            started_unix: started,
            quick,
            pairs: vec![
                pair(
                    "handshake",
                    "1",
                    "bare",
                    [handshake - 0.02, handshake, handshake + 0.05],
                ),
                pair(
                    "direct",
                    "1MiB-1",
                    "bare_rr",
                    [direct - 0.01, direct, direct + 0.01],
                ),
            ],
        };
        write_run(&interleaved, &run).unwrap();
    }
    let out_dir = dir.join("out");
    let out = simnet(&[
        "bench-report",
        "--criterion-dir",
        criterion.to_str().unwrap(),
        "--interleaved-dir",
        interleaved.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("held   direct 64KiB-1: throughput ≥ 0.95× bare_rr: 0.96×"),
        "criterion's ratio where nothing was interleaved: {stdout}"
    );
    assert!(
        stdout.contains("held   direct 1MiB-1: throughput ≥ 0.95× bare_rr: 0.98×"),
        "the interleaved 1.02×, not criterion's 1.20×: {stdout}"
    );
    assert!(
        stdout.contains(
            "held   handshake, 1 at once: time ≤ 1.2× a bare noise+yamux connection: 1.18×"
        ),
        "{stdout}"
    );

    assert!(
        stdout.contains("held   100 nodes × 40 s virtual: ≤ 8 s wall: 1.25 s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("held   cost per node·virtual s from 10 to 1000 nodes: within 2×: 1.83×"),
        "{stdout}"
    );
    assert!(
        stdout.contains("held   handshake-basic sweep: ≥ 200 runs/s (one thread): 690 runs/s"),
        "{stdout}"
    );

    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bench-report");
    // The line naming the date and this machine's CPU differs between runs.
    let without_machine = |text: String| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("Measured "))
            .map(str::to_owned)
            .collect()
    };
    for file in ["bench.md", "bench-throughput.svg"] {
        let written = std::fs::read_to_string(out_dir.join(file)).unwrap();
        let expected = std::fs::read_to_string(golden.join(file)).unwrap();
        assert_eq!(
            without_machine(written),
            without_machine(expected),
            "{file} differs from tests/bench-report/{file}; if that is intended, copy {} over it",
            out_dir.join(file).display()
        );
    }

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = simnet(&[
        "bench-report",
        "--criterion-dir",
        empty.to_str().unwrap(),
        "--out",
        dir.join("not-written").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no criterion results under"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn simulate_accepts_a_compound_duration_as_scenario_files_do() {
    let run = |duration: &str| {
        simnet(&[
            "simulate",
            "--nodes",
            "2",
            "--quiet-network",
            "--duration",
            duration,
        ])
    };
    let compound = run("1m30s");
    assert_eq!(
        compound.status.code(),
        Some(0),
        "{}",
        text(&compound.stderr)
    );
    let seconds = run("90s");
    assert_eq!(
        text(&compound.stdout),
        text(&seconds.stdout),
        "1m30s is 90s"
    );
}

#[test]
fn a_bad_duration_is_refused_with_exit_2_saying_why() {
    for (args, why) in [
        (&["simulate", "--duration", "5h"][..], "unknown unit `h`"),
        (&["simulate", "--duration", "90"], "has no unit"),
        (&["fuzz", "--duration=-1s"], "negative"),
    ] {
        let out = simnet(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(why),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_bad_file_is_shown_as_a_code_frame_or_as_one_compact_line() {
    let dir = scratch("diagnostic");
    let file = dir.join("typo.yaml");
    std::fs::write(
        &file,
        "name: typo\nabout: A typo in a node name.\nnodes: { alice: {}, bob: {} }\nsteps:\n  - at: 0s\n    dial: { from: alice, to: bbo }\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();

    let frame = simnet(&["run", path, "--error-format", "frame"]);
    assert_eq!(frame.status.code(), Some(2));
    let frame = text(&frame.stderr);
    assert!(frame.starts_with("error: unknown node `bbo`"), "{frame}");
    assert!(frame.contains(&format!("--> {path}:6:30")), "{frame}");
    assert!(
        frame.contains("6 |     dial: { from: alice, to: bbo }"),
        "{frame}"
    );
    let caret = frame.lines().find(|l| l.contains('^')).unwrap_or_default();
    let source = frame
        .lines()
        .find(|l| l.contains("to: bbo"))
        .unwrap_or_default();
    assert_eq!(
        caret.find("^^^"),
        source.find("bbo"),
        "caret under the name: {frame}"
    );
    assert!(frame.contains("help: did you mean `bob`?"), "{frame}");

    // Not a terminal (as here, and in CI): the compact form by default.
    for args in [
        vec!["run", path],
        vec!["run", path, "--error-format", "compact"],
    ] {
        let compact = simnet(&args);
        assert_eq!(compact.status.code(), Some(2));
        assert_eq!(
            text(&compact.stderr),
            format!(
                "error: {path}:6:30: unknown node `bbo`; the nodes are `alice`, `bob`\n  help: did you mean `bob`?\n"
            )
        );
    }
}
