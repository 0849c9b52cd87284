//! Durations as scenario files write them: `250ms`, `5s`, `2m`, `1m30s`; clock
//! offsets may be negative (`-40s`); latency ranges are `min..max`.

use std::time::Duration;

/// Longest duration a scenario may name: one simulated day.
pub const MAX_DURATION: Duration = Duration::from_secs(86_400);

/// Parses a non-negative duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("expected a duration like `250ms`, `5s` or `2m`, got an empty value".into());
    }
    if trimmed.starts_with('-') {
        return Err(format!(
            "`{trimmed}` is negative; a time or duration must be zero or more"
        ));
    }
    let mut total = Duration::ZERO;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "expected a duration like `250ms`, `5s` or `2m`, got `{trimmed}`"
            ));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("the number in `{trimmed}` is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "" => {
                return Err(format!(
                    "`{trimmed}` has no unit; write `{trimmed}s` for seconds or `{trimmed}ms` for milliseconds"
                ))
            }
            unit => return Err(format!("unknown unit `{unit}` in `{trimmed}`; use `ms`, `s` or `m`")),
        };
        rest = &rest[unit_len..];
        total = total.saturating_add(part);
    }
    if total > MAX_DURATION {
        return Err(format!(
            "`{trimmed}` is longer than the limit of one simulated day"
        ));
    }
    Ok(total)
}

/// Parses a signed offset in milliseconds (`-40s` → -40000).
pub fn parse_offset_ms(text: &str) -> Result<i64, String> {
    let trimmed = text.trim();
    let (negative, magnitude) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let ms = parse_duration(magnitude)?.as_millis() as i64;
    Ok(if negative { -ms } else { ms })
}

/// Parses `min..max`, or a single duration for a fixed latency.
pub fn parse_latency(text: &str) -> Result<(Duration, Duration), String> {
    let (min, max) = match text.split_once("..") {
        Some((min, max)) => (parse_duration(min)?, parse_duration(max)?),
        None => {
            let fixed = parse_duration(text)?;
            (fixed, fixed)
        }
    };
    if min > max {
        return Err(format!(
            "latency range `{}` has its minimum above its maximum",
            text.trim()
        ));
    }
    Ok((min, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration(" 5s "), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(parse_duration("5h")
            .unwrap_err()
            .contains("unknown unit `h`"));
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999s")
            .unwrap_err()
            .contains("too large"));
        assert!(parse_duration("2000m")
            .unwrap_err()
            .contains("one simulated day"));
    }

    #[test]
    fn offsets_and_ranges() {
        assert_eq!(parse_offset_ms("-40s"), Ok(-40_000));
        assert_eq!(parse_offset_ms("+1s"), Ok(1_000));
        assert_eq!(
            parse_latency("5ms..20ms"),
            Ok((Duration::from_millis(5), Duration::from_millis(20)))
        );
        assert_eq!(
            parse_latency("7ms"),
            Ok((Duration::from_millis(7), Duration::from_millis(7)))
        );
        assert!(parse_latency("20ms..5ms")
            .unwrap_err()
            .contains("minimum above"));
    }
}
