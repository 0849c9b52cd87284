//! [`LoadError`]: what is wrong with a scenario file and where, shown two
//! ways. `Display` is the compact `file:line:column: message` (with a
//! `help:` line) that CI logs, JUnit reports and editors read;
//! [`LoadError::code_frame`] draws the offending line with a caret under the
//! column, for a person at a terminal.

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// A 1-based line and column in a scenario file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

/// A scenario file that cannot be run, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// File name as given.
    pub file: String,
    /// Where the problem is; `None` when nothing could be read.
    pub position: Option<Position>,
    /// What is wrong and what was expected.
    pub message: String,
    /// A suggestion, when one exists.
    pub help: Option<String>,
    /// The text of the offending line, for the code frame.
    pub source_line: Option<String>,
}

impl LoadError {
    /// The line and column, if the error has a place.
    pub fn line_column(&self) -> Option<(u64, u64)> {
        self.position.map(|p| (p.line, p.column))
    }

    /// Keeps the offending line of `text` for the code frame.
    pub(crate) fn with_source(mut self, text: &str) -> Self {
        if let Some(position) = self.position {
            let index = usize::try_from(position.line.saturating_sub(1)).unwrap_or(usize::MAX);
            self.source_line = text.lines().nth(index).map(str::to_owned);
        }
        self
    }

    /// The error drawn as a code frame: the file and place, the offending
    /// line with a caret under the column, and the help line. `color` adds
    /// terminal colours. Without a source line it is the compact form.
    pub fn code_frame(&self, color: bool) -> String {
        let (Some(position), Some(line)) = (self.position, &self.source_line) else {
            return self.to_string();
        };
        let start = line
            .char_indices()
            .nth(usize::try_from(position.column.saturating_sub(1)).unwrap_or(0))
            .map_or(line.len(), |(i, _)| i);
        let end = line[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | ']' | ':'))
            .map_or(line.len(), |n| start + n)
            .max((start + 1).min(line.len()));
        let title = Level::ERROR.primary_title(&self.message);
        let snippet = Snippet::source(line.as_str())
            .line_start(usize::try_from(position.line).unwrap_or(1))
            .path(&self.file)
            .annotation(AnnotationKind::Primary.span(start..end));
        let mut report = vec![title.element(snippet)];
        if let Some(help) = &self.help {
            report.push(Group::with_title(Level::HELP.secondary_title(help)));
        }
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        renderer.render(&report).to_string()
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(Position { line, column }) => {
                write!(f, "{}:{line}:{column}: {}", self.file, self.message)?
            }
            // Nothing was read (an unreadable file): no place to point at.
            None => write!(f, "{}: {}", self.file, self.message)?,
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error() -> LoadError {
        LoadError {
            file: "bad.yaml".into(),
            position: Some(Position {
                line: 7,
                column: 11,
            }),
            message: "unknown node `bbo`".into(),
            help: Some("did you mean `bob`?".into()),
            source_line: Some("    dial: { from: alice, to: bbo }".into()),
        }
    }

    #[test]
    fn compact_form_is_one_located_line_and_its_help() {
        assert_eq!(
            error().to_string(),
            "bad.yaml:7:11: unknown node `bbo`\n  help: did you mean `bob`?"
        );
    }

    #[test]
    fn code_frame_shows_the_line_with_a_caret_under_the_column() {
        let mut e = error();
        e.position = Some(Position {
            line: 7,
            column: 30,
        });
        let frame = e.code_frame(false);
        assert!(frame.contains("error: unknown node `bbo`"), "{frame}");
        assert!(frame.contains("bad.yaml:7:30"), "{frame}");
        assert!(
            frame.contains("7 |     dial: { from: alice, to: bbo }"),
            "{frame}"
        );
        let caret_line = frame
            .lines()
            .find(|l| l.contains('^'))
            .unwrap_or_else(|| panic!("no caret in {frame}"));
        let caret = caret_line.find('^').unwrap_or(0);
        let source = frame
            .lines()
            .find(|l| l.contains("to: bbo"))
            .unwrap_or_default();
        assert_eq!(source.find("bbo"), Some(caret), "{frame}");
        assert!(frame.contains("help: did you mean `bob`?"), "{frame}");
    }
}
