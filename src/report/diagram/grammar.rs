//! A strict check of the mermaid subset simnet writes, so a test can prove
//! that every diagram parses without a JavaScript runtime: `sequenceDiagram`,
//! then `participant` lines, then arrows (`->>`, `-->>`, `-x`, `--x`),
//! `Note over A[,B]: text`, and `loop`/`rect` blocks closed by `end`. Texts
//! may hold no character mermaid treats specially except as an entity code
//! (`#59;`) or a `<br/>` line break. It is stricter than mermaid: what it
//! accepts, mermaid parses (`tests/report/mermaid.rs` checks both when
//! mermaid is installed).

use super::mermaid::is_plain_id;

/// Why a diagram does not pass the check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}: `{text}`")]
pub struct GrammarError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub problem: &'static str,
    /// The offending line.
    pub text: String,
}

const ARROWS: [&str; 4] = ["-->>", "->>", "--x", "-x"];

/// Checks `diagram`; the first problem found is the error.
pub fn check(diagram: &str) -> Result<(), GrammarError> {
    let mut lines = diagram.lines().enumerate();
    let fail = |line: usize, problem: &'static str, text: &str| GrammarError {
        line: line + 1,
        problem,
        text: text.to_owned(),
    };
    match lines.next() {
        Some((_, first)) if first.trim() == "sequenceDiagram" => {}
        Some((i, first)) => return Err(fail(i, "the first line must be `sequenceDiagram`", first)),
        None => return Err(fail(0, "empty diagram", "")),
    }
    let mut participants: Vec<String> = Vec::new();
    let mut body_started = false;
    let mut open: Vec<usize> = Vec::new();
    for (i, raw) in lines {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let declared = |id: &str| participants.iter().any(|p| p == id);
        if let Some(rest) = line.strip_prefix("participant ") {
            if body_started {
                return Err(fail(i, "participants must come first", raw));
            }
            let (id, label) = match rest.split_once(" as ") {
                Some((id, label)) => (id, Some(label)),
                None => (rest, None),
            };
            if !is_plain_id(id) || declared(id) {
                return Err(fail(i, "bad or repeated participant id", raw));
            }
            if let Some(label) = label {
                if label.contains(':') || !valid_text(label) {
                    return Err(fail(i, "bad participant label", raw));
                }
            }
            participants.push(id.to_owned());
            continue;
        }
        body_started = true;
        if line == "end" {
            if open.pop().is_none() {
                return Err(fail(i, "`end` without a block", raw));
            }
        } else if let Some(label) = line.strip_prefix("loop ") {
            if !valid_text(label) {
                return Err(fail(i, "bad loop label", raw));
            }
            open.push(i);
        } else if let Some(colour) = line.strip_prefix("rect ") {
            if !valid_colour(colour) {
                return Err(fail(i, "bad rect colour", raw));
            }
            open.push(i);
        } else if let Some(rest) = line.strip_prefix("Note over ") {
            let Some((over, text)) = rest.split_once(": ") else {
                return Err(fail(i, "a note needs `: text`", raw));
            };
            let ids: Vec<&str> = over.split(',').collect();
            if ids.len() > 2 || !ids.iter().all(|id| declared(id)) {
                return Err(fail(
                    i,
                    "a note spans one or two declared participants",
                    raw,
                ));
            }
            if !valid_text(text) {
                return Err(fail(i, "bad note text", raw));
            }
        } else {
            let Some((head, text)) = line.split_once(": ") else {
                return Err(fail(i, "unknown statement", raw));
            };
            let Some((from, arrow, to)) = ARROWS
                .iter()
                .find_map(|a| head.split_once(a).map(|(f, t)| (f, *a, t)))
            else {
                return Err(fail(i, "unknown statement", raw));
            };
            let _ = arrow;
            if !declared(from) || !declared(to) {
                return Err(fail(i, "an arrow joins declared participants", raw));
            }
            if !valid_text(text) {
                return Err(fail(i, "bad message text", raw));
            }
        }
    }
    match open.last() {
        Some(start) => Err(fail(*start, "block never closed with `end`", "")),
        None => Ok(()),
    }
}

/// Non-empty, and `#`, `;`, `<`, `>`, `%`, quotes and control characters only
/// inside entity codes and `<br/>`.
fn valid_text(text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() {
        return false;
    }
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("<br/>") {
            rest = after;
            continue;
        }
        if c == '#' {
            let Some(end) = rest[1..].find(';') else {
                return false;
            };
            let code = &rest[1..=end];
            if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
                return false;
            }
            rest = &rest[end + 2..];
            continue;
        }
        if matches!(c, ';' | '<' | '>' | '%' | '"') || c.is_control() {
            return false;
        }
        rest = &rest[c.len_utf8()..];
    }
    true
}

/// `rgb(r, g, b)` with each part 0–255.
fn valid_colour(colour: &str) -> bool {
    let Some(inner) = colour
        .strip_prefix("rgb(")
        .and_then(|c| c.strip_suffix(')'))
    else {
        return false;
    };
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    parts.len() == 3 && parts.iter().all(|p| p.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "sequenceDiagram
    participant alice
    participant p1 as bob the #59; builder
    alice->>p1: 0.054s HandshakeRequest
    p1-->>alice: HandshakeResponse accepted
    loop × 400 (1.000s–2.000s)
        alice->>p1: InstanceMessageRequest
        p1--xalice: Error 429
    end
    rect rgb(255, 221, 221)
        Note over alice,p1: ❌ line 3: a #lt; b<br/>c
    end
";

    #[test]
    fn what_simnet_writes_passes() {
        assert_eq!(check(GOOD), Ok(()));
    }

    #[test]
    fn known_bad_diagrams_fail() {
        let bad = [
            ("graph TD\n", "first line"),
            (
                "sequenceDiagram\n    participant a\n    a->>b: x\n",
                "undeclared",
            ),
            (
                "sequenceDiagram\n    participant a\n    a->>a: x; y\n",
                "raw semicolon",
            ),
            (
                "sequenceDiagram\n    participant a\n    a->>a: x # y\n",
                "raw hash",
            ),
            (
                "sequenceDiagram\n    participant a\n    a->>a: <b>\n",
                "raw angle",
            ),
            (
                "sequenceDiagram\n    participant a\n    a->>a: say \"x\"\n",
                "quote",
            ),
            (
                "sequenceDiagram\n    participant a\n    a->>a: \n",
                "empty text",
            ),
            (
                "sequenceDiagram\n    participant a\n    a->>a x\n",
                "no colon",
            ),
            ("sequenceDiagram\n    participant end\n", "keyword id"),
            (
                "sequenceDiagram\n    participant a\n    participant a\n",
                "repeated id",
            ),
            ("sequenceDiagram\n    participant a\n    end\n", "stray end"),
            (
                "sequenceDiagram\n    participant a\n    loop x\n",
                "unclosed loop",
            ),
            (
                "sequenceDiagram\n    participant a\n    rect red\n    end\n",
                "bad colour",
            ),
            (
                "sequenceDiagram\n    participant a\n    Note over a,b,c: x\n",
                "note span",
            ),
            (
                "sequenceDiagram\n    participant a\n    Note over a: x\n    participant b\n",
                "late participant",
            ),
            (
                "sequenceDiagram\n    participant a\n    a=>a: x\n",
                "unknown arrow",
            ),
            (
                "sequenceDiagram\n    participant a as x: y\n",
                "colon in label",
            ),
        ];
        for (diagram, why) in bad {
            assert!(check(diagram).is_err(), "{why} must fail: {diagram}");
        }
    }
}
