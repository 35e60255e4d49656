//! Reading a document — an experiment file or a `--set` argument — into a
//! [`RawExperiment`]: its sections through their keys (`schema.rs`), its `[sweep]` axes,
//! its `[[faults]]` and `[[charts]]` tables. An unknown key names the valid ones and the
//! closest match.

use crate::scenario::Technique;

use super::error::{Loc, Problem};
use super::node::{Entry, Node};
use super::schema::{
    RawSection, WithPreset, chart, claim, fault, long_polling, network, server, short_polling, sse,
    target, top, websocket, workload,
};

/// One `[sweep]` entry: a dotted key and its values, each value located.
#[derive(Clone, Debug)]
pub(crate) struct Axis {
    pub key: String,
    pub key_loc: Loc,
    pub values: Vec<Node>,
}

/// Everything an experiment file (plus `--set`) says, nothing filled in yet.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawExperiment {
    pub top: top::Raw,
    pub workload: workload::Raw,
    pub network: WithPreset<network::Raw>,
    pub server: WithPreset<server::Raw>,
    pub short_polling: short_polling::Raw,
    pub long_polling: long_polling::Raw,
    pub sse: sse::Raw,
    pub websocket: websocket::Raw,
    pub target: target::Raw,
    /// Each `[[faults]]` table with its position.
    pub faults: Vec<(Loc, fault::Raw)>,
    /// Each `[[charts]]` table with its position.
    pub charts: Vec<(Loc, chart::Raw)>,
    /// Each `[[claims]]` table with its position.
    pub claims: Vec<(Loc, claim::Raw)>,
    pub sweep: Vec<Axis>,
}

/// Section names accepted at the top level, besides the keys of [`top`].
pub(crate) const SECTIONS: &[&str] = &[
    "workload",
    "network",
    "server",
    "short-polling",
    "long-polling",
    "sse",
    "websocket",
    "sweep",
    "faults",
    "charts",
    "claims",
    "target",
];

/// Top-level keys that may be swept (the others describe the experiment, not a run).
const SWEEPABLE_TOP: &[&str] = &["seed", "duration", "warmup", "timeseries_bucket"];

impl RawExperiment {
    /// Reads a whole document (file or `--set`). Later documents override earlier ones
    /// key by key; `faults`, `charts` and individual sweep keys are replaced whole.
    pub fn apply_document(&mut self, doc: &Node) -> Result<(), Problem> {
        let entries = expect_table(doc, "")?;
        for e in entries {
            let v = &e.value;
            match e.key.as_str() {
                "workload" => self.workload.apply_table(v)?,
                "network" => self.network.apply_table(v)?,
                "server" => self.server.apply_table(v)?,
                "short-polling" => self.short_polling.apply_table(v)?,
                "long-polling" => self.long_polling.apply_table(v)?,
                "sse" => self.sse.apply_table(v)?,
                "websocket" => self.websocket.apply_table(v)?,
                "target" => self.target.apply_table(v)?,
                "faults" => {
                    self.faults = array_of_tables(v, "faults", |t| {
                        let mut f = fault::Raw::default();
                        f.apply_table(t).map(|_| (t.loc.clone(), f))
                    })?
                }
                "charts" => {
                    self.charts = array_of_tables(v, "charts", |t| {
                        let mut c = chart::Raw::default();
                        c.apply_table(t).map(|_| (t.loc.clone(), c))
                    })?
                }
                "claims" => {
                    self.claims = array_of_tables(v, "claims", |t| {
                        let mut c = claim::Raw::default();
                        c.apply_table(t).map(|_| (t.loc.clone(), c))
                    })?
                }
                "sweep" => {
                    expect_table(v, "sweep")?;
                    let mut axes = Vec::new();
                    flatten_sweep(v, "", &mut axes)?;
                    for axis in axes {
                        check_sweep_key(&axis)?;
                        match self.sweep.iter_mut().find(|a| a.key == axis.key) {
                            Some(old) => *old = axis,
                            None => self.sweep.push(axis),
                        }
                    }
                }
                key => {
                    if !self.top.set(key, v)? {
                        let mut valid: Vec<&str> = top::Raw::KEYS.to_vec();
                        valid.extend_from_slice(SECTIONS);
                        return Err(unknown_key(e, "", &valid));
                    }
                }
            }
        }
        Ok(())
    }

    /// Sets one swept value, `key` being a dotted path as in `[sweep]`.
    pub fn set_path(&mut self, key: &str, node: &Node) -> Result<(), Problem> {
        let (section, leaf) = key.split_once('.').unwrap_or(("", key));
        let known = match section {
            "" if SWEEPABLE_TOP.contains(&leaf) => self.top.set(leaf, node)?,
            "workload" => self.workload.set(leaf, node)?,
            "network" => self.network.set(leaf, node)?,
            "server" => self.server.set(leaf, node)?,
            "short-polling" => self.short_polling.set(leaf, node)?,
            "long-polling" => self.long_polling.set(leaf, node)?,
            "sse" => self.sse.set(leaf, node)?,
            "websocket" => self.websocket.set(leaf, node)?,
            _ => false,
        };
        if known {
            Ok(())
        } else {
            Err(Problem::new(
                &node.loc,
                "a sweepable key",
                format!("`{key}`"),
            ))
        }
    }
}

/// The technique a sweep key belongs to, if it is one technique's own key.
pub(crate) fn technique_of(key: &str) -> Option<Technique> {
    let section = key.split_once('.').map(|(s, _)| s)?;
    Technique::from_name(section)
}

/// Every sweepable dotted key, for "expected one of" messages.
pub(crate) fn sweepable_keys() -> Vec<String> {
    let mut keys: Vec<String> = SWEEPABLE_TOP.iter().map(|k| k.to_string()).collect();
    let sections: [(&str, Vec<&str>); 7] = [
        (workload::Raw::TITLE, workload::Raw::keys()),
        (network::Raw::TITLE, WithPreset::<network::Raw>::keys()),
        (server::Raw::TITLE, WithPreset::<server::Raw>::keys()),
        (short_polling::Raw::TITLE, short_polling::Raw::keys()),
        (long_polling::Raw::TITLE, long_polling::Raw::keys()),
        (sse::Raw::TITLE, sse::Raw::keys()),
        (websocket::Raw::TITLE, websocket::Raw::keys()),
    ];
    for (title, ks) in sections {
        keys.extend(ks.iter().map(|k| format!("{title}.{k}")));
    }
    keys
}

fn check_sweep_key(axis: &Axis) -> Result<(), Problem> {
    let keys = sweepable_keys();
    if keys.contains(&axis.key) {
        return Ok(());
    }
    let mut p = Problem::new(
        &axis.key_loc,
        "a dotted key such as \"workload.clients\" or \"short-polling.interval\"",
        format!("`{}`", axis.key),
    )
    .title(format!("`{}` cannot be swept: no such key", axis.key));
    if let Some(best) = closest(&axis.key, keys.iter().map(String::as_str)) {
        p = p.help(format!("did you mean `{best}`?"));
    } else {
        p = p.help(format!("sweepable keys: {}", keys.join(", ")));
    }
    Err(p)
}

/// `"workload.clients" = [...]` and `workload.clients = [...]` (a dotted key, i.e. a
/// nested table) both name the axis `workload.clients`.
fn flatten_sweep(table: &Node, prefix: &str, out: &mut Vec<Axis>) -> Result<(), Problem> {
    for e in table.as_table().unwrap_or(&[]) {
        let key = if prefix.is_empty() {
            e.key.clone()
        } else {
            format!("{prefix}.{}", e.key)
        };
        if e.value.as_table().is_some() {
            flatten_sweep(&e.value, &key, out)?;
            continue;
        }
        let Some(values) = e.value.as_array() else {
            return Err(Problem::new(
                &e.value.loc,
                "an array of values to sweep, such as [\"1s\", \"3s\"]",
                e.value.describe(),
            )
            .title(format!("invalid sweep for `{key}`")));
        };
        if values.is_empty() {
            return Err(
                Problem::new(&e.value.loc, "at least one value", "an empty array")
                    .title(format!("invalid sweep for `{key}`")),
            );
        }
        // One ordered set of the values seen so far: O(n log n), where comparing each
        // value with every earlier one took minutes for a 10^5-value axis.
        let mut seen = std::collections::BTreeSet::new();
        for v in values {
            if !seen.insert(v.render_plain()) {
                return Err(Problem::new(
                    &v.loc,
                    "each value once",
                    format!("{} a second time", v.describe()),
                )
                .title(format!("duplicate value in the sweep of `{key}`")));
            }
        }
        out.push(Axis {
            key,
            key_loc: e.key_loc.clone(),
            values: values.to_vec(),
        });
    }
    Ok(())
}

pub(crate) fn expect_table<'a>(node: &'a Node, section: &str) -> Result<&'a [Entry], Problem> {
    node.as_table().ok_or_else(|| {
        Problem::new(
            &node.loc,
            if section.is_empty() {
                "a TOML document".to_string()
            } else {
                format!("a table [{section}]")
            },
            node.describe(),
        )
        .for_key(section)
    })
}

fn array_of_tables<T>(
    node: &Node,
    name: &str,
    mut read: impl FnMut(&Node) -> Result<T, Problem>,
) -> Result<Vec<T>, Problem> {
    let expected = format!("an array of tables ([[{name}]])");
    let Some(items) = node.as_array() else {
        return Err(Problem::new(&node.loc, expected, node.describe()).for_key(name));
    };
    items.iter().map(&mut read).collect()
}

/// "unknown key" with the valid keys and the closest one.
pub(crate) fn unknown_key(e: &Entry, section: &str, valid: &[&str]) -> Problem {
    let place = if section.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in [{section}]")
    };
    let mut p = Problem::new(
        &e.key_loc,
        format!("one of the keys {}", valid.join(", ")),
        format!("`{}`", e.key),
    )
    .title(format!("unknown key `{}` {place}", e.key));
    if let Some(best) = closest(&e.key, valid.iter().copied()) {
        p = p.help(format!("did you mean `{best}`?"));
    }
    p
}

/// The candidate within a small edit distance of `word`, if any.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<RawExperiment, Problem> {
        let doc = Node::parse_document(text, 1)?;
        let mut raw = RawExperiment::default();
        raw.apply_document(&doc)?;
        Ok(raw)
    }

    #[test]
    fn unknown_keys_list_the_valid_ones() {
        let p = read("[workload]\nclient = 5\n").unwrap_err();
        assert!(p.title.contains("unknown key `client` in [workload]"));
        assert!(p.expected.contains("clients, pattern, rate"));
        assert_eq!(p.help.as_deref(), Some("did you mean `clients`?"));
        let p = read("sweeep = 1\n").unwrap_err();
        assert!(p.expected.contains("sweep"), "{p:?}");
    }

    #[test]
    fn sweep_keys_in_written_order_both_spellings() {
        let raw = read(
            "[sweep]\n\"workload.clients\" = [1, 2]\nshort-polling.interval = [\"1s\"]\nduration = [\"1s\"]\n",
        )
        .unwrap();
        let keys: Vec<&str> = raw.sweep.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            ["workload.clients", "short-polling.interval", "duration"]
        );
    }

    #[test]
    fn bad_sweeps() {
        let p = read("[sweep]\n\"workload.clinets\" = [1]\n").unwrap_err();
        assert_eq!(p.help.as_deref(), Some("did you mean `workload.clients`?"));
        assert!(read("[sweep]\n\"name\" = [\"a\"]\n").is_err());
        assert!(read("[sweep]\n\"workload.clients\" = 5\n").is_err());
        assert!(read("[sweep]\n\"workload.clients\" = []\n").is_err());
        assert!(read("[sweep]\n\"workload.clients\" = [1, 1]\n").is_err());
    }

    #[test]
    fn later_documents_override() {
        let mut raw = read("[server]\ncores = 2\ninstances = 3\n").unwrap();
        let doc = Node::parse_document("server.cores = 4", 2).unwrap();
        raw.apply_document(&doc).unwrap();
        assert_eq!(raw.server.keys.cores.unwrap().v, 4);
        assert_eq!(raw.server.keys.instances.unwrap().v, 3);
    }
}
