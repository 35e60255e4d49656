//! An owned TOML tree in which every key and value keeps its source and span.
//!
//! The experiment file, `--set` arguments and preset files are all parsed with toml's
//! spanned `DeTable` and copied into this tree, so that one walker (`schema.rs`) reads
//! all of them, sweep elements can be applied later, and every error points at the exact
//! key or value — an array element included. Table entries are kept in document order
//! (sorted by the key's position), which the sweep's row order relies on; no
//! `preserve_order` feature is needed.

use toml::de::{DeTable, DeValue};

use super::error::{Loc, Problem, SrcId};

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

/// A value and where it was written.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub loc: Loc,
}

/// A key of a table, its position, and its value.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key: String,
    pub key_loc: Loc,
    pub value: Node,
}

impl Node {
    /// Parses a whole document. Syntax errors come back located.
    pub fn parse_document(text: &str, src: SrcId) -> Result<Node, Problem> {
        match DeTable::parse(text) {
            Ok(t) => {
                let span = t.span();
                Ok(Node {
                    kind: Kind::Table(table_entries(t.get_ref(), src)),
                    loc: Loc {
                        src,
                        span,
                        swept: false,
                    },
                })
            }
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let msg = e.message().to_string();
                let (what, expected) = match msg.split_once(", expected ") {
                    Some((w, x)) => (w.to_string(), x.to_string()),
                    None => (msg.clone(), "valid TOML".to_string()),
                };
                let at = text.get(span.clone()).unwrap_or("").trim();
                let found = if at.is_empty() {
                    what.clone()
                } else {
                    format!("`{at}` ({what})")
                };
                Err(Problem::new(
                    &Loc {
                        src,
                        span,
                        swept: false,
                    },
                    expected,
                    found,
                )
                .title(format!("TOML syntax error: {what}")))
            }
        }
    }

    /// How the value is described after "found": `the string "3x"`, `the integer 5`, ….
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Str(s) => format!("the string {}", toml::Value::String(s.clone())),
            Kind::Int(i) => format!("the integer {i}"),
            Kind::Float(f) => format!("the number {f}"),
            Kind::Bool(b) => format!("the boolean {b}"),
            Kind::Datetime(d) => format!("the date-time {d}"),
            Kind::Array(_) => "an array".into(),
            Kind::Table(_) => "a table".into(),
        }
    }

    /// The value as a plain `toml::Value` (for the resolved experiment).
    pub fn to_toml(&self) -> toml::Value {
        match &self.kind {
            Kind::Str(s) => toml::Value::String(s.clone()),
            Kind::Int(i) => match i64::try_from(*i) {
                Ok(v) => toml::Value::Integer(v),
                Err(_) => toml::Value::String(i.to_string()),
            },
            Kind::Float(f) => toml::Value::Float(*f),
            Kind::Bool(b) => toml::Value::Boolean(*b),
            Kind::Datetime(d) => toml::Value::String(d.clone()),
            Kind::Array(a) => toml::Value::Array(a.iter().map(Node::to_toml).collect()),
            Kind::Table(t) => {
                let mut m = toml::Table::new();
                for e in t {
                    m.insert(e.key.clone(), e.value.to_toml());
                }
                toml::Value::Table(m)
            }
        }
    }

    /// The value "as written", for sweep columns: strings without quotes (`3s`),
    /// numbers as numbers, anything else as inline TOML.
    pub fn render_plain(&self) -> String {
        match &self.kind {
            Kind::Str(s) => s.clone(),
            Kind::Int(i) => i.to_string(),
            Kind::Float(f) => f.to_string(),
            Kind::Bool(b) => b.to_string(),
            Kind::Datetime(d) => d.clone(),
            Kind::Array(_) | Kind::Table(_) => self.to_toml().to_string(),
        }
    }

    pub fn as_table(&self) -> Option<&[Entry]> {
        match &self.kind {
            Kind::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }
}

fn table_entries(t: &DeTable<'_>, src: SrcId) -> Vec<Entry> {
    let mut entries: Vec<Entry> = t
        .iter()
        .map(|(k, v)| Entry {
            key: k.get_ref().to_string(),
            key_loc: Loc {
                src,
                span: k.span(),
                swept: false,
            },
            value: convert(v.get_ref(), v.span(), src),
        })
        .collect();
    entries.sort_by_key(|e| (e.key_loc.span.start, e.key_loc.span.end));
    entries
}

fn convert(v: &DeValue<'_>, span: std::ops::Range<usize>, src: SrcId) -> Node {
    let kind = match v {
        DeValue::String(s) => Kind::Str(s.to_string()),
        DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Kind::Int(n),
            Err(_) => Kind::Str(i.to_string()),
        },
        DeValue::Float(f) => Kind::Float(f.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Kind::Bool(*b),
        DeValue::Datetime(d) => Kind::Datetime(d.to_string()),
        DeValue::Array(a) => Kind::Array(
            a.iter()
                .map(|e| convert(e.get_ref(), e.span(), src))
                .collect(),
        ),
        DeValue::Table(t) => Kind::Table(table_entries(t, src)),
    };
    Node {
        kind,
        loc: Loc {
            src,
            span,
            swept: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_document_order_and_spans() {
        let text = "[sweep]\nzeta = [1, 2]\n\"a.b\" = [\"3s\"]\n";
        let doc = Node::parse_document(text, 1).unwrap();
        let sweep = &doc.as_table().unwrap()[0];
        let keys: Vec<&str> = sweep
            .value
            .as_table()
            .unwrap()
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(keys, ["zeta", "a.b"]);
        let second = &sweep.value.as_table().unwrap()[0].value.as_array().unwrap()[1];
        assert_eq!(&text[second.loc.span.clone()], "2");
    }

    #[test]
    fn syntax_errors_are_located() {
        let p = Node::parse_document("a = \n", 1).unwrap_err();
        assert!(p.title.contains("syntax"), "{p:?}");
        assert!(!p.expected.is_empty());
    }

    #[test]
    fn numbers_in_any_radix() {
        let doc = Node::parse_document("a = 0x10\nb = -3\nc = 1_000\nd = inf", 1).unwrap();
        let t = doc.as_table().unwrap();
        assert!(matches!(t[0].value.kind, Kind::Int(16)));
        assert!(matches!(t[1].value.kind, Kind::Int(-3)));
        assert!(matches!(t[2].value.kind, Kind::Int(1000)));
        assert!(matches!(t[3].value.kind, Kind::Float(f) if f.is_infinite()));
    }
}
