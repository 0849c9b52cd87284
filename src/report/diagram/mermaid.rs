//! Writes a [`Diagram`] as a mermaid sequence diagram, escaping every name
//! and text so that what a trace says (`;`, `#`, `<`, quotes, newlines, a
//! node called `end`) cannot break the diagram's syntax.

use std::{fmt::Write as _, time::Duration};

use super::{Arrow, Diagram, Line, Mark, Step};

/// Words of mermaid's sequence-diagram syntax that cannot be a participant id.
const KEYWORDS: &[&str] = &[
    "participant",
    "actor",
    "as",
    "loop",
    "alt",
    "else",
    "opt",
    "par",
    "and",
    "rect",
    "end",
    "note",
    "over",
    "left",
    "right",
    "of",
    "critical",
    "break",
    "autonumber",
    "activate",
    "deactivate",
    "title",
    "box",
    "create",
    "destroy",
    "links",
    "link",
    "properties",
    "details",
    "sequencediagram",
];

/// The highlight behind a failure note.
const FAILURE_COLOUR: &str = "rgb(255, 221, 221)";

/// The mermaid text of `diagram`, ending in a newline.
pub fn render(diagram: &Diagram) -> String {
    let ids = Ids::new(&diagram.participants);
    let mut out = String::from("sequenceDiagram\n");
    for (i, name) in diagram.participants.iter().enumerate() {
        let id = &ids.0[i];
        if id == name {
            let _ = writeln!(out, "    participant {id}");
        } else {
            let _ = writeln!(out, "    participant {id} as {}", label(name));
        }
    }
    for line in &diagram.lines {
        match line {
            Line::Step(step) => {
                let stamp = time(step.at);
                write_step(&mut out, &ids, step, Some(&stamp), "    ")
            }
            Line::Repeat {
                times,
                first,
                last,
                body,
                ..
            } => {
                let span = if first == last {
                    time(*first)
                } else {
                    format!("{}–{}", time(*first), time(*last))
                };
                let label = match times {
                    Some(n) => format!("× {} ({span})", group(*n)),
                    None => {
                        let steps: usize = body.iter().map(|(n, _)| n).sum();
                        format!("{} steps interleaved ({span})", group(steps))
                    }
                };
                let _ = writeln!(out, "    loop {}", text(&label));
                for (count, step) in body {
                    let prefix = match times {
                        Some(_) => None,
                        None => Some(format!("× {}", group(*count))),
                    };
                    write_step(&mut out, &ids, step, prefix.as_deref(), "        ");
                }
                out.push_str("    end\n");
            }
            Line::LeftOut { entries, earlier } => {
                let noun = if *entries == 1 { "entry" } else { "entries" };
                let what = if *earlier {
                    format!("… {} earlier trace {noun} left out", group(*entries))
                } else {
                    format!(
                        "… {} more trace {noun} left out — full trace in results.json, run --trace",
                        group(*entries)
                    )
                };
                let _ = writeln!(out, "    Note over {}: {}", ids.span(&[]), text(&what));
            }
        }
    }
    out
}

/// One step, its text after `prefix` (its time, or its count in a loop).
fn write_step(out: &mut String, ids: &Ids, step: &Step, prefix: Option<&str>, indent: &str) {
    let stamp = |t: &str| match prefix {
        Some(prefix) => text(&format!("{prefix} {t}")),
        None => text(t),
    };
    match &step.mark {
        Mark::Message {
            from,
            to,
            arrow,
            text: t,
        } => {
            let arrow = match arrow {
                Arrow::Request => "->>",
                Arrow::Response => "-->>",
                Arrow::Refused => "-x",
                Arrow::Rejection => "--x",
            };
            let _ = writeln!(
                out,
                "{indent}{}{arrow}{}: {}",
                ids.of(from),
                ids.of(to),
                stamp(t)
            );
        }
        Mark::Note { over, text: t, .. } => {
            let _ = writeln!(out, "{indent}Note over {}: {}", ids.span(over), stamp(t));
        }
        Mark::Failure { over, text: t, .. } => {
            let _ = writeln!(out, "{indent}rect {FAILURE_COLOUR}");
            let _ = writeln!(
                out,
                "{indent}    Note over {}: {}",
                ids.span(over),
                stamp(t)
            );
            let _ = writeln!(out, "{indent}end");
        }
    }
}

/// Participant ids: the node name when it is a plain identifier that is no
/// keyword, else `p<index>` (drawn with the name as its label).
struct Ids<'a>(Vec<String>, &'a [String]);

impl<'a> Ids<'a> {
    fn new(names: &'a [String]) -> Self {
        let mut ids: Vec<String> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if is_plain_id(name) {
                ids.push(name.clone());
                continue;
            }
            // Unlike every plain name and every id given so far.
            let mut id = format!("p{i}");
            while names.contains(&id) || ids.contains(&id) {
                id.push('_');
            }
            ids.push(id);
        }
        Ids(ids, names)
    }

    fn of(&self, name: &str) -> &str {
        self.1
            .iter()
            .position(|n| n == name)
            .map_or("p_unknown", |i| self.0[i].as_str())
    }

    /// `a` or `a,c`: from the first to the last of `over` in participant
    /// order; every participant when `over` is empty.
    fn span(&self, over: &[String]) -> String {
        let indices: Vec<usize> = if over.is_empty() {
            (0..self.1.len()).collect()
        } else {
            (0..self.1.len())
                .filter(|i| over.contains(&self.1[*i]))
                .collect()
        };
        match (indices.first(), indices.last()) {
            (Some(a), Some(b)) if a != b => format!("{},{}", self.0[*a], self.0[*b]),
            (Some(a), _) => self.0[*a].clone(),
            _ => self
                .0
                .first()
                .cloned()
                .unwrap_or_else(|| "p_unknown".into()),
        }
    }
}

/// Whether `name` can stand as a participant id as it is.
pub fn is_plain_id(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name.to_ascii_lowercase().as_str())
}

/// Message or note text with mermaid's special characters as entity codes
/// and newlines as `<br/>`; never empty.
pub fn text(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.trim().chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '%' => out.push_str("#37;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '"' => out.push_str("#quot;"),
            '\n' => out.push_str("<br/>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    if out.is_empty() {
        out.push('…');
    }
    out
}

/// A participant label: text, with `:` as an entity too.
fn label(name: &str) -> String {
    text(name).replace(':', "#58;")
}

/// `0.054s`.
fn time(at: Duration) -> String {
    format!("{}.{:03}s", at.as_secs(), at.subsec_millis())
}

/// `1 234`: digits grouped by three.
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_become_entities() {
        assert_eq!(text("a; b # c"), "a#59; b #35; c");
        assert_eq!(text("<x> \"q\" 50%"), "#lt;x#gt; #quot;q#quot; 50#37;");
        assert_eq!(text("one\ntwo"), "one<br/>two");
        assert_eq!(text("  "), "…");
    }

    #[test]
    fn keywords_and_odd_names_are_not_ids() {
        assert!(is_plain_id("alice"));
        assert!(is_plain_id("node_2"));
        for name in ["end", "End", "note", "a b", "a;b", "2fast", "", "bö"] {
            assert!(!is_plain_id(name), "{name}");
        }
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(group(7), "7");
        assert_eq!(group(1234), "1 234");
        assert_eq!(group(1234567), "1 234 567");
    }
}
