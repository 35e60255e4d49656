//! Experiment files: TOML → validated [`Experiment`] → [`Plan`] of runs.
//!
//! ```text
//! file.toml ─┐                     ┌─ preset (models/servers/*.toml, models/networks/*.toml)
//! --set a=b ─┴─> RawExperiment ──> fill ─> check ─> Scenario per row ─> Plan
//!                   (node.rs, schema.rs)   (validate.rs)   (sweep.rs)
//! ```
//!
//! - `units.rs`: durations (`"3s"`, via humantime) and sizes (`"64KiB"`).
//! - `node.rs`: toml's spanned parse tree, copied into an owned tree in document order.
//! - `values.rs`: each value type reads itself from a node, with a precise error (the
//!   hand-written equivalent of `Deserialize`, `rtt` included).
//! - `schema.rs`: the sections and their keys, generated from the key tables (the scenario's
//!   in `scenario.rs`, the rest there).
//! - `document.rs`: a file or `--set` read through them; unknown keys are errors naming
//!   valid ones.
//! - `checks.rs`: the rule each key's value must pass on its own.
//! - `presets.rs`: embedded presets, or the nearest `models/` directory's.
//! - `validate.rs`: defaults and presets layered under what was written; range and
//!   cross-field checks; warnings.
//! - `sweep.rs`: rows in order, `random_point` and `row_id`.
//! - `resolved.rs`: the fully resolved experiment as TOML text.
//! - `error.rs`: [`ExperimentError`] with file, line, column, expected, found and snippet.
//! - `reference.rs`: `Scenario::reference()`, an empty experiment with a few figures pinned.
//!
//! Every error names its source (the file, `--set`, or a preset file), line and column,
//! what was expected and what was found.

mod charts;
mod checks;
mod document;
mod error;
mod node;
mod presets;
mod reference;
mod resolved;
mod schema;
mod sweep;
mod validate;
mod values;

#[cfg(test)]
mod tests;

use std::path::Path;

use crate::engine::Nanos;
use crate::scenario::{Scenario, Technique};

/// One `[[charts]]` table: a chart of named result columns (defined beside the column
/// list, which the reports read too).
pub use crate::columns::ChartSpec;
pub use error::ExperimentError;

use document::RawExperiment;
use error::{Problem, SourceKind, Sources};
use node::Node;
use presets::PresetDirs;
use validate::Ctx;
use values::FileValue;

/// A loaded, validated experiment.
#[derive(Clone, Debug)]
pub struct Experiment {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub replications: u32,
    pub techniques: Vec<Technique>,
    /// `[sweep]` axes in the order written.
    pub sweep: Vec<SweepAxis>,
    /// The unswept scenario: first technique, replication 0, `random_point` 0.
    pub base: Scenario,
    pub target: Target,
    pub charts: Vec<ChartSpec>,
    /// The lesson's `[[claims]]`, checked after a run.
    pub claims: Vec<crate::report::claims::ClaimSpec>,
    /// The fully resolved experiment (defaults and preset values filled in) as TOML text;
    /// `load_str` of it gives the same plan.
    pub resolved_toml: String,
    /// One line each: `file:line:col: warning: …`.
    pub warnings: Vec<String>,
    rows: Vec<PlannedRow>,
}

/// One `[sweep]` key and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepAxis {
    /// Dotted path as written, e.g. `"workload.clients"`.
    pub key: String,
    pub values: Vec<toml::Value>,
}

/// All runs of an experiment: rows × replications.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub rows: Vec<PlannedRow>,
    pub replications: u32,
    /// The sweep keys in the order written (the columns of `PlannedRow::sweep`).
    pub sweep_keys: Vec<String>,
}

/// One technique at one sweep point.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRow {
    pub technique: Technique,
    /// (key, value as written, e.g. `"3s"`), one per sweep key; the value is `""` when the
    /// key is another technique's.
    pub sweep: Vec<(String, String)>,
    /// Replication 0; set `replication` for the others.
    pub scenario: Scenario,
    /// Stable id: a hash of the technique and its sweep values.
    pub row_id: u64,
}

/// `[target]`: what `rtsim size` sizes for.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub latency_p99: Option<Nanos>,
    /// CPU utilization a deployment may run at.
    pub utilization: f64,
    pub instance_hour_cost: Option<f64>,
    pub bandwidth_cost_per_gb: Option<f64>,
    /// Price of one backplane node per hour (`None`: the backplane is not priced).
    pub backplane_node_hour_cost: Option<f64>,
    /// Spare instances beyond what the steady state needs, checked by crashing as many
    /// at steady state.
    pub redundancy: Redundancy,
    /// Survive losing this share of the instances at once (a zone), checked by
    /// crashing them; `None` for no such check.
    pub survive_loss: Option<f64>,
    /// A managed service to compare with (a price table of `models/pricing/`).
    pub managed: Option<String>,
    /// Deployment-wide cap on new connections per second (a gateway's per-account
    /// limit); `None` for none.
    pub max_new_connections_per_s: Option<f64>,
    /// Check a rolling deploy with this drain period (`None`: no deploy check).
    pub deploy_drain: Option<Nanos>,
    /// The deploy check closes each connection at a random time within the drain.
    pub deploy_jitter: bool,
}

impl Target {
    /// A target of a CPU utilization alone: no latency target, no prices, no redundancy,
    /// deploy or connection-cap checks, no managed comparison (the other keys' defaults).
    /// Tests build their targets from it: `Target { latency_p99: …, ..Target::only_utilization(0.7) }`.
    pub fn only_utilization(utilization: f64) -> Target {
        Target {
            latency_p99: None,
            utilization,
            instance_hour_cost: None,
            bandwidth_cost_per_gb: None,
            backplane_node_hour_cost: None,
            redundancy: Redundancy::None,
            survive_loss: None,
            managed: None,
            max_new_connections_per_s: None,
            deploy_drain: None,
            deploy_jitter: false,
        }
    }
}

/// `[target] redundancy`: spare instances beyond the steady state's count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Redundancy {
    #[default]
    None,
    NPlus1,
    NPlus2,
}

impl Redundancy {
    /// Spare instances (and instances the failure check crashes).
    pub fn spares(self) -> u32 {
        match self {
            Redundancy::None => 0,
            Redundancy::NPlus1 => 1,
            Redundancy::NPlus2 => 2,
        }
    }

    /// As written in a file.
    pub fn name(self) -> &'static str {
        match self {
            Redundancy::None => "none",
            Redundancy::NPlus1 => "n+1",
            Redundancy::NPlus2 => "n+2",
        }
    }
}

impl Plan {
    /// The planned row a result row came from: the same technique at the same sweep
    /// point.
    pub fn row_for(&self, technique: Technique, sweep: &[(String, String)]) -> Option<&PlannedRow> {
        self.rows
            .iter()
            .find(|p| p.technique == technique && p.sweep == sweep)
    }
}

impl Experiment {
    /// The rows to run, in order (see `sweep.rs` for the order and the ids).
    pub fn plan(&self) -> Plan {
        Plan {
            rows: self.rows.clone(),
            replications: self.replications,
            sweep_keys: self.sweep.iter().map(|a| a.key.clone()).collect(),
        }
    }
}

/// Loads an experiment file. `overrides` are `dotted.path=VALUE` strings from `--set`.
/// Presets are looked up in the nearest `models/` directory above the file, then among
/// the embedded ones.
pub fn load(path: &Path, overrides: &[String]) -> Result<Experiment, ExperimentError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        ExperimentError::whole_file(
            &name,
            "cannot read the experiment file".into(),
            "a readable UTF-8 TOML file",
            e.to_string(),
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(&name, &e))?;
    load_inner(&name, &text, overrides, PresetDirs::for_file(path))
}

/// A file that is not UTF-8, reported at its first bad byte (line, column and snippet
/// of the text read so far, the bad bytes shown as U+FFFD).
fn not_utf8(name: &str, e: &std::string::FromUtf8Error) -> ExperimentError {
    let bytes = e.as_bytes();
    let at = e.utf8_error().valid_up_to();
    let bad_len = e
        .utf8_error()
        .error_len()
        .unwrap_or(bytes.len() - at)
        .max(1);
    let bad: Vec<String> = bytes[at..(at + bad_len).min(bytes.len())]
        .iter()
        .map(|b| format!("0x{b:02X}"))
        .collect();
    let mut sources = Sources::new();
    // Valid UTF-8 before the bad bytes, so offsets up to `at` are the file's own.
    let lossy = String::from_utf8_lossy(bytes);
    let src = sources.add(name, &lossy, SourceKind::File);
    let loc = error::Loc {
        src,
        span: at..(at + '\u{FFFD}'.len_utf8()).min(lossy.len()),
        swept: false,
    };
    sources.error(
        Problem::new(&loc, "UTF-8 text", format!("the byte(s) {}", bad.join(" ")))
            .title("the experiment file is not valid UTF-8")
            .help("save the file as UTF-8"),
    )
}

/// Loads an experiment from text; `file_name` is used in messages and as the default
/// `name`. Only the embedded presets are available.
pub fn load_str(
    file_name: &str,
    text: &str,
    overrides: &[String],
) -> Result<Experiment, ExperimentError> {
    load_inner(file_name, text, overrides, PresetDirs::embedded_only())
}

fn load_inner(
    file_name: &str,
    text: &str,
    overrides: &[String],
    presets: PresetDirs,
) -> Result<Experiment, ExperimentError> {
    let mut sources = Sources::new();
    let file = sources.add(file_name, text, SourceKind::File);
    let default_name = Path::new(file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string);

    let mut raw = RawExperiment::default();
    let doc = Node::parse_document(text, file).map_err(|p| sources.error(p))?;
    raw.apply_document(&doc).map_err(|p| sources.error(p))?;
    let mut pinned = Vec::new();
    for o in overrides {
        pinned.extend(apply_override(&mut raw, &mut sources, o)?);
    }

    let mut ctx = Ctx::new(sources, presets, default_name);
    ctx.warnings
        .extend(pinned.iter().map(|p| p.warning.clone()));
    sweep::check_values(&ctx, &raw)?;
    let mut base_filled = ctx.fill(&raw)?;
    let pinned_keys: Vec<String> = pinned.into_iter().map(|p| p.key).collect();
    let not_drawn = charts::drop_pinned(&mut base_filled, &pinned_keys);
    ctx.warnings.extend(not_drawn);
    charts::check(&base_filled, &raw).map_err(|p| ctx.err(p))?;
    let claims = charts::claims(&base_filled, &raw).map_err(|p| ctx.err(p))?;
    let techniques = base_filled.top.techniques.v.clone();
    // Never empty: `techniques = []` is refused when read.
    let first = techniques
        .first()
        .copied()
        .unwrap_or(Technique::ShortPolling);
    let base = ctx.scenario(&base_filled, first, 0)?;
    let rows = sweep::expand(&mut ctx, &raw, &techniques)?;
    let resolved_toml = resolved::render(&ctx, &base_filled, &raw);

    let top = &base_filled.top;
    let t = &base_filled.target;
    Ok(Experiment {
        name: top.name.v.clone(),
        description: top.description.v.clone(),
        seed: base.seed,
        replications: top.replications.v,
        techniques,
        sweep: sweep::public_axes(&raw),
        target: Target {
            latency_p99: t.latency_p99.v.field(),
            utilization: t.utilization.v,
            instance_hour_cost: t.instance_hour_cost.v,
            bandwidth_cost_per_gb: t.bandwidth_cost_per_gb.v,
            backplane_node_hour_cost: t.backplane_node_hour_cost.v,
            redundancy: t.redundancy.v.unwrap_or_default(),
            survive_loss: t.survive_loss.v,
            managed: t.managed.v.clone(),
            max_new_connections_per_s: t.max_new_connections_per_s.v,
            deploy_drain: t.deploy_drain.v.field(),
            deploy_jitter: t.deploy_jitter.v,
        },
        charts: base_filled
            .charts
            .iter()
            .map(|(_, c)| ChartSpec {
                x: c.x.v.clone(),
                y: c.y.v.clone(),
                series: c.series.v.clone(),
                log_x: c.log_x.v,
                log_y: c.log_y.v,
                title: c.title.v.clone(),
                x_label: c.x_label.v.clone(),
                y_label: c.y_label.v.clone(),
                theory: c.theory.v,
                techniques: c.techniques.v.clone(),
            })
            .collect(),
        claims,
        base,
        resolved_toml,
        warnings: ctx.warnings,
        rows,
    })
}

/// Applies one `--set PATH=VALUE`. VALUE is read as TOML (`4`, `"3s"`, `[1, 2]`,
/// `{ … }`); if that fails, as a bare string (`3s`, `event-loop`, `off`). Errors name
/// `--set` as their source and show the argument. Setting a swept key pins it: its sweep
/// axis is dropped, with a warning (returned).
/// A swept key that a `--set` gave one value: its sweep is gone.
struct PinnedAxis {
    key: String,
    warning: String,
}

fn apply_override(
    raw: &mut RawExperiment,
    sources: &mut Sources,
    arg: &str,
) -> Result<Vec<PinnedAxis>, ExperimentError> {
    let Some((path, value)) = arg.split_once('=') else {
        let src = sources.add("--set", arg, SourceKind::Override);
        let loc = error::Loc {
            src,
            span: 0..arg.len(),
            swept: false,
        };
        return Err(sources.error(
            Problem::new(
                &loc,
                "PATH=VALUE, e.g. workload.clients=5000",
                format!("`{arg}`"),
            )
            .title("malformed --set"),
        ));
    };
    let src = sources.add("--set", arg, SourceKind::Override);
    let doc = match Node::parse_document(arg, src) {
        Ok(doc) => doc,
        Err(first) => {
            let quoted = format!("{path}={}", toml::Value::String(value.trim().to_string()));
            let src2 = sources.add("--set", &quoted, SourceKind::Override);
            match Node::parse_document(&quoted, src2) {
                Ok(doc) => doc,
                Err(_) => return Err(sources.error(first)),
            }
        }
    };
    raw.apply_document(&doc).map_err(|p| sources.error(p))?;
    let mut set_keys = Vec::new();
    for e in doc.as_table().unwrap_or(&[]) {
        match e.value.as_table() {
            Some(inner) if e.key != "sweep" => {
                set_keys.extend(inner.iter().map(|i| format!("{}.{}", e.key, i.key)))
            }
            _ => set_keys.push(e.key.clone()),
        }
    }
    let mut pinned = Vec::new();
    raw.sweep.retain(|axis| {
        let is_pinned = set_keys.contains(&axis.key);
        if is_pinned {
            pinned.push(PinnedAxis {
                key: axis.key.clone(),
                warning: format!(
                    "--set: warning: `{arg}` replaces the sweep of `{}`",
                    axis.key
                ),
            });
        }
        !is_pinned
    });
    Ok(pinned)
}
