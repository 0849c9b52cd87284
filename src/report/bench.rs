//! `reports/bench.md` and `reports/bench-throughput.svg` from criterion's
//! results: medians, each simnet figure's ratio to every baseline measured
//! beside it (same group, same parameter), whether the targets hold, and a
//! chart of direct-message throughput by payload size.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
};

use serde::Deserialize;

/// The function name of simnet's own figures; every other function in a
/// group is a baseline.
pub const OURS: &str = "simnet";

/// Why the report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BenchReportError {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// A criterion file is not what criterion writes.
    #[error("{path}: {error}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The error.
        error: serde_json::Error,
    },
    /// No results were found.
    #[error("no criterion results under {0}; run `cargo bench` first")]
    Empty(PathBuf),
}

/// What one benchmark measured per iteration.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub enum Throughput {
    /// Bytes per iteration.
    Bytes(u64),
    /// Elements per iteration.
    Elements(u64),
}

/// One benchmark's median.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchResult {
    /// Criterion group (`direct`).
    pub group: String,
    /// Function (`simnet`, `bare_rr`, …).
    pub function: String,
    /// Parameter (`64KiB-1`), if any.
    pub parameter: Option<String>,
    /// Median time per iteration, in nanoseconds.
    pub median_ns: f64,
    /// Work per iteration.
    pub throughput: Option<Throughput>,
}

impl BenchResult {
    /// Work per second: MiB/s for bytes, elements/s otherwise.
    pub fn rate(&self) -> Option<f64> {
        let seconds = self.median_ns / 1e9;
        match self.throughput? {
            Throughput::Bytes(b) => Some(b as f64 / (1024.0 * 1024.0) / seconds),
            Throughput::Elements(e) => Some(e as f64 / seconds),
        }
    }

    fn rate_text(&self) -> String {
        match (self.rate(), self.throughput) {
            (Some(r), Some(Throughput::Bytes(_))) => format!("{r:.1} MiB/s"),
            (Some(r), _) => format!("{r:.0}/s"),
            (None, _) => "–".into(),
        }
    }
}

#[derive(Deserialize)]
struct BenchmarkFile {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    throughput: Option<Throughput>,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

#[derive(Deserialize)]
struct EstimatesFile {
    median: Estimate,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, BenchReportError> {
    let text = std::fs::read_to_string(path).map_err(|error| BenchReportError::Io {
        path: path.to_owned(),
        error,
    })?;
    serde_json::from_str(&text).map_err(|error| BenchReportError::Json {
        path: path.to_owned(),
        error,
    })
}

/// Every result under `criterion_dir` (each `…/new/benchmark.json` with its
/// `estimates.json`), sorted by group, parameter and function.
pub fn collect(criterion_dir: &Path) -> Result<Vec<BenchResult>, BenchReportError> {
    let mut found = Vec::new();
    let mut pending = vec![criterion_dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "new") {
                    let benchmark = path.join("benchmark.json");
                    if benchmark.exists() {
                        let b: BenchmarkFile = read_json(&benchmark)?;
                        let e: EstimatesFile = read_json(&path.join("estimates.json"))?;
                        found.push(BenchResult {
                            group: b.group_id,
                            function: b.function_id.unwrap_or_default(),
                            parameter: b.value_str,
                            median_ns: e.median.point_estimate,
                            throughput: b.throughput,
                        });
                    }
                } else if path
                    .file_name()
                    .is_none_or(|n| n != "base" && n != "report")
                {
                    pending.push(path);
                }
            }
        }
    }
    if found.is_empty() {
        return Err(BenchReportError::Empty(criterion_dir.to_owned()));
    }
    found.sort_by(|a, b| {
        (&a.group, order_key(&a.parameter), &a.function).cmp(&(
            &b.group,
            order_key(&b.parameter),
            &b.function,
        ))
    });
    Ok(found)
}

/// Sorts `64B-32` before `1KiB-1` by the size it names, then the rest.
fn order_key(parameter: &Option<String>) -> (u64, u64, String) {
    let text = parameter.clone().unwrap_or_default();
    let (size, rest) = text.split_once('-').unwrap_or((&text, ""));
    let bytes = parse_size(size).unwrap_or(u64::MAX);
    let count = rest.parse().unwrap_or(0);
    (bytes, count, text)
}

fn parse_size(text: &str) -> Option<u64> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let number: u64 = digits.parse().ok()?;
    match &text[digits.len()..] {
        "B" => Some(number),
        "KiB" => Some(number * 1024),
        "MiB" => Some(number * 1024 * 1024),
        "" => Some(number),
        _ => None,
    }
}

/// A simnet figure and its ratio to one baseline: throughput ratio (simnet ÷
/// baseline, > 1 is faster) and time ratio (simnet ÷ baseline, > 1 is slower).
#[derive(Clone, Debug, PartialEq)]
pub struct Ratio {
    /// Group.
    pub group: String,
    /// Parameter.
    pub parameter: Option<String>,
    /// The baseline's function name.
    pub baseline: String,
    /// simnet's median time ÷ the baseline's.
    pub time_ratio: f64,
}

impl Ratio {
    /// The baseline's time ÷ simnet's: simnet's throughput as a fraction of
    /// the baseline's.
    pub fn throughput_ratio(&self) -> f64 {
        1.0 / self.time_ratio
    }
}

/// Every simnet result's ratio to each baseline of the same group and parameter.
pub fn ratios(results: &[BenchResult]) -> Vec<Ratio> {
    let mut out = Vec::new();
    for ours in results.iter().filter(|r| r.function == OURS) {
        for base in results.iter().filter(|r| {
            r.function != OURS && r.group == ours.group && r.parameter == ours.parameter
        }) {
            out.push(Ratio {
                group: ours.group.clone(),
                parameter: ours.parameter.clone(),
                baseline: base.function.clone(),
                time_ratio: ours.median_ns / base.median_ns,
            });
        }
    }
    out
}

/// One stated target and whether it held.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// What is required.
    pub text: String,
    /// The measured ratio.
    pub measured: f64,
    /// Whether it held.
    pub met: bool,
}

/// The targets of the benchmark issue: direct messages of 64 KiB and 1 MiB
/// at ≥ 0.9× bare request-response throughput; a verified connection at
/// ≤ 1.5× a bare connection's time.
pub fn targets(ratios: &[Ratio]) -> Vec<Target> {
    let mut out = Vec::new();
    for r in ratios {
        let parameter = r.parameter.as_deref().unwrap_or("");
        if r.group == "direct"
            && r.baseline == "bare_rr"
            && (parameter.starts_with("64KiB") || parameter.starts_with("1MiB"))
        {
            out.push(Target {
                text: format!("direct {parameter}: throughput ≥ 0.9× bare_rr"),
                measured: r.throughput_ratio(),
                met: r.throughput_ratio() >= 0.9,
            });
        }
        if r.group == "handshake" && r.baseline == "bare" {
            out.push(Target {
                text: format!(
                    "handshake{}: time ≤ 1.5× a bare noise+yamux connection",
                    r.parameter
                        .as_deref()
                        .map(|p| format!(", {p} at once"))
                        .unwrap_or_default()
                ),
                measured: r.time_ratio,
                met: r.time_ratio <= 1.5,
            });
        }
    }
    out
}

/// The machine the figures come from.
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
}

impl Machine {
    /// This machine, from `/proc/cpuinfo` where it exists.
    pub fn this() -> Self {
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
        Self { cpu, cores }
    }
}

fn human_time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The Markdown report.
pub fn markdown(results: &[BenchResult], machine: &Machine, date: &str) -> String {
    let all_ratios = ratios(results);
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Measured {date} on {} ({} cores) with `cargo bench`; every simnet figure \
         beside its baselines from the same run. Ratios are simnet ÷ baseline: \
         for time, above 1 is slower; for throughput, below 1 is slower. \
         Regenerate with `cargo bench && cargo run -- bench-report`.\n",
        machine.cpu, machine.cores
    );
    let checked = targets(&all_ratios);
    if !checked.is_empty() {
        let _ = writeln!(out, "## Targets\n");
        let _ = writeln!(out, "| target | measured | held |\n|---|---|---|");
        for t in &checked {
            let _ = writeln!(
                out,
                "| {} | {:.2}× | {} |",
                t.text,
                t.measured,
                if t.met { "yes" } else { "**no**" }
            );
        }
        out.push('\n');
    }
    let mut groups: BTreeMap<&str, Vec<&BenchResult>> = BTreeMap::new();
    for r in results {
        groups.entry(&r.group).or_default().push(r);
    }
    for (group, rows) in groups {
        let _ = writeln!(out, "## {group}\n");
        let _ = writeln!(
            out,
            "| parameter | implementation | median | throughput | simnet ÷ this (time) |\n|---|---|---|---|---|"
        );
        for r in rows {
            let ratio = all_ratios
                .iter()
                .find(|x| {
                    x.group == r.group && x.parameter == r.parameter && x.baseline == r.function
                })
                .map_or(String::new(), |x| format!("{:.2}×", x.time_ratio));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                r.parameter.as_deref().unwrap_or("–"),
                if r.function == OURS {
                    format!("**{}**", r.function)
                } else {
                    r.function.clone()
                },
                human_time(r.median_ns),
                r.rate_text(),
                ratio
            );
        }
        out.push('\n');
    }
    out
}

/// An SVG line chart of direct-message throughput (MiB/s, log scale) by
/// payload size, one line per implementation and in-flight count.
pub fn throughput_svg(results: &[BenchResult]) -> String {
    let mut series: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
    for r in results.iter().filter(|r| r.group == "direct") {
        let Some(parameter) = &r.parameter else {
            continue;
        };
        let (size, in_flight) = parameter.split_once('-').unwrap_or((parameter, "1"));
        let (Some(bytes), Some(rate)) = (parse_size(size), r.rate()) else {
            continue;
        };
        series
            .entry(format!("{} ×{in_flight}", r.function))
            .or_default()
            .push((bytes, rate));
    }
    let (width, height, left, right, top, bottom) = (720.0, 420.0, 70.0, 190.0, 30.0, 50.0);
    let points = series.values().flatten();
    let (min_x, max_x) = points
        .clone()
        .fold((f64::MAX, f64::MIN), |(lo, hi), (x, _)| {
            let x = (*x as f64).log2();
            (lo.min(x), hi.max(x))
        });
    let (min_y, max_y) = points.fold((f64::MAX, f64::MIN), |(lo, hi), (_, y)| {
        let y = y.max(1e-3).log10();
        (lo.min(y), hi.max(y))
    });
    let (min_y, max_y) = (min_y.floor(), max_y.ceil().max(min_y.floor() + 1.0));
    let span_x = (max_x - min_x).max(1.0);
    let x_of =
        |bytes: u64| left + ((bytes as f64).log2() - min_x) / span_x * (width - left - right);
    let y_of = |rate: f64| {
        top + (1.0 - (rate.max(1e-3).log10() - min_y) / (max_y - min_y)) * (height - top - bottom)
    };
    let colours = [
        "#1b6ac9", "#d2462c", "#2e8b57", "#9b59b6", "#e6a23c", "#555555",
    ];
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{left}" y="18" font-size="14">Direct messages: throughput (MiB/s, log scale) by payload size</text>"#
    );
    let mut decade = min_y;
    while decade <= max_y {
        let y = y_of(10f64.powf(decade));
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            width - right,
            left - 6.0,
            y + 4.0,
            10f64.powf(decade)
        );
        decade += 1.0;
    }
    let mut sizes: Vec<u64> = series.values().flatten().map(|(b, _)| *b).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for bytes in sizes {
        let x = x_of(bytes);
        let label = match bytes {
            b if b >= 1024 * 1024 => format!("{} MiB", b / (1024 * 1024)),
            b if b >= 1024 => format!("{} KiB", b / 1024),
            b => format!("{b} B"),
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{top}" y2="{}" stroke="#eee"/><text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"##,
            height - bottom,
            height - bottom + 18.0
        );
    }
    for (i, (name, mut points)) in series.into_iter().enumerate() {
        points.sort_by_key(|(b, _)| *b);
        let colour = colours[i % colours.len()];
        let dash = if name.ends_with("×1") {
            ""
        } else {
            r#" stroke-dasharray="6 3""#
        };
        let path: Vec<String> = points
            .iter()
            .map(|(b, r)| format!("{:.1},{:.1}", x_of(*b), y_of(*r)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
            path.join(" ")
        );
        let ly = top + 16.0 * i as f64;
        let lx = width - right + 14.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/><text x="{}" y="{}">{name}</text>"#,
            lx + 24.0,
            lx + 30.0,
            ly + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Reads criterion's results under `criterion_dir` and writes `bench.md` and
/// `bench-throughput.svg` to `out_dir`, dated `date`.
pub fn write_bench_report(
    criterion_dir: &Path,
    out_dir: &Path,
    date: &str,
) -> Result<Vec<Target>, BenchReportError> {
    let results = collect(criterion_dir)?;
    let io = |path: PathBuf| move |error| BenchReportError::Io { path, error };
    std::fs::create_dir_all(out_dir).map_err(io(out_dir.to_owned()))?;
    let md = out_dir.join("bench.md");
    let mut text = markdown(&results, &Machine::this(), date);
    text.push_str("![Direct-message throughput by payload size](bench-throughput.svg)\n");
    std::fs::write(&md, text).map_err(io(md.clone()))?;
    let svg = out_dir.join("bench-throughput.svg");
    std::fs::write(&svg, throughput_svg(&results)).map_err(io(svg.clone()))?;
    Ok(targets(&ratios(&results)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(
        group: &str,
        function: &str,
        parameter: Option<&str>,
        ns: f64,
        t: Throughput,
    ) -> BenchResult {
        BenchResult {
            group: group.into(),
            function: function.into(),
            parameter: parameter.map(Into::into),
            median_ns: ns,
            throughput: Some(t),
        }
    }

    #[test]
    fn ratios_pair_simnet_with_each_baseline_of_the_same_parameter() {
        let results = vec![
            result(
                "direct",
                "simnet",
                Some("1MiB-1"),
                2_000_000.0,
                Throughput::Bytes(1 << 20),
            ),
            result(
                "direct",
                "bare_rr",
                Some("1MiB-1"),
                1_600_000.0,
                Throughput::Bytes(1 << 20),
            ),
            result(
                "direct",
                "tcp_echo",
                Some("1MiB-1"),
                500_000.0,
                Throughput::Bytes(1 << 20),
            ),
            result(
                "direct",
                "bare_rr",
                Some("64B-1"),
                1.0,
                Throughput::Bytes(64),
            ),
            result(
                "handshake",
                "simnet",
                None,
                1_300_000.0,
                Throughput::Elements(1),
            ),
            result(
                "handshake",
                "bare",
                None,
                1_000_000.0,
                Throughput::Elements(1),
            ),
        ];
        let all = ratios(&results);
        assert_eq!(all.len(), 3);
        let rr = all
            .iter()
            .find(|r| r.baseline == "bare_rr")
            .expect("bare_rr");
        assert!((rr.time_ratio - 1.25).abs() < 1e-9);
        assert!((rr.throughput_ratio() - 0.8).abs() < 1e-9);
        let checked = targets(&all);
        assert_eq!(checked.len(), 2);
        assert!(!checked[0].met, "0.8× misses 0.9×");
        assert!(checked[1].met, "1.3× is within 1.5×");
    }

    #[test]
    fn rates_are_mib_or_elements_per_second() {
        let r = result(
            "direct",
            "simnet",
            Some("1MiB-1"),
            1e9,
            Throughput::Bytes(2 << 20),
        );
        assert_eq!(r.rate(), Some(2.0));
        let e = result(
            "broadcast",
            "simnet",
            Some("2"),
            5e8,
            Throughput::Elements(40),
        );
        assert_eq!(e.rate(), Some(80.0));
    }

    #[test]
    fn parameters_sort_by_the_size_they_name() {
        let mut names = vec!["1MiB-1", "64B-32", "1KiB-1", "64B-1", "64KiB-32"];
        names.sort_by_key(|n| order_key(&Some((*n).to_owned())));
        assert_eq!(names, ["64B-1", "64B-32", "1KiB-1", "64KiB-32", "1MiB-1"]);
    }

    #[test]
    fn criterion_files_are_read() {
        let dir = std::env::temp_dir().join(format!("simnet-bench-{}", std::process::id()));
        let new = dir.join("direct/simnet/64KiB-1/new");
        std::fs::create_dir_all(&new).expect("dir");
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"group_id":"direct","function_id":"simnet","value_str":"64KiB-1","throughput":{"Bytes":65536},"full_id":"direct/simnet/64KiB-1","directory_name":"direct/simnet/64KiB-1","title":"direct/simnet/64KiB-1"}"#,
        )
        .expect("write");
        std::fs::write(
            new.join("estimates.json"),
            r#"{"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":384489.5,"standard_error":2.0}}"#,
        )
        .expect("write");
        let found = collect(&dir).expect("results");
        assert_eq!(
            found,
            vec![result(
                "direct",
                "simnet",
                Some("64KiB-1"),
                384489.5,
                Throughput::Bytes(65536)
            )]
        );
        let svg = throughput_svg(&found);
        assert!(svg.starts_with("<svg") && svg.contains("polyline"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
