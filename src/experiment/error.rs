//! Where a value came from, and how a bad value is reported.
//!
//! Every value read from an experiment carries a [`Loc`]: which source text it came from
//! (the experiment file, a `--set` argument, a preset file, or the built-in defaults) and
//! its byte span there. A [`Problem`] is a located complaint ("expected …, found …");
//! [`Sources::error`] turns it into the public [`ExperimentError`], which knows the file,
//! line and column and renders a source snippet with `annotate-snippets`.

use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// Index of a source text in [`Sources`].
pub(crate) type SrcId = usize;

/// The built-in defaults: a pseudo-source without text.
pub(crate) const BUILTIN: SrcId = 0;

/// What kind of text a source is (it matters for the resolved copy, see `resolved.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SourceKind {
    Builtin,
    File,
    Override,
    Preset,
}

/// One text values were read from.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub name: String,
    pub text: String,
    pub kind: SourceKind,
}

/// All texts of one load, so that every [`Loc`] can be shown with its snippet.
#[derive(Clone, Debug)]
pub(crate) struct Sources {
    list: Vec<Source>,
}

/// A place in a source: source id and byte span.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct Loc {
    pub src: SrcId,
    pub span: Range<usize>,
    /// The value is a sweep element applied to a row: in a conflict it is the one to blame.
    pub swept: bool,
}

impl Loc {
    pub fn builtin() -> Loc {
        Loc {
            src: BUILTIN,
            span: 0..0,
            swept: false,
        }
    }
}

/// A located complaint, not yet rendered (boxed: it travels in many `Result`s).
#[derive(Clone, Debug)]
pub(crate) struct Problem(Box<ProblemData>);

/// The fields of a [`Problem`].
#[derive(Clone, Debug)]
pub(crate) struct ProblemData {
    pub loc: Loc,
    /// One line: what is wrong ("invalid value for `workload.clients`").
    pub title: String,
    pub expected: String,
    pub found: String,
    pub help: Option<String>,
}

impl std::ops::Deref for Problem {
    type Target = ProblemData;
    fn deref(&self) -> &ProblemData {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemData {
        &mut self.0
    }
}

impl Problem {
    /// A complaint about the value at `loc`; the title is filled in by whoever knows the key.
    pub fn new(loc: &Loc, expected: impl Into<String>, found: impl Into<String>) -> Problem {
        Problem(Box::new(ProblemData {
            loc: loc.clone(),
            title: String::new(),
            expected: expected.into(),
            found: found.into(),
            help: None,
        }))
    }

    pub fn title(mut self, title: impl Into<String>) -> Problem {
        self.title = title.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    /// Names the key the value belongs to, unless a more specific title is already set.
    pub fn for_key(mut self, key: &str) -> Problem {
        if self.title.is_empty() {
            self.title = format!("invalid value for `{key}`");
        }
        self
    }
}

/// A bad experiment: where (file, line, column), what was expected, what was found.
///
/// `Display` renders the whole report, a source snippet included:
///
/// ```text
/// error: invalid value for `short-polling.interval`
///  --> polling.toml:12:12
///    |
/// 12 | interval = "3x"
///    |            ^^^^ expected a duration such as "250ms", "3s" or "10min", found "3x" …
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[error("{}", .0.rendered)]
pub struct ExperimentError(Box<Details>);

#[derive(Clone, Debug)]
struct Details {
    file: String,
    line: usize,
    column: usize,
    message: String,
    expected: String,
    found: String,
    rendered: String,
}

impl ExperimentError {
    /// The experiment file, `--set`, a preset file, or `built-in defaults`.
    pub fn file(&self) -> &str {
        &self.0.file
    }

    /// 1-based; 0 when the error is not about a place in a text (e.g. an unreadable file).
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// 1-based, in characters; 0 as for `line`.
    pub fn column(&self) -> usize {
        self.0.column
    }

    /// One-line summary, e.g. "invalid value for `workload.clients`".
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// What a valid value looks like.
    pub fn expected(&self) -> &str {
        &self.0.expected
    }

    /// What was written instead.
    pub fn found(&self) -> &str {
        &self.0.found
    }

    /// An error about a whole file (it cannot be read, …).
    pub(crate) fn whole_file(file: &str, message: String, expected: &str, found: String) -> Self {
        let rendered =
            format!("error: {message}\n --> {file}\n  = expected {expected}, found {found}");
        ExperimentError(Box::new(Details {
            file: file.to_string(),
            line: 0,
            column: 0,
            message,
            expected: expected.to_string(),
            found,
            rendered,
        }))
    }
}

impl Sources {
    pub fn new() -> Sources {
        Sources {
            list: vec![Source {
                name: "built-in defaults".into(),
                text: String::new(),
                kind: SourceKind::Builtin,
            }],
        }
    }

    pub fn add(&mut self, name: &str, text: &str, kind: SourceKind) -> SrcId {
        self.list.push(Source {
            name: name.to_string(),
            text: text.to_string(),
            kind,
        });
        self.list.len() - 1
    }

    pub fn get(&self, id: SrcId) -> &Source {
        // Ids are only handed out by `add`; fall back to the built-in source regardless.
        self.list.get(id).unwrap_or(&self.list[BUILTIN])
    }

    pub fn kind(&self, id: SrcId) -> SourceKind {
        self.get(id).kind
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, loc: &Loc) -> (usize, usize) {
        let text = &self.get(loc.src).text;
        let at = clamp_to_boundary(text, loc.span.start);
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    /// `file:line:col`, for one-line messages such as warnings.
    pub fn position(&self, loc: &Loc) -> String {
        let src = self.get(loc.src);
        if src.kind == SourceKind::Builtin {
            return src.name.clone();
        }
        let (line, col) = self.line_col(loc);
        format!("{}:{line}:{col}", src.name)
    }

    /// Renders a problem with its snippet.
    pub fn error(&self, p: Problem) -> ExperimentError {
        let p = *p.0;
        let src = self.get(p.loc.src);
        let title = if p.title.is_empty() {
            "invalid experiment".to_string()
        } else {
            p.title.clone()
        };
        let label = format!("expected {}, found {}", p.expected, p.found);
        let (line, column, rendered) = if src.kind == SourceKind::Builtin || src.text.is_empty() {
            let mut r = format!("error: {title}\n --> {}\n  = {label}", src.name);
            if let Some(h) = &p.help {
                r.push_str(&format!("\n  = help: {h}"));
            }
            (0, 0, r)
        } else {
            let (line, column) = self.line_col(&p.loc);
            let span = visible_span(&src.text, &p.loc.span);
            let snippet = Snippet::source(src.text.as_str())
                .path(src.name.as_str())
                .annotation(AnnotationKind::Primary.span(span).label(label.as_str()));
            let rendered = match &p.help {
                Some(h) => Renderer::plain().render(&[
                    Level::ERROR.primary_title(title.as_str()).element(snippet),
                    Group::with_title(Level::HELP.secondary_title(h.as_str())),
                ]),
                None => Renderer::plain()
                    .render(&[Level::ERROR.primary_title(title.as_str()).element(snippet)]),
            };
            (line, column, rendered)
        };
        ExperimentError(Box::new(Details {
            file: src.name.clone(),
            line,
            column,
            message: title,
            expected: p.expected,
            found: p.found,
            rendered,
        }))
    }
}

/// The largest char boundary of `text` at or before `at`.
fn clamp_to_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A span inside `text`, on char boundaries, at least one character wide when possible.
fn visible_span(text: &str, span: &Range<usize>) -> Range<usize> {
    let start = clamp_to_boundary(text, span.start);
    let mut end = clamp_to_boundary(text, span.end.max(start));
    if end == start {
        if let Some(c) = text[start..].chars().next() {
            if c != '\n' && c != '\r' {
                end = start + c.len_utf8();
            }
        }
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let mut s = Sources::new();
        let id = s.add("f.toml", "a = 1\nµb = \"x\"\n", SourceKind::File);
        let loc = Loc {
            src: id,
            span: 12..15,
            swept: false,
        };
        assert_eq!(s.line_col(&loc), (2, 6));
        let e = s.error(Problem::new(&loc, "a thing", "\"x\"").for_key("b"));
        assert_eq!((e.line(), e.column()), (2, 6));
        let text = e.to_string();
        assert!(text.contains("f.toml:2:6"), "{text}");
        assert!(text.contains("expected a thing, found \"x\""), "{text}");
    }

    #[test]
    fn spans_out_of_range_do_not_panic() {
        let mut s = Sources::new();
        let id = s.add("f.toml", "é", SourceKind::File);
        for (start, end) in [(0, 0), (1, 1), (5, 2), (0, 100), (2, 2)] {
            let span = start..end;
            let loc = Loc {
                src: id,
                span,
                swept: false,
            };
            let e = s.error(Problem::new(&loc, "x", "y"));
            assert!(e.to_string().contains("f.toml"));
        }
        let e = s.error(Problem::new(&Loc::builtin(), "x", "y"));
        assert!(e.to_string().contains("built-in defaults"));
    }
}
