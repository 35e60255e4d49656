//! Reading one value: TOML node → typed value, with a specific "expected …, found …".
//!
//! [`FromNode`] is this module's hand-written equivalent of `Deserialize`: every value type
//! of the experiment file (durations, sizes, counts, the enums, `rtt`, `retention`,
//! `backoff`, `tls`) reads itself from a located [`Node`], so the error points at the value
//! — or inside it, at the offending field of an `rtt` table. [`ToToml`] writes a value back
//! in canonical form for the resolved experiment. [`FileValue`] ties the form a file writes
//! ([`Dur`], [`Size`], [`OffDur`] or the value itself) to the field it resolves to.
//!
//! About 600 lines of code plus the tests: every value type of the file, each short, kept
//! together so that one place says how a file writes values.

use crate::engine::Nanos;
use crate::scenario::{
    Arrivals, Backoff, BackplaneCapacity, Balancer, Browser, Concurrency, EmptyAnswer, FaultKind,
    HeartbeatBy, Http, Http2Stack, Join, Pattern, PollSchedule, Retention, Rtt, ServiceTime,
    SseFailure, Technique, Tls,
};

use super::Redundancy;
use super::error::Problem;
use super::node::{Kind, Node};
use crate::units::text as units;

/// Reads a typed value from a located TOML node.
pub(crate) trait FromNode: Sized {
    fn from_node(node: &Node) -> Result<Self, Problem>;

    /// Values of the type to try against the key's own check when the node is not one,
    /// so the error can say the range the key accepts: for a number beyond what the type
    /// holds, the nearest value it does hold; for a value of another type, the type's
    /// extremes. Empty for a node the type reads, and for types without a range.
    fn probes(_node: &Node) -> Vec<Self> {
        Vec::new()
    }
}

/// Probes for an integer key of range `0..=max` (see [`FromNode::probes`]).
fn integer_probes(node: &Node, max: u64) -> Vec<u64> {
    match node.kind {
        Kind::Int(i) if i < 0 => vec![0],
        Kind::Int(i) if i > i128::from(max) => vec![max],
        Kind::Int(_) => Vec::new(),
        _ => vec![max, 0],
    }
}

/// Writes a value back as TOML (canonical units).
pub(crate) trait ToToml {
    fn to_toml(&self) -> toml::Value;
}

/// A value as an experiment file writes it, and the field it resolves to.
pub(crate) trait FileValue: FromNode + Clone {
    /// The type of the resolved field (`Nanos` for a [`Dur`], the value's own type for a
    /// number or a name).
    type Field;
    fn field(&self) -> Self::Field;
    /// The file's form of a field value (the parameter table gives defaults as fields).
    fn from_field(field: Self::Field) -> Self;
    /// Canonical TOML for the resolved copy; `None` for an optional key left out.
    fn written(&self) -> Option<toml::Value>;
}

/// Values that are their own field.
macro_rules! field_is_value {
    ($($ty:ty),* $(,)?) => {$(
        impl FileValue for $ty {
            type Field = $ty;
            fn field(&self) -> $ty {
                self.clone()
            }
            fn from_field(field: $ty) -> $ty {
                field
            }
            fn written(&self) -> Option<toml::Value> {
                Some(self.to_toml())
            }
        }
    )*};
}

field_is_value!(
    String,
    bool,
    u32,
    u64,
    f64,
    Vec<Technique>,
    Pattern,
    Arrivals,
    Join,
    Balancer,
    ServiceTime,
    Concurrency,
    PollSchedule,
    FaultKind,
    Redundancy,
    Tls,
    Http,
    Http2Stack,
    Browser,
    EmptyAnswer,
    SseFailure,
    HeartbeatBy,
    Retention,
    Rtt,
    Backoff,
    BackplaneCapacity,
);

/// Values written with a unit, each a wrapper of its field.
macro_rules! field_is_wrapped {
    ($($ty:ident($field:ty)),* $(,)?) => {$(
        impl FileValue for $ty {
            type Field = $field;
            fn field(&self) -> $field {
                self.0
            }
            fn from_field(field: $field) -> $ty {
                $ty(field)
            }
            fn written(&self) -> Option<toml::Value> {
                Some(self.to_toml())
            }
        }
    )*};
}

field_is_wrapped!(Dur(Nanos), OffDur(Option<Nanos>), Size(u64));

/// An optional key: written means `Some`.
impl<T: FromNode> FromNode for Option<T> {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        T::from_node(node).map(Some)
    }
}
impl<T: FileValue> FileValue for Option<T> {
    type Field = Option<T::Field>;
    fn field(&self) -> Option<T::Field> {
        self.as_ref().map(T::field)
    }
    fn from_field(field: Option<T::Field>) -> Self {
        field.map(T::from_field)
    }
    fn written(&self) -> Option<toml::Value> {
        self.as_ref().and_then(T::written)
    }
}

/// A duration in nanoseconds (`"3s"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Dur(pub Nanos);

/// A duration or `"off"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OffDur(pub Option<Nanos>);

/// A size in bytes (`"64KiB"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Size(pub u64);

fn wrong(node: &Node, expected: &str) -> Problem {
    Problem::new(&node.loc, expected, node.describe())
}

impl FromNode for String {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        node.as_str()
            .map(str::to_string)
            .ok_or_else(|| wrong(node, "a string"))
    }
}
impl ToToml for String {
    fn to_toml(&self) -> toml::Value {
        toml::Value::String(self.clone())
    }
}

impl FromNode for bool {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        match node.kind {
            Kind::Bool(b) => Ok(b),
            _ => Err(wrong(node, "true or false")),
        }
    }
}
impl ToToml for bool {
    fn to_toml(&self) -> toml::Value {
        toml::Value::Boolean(*self)
    }
}

fn integer(node: &Node, max: u64) -> Result<u64, Problem> {
    let expected = format!("a whole number from 0 to {max}");
    match node.kind {
        Kind::Int(i) if i >= 0 && i <= i128::from(max) => Ok(i as u64),
        Kind::Int(_) => Err(wrong(node, &expected)),
        Kind::Float(_) => Err(wrong(node, &expected).help("write it without a decimal point")),
        Kind::Str(ref s) if s.trim().parse::<u64>().is_ok() => {
            Err(wrong(node, &expected).help("write the number without quotes"))
        }
        _ => Err(wrong(node, &expected)),
    }
}

impl FromNode for u64 {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        // TOML integers are signed 64-bit.
        integer(node, i64::MAX as u64)
    }
    fn probes(node: &Node) -> Vec<Self> {
        integer_probes(node, i64::MAX as u64)
    }
}
impl ToToml for u64 {
    fn to_toml(&self) -> toml::Value {
        toml::Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl FromNode for u32 {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        integer(node, u64::from(u32::MAX)).map(|v| v as u32)
    }
    fn probes(node: &Node) -> Vec<Self> {
        integer_probes(node, u64::from(u32::MAX))
            .into_iter()
            .map(|v| v as u32)
            .collect()
    }
}
impl ToToml for u32 {
    fn to_toml(&self) -> toml::Value {
        toml::Value::Integer(i64::from(*self))
    }
}

impl FromNode for f64 {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        let v = match node.kind {
            Kind::Float(f) => f,
            Kind::Int(i) => i as f64,
            _ => return Err(wrong(node, "a number")),
        };
        if v.is_finite() {
            Ok(v)
        } else {
            Err(wrong(node, "a finite number"))
        }
    }
}
impl ToToml for f64 {
    fn to_toml(&self) -> toml::Value {
        toml::Value::Float(*self)
    }
}

impl FromNode for Dur {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        let s = duration_str(node, units::DURATION_EXPECTED)?;
        if s.trim() == "off" {
            return Err(
                wrong(node, units::DURATION_EXPECTED).help("this setting cannot be turned off")
            );
        }
        parse_dur(node, s, units::DURATION_EXPECTED).map(Dur)
    }
}
impl ToToml for Dur {
    fn to_toml(&self) -> toml::Value {
        toml::Value::String(units::format_duration(self.0))
    }
}

impl FromNode for OffDur {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        let s = duration_str(node, units::OFF_DURATION_EXPECTED)?;
        if s.trim() == "off" {
            return Ok(OffDur(None));
        }
        parse_dur(node, s, units::OFF_DURATION_EXPECTED).map(|d| OffDur(Some(d)))
    }
}
impl ToToml for OffDur {
    fn to_toml(&self) -> toml::Value {
        match self.0 {
            None => toml::Value::String("off".into()),
            Some(d) => Dur(d).to_toml(),
        }
    }
}

fn duration_str<'a>(node: &'a Node, expected: &str) -> Result<&'a str, Problem> {
    match &node.kind {
        Kind::Str(s) => Ok(s),
        Kind::Int(i) => Err(wrong(node, expected).help(format!(
            "durations need a unit: write \"{i}s\" or \"{i}ms\""
        ))),
        _ => Err(wrong(node, expected)),
    }
}

fn parse_dur(node: &Node, s: &str, expected: &str) -> Result<Nanos, Problem> {
    units::parse_duration(s)
        .map_err(|why| Problem::new(&node.loc, expected, format!("{} ({why})", node.describe())))
}

impl FromNode for Size {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        match &node.kind {
            Kind::Str(s) => units::parse_size(s).map(Size).map_err(|why| {
                Problem::new(
                    &node.loc,
                    units::SIZE_EXPECTED,
                    format!("{} ({why})", node.describe()),
                )
            }),
            Kind::Int(i) => Err(wrong(node, units::SIZE_EXPECTED)
                .help(format!("sizes need a unit: write \"{i}B\""))),
            _ => Err(wrong(node, units::SIZE_EXPECTED)),
        }
    }
}
impl ToToml for Size {
    fn to_toml(&self) -> toml::Value {
        toml::Value::String(units::format_size(self.0))
    }
}

/// Reads one of a fixed set of names.
fn choice<T: Copy>(node: &Node, options: &[(&str, T)]) -> Result<T, Problem> {
    let names: Vec<String> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    let expected = format!("one of {}", names.join(", "));
    match &node.kind {
        Kind::Str(s) => options
            .iter()
            .find(|(n, _)| n == s)
            .map(|(_, v)| *v)
            .ok_or_else(|| wrong(node, &expected)),
        _ => Err(wrong(node, &expected)),
    }
}

macro_rules! named_enum {
    ($ty:ty { $($name:literal => $variant:expr),* $(,)? }) => {
        impl FromNode for $ty {
            fn from_node(node: &Node) -> Result<Self, Problem> {
                choice(node, &[$(($name, $variant)),*])
            }
        }
        impl ToToml for $ty {
            fn to_toml(&self) -> toml::Value {
                let name = [$(($name, $variant)),*]
                    .into_iter()
                    .find(|(_, v)| v == self)
                    .map_or("", |(n, _)| n);
                toml::Value::String(name.to_string())
            }
        }
    };
}

named_enum!(Technique {
    "short-polling" => Technique::ShortPolling,
    "long-polling" => Technique::LongPolling,
    "sse" => Technique::Sse,
    "websocket" => Technique::Websocket,
});
named_enum!(Pattern {
    "broadcast" => Pattern::Broadcast,
    "per-client" => Pattern::PerClient,
    "chat" => Pattern::Chat,
});
named_enum!(Arrivals {
    "poisson" => Arrivals::Poisson,
    "periodic" => Arrivals::Periodic,
});
named_enum!(Join {
    "all-at-once" => Join::AllAtOnce,
    "uniform" => Join::Uniform,
    "poisson" => Join::Poisson,
});
named_enum!(Balancer {
    "least-connections" => Balancer::LeastConnections,
    "round-robin" => Balancer::RoundRobin,
});
named_enum!(ServiceTime {
    "deterministic" => ServiceTime::Deterministic,
    "exponential" => ServiceTime::Exponential,
});
named_enum!(Concurrency {
    "event-loop" => Concurrency::EventLoop,
    "thread-per-connection" => Concurrency::ThreadPerConnection,
});
named_enum!(PollSchedule {
    "after-response" => PollSchedule::AfterResponse,
    "fixed-rate" => PollSchedule::FixedRate,
});

named_enum!(Browser {
    "chromium" => Browser::Chromium,
    "firefox" => Browser::Firefox,
    "webkit" => Browser::Webkit,
});
named_enum!(SseFailure {
    "stop" => SseFailure::Stop,
    "reopen" => SseFailure::Reopen,
});
named_enum!(Http2Stack {
    "chromium-nginx" => Http2Stack::ChromiumNginx,
    "hyper" => Http2Stack::Hyper,
});
named_enum!(HeartbeatBy {
    "server-ping" => HeartbeatBy::ServerPing,
    "client-message" => HeartbeatBy::ClientMessage,
});

const EMPTY_ANSWER_EXPECTED: &str = "200 (with `empty_body`) or 204 (No Content)";

impl FromNode for EmptyAnswer {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        // `empty_answer = 204` and `empty_answer = "204"` (what `--set` may give) alike.
        match &node.kind {
            Kind::Int(200) => Ok(EmptyAnswer::Ok),
            Kind::Int(204) => Ok(EmptyAnswer::NoContent),
            Kind::Str(s) if s == "200" => Ok(EmptyAnswer::Ok),
            Kind::Str(s) if s == "204" => Ok(EmptyAnswer::NoContent),
            _ => Err(wrong(node, EMPTY_ANSWER_EXPECTED)),
        }
    }
}
impl ToToml for EmptyAnswer {
    fn to_toml(&self) -> toml::Value {
        toml::Value::Integer(match self {
            EmptyAnswer::Ok => 200,
            EmptyAnswer::NoContent => 204,
        })
    }
}

named_enum!(FaultKind {
    "crash" => FaultKind::Crash,
    "deploy" => FaultKind::Deploy,
});
named_enum!(Redundancy {
    "none" => Redundancy::None,
    "n+1" => Redundancy::NPlus1,
    "n+2" => Redundancy::NPlus2,
});

const TLS_EXPECTED: &str = "one of \"none\", \"1.2\", \"1.3\"";

impl FromNode for Tls {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        match &node.kind {
            Kind::Str(s) => match s.as_str() {
                "none" => Ok(Tls::None),
                "1.2" => Ok(Tls::V1_2),
                "1.3" => Ok(Tls::V1_3),
                _ => Err(wrong(node, TLS_EXPECTED)),
            },
            // `tls = 1.3` (a float) is accepted too: it is what `--set network.tls=1.3` gives.
            Kind::Float(f) if *f == 1.2 => Ok(Tls::V1_2),
            Kind::Float(f) if *f == 1.3 => Ok(Tls::V1_3),
            _ => Err(wrong(node, TLS_EXPECTED)),
        }
    }
}
impl ToToml for Tls {
    fn to_toml(&self) -> toml::Value {
        toml::Value::String(
            match self {
                Tls::None => "none",
                Tls::V1_2 => "1.2",
                Tls::V1_3 => "1.3",
            }
            .into(),
        )
    }
}

const HTTP_EXPECTED: &str = "one of \"1.1\", \"2\"";

impl FromNode for Http {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        match &node.kind {
            Kind::Str(s) => match s.as_str() {
                "1.1" => Ok(Http::V1_1),
                "2" => Ok(Http::V2),
                _ => Err(wrong(node, HTTP_EXPECTED)),
            },
            // `--set network.http=2` gives an integer, `network.http=1.1` a float.
            Kind::Float(f) if *f == 1.1 => Ok(Http::V1_1),
            Kind::Int(2) => Ok(Http::V2),
            _ => Err(wrong(node, HTTP_EXPECTED)),
        }
    }
}
impl ToToml for Http {
    fn to_toml(&self) -> toml::Value {
        toml::Value::String(
            match self {
                Http::V1_1 => "1.1",
                Http::V2 => "2",
            }
            .into(),
        )
    }
}

const BACKPLANE_CAPACITY_EXPECTED: &str =
    "messages per second such as 100000, \"unlimited\", or a backplane preset such as \"redis\"";

impl FromNode for BackplaneCapacity {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        match &node.kind {
            Kind::Str(s) if s == "unlimited" => Ok(BackplaneCapacity::Unlimited),
            Kind::Str(s) => super::presets::backplane_capacity(s)
                .map(BackplaneCapacity::PerSecond)
                .ok_or_else(|| {
                    wrong(node, BACKPLANE_CAPACITY_EXPECTED).help(format!(
                        "the backplane presets are {} (models/backplanes/)",
                        super::presets::BACKPLANES
                            .iter()
                            .map(|(n, _)| format!("\"{n}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }),
            Kind::Int(_) | Kind::Float(_) => f64::from_node(node)
                .map(BackplaneCapacity::PerSecond)
                .map_err(|p| Problem::new(&p.loc, BACKPLANE_CAPACITY_EXPECTED, p.found.clone())),
            _ => Err(wrong(node, BACKPLANE_CAPACITY_EXPECTED)),
        }
    }
}
impl ToToml for BackplaneCapacity {
    fn to_toml(&self) -> toml::Value {
        match self {
            BackplaneCapacity::Unlimited => toml::Value::String("unlimited".into()),
            BackplaneCapacity::PerSecond(c) => c.to_toml(),
        }
    }
}

const RETENTION_EXPECTED: &str =
    "a duration such as \"5min\" or a whole number of updates such as 100";

impl FromNode for Retention {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        match &node.kind {
            Kind::Str(s) => parse_dur(node, s, RETENTION_EXPECTED).map(Retention::Duration),
            Kind::Int(_) => integer(node, i64::MAX as u64)
                .map(Retention::Count)
                .map_err(|p| Problem::new(&p.loc, RETENTION_EXPECTED, p.found.clone())),
            _ => Err(wrong(node, RETENTION_EXPECTED)),
        }
    }
}
impl ToToml for Retention {
    fn to_toml(&self) -> toml::Value {
        match self {
            Retention::Duration(d) => Dur(*d).to_toml(),
            Retention::Count(c) => c.to_toml(),
        }
    }
}

/// Fields of an inline table, checked against the allowed names.
fn fields<'a>(
    node: &'a Node,
    what: &str,
    allowed: &[&str],
) -> Result<Vec<(&'a str, &'a Node)>, Problem> {
    let Some(entries) = node.as_table() else {
        return Err(wrong(node, what));
    };
    let mut out = Vec::new();
    for e in entries {
        if !allowed.contains(&e.key.as_str()) {
            return Err(Problem::new(
                &e.key_loc,
                format!("one of the keys {}", allowed.join(", ")),
                format!("`{}`", e.key),
            )
            .title(format!("unknown key `{}`", e.key)));
        }
        out.push((e.key.as_str(), &e.value));
    }
    Ok(out)
}

fn field<'a>(fs: &[(&str, &'a Node)], name: &str) -> Option<&'a Node> {
    fs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

const RTT_EXPECTED: &str = "a duration such as \"50ms\" or a table such as \
     { distribution = \"lognormal\", median = \"80ms\", sigma = 0.5 }";

/// `rtt = "50ms"`, `{ distribution = "constant", value = "50ms" }` or
/// `{ distribution = "lognormal", median = "80ms", sigma = 0.5, min = "5ms", max = "2s" }`.
impl FromNode for Rtt {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        match &node.kind {
            Kind::Str(s) => parse_dur(node, s, RTT_EXPECTED).map(Rtt::Constant),
            Kind::Table(_) => {
                let any = ["distribution", "value", "median", "sigma", "min", "max"];
                let fs = fields(node, RTT_EXPECTED, &any)?;
                let Some(dist) = field(&fs, "distribution") else {
                    return Err(Problem::new(
                        &node.loc,
                        "a `distribution` key (\"lognormal\" or \"constant\")",
                        "a table without one",
                    )
                    .title("incomplete `rtt`"));
                };
                let constant = choice(dist, &[("lognormal", false), ("constant", true)])?;
                let only = if constant {
                    &["distribution", "value"][..]
                } else {
                    &["distribution", "median", "sigma", "min", "max"][..]
                };
                fields(node, RTT_EXPECTED, only)?;
                let need = |name: &str| {
                    field(&fs, name).ok_or_else(|| {
                        Problem::new(&node.loc, format!("a `{name}` key"), "a table without one")
                            .title("incomplete `rtt`")
                    })
                };
                if constant {
                    return Dur::from_node(need("value")?).map(|d| Rtt::Constant(d.0));
                }
                let median = Dur::from_node(need("median")?)?.0;
                let sigma = f64::from_node(need("sigma")?)?;
                let opt = |name: &str| -> Result<Option<Nanos>, Problem> {
                    field(&fs, name)
                        .map(|n| Dur::from_node(n).map(|d| d.0))
                        .transpose()
                };
                Ok(Rtt::LogNormal {
                    median,
                    sigma,
                    min: opt("min")?,
                    max: opt("max")?,
                })
            }
            _ => Err(wrong(node, RTT_EXPECTED)),
        }
    }
}
impl ToToml for Rtt {
    fn to_toml(&self) -> toml::Value {
        match self {
            Rtt::Constant(d) => Dur(*d).to_toml(),
            Rtt::LogNormal {
                median,
                sigma,
                min,
                max,
            } => {
                let mut t = toml::Table::new();
                t.insert("distribution".into(), "lognormal".into());
                t.insert("median".into(), Dur(*median).to_toml());
                t.insert("sigma".into(), toml::Value::Float(*sigma));
                if let Some(m) = min {
                    t.insert("min".into(), Dur(*m).to_toml());
                }
                if let Some(m) = max {
                    t.insert("max".into(), Dur(*m).to_toml());
                }
                toml::Value::Table(t)
            }
        }
    }
}

/// `backoff = { initial = "1s", max = "30s", jitter = 0.5 }`; keys left out keep their
/// defaults ([`Backoff::DEFAULT`]).
impl FromNode for Backoff {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        let fs = fields(
            node,
            "a table such as { initial = \"1s\", max = \"30s\", jitter = 0.5 }",
            &["initial", "max", "jitter"],
        )?;
        let mut b = Backoff::DEFAULT;
        if let Some(n) = field(&fs, "initial") {
            b.initial = Dur::from_node(n)?.0;
        }
        if let Some(n) = field(&fs, "max") {
            b.max = Dur::from_node(n)?.0;
        }
        if let Some(n) = field(&fs, "jitter") {
            b.jitter = f64::from_node(n)?;
            if !(0.0..=1.0).contains(&b.jitter) {
                return Err(Problem::new(
                    &n.loc,
                    "a jitter fraction from 0 to 1",
                    n.describe(),
                ));
            }
        }
        Ok(b)
    }
}
impl ToToml for Backoff {
    fn to_toml(&self) -> toml::Value {
        let mut t = toml::Table::new();
        t.insert("initial".into(), Dur(self.initial).to_toml());
        t.insert("max".into(), Dur(self.max).to_toml());
        t.insert("jitter".into(), toml::Value::Float(self.jitter));
        toml::Value::Table(t)
    }
}

/// `techniques = ["sse", "websocket"]`: at least one, no repeats.
impl FromNode for Vec<Technique> {
    fn from_node(node: &Node) -> Result<Self, Problem> {
        let expected =
            "a non-empty array of \"short-polling\", \"long-polling\", \"sse\", \"websocket\"";
        let Some(items) = node.as_array() else {
            return Err(wrong(node, expected));
        };
        if items.is_empty() {
            return Err(wrong(node, expected).help("leave the key out to run all four"));
        }
        let mut out = Vec::new();
        for item in items {
            let t = Technique::from_node(item)?;
            if out.contains(&t) {
                return Err(Problem::new(
                    &item.loc,
                    "each technique at most once",
                    format!("\"{t}\" a second time"),
                ));
            }
            out.push(t);
        }
        Ok(out)
    }
}
impl ToToml for Vec<Technique> {
    fn to_toml(&self) -> toml::Value {
        toml::Value::Array(self.iter().map(ToToml::to_toml).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<T: FromNode>(text: &str) -> Result<T, Problem> {
        let doc = Node::parse_document(&format!("v = {text}"), 1).unwrap();
        T::from_node(&doc.as_table().unwrap()[0].value)
    }

    #[test]
    fn off_durations() {
        assert_eq!(value::<OffDur>("\"off\"").unwrap(), OffDur(None));
        assert_eq!(
            value::<OffDur>("\"15s\"").unwrap(),
            OffDur(Some(15_000_000_000))
        );
        let p = value::<Dur>("\"off\"").unwrap_err();
        assert!(p.help.as_deref().unwrap().contains("cannot be turned off"));
    }

    #[test]
    fn integer_duration_suggests_a_unit() {
        let p = value::<Dur>("3").unwrap_err();
        assert!(p.found.contains("integer 3"));
        assert!(p.help.as_deref().unwrap().contains("\"3s\""));
    }

    #[test]
    fn rtt_forms() {
        assert_eq!(value::<Rtt>("\"50ms\"").unwrap(), Rtt::Constant(50_000_000));
        assert_eq!(
            value::<Rtt>("{ distribution = \"constant\", value = \"40ms\" }").unwrap(),
            Rtt::Constant(40_000_000)
        );
        assert_eq!(
            value::<Rtt>(
                "{ distribution = \"lognormal\", median = \"80ms\", sigma = 0.5, max = \"2s\" }"
            )
            .unwrap(),
            Rtt::LogNormal {
                median: 80_000_000,
                sigma: 0.5,
                min: None,
                max: Some(2_000_000_000)
            }
        );
    }

    #[test]
    fn rtt_errors_are_specific() {
        let p = value::<Rtt>("{ median = \"80ms\" }").unwrap_err();
        assert!(p.expected.contains("distribution"), "{p:?}");
        let p = value::<Rtt>("{ distribution = \"normal\" }").unwrap_err();
        assert!(p.expected.contains("\"lognormal\""), "{p:?}");
        let p = value::<Rtt>("{ distribution = \"lognormal\", sigma = 0.5 }").unwrap_err();
        assert!(p.expected.contains("`median`"), "{p:?}");
        let p = value::<Rtt>("{ distribution = \"lognormal\", median = \"80\", sigma = 0.5 }")
            .unwrap_err();
        assert!(p.found.contains("without a unit"), "{p:?}");
        let p = value::<Rtt>("{ distribution = \"constant\", median = \"8ms\" }").unwrap_err();
        assert!(p.title.contains("unknown key `median`"), "{p:?}");
        let p = value::<Rtt>(
            "{ distribution = \"lognormal\", median = \"8ms\", sigma = 0.5, mean = 1 }",
        )
        .unwrap_err();
        assert!(p.expected.contains("distribution, value, median"), "{p:?}");
    }

    #[test]
    fn retention_tls_backoff() {
        assert_eq!(value::<Retention>("100").unwrap(), Retention::Count(100));
        assert_eq!(
            value::<Retention>("\"5min\"").unwrap(),
            Retention::Duration(300_000_000_000)
        );
        assert!(value::<Retention>("-1").is_err());
        assert_eq!(value::<Tls>("\"none\"").unwrap(), Tls::None);
        assert_eq!(value::<Tls>("1.3").unwrap(), Tls::V1_3);
        assert!(value::<Tls>("\"1.1\"").is_err());
        assert_eq!(value::<Http>("\"2\"").unwrap(), Http::V2);
        assert_eq!(value::<Http>("2").unwrap(), Http::V2);
        assert_eq!(value::<Http>("1.1").unwrap(), Http::V1_1);
        assert!(value::<Http>("3").is_err());
        assert!(value::<Http>("\"h2\"").is_err());
        let b = value::<Backoff>("{ initial = \"2s\" }").unwrap();
        assert_eq!(b.initial, 2_000_000_000);
        assert_eq!(b.max, Backoff::DEFAULT.max);
        assert!(value::<Backoff>("{ jitter = 1.5 }").is_err());
    }

    #[test]
    fn techniques() {
        assert_eq!(
            value::<Vec<Technique>>("[\"sse\", \"websocket\"]").unwrap(),
            vec![Technique::Sse, Technique::Websocket]
        );
        assert!(value::<Vec<Technique>>("[]").is_err());
        assert!(value::<Vec<Technique>>("[\"sse\", \"sse\"]").is_err());
        let p = value::<Vec<Technique>>("[\"sse\", \"comet\"]").unwrap_err();
        assert!(p.expected.contains("\"long-polling\""));
    }

    #[test]
    fn to_toml_round_trips() {
        let r = Rtt::LogNormal {
            median: 80_000_000,
            sigma: 0.5,
            min: Some(1_000_000),
            max: None,
        };
        let text = r.to_toml().to_string();
        assert_eq!(value::<Rtt>(&text).unwrap(), r);
        assert_eq!(Pattern::Chat.to_toml().as_str(), Some("chat"));
    }
}
