//! The shape of an experiment file: its sections and their keys (`document.rs` walks a
//! file through them).
//!
//! Every section is generated from a table that declares each key once: the sections a
//! scenario is made of from the parameter table in `scenario.rs`, the others (the top level,
//! `[target]`, `[[faults]]`, `[[charts]]`) from the table below. For each section `s`, the
//! module `s` holds:
//! - `s::Raw`, one `Option<Val<T>>` per key: `None` means "not written here", so that layers
//!   can be stacked — experiment file, then `--set`, then sweep values, over a preset (see
//!   `validate.rs`);
//! - `s::Filled`, one `Val<T>` per key: the built-in defaults applied (`Raw::resolve`), every
//!   value kept with where it came from, checked key by key (`Filled::check`) and written
//!   back for the resolved copy (`Filled::entries`);
//! - for a scenario section, `Filled::resolved`, the struct the simulation reads.
//!
//! Every key is checked against its section's list (the equivalent of serde's
//! `deny_unknown_fields`); an unknown key names the valid ones and the closest match.

use crate::engine::Nanos;
use crate::engine::time::{NS_PER_MS, NS_PER_S};
use crate::scenario::{
    Arrivals, Backoff, BackplaneCapacity, Balancer, Browser, Concurrency, EmptyAnswer, HeartbeatBy,
    Http, Http2Stack, Join, Pattern, PollSchedule, Retention, Rtt, ServiceTime, SseFailure,
    Technique, Tls,
};

use super::Redundancy;
use super::checks::*;
use super::document::{expect_table, unknown_key};
use super::error::{Loc, Problem};
use super::node::Node;
use super::values::{Dur, FileValue, FromNode, OffDur, Size};
use crate::scenario::FaultKind;

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Val<T> {
    pub v: T,
    pub loc: Loc,
}

impl<T: FromNode> Val<T> {
    pub fn parse(node: &Node) -> Result<Val<T>, Problem> {
        Ok(Val {
            v: T::from_node(node)?,
            loc: node.loc.clone(),
        })
    }
}

impl<T> Val<T> {
    /// A built-in default value.
    pub fn builtin(v: T) -> Val<T> {
        Val {
            v,
            loc: Loc::builtin(),
        }
    }
}

/// The type a file writes for a key of the parameter table (`as duration` → [`Dur`]…).
macro_rules! file_type {
    ($ty:ty, duration) => { Dur };
    ($ty:ty, duration_or_off) => { OffDur };
    ($ty:ty, optional_duration) => { Option<Dur> };
    ($ty:ty, bytes) => { Size };
    ($ty:ty) => { $ty };
}

/// `Raw::resolve`: every key of the layered `Raw`, or its built-in default. A section whose
/// keys all have a default resolves without fail; a section marked otherwise
/// (`from_preset`, `required`) asks `missing` for the problem of a key nobody gave.
macro_rules! resolve_fn {
    (() $($key:ident $(= $default:expr)?;)*) => {
        impl Raw {
            pub fn resolve(self) -> Filled {
                Filled {
                    $($key: self.$key.unwrap_or_else(|| default_of!($key $(= $default)?)),)*
                }
            }
        }
    };
    (($partial:ident) $($key:ident $(= $default:expr)?;)*) => {
        impl Raw {
            pub fn resolve(
                self,
                missing: impl Fn(&'static str) -> Problem,
            ) -> Result<Filled, Problem> {
                Ok(Filled {
                    $($key: match self.$key {
                        Some(v) => v,
                        None => or_default!(missing, $key $(= $default)?),
                    },)*
                })
            }
        }
    };
}

/// The built-in default of a key, in a section where every key has one.
macro_rules! default_of {
    ($key:ident = $default:expr) => {
        Val::builtin(FileValue::from_field($default))
    };
    ($key:ident) => {
        compile_error!(concat!(
            "`",
            stringify!($key),
            "` has no default: give it one, or mark its section as one whose keys may be missing"
        ))
    };
}

/// The built-in default of a key, or the problem of its absence.
macro_rules! or_default {
    ($missing:ident, $key:ident = $default:expr) => {
        Val::builtin(FileValue::from_field($default))
    };
    ($missing:ident, $key:ident) => {
        return Err($missing(stringify!($key)))
    };
}

/// A value its type cannot hold is reported with the range its key's check accepts, when
/// the check refuses one of the type's own probes too: `clients = 10^12` and
/// `clients = "x"` say "from 1 to 100,000,000", not the `u32`'s "from 0 to 4294967295".
/// `_field` is the key's field, there only to name `T` (a macro cannot spell the file type
/// there).
fn real_range<T: FromNode>(
    type_problem: Problem,
    node: &Node,
    _field: &Option<Val<T>>,
    check: impl Fn(&Val<T>) -> Result<(), Problem>,
) -> Problem {
    for v in T::probes(node) {
        if let Err(mut key_problem) = check(&Val {
            v,
            loc: node.loc.clone(),
        }) {
            key_problem.found = type_problem.found.clone();
            // The type's advice ("write it without a decimal point") still applies.
            key_problem.help = type_problem.help.clone();
            return key_problem;
        }
    }
    type_problem
}

/// Makes one module per section of a table (grammar: see `scenario::with_parameter_table`).
macro_rules! key_sections {
    ($(
        $(#[$section_doc:meta])*
        $module:ident $title:literal $($partial:ident)? {
            $(
                $(#[$key_doc:meta])*
                $key:ident : $ty:ty $(as $unit:ident)? $(= $default:expr)?
                    $(, check $check:ident $(($($arg:expr),*))?)?;
            )*
        }
    )*) => {$(
        $(#[$section_doc])*
        pub(crate) mod $module {
            use super::*;

            /// The keys one layer writes; `None` where it is silent.
            #[derive(Clone, Debug, Default, PartialEq)]
            pub(crate) struct Raw {
                $($(#[$key_doc])* pub $key: Option<Val<file_type!($ty $(, $unit)?)>>,)*
            }

            /// Every key with its value and where it came from.
            #[derive(Clone, Debug, PartialEq)]
            pub(crate) struct Filled {
                $($(#[$key_doc])* pub $key: Val<file_type!($ty $(, $unit)?)>,)*
            }

            impl Raw {
                /// The keys this section accepts, in the order of the key reference.
                pub const KEYS: &'static [&'static str] = &[$(stringify!($key)),*];

                /// Takes `lower`'s value for every key not set here.
                #[allow(dead_code, reason = "only sections with presets have layers below")]
                pub fn fill_from(&mut self, lower: &Raw) {
                    $(if self.$key.is_none() {
                        self.$key = lower.$key.clone();
                    })*
                }
            }

            impl RawSection for Raw {
                const TITLE: &'static str = $title;

                fn keys() -> Vec<&'static str> {
                    Raw::KEYS.to_vec()
                }

                fn set(&mut self, key: &str, node: &Node) -> Result<bool, Problem> {
                    match key {
                        $(stringify!($key) => {
                            let value = Val::parse(node).map_err(|p| {
                                let p = p.for_key(&qualify($title, key));
                                $(let p = real_range(p, node, &self.$key, |v| {
                                    $check(v, &qualify($title, key) $($(, $arg)*)?)
                                });)?
                                p
                            })?;
                            self.$key = Some(value);
                            Ok(true)
                        })*
                        _ => Ok(false),
                    }
                }
            }

            resolve_fn!(($($partial)?) $($key $(= $default)?;)*);

            // Each key's declared type is what its file form resolves to.
            const _: fn() = || {
                $(let _: fn(<file_type!($ty $(, $unit)?) as FileValue>::Field) -> $ty = |v| v;)*
            };

            impl Filled {
                /// Checks each key on its own, in key-reference order.
                pub fn check(&self) -> Result<(), Problem> {
                    $($(
                        $check(&self.$key, &qualify($title, stringify!($key)) $($(, $arg)*)?)?;
                    )?)*
                    Ok(())
                }

                /// The keys as TOML, in key-reference order, with their origin (optional
                /// keys left out are left out).
                pub fn entries(&self) -> Vec<(&'static str, toml::Value, Loc)> {
                    let mut out = Vec::new();
                    $(if let Some(v) = self.$key.v.written() {
                        out.push((stringify!($key), v, self.$key.loc.clone()));
                    })*
                    out
                }
            }
        }
    )*};
}

/// The scenario's sections: [`key_sections!`] plus `Filled::resolved`, the struct the
/// simulation reads (a struct literal, so a key missing from either side does not compile).
macro_rules! scenario_key_sections {
    ($(
        $(#[$section_doc:meta])*
        $Section:ident $module:ident $title:literal $($partial:ident)? {
            $(
                $(#[$key_doc:meta])*
                $key:ident : $ty:ty $(as $unit:ident)? $(= $default:expr)?
                    $(, check $check:ident $(($($arg:expr),*))?)?;
            )*
        }
    )*) => {
        key_sections! {$(
            $(#[$section_doc])*
            $module $title $($partial)? {
                $(
                    $(#[$key_doc])*
                    $key : $ty $(as $unit)? $(= $default)? $(, check $check $(($($arg),*))?)?;
                )*
            }
        )*}
        $(
            impl $module::Filled {
                /// The section as the simulation reads it.
                pub fn resolved(&self) -> crate::scenario::$Section {
                    crate::scenario::$Section {
                        $($key: self.$key.v.field(),)*
                    }
                }
            }
        )*
    };
}

crate::scenario::with_parameter_table!(scenario_key_sections);

key_sections! {
    /// The top level of an experiment file.
    top "" {
        /// `validate.rs` puts the file's name without extension over this default.
        name: String = "experiment".to_string();
        description: String = String::new();
        seed: u64 = 1;
        duration: Nanos as duration = 60 * NS_PER_S, check positive;
        warmup: Nanos as duration = 10 * NS_PER_S;
        replications: u32 = 1, check replications_in_range;
        techniques: Vec<Technique> = Technique::ALL.to_vec();
        timeseries_bucket: Nanos as duration = NS_PER_S, check at_least_1ms;
    }

    /// `[target]`, read by `rtsim size`.
    target "target" {
        latency_p99: Option<Nanos> as optional_duration = None, check positive_if_set;
        utilization: f64 = 0.7, check fraction;
        instance_hour_cost: Option<f64> = None, check cost_if_set;
        bandwidth_cost_per_gb: Option<f64> = None, check cost_if_set;
        backplane_node_hour_cost: Option<f64> = None, check cost_if_set;
        // An option, so a file that does not ask for redundancy resolves as before.
        redundancy: Option<Redundancy> = None;
        survive_loss: Option<f64> = None, check fraction_if_set;
        managed: Option<String> = None, check price_table_if_set;
        max_new_connections_per_s: Option<f64> = None, check connection_cap_if_set;
        deploy_drain: Option<Nanos> as optional_duration = None;
        deploy_jitter: bool = false;
    }

    /// One `[[faults]]` table.
    fault "faults" required {
        at: Nanos as duration;
        kind: FaultKind = FaultKind::Crash;
        instance: u32;
        downtime: Nanos as duration, check positive;
        drain: Nanos as duration = 0;
        jitter: bool = false;
    }

    /// One `[[charts]]` table.
    chart "charts" required {
        x: String, check column_name;
        y: String, check column_name;
        series: Option<String> = None;
        log_x: bool = false;
        log_y: bool = false;
        title: Option<String> = None;
        x_label: Option<String> = None;
        y_label: Option<String> = None;
        theory: bool = false;
        techniques: Vec<Technique> = Technique::ALL.to_vec();
    }

    /// One `[[claims]]` table: a sentence of the lesson, checked against its results.
    claim "claims" required {
        says: String, check column_name;
        metric: String, check column_name;
        techniques: Vec<Technique> = Technique::ALL.to_vec();
        only: Option<String> = None;
        below: Option<f64> = None;
        above: Option<f64> = None;
        below_technique: Option<String> = None;
        above_technique: Option<String> = None;
        within_theory: Option<f64> = None;
        rises_along: Option<String> = None;
        falls_along: Option<String> = None;
    }
}

/// What the walker needs of a section's `Raw`: its name, its keys, and setting one.
pub(crate) trait RawSection {
    /// The section's name as written in files (`""` for the top level).
    const TITLE: &'static str;

    /// The keys this section accepts, in the order of the key reference.
    fn keys() -> Vec<&'static str>;

    /// Sets one key. `Ok(false)` when the section has no such key.
    fn set(&mut self, key: &str, node: &Node) -> Result<bool, Problem>;

    /// Reads all keys of a table.
    fn apply_table(&mut self, table: &Node) -> Result<(), Problem> {
        let entries = expect_table(table, Self::TITLE)?;
        for e in entries {
            if !self.set(&e.key, &e.value)? {
                return Err(unknown_key(e, Self::TITLE, &Self::keys()));
            }
        }
        Ok(())
    }
}

/// A section that may also name a preset file: `[network]` and `[server]`. The preset's
/// name is no field of the scenario, so it sits beside the section's keys.
#[derive(Clone, Debug, Default)]
pub(crate) struct WithPreset<R> {
    pub preset: Option<Val<String>>,
    pub keys: R,
}

impl<R: RawSection> RawSection for WithPreset<R> {
    const TITLE: &'static str = R::TITLE;

    fn keys() -> Vec<&'static str> {
        let mut keys = vec!["preset"];
        keys.extend(R::keys());
        keys
    }

    fn set(&mut self, key: &str, node: &Node) -> Result<bool, Problem> {
        if key != "preset" {
            return self.keys.set(key, node);
        }
        let name = Val::parse(node).map_err(|p| p.for_key(&qualify(R::TITLE, key)))?;
        self.preset = Some(name);
        Ok(true)
    }
}

/// `section.key`, or `key` at the top level.
pub(crate) fn qualify(section: &str, key: &str) -> String {
    if section.is_empty() {
        key.to_string()
    } else {
        format!("{section}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's key reference names every key of every table, in table order, so the
    /// prose cannot fall behind the tables.
    #[test]
    fn the_readme_key_reference_lists_every_key_in_order() {
        let readme = include_str!("../../README.md");
        let sections: [(&str, Vec<&str>); 12] = [
            ("top level", top::Raw::keys()),
            ("`[workload]`", workload::Raw::keys()),
            ("`[network]`", WithPreset::<network::Raw>::keys()),
            ("`[server]`", WithPreset::<server::Raw>::keys()),
            ("`[short-polling]`", short_polling::Raw::keys()),
            ("`[long-polling]`", long_polling::Raw::keys()),
            ("`[sse]`", sse::Raw::keys()),
            ("`[websocket]`", websocket::Raw::keys()),
            ("`[[faults]]`", fault::Raw::keys()),
            ("`[[charts]]`", chart::Raw::keys()),
            ("`[[claims]]`", claim::Raw::keys()),
            ("`[target]`", target::Raw::keys()),
        ];
        for (label, keys) in sections {
            let start = readme
                .find(&format!("\n- {label}"))
                .unwrap_or_else(|| panic!("no README bullet for {label}"));
            let bullet = &readme[start + 1..];
            let bullet = &bullet[..bullet.find("\n- ").unwrap_or(bullet.len())];
            let mut rest = bullet;
            for key in keys {
                let at = rest
                    .find(&format!("`{key}`"))
                    .unwrap_or_else(|| panic!("README {label}: `{key}` missing or out of order"));
                rest = &rest[at..];
            }
        }
    }
}
