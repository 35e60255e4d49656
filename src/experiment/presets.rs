//! Presets: named sets of `[server]` or `[network]` values under `models/`.
//!
//! `[server] preset = "event-loop"` reads `models/servers/event-loop.toml`, a flat list of
//! `[server]` keys. The presets shipped with rtsim are embedded in the binary, so it works
//! from any directory. A user can add or replace presets: the nearest `models/` directory
//! found by walking up from the experiment file's directory wins over the embedded copy
//! (one directory, the nearest; nothing else is searched). Experiments loaded from a
//! string (`load_str`) see only the embedded presets, so tests are hermetic.

use std::path::{Path, PathBuf};

/// Which kind of preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PresetKind {
    Server,
    Network,
}

impl PresetKind {
    /// The folder under `models/`.
    pub fn folder(self) -> &'static str {
        match self {
            PresetKind::Server => "servers",
            PresetKind::Network => "networks",
        }
    }

    fn embedded(self) -> &'static [(&'static str, &'static str)] {
        match self {
            PresetKind::Server => SERVERS,
            PresetKind::Network => NETWORKS,
        }
    }
}

const SERVERS: &[(&str, &str)] = &[
    (
        "event-loop",
        include_str!("../../models/servers/event-loop.toml"),
    ),
    (
        "thread-per-connection",
        include_str!("../../models/servers/thread-per-connection.toml"),
    ),
    // Measured by `rtsim calibrate` on the reference server (lesson 13).
    (
        "rtsim-live",
        include_str!("../../models/servers/rtsim-live.toml"),
    ),
];

const NETWORKS: &[(&str, &str)] = &[
    (
        "desktop",
        include_str!("../../models/networks/desktop.toml"),
    ),
    (
        "mobile-4g",
        include_str!("../../models/networks/mobile-4g.toml"),
    ),
    ("3g", include_str!("../../models/networks/3g.toml")),
];

/// Backplane presets (`[server] backplane_capacity = "redis"`): each file's `capacity`,
/// messages per second of one node. Built in only: a value, not a section of keys.
pub(crate) const BACKPLANES: &[(&str, &str)] =
    &[("redis", include_str!("../../models/backplanes/redis.toml"))];

/// The capacity of the backplane preset `name`, messages per second.
pub(crate) fn backplane_capacity(name: &str) -> Option<f64> {
    let (_, text) = BACKPLANES.iter().find(|(n, _)| *n == name)?;
    let table: toml::Table = toml::from_str(text).ok()?;
    match table.get("capacity")? {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// The server preset used when an experiment names none.
pub(crate) const DEFAULT_SERVER_PRESET: &str = "event-loop";

/// Where presets are looked up.
#[derive(Clone, Debug, Default)]
pub(crate) struct PresetDirs {
    /// The nearest `models/` directory above the experiment file, if any.
    models: Option<PathBuf>,
}

/// A preset file that exists but cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", path.display())]
pub(crate) struct UnreadablePreset {
    path: PathBuf,
    source: std::io::Error,
}

/// A preset's text and the name to show in messages.
pub(crate) struct PresetText {
    pub display: String,
    pub text: String,
}

impl PresetDirs {
    /// Embedded presets only.
    pub fn embedded_only() -> PresetDirs {
        PresetDirs { models: None }
    }

    /// Embedded presets, overridden by the nearest `models/` above `experiment_file`.
    pub fn for_file(experiment_file: &Path) -> PresetDirs {
        let abs = std::fs::canonicalize(experiment_file)
            .unwrap_or_else(|_| experiment_file.to_path_buf());
        let models = abs
            .parent()
            .into_iter()
            .flat_map(Path::ancestors)
            .map(|d| d.join("models"))
            .find(|m| m.is_dir());
        PresetDirs { models }
    }

    /// The text of a preset; `Ok(None)` when there is no such preset.
    pub fn find(
        &self,
        kind: PresetKind,
        name: &str,
    ) -> Result<Option<PresetText>, UnreadablePreset> {
        if !valid_name(name) {
            return Ok(None);
        }
        if let Some(dir) = &self.models {
            let path = dir.join(kind.folder()).join(format!("{name}.toml"));
            if path.is_file() {
                return std::fs::read_to_string(&path)
                    .map(|text| {
                        Some(PresetText {
                            display: path.display().to_string(),
                            text,
                        })
                    })
                    .map_err(|source| UnreadablePreset { path, source });
            }
        }
        Ok(kind
            .embedded()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| PresetText {
                display: format!("models/{}/{n}.toml (built in)", kind.folder()),
                text: text.to_string(),
            }))
    }

    /// All preset names of a kind, sorted.
    pub fn available(&self, kind: PresetKind) -> Vec<String> {
        let mut names: Vec<String> = kind.embedded().iter().map(|(n, _)| n.to_string()).collect();
        if let Some(dir) = &self.models {
            if let Ok(read) = std::fs::read_dir(dir.join(kind.folder())) {
                for entry in read.flatten() {
                    let p = entry.path();
                    if p.extension().is_some_and(|e| e == "toml") {
                        if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                            if valid_name(stem) {
                                names.push(stem.to_string());
                            }
                        }
                    }
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// Preset names are plain file names: no paths, no dots.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_presets_exist() {
        let d = PresetDirs::embedded_only();
        for kind in [PresetKind::Server, PresetKind::Network] {
            for name in d.available(kind) {
                assert!(d.find(kind, &name).unwrap().is_some(), "{name}");
            }
        }
        assert!(d.find(PresetKind::Server, "nope").unwrap().is_none());
        assert!(d.find(PresetKind::Server, "../x").unwrap().is_none());
        // Every backplane preset gives a finite capacity above zero.
        for (name, _) in BACKPLANES {
            let c = backplane_capacity(name).unwrap();
            assert!(c > 0.0 && c.is_finite(), "{name}: {c}");
        }
        assert_eq!(backplane_capacity("redis"), Some(100_000.0));
        assert_eq!(backplane_capacity("nope"), None);
    }

    #[test]
    fn a_models_dir_near_the_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let servers = dir.path().join("models/servers");
        std::fs::create_dir_all(&servers).unwrap();
        std::fs::write(servers.join("event-loop.toml"), "cores = 2\n").unwrap();
        std::fs::write(servers.join("mine.toml"), "cores = 3\n").unwrap();
        let sub = dir.path().join("experiments");
        std::fs::create_dir_all(&sub).unwrap();
        let d = PresetDirs::for_file(&sub.join("e.toml"));
        let p = d.find(PresetKind::Server, "event-loop").unwrap().unwrap();
        assert_eq!(p.text, "cores = 2\n");
        assert!(
            d.available(PresetKind::Server)
                .contains(&"mine".to_string())
        );
        assert!(
            d.available(PresetKind::Server)
                .contains(&"thread-per-connection".to_string())
        );
    }
}
