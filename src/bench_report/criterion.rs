//! Reading what `cargo bench` left behind: criterion writes each benchmark's
//! description and estimates as JSON under
//! `GROUP/FUNCTION[/PARAMETER]/new/`, beside `base/` (the previous run) and
//! `report/` (its HTML), which are skipped.

use std::path::Path;

use serde::Deserialize;

use super::BenchReportError;

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

/// Bytes named by a parameter's size part: `64B`, `1KiB`, `1MiB` or a bare
/// number; the benchmarks name their payloads this way.
pub(crate) fn parse_size(text: &str) -> Option<u64> {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A result with a throughput, for tests.
    pub(crate) fn result(
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
        let _ = std::fs::remove_dir_all(dir);
    }
}
