//! Outcome snapshots for any scenario directory: each scenario's outcome is
//! compared with `snapshots/<name>.snap` beside it, in insta's `.snap` file
//! format, so the same files serve `simnet conformance DIR` in a team's CI,
//! `cargo insta review`, and simnet's own `cargo test`.
//!
//! The outcome is written with insta's own YAML serialiser (the one
//! `assert_yaml_snapshot!` uses), so a snapshot accepted either way matches
//! the other byte for byte. That serialiser is the one item insta keeps out of
//! its documented API (`insta::_macro_support::serialize_value`); the version
//! is pinned in `Cargo.lock`, and `cargo test` plus `simnet conformance` in CI
//! read the same files, so a change in its output shows up as a failed run.

use std::{
    fmt, io,
    path::{Path, PathBuf},
};

use super::Outcome;
use crate::implementation::Implementation;

/// What to do when a snapshot is missing or differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    /// Write nothing (CI, where `CI` is set).
    Never,
    /// Write `<name>.snap.new` beside the snapshot for review
    /// (`cargo insta review`, or `simnet conformance --accept`).
    Pending,
    /// Write the new outcome as the snapshot (`--accept`).
    Accept,
}

impl Update {
    /// `Accept` if asked, otherwise `Pending` — and `Never` under CI
    /// ([`in_ci`]).
    pub fn from_environment(accept: bool) -> Update {
        match (in_ci(), accept) {
            (true, _) => Update::Never,
            (false, true) => Update::Accept,
            (false, false) => Update::Pending,
        }
    }
}

/// Whether this process runs under CI: the `CI` environment variable is set
/// to anything but empty, `0` or `false`, as insta reads it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// How a run's outcome compares with its snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// The snapshot holds exactly this outcome.
    Matched,
    /// There is no snapshot yet.
    Missing {
        /// Where it belongs.
        path: PathBuf,
        /// What was written: the snapshot, a pending `.snap.new`, or nothing.
        wrote: Option<PathBuf>,
    },
    /// The snapshot holds another outcome.
    Changed {
        /// The snapshot.
        path: PathBuf,
        /// A unified diff, snapshot → this run.
        diff: String,
        /// What was written: the snapshot, a pending `.snap.new`, or nothing.
        wrote: Option<PathBuf>,
    },
    /// The snapshot could not be read or written.
    Unreadable {
        /// The snapshot.
        path: PathBuf,
        /// The I/O error, in words.
        error: String,
    },
}

impl Comparison {
    /// Whether the snapshot already held this outcome.
    pub fn is_match(&self) -> bool {
        *self == Comparison::Matched
    }

    /// Whether the run conforms to its snapshot: it matched, or the new one
    /// was accepted.
    pub fn passed(&self) -> bool {
        match self {
            Comparison::Matched => true,
            Comparison::Missing { path, wrote } | Comparison::Changed { path, wrote, .. } => {
                wrote.as_ref() == Some(path)
            }
            Comparison::Unreadable { .. } => false,
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wrote = |f: &mut fmt::Formatter<'_>, path: &Path, wrote: &Option<PathBuf>| match wrote {
            Some(w) if w == path => write!(f, " (accepted: wrote {})", w.display()),
            Some(w) => write!(
                f,
                " (wrote {}: review it with `cargo insta review` or accept it with `--accept`)",
                w.display()
            ),
            None => f.write_str(" (nothing written: CI is set)"),
        };
        match self {
            Comparison::Matched => f.write_str("snapshot matched"),
            Comparison::Missing { path, wrote: w } => {
                write!(f, "no snapshot {}", path.display())?;
                wrote(f, path, w)
            }
            Comparison::Changed {
                path,
                diff,
                wrote: w,
            } => {
                write!(f, "outcome differs from snapshot {}", path.display())?;
                wrote(f, path, w)?;
                write!(f, "\n{diff}")
            }
            Comparison::Unreadable { path, error } => {
                write!(f, "cannot use snapshot {}: {error}", path.display())
            }
        }
    }
}

/// Where the snapshot of `scenario` run on `implementation` lives:
/// `snapshots/<file stem>.snap` in the scenario's directory, or
/// `snapshots/reference/<file stem>.snap` for the reference implementation.
pub fn path_of(scenario: &Path, implementation: Implementation) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned());
    scenario
        .parent()
        .unwrap_or(Path::new(""))
        .join("snapshots")
        .join(match implementation {
            Implementation::Simnet => PathBuf::new(),
            other => PathBuf::from(other.name()),
        })
        .join(format!("{stem}.snap"))
}

/// The snapshot body of `outcome`: what `assert_yaml_snapshot!` writes.
pub fn body(outcome: &Outcome) -> String {
    insta::_macro_support::serialize_value(
        outcome,
        insta::_macro_support::SerializationFormat::Yaml,
    )
}

/// The whole `.snap` file for `outcome` of `scenario`: insta's header (what
/// the run proves and its seed; the scenario file) and the body.
pub fn file_text(outcome: &Outcome, scenario: &Path) -> String {
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into());
    format!(
        "---\nsource: simnet conformance\ndescription: {}\ninput_file: {}\n---\n{}\n",
        quoted(&format!("{} (seed {})", outcome.about, outcome.seed)),
        quoted(&scenario.display().to_string()),
        body(outcome).trim_end()
    )
}

/// The body of a `.snap` file: everything after its header.
fn stored_body(text: &str) -> &str {
    text.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(text, |(_, body)| body)
}

/// Compares `outcome` of `scenario` with its snapshot and, as `update`
/// says, writes the new one or a pending one.
pub fn compare(
    outcome: &Outcome,
    scenario: &Path,
    implementation: Implementation,
    update: Update,
) -> Comparison {
    let path = path_of(scenario, implementation);
    compare_at(outcome, scenario, &path, update).unwrap_or_else(|e| Comparison::Unreadable {
        path,
        error: e.to_string(),
    })
}

fn compare_at(
    outcome: &Outcome,
    scenario: &Path,
    path: &Path,
    update: Update,
) -> io::Result<Comparison> {
    let path = path.to_owned();
    let new = body(outcome);
    let old = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if let Some(old) = &old {
        if stored_body(old).trim_end() == new.trim_end() {
            return Ok(Comparison::Matched);
        }
    }
    let wrote = match update {
        Update::Never => None,
        Update::Pending => Some(PathBuf::from(format!("{}.new", path.display()))),
        Update::Accept => Some(path.clone()),
    };
    if let Some(target) = &wrote {
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(target, file_text(outcome, scenario))?;
    }
    Ok(match old {
        None => Comparison::Missing { path, wrote },
        Some(old) => Comparison::Changed {
            diff: similar::TextDiff::from_lines(stored_body(&old).trim_end(), new.trim_end())
                .unified_diff()
                .context_radius(3)
                .header("snapshot", "this run")
                .to_string(),
            path,
            wrote,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_sits_in_snapshots_beside_its_scenario() {
        assert_eq!(
            path_of(Path::new("their/dir/ban.yaml"), Implementation::Simnet),
            PathBuf::from("their/dir/snapshots/ban.snap")
        );
        assert_eq!(
            path_of(Path::new("their/dir/ban.yaml"), Implementation::Reference),
            PathBuf::from("their/dir/snapshots/reference/ban.snap")
        );
    }

    #[test]
    fn the_body_is_what_follows_the_header() {
        let text = "---\nsource: x\ndescription: \"a: b\"\n---\nscenario: t\npassed: true\n";
        assert_eq!(stored_body(text), "scenario: t\npassed: true\n");
    }
}
