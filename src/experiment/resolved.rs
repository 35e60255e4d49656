//! The resolved experiment as TOML text: every default and preset value written out.
//!
//! This text is saved beside the results (`experiment.toml`) and re-loads to the same
//! plan. Durations and sizes are written in canonical units (`"250ms"`, `"16GiB"`).
//! The preset's name is written as a key when it is a built-in preset; a user's own preset
//! becomes a comment, since its values are written out anyway and it might not exist where
//! the copy is re-loaded. When the preset itself is swept, `preset` is written and the
//! preset's values are left out, as they vary per row.

use super::document::RawExperiment;
use super::error::{Loc, SourceKind};
use super::presets::{PresetDirs, PresetKind};
use super::schema::Val;
use super::validate::{Ctx, Filled};

/// Renders the base (unswept) resolution plus the experiment's sweep.
pub(crate) fn render(ctx: &Ctx, f: &Filled, raw: &RawExperiment) -> String {
    let mut out =
        String::from("# Resolved by rtsim: every default and preset value is written out.\n");
    let swept = |key: &str| raw.sweep.iter().any(|a| a.key == key);
    write_entries(&mut out, f.top.entries(), &|_| true);

    section(&mut out, "workload", f.workload.entries(), &|_| true);
    for (title, entries, preset_swept) in [
        (
            "network",
            with_preset(f.network_preset.as_ref(), f.network.entries()),
            swept("network.preset"),
        ),
        (
            "server",
            with_preset(Some(&f.server_preset), f.server.entries()),
            swept("server.preset"),
        ),
    ] {
        out.push_str(&format!("\n[{title}]\n"));
        let preset = entries
            .iter()
            .find(|(k, _, _)| *k == "preset")
            .map(|(_, v, _)| v.clone());
        // An embedded preset can always be re-loaded, so its name stays a key.
        let embedded = preset
            .as_ref()
            .and_then(|p| p.as_str())
            .is_some_and(|p| is_embedded(title, p));
        if let (Some(p), false, false) = (&preset, preset_swept, embedded) {
            out.push_str(&format!(
                "# preset = {p} (its values are written out below)\n"
            ));
        }
        let keep = |(k, _, loc): &(&str, toml::Value, Loc)| {
            if *k == "preset" {
                return preset_swept || embedded;
            }
            !(preset_swept && ctx.sources.kind(loc.src) == SourceKind::Preset)
        };
        write_entries(&mut out, entries, &keep);
    }
    section(
        &mut out,
        "short-polling",
        f.short_polling.entries(),
        &|_| true,
    );
    section(&mut out, "long-polling", f.long_polling.entries(), &|_| {
        true
    });
    section(&mut out, "sse", f.sse.entries(), &|_| true);
    section(&mut out, "websocket", f.websocket.entries(), &|_| true);
    section(&mut out, "target", f.target.entries(), &|_| true);
    for (_, fault) in &f.faults {
        out.push_str("\n[[faults]]\n");
        write_entries(&mut out, fault.entries(), &|_| true);
    }
    for (_, chart) in &f.charts {
        out.push_str("\n[[charts]]\n");
        write_entries(&mut out, chart.entries(), &|_| true);
    }
    for (_, claim) in &f.claims {
        out.push_str("\n[[claims]]\n");
        write_entries(&mut out, claim.entries(), &|_| true);
    }
    if !raw.sweep.is_empty() {
        out.push_str("\n[sweep]\n");
        for axis in &raw.sweep {
            let values = toml::Value::Array(axis.values.iter().map(|v| v.to_toml()).collect());
            out.push_str(&format!("{} = {values}\n", key(&axis.key)));
        }
    }
    out
}

fn is_embedded(section: &str, name: &str) -> bool {
    let kind = if section == "server" {
        PresetKind::Server
    } else {
        PresetKind::Network
    };
    PresetDirs::embedded_only()
        .find(kind, name)
        .is_ok_and(|p| p.is_some())
}

type KeyValue = (&'static str, toml::Value, Loc);

/// A section's entries with its `preset` key first, when it names one.
fn with_preset(preset: Option<&Val<String>>, mut entries: Vec<KeyValue>) -> Vec<KeyValue> {
    if let Some(p) = preset {
        entries.insert(
            0,
            ("preset", toml::Value::String(p.v.clone()), p.loc.clone()),
        );
    }
    entries
}

fn section(
    out: &mut String,
    title: &str,
    entries: Vec<KeyValue>,
    keep: &dyn Fn(&KeyValue) -> bool,
) {
    out.push_str(&format!("\n[{title}]\n"));
    write_entries(out, entries, keep);
}

fn write_entries(out: &mut String, entries: Vec<KeyValue>, keep: &dyn Fn(&KeyValue) -> bool) {
    for e in entries.iter().filter(|e| keep(e)) {
        out.push_str(&format!("{} = {}\n", key(e.0), e.1));
    }
}

/// A key, quoted unless it is a bare TOML key.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}
