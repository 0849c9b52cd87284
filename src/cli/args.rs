//! Value parsers for command-line arguments: each says what it expected.

use std::time::Duration;

use simnet::scenario::suite;

/// Parses a fuzz target name.
pub(crate) fn parse_target(text: &str) -> Result<simnet::fuzz::Target, String> {
    simnet::fuzz::Target::from_name(text)
        .ok_or_else(|| format!("unknown target `{text}`: use wire, frame, handshake or scenario"))
}

/// Parses `K/N`.
pub(crate) fn parse_shard_arg(text: &str) -> Result<(usize, usize), String> {
    suite::parse_shard(text).map_err(|e| e.to_string())
}

/// Parses `A..B` with A < B.
pub(crate) fn parse_seed_range(text: &str) -> Result<std::ops::Range<u64>, String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("expected a seed range like 0..100, got `{text}`"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not a seed"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not a seed"))?;
    if a >= b {
        return Err(format!("the range `{text}` is empty"));
    }
    Ok(a..b)
}

/// Parses `40s`, `1500ms`, `2m`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| text.split_at(i))
        .ok_or_else(|| format!("{text:?} needs a unit: ms, s or m"))?;
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a whole number"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(value),
        "s" => Duration::from_secs(value),
        "m" => Duration::from_secs(value.saturating_mul(60)),
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use ms, s or m"
            ))
        }
    };
    const DAY: Duration = Duration::from_secs(24 * 3600);
    if duration > DAY {
        return Err(format!("{text:?} is longer than the limit of one day"));
    }
    Ok(duration)
}
