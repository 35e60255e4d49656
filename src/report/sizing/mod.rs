//! The words and files of `rtsim size`: `sizing.csv`, the Markdown answer printed on
//! stdout, the notes beside each row and the progress line of each simulation.
//!
//! `crate::sizing` computes numbers only (a [`Resource`], a [`Note`] with its figures);
//! everything a person reads is spelled here. Numbers for machines use
//! [`super::machine_number`], numbers for people `units::human`.
//!
//! Longer than most files: over a third of it is the tests of the cells, the table and
//! the two files, which read best beside the code they check.

use super::machine_number;
use crate::engine::time::secs;
use crate::experiment::Target;
use crate::sizing::progress::Overall;
use crate::sizing::{Cause, DeployCheck, FailoverCheck, Method, Note, Resource, Simulated, Sizing};
use crate::units::human;

mod words;
use words::resource_meaning;
pub use words::*;

/// `sizing.csv`: the file name in the output folder.
pub const CSV_FILE_NAME: &str = "sizing.csv";
/// `sizing.json`: the same rows, keys = the CSV header.
pub const JSON_FILE_NAME: &str = "sizing.json";
/// `sizing.md`: the Markdown answer printed on stdout.
pub const MARKDOWN_FILE_NAME: &str = "sizing.md";

/// `sizing.csv` columns, in order (= the keys of each `sizing.json` row).
pub const CSV_COLUMNS: &[&str] = &[
    "technique",
    "clients",
    "instances_needed",
    "limiting_resource",
    "runs_out",
    "limiting_use",
    "max_clients_per_instance",
    "max_clients_at_least",
    "max_clients_below",
    "max_clients_predicted",
    "connections_per_instance",
    "memory_per_instance_bytes",
    "memory_bytes",
    "cpu_utilization",
    "bytes_down_per_s",
    "bytes_up_per_s",
    "requests_per_s",
    "handshakes_per_s",
    "new_connections_cap_use",
    "latency_p99_s",
    "egress_gb_per_month",
    "monthly_cost",
    "instance_cost",
    "egress_cost",
    "backplane_cost",
    "backplane_messages_per_s",
    "backplane_utilization",
    "backplane_nodes_needed",
    "backplane_binds",
    "managed_service",
    "managed_messages_per_month",
    "managed_connection_minutes_per_month",
    "managed_messages_cost",
    "managed_connections_cost",
    "managed_egress_cost",
    "managed_base_cost",
    "managed_monthly_cost",
    "method",
    "redundancy",
    "survive_loss",
    "instances_planned",
    "failover_lost",
    "failover_verdict",
    "failover_failed_on",
    "storm_handshakes_per_s_peak",
    "storm_cpu_peak",
    "storm_cpu_mean",
    "storm_queue_wait_mean_s",
    "storm_latency_p99_s",
    "storm_latency_max_s",
    "deploy_drain_s",
    "deploy_jitter",
    "deploy_instances",
    "deploy_verdict",
    "deploy_failed_on",
    "deploy_handshakes_per_s_peak",
    "deploy_cpu_peak",
    "deploy_queue_wait_mean_s",
    "deploy_latency_p99_s",
    "simulations",
    "warmup_s",
    "note",
];

/// One cell of a sizing row, for the CSV and the JSON alike.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Text(String),
    Int(u64),
    /// Non-finite numbers are empty cells (`null`).
    Num(f64),
    Bool(bool),
    Empty,
}

impl Value {
    fn csv(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Num(v) if v.is_finite() => machine_number(*v),
            Value::Bool(b) => b.to_string(),
            Value::Num(_) | Value::Empty => String::new(),
        }
    }

    fn json(&self) -> String {
        match self {
            Value::Text(s) => serde_json::to_string(s).expect("a string always serializes"),
            Value::Int(i) => i.to_string(),
            Value::Num(v) if v.is_finite() => machine_number(*v),
            Value::Bool(b) => b.to_string(),
            Value::Num(_) | Value::Empty => "null".to_string(),
        }
    }
}

/// A row's cells in [`CSV_COLUMNS`] order.
fn cells(r: &Sizing) -> Vec<Value> {
    use Value::*;
    let sized = r.instances_needed.is_some();
    let managed = r.managed.as_ref();
    let backplane = r.backplane.as_ref();
    let storm = match &r.failover {
        Some(FailoverCheck::Checked { storm, .. }) => Some(storm),
        _ => None,
    };
    let deploy_storm = match &r.deploy {
        Some(DeployCheck::Checked { storm, .. }) => Some(storm),
        _ => None,
    };
    let cells = vec![
        Text(r.technique.name().to_string()),
        Int(r.clients),
        r.instances_needed.map_or(Empty, |k| Int(k as u64)),
        Text(resource_name(r.limiting_resource).to_string()),
        // Nothing runs out when one instance holds everyone (the search's cap); when no
        // count meets the target, the limiting resource ran out at every count.
        Bool(!r.at_cap),
        Num(r.limiting_use),
        if sized {
            Int(r.max_clients_per_instance)
        } else {
            Empty
        },
        Bool(r.at_cap),
        r.max_clients_below.map_or(Empty, Int),
        r.max_clients_predicted
            .map_or(Empty, |p| Int(p.floor() as u64)),
        Num(r.connections_per_instance),
        Num(r.memory_per_instance_bytes),
        Num(r.memory_bytes),
        Num(r.cpu_utilization),
        Num(r.bytes_down_per_s),
        Num(r.bytes_up_per_s),
        Num(r.requests_per_s),
        Num(r.handshakes_per_s),
        Num(r.new_connections_cap_use),
        Num(r.latency_p99_s),
        Num(r.egress_gb_per_month),
        r.monthly_cost.map_or(Empty, Num),
        r.instance_cost.map_or(Empty, Num),
        r.egress_cost.map_or(Empty, Num),
        r.backplane_cost.map_or(Empty, Num),
        backplane.map_or(Empty, |b| Num(b.messages_per_s)),
        backplane.map_or(Empty, |b| Num(b.utilization)),
        backplane
            .and_then(|b| b.nodes_needed)
            .map_or(Empty, |s| Int(u64::from(s))),
        backplane.map_or(Empty, |b| Bool(b.binds)),
        managed.map_or(Empty, |m| Text(m.service.clone())),
        managed.map_or(Empty, |m| Num(m.messages_per_month)),
        managed.map_or(Empty, |m| Num(m.connection_minutes_per_month)),
        managed.map_or(Empty, |m| Num(m.messages_cost)),
        managed.map_or(Empty, |m| Num(m.connections_cost)),
        managed.map_or(Empty, |m| Num(m.egress_cost)),
        managed.map_or(Empty, |m| Num(m.base_cost)),
        managed.map_or(Empty, |m| Num(m.total())),
        // No deployment was measured when none meets the target.
        if sized {
            Text(method_name(r.method).to_string())
        } else {
            Empty
        },
        Text(r.redundancy.name().to_string()),
        r.survive_loss.map_or(Empty, Num),
        r.failover
            .as_ref()
            .map_or(Empty, |f| Int(f.instances() as u64)),
        storm.map_or(Empty, |s| Int(s.failure.lost as u64)),
        r.failover
            .as_ref()
            .map_or(Empty, |f| Text(verdict_name(f.survived()).to_string())),
        storm
            .and_then(|s| s.failed_on)
            .map_or(Empty, |res| Text(resource_name(res).to_string())),
        storm.map_or(Empty, |s| Num(s.handshakes_per_s_peak)),
        storm.map_or(Empty, |s| Num(s.cpu_peak)),
        storm.map_or(Empty, |s| Num(s.cpu_mean)),
        storm.map_or(Empty, |s| Num(s.queue_wait_mean_s)),
        storm.map_or(Empty, |s| Num(s.latency_p99_s)),
        storm.map_or(Empty, |s| Num(s.latency_max_s)),
        r.deploy
            .as_ref()
            .map_or(Empty, |d| Num(d.deploy().drain as f64 / 1e9)),
        r.deploy.as_ref().map_or(Empty, |d| Bool(d.deploy().jitter)),
        r.deploy.as_ref().map_or(Empty, |d| match d {
            DeployCheck::Checked { storm, .. } => Int(storm.failure.instances as u64),
            DeployCheck::TooLarge { instances, .. } => Int(*instances as u64),
        }),
        r.deploy
            .as_ref()
            .map_or(Empty, |d| Text(verdict_name(d.survived()).to_string())),
        deploy_storm
            .and_then(|s| s.failed_on)
            .map_or(Empty, |res| Text(resource_name(res).to_string())),
        deploy_storm.map_or(Empty, |s| Num(s.handshakes_per_s_peak)),
        deploy_storm.map_or(Empty, |s| Num(s.cpu_peak)),
        deploy_storm.map_or(Empty, |s| Num(s.queue_wait_mean_s)),
        deploy_storm.map_or(Empty, |s| Num(s.latency_p99_s)),
        Int(r.simulations as u64),
        Num(r.warmup_s),
        Text(notes_text(&r.notes)),
    ];
    debug_assert_eq!(cells.len(), CSV_COLUMNS.len());
    cells
}

/// The text of `sizing.csv`.
pub fn sizing_csv(rows: &[Sizing]) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS)
        .expect("writing to memory cannot fail");
    for r in rows {
        w.write_record(cells(r).iter().map(Value::csv))
            .expect("writing to memory cannot fail");
    }
    w.into_inner().expect("writing to memory cannot fail")
}

/// The text of `sizing.json`: `{"experiment": name, "target": {...}, "rows": [...]}`,
/// each row with exactly the keys of the `sizing.csv` header in its order; empty cells
/// are `null`, flags are booleans.
pub fn sizing_json(rows: &[Sizing], name: &str, target: &Target) -> String {
    let string = |s: &str| serde_json::to_string(s).expect("a string always serializes");
    let opt = |v: Option<f64>| Value::Num(v.unwrap_or(f64::NAN)).json();
    let target = format!(
        "{{\"latency_p99_s\": {}, \"utilization\": {}, \"instance_hour_cost\": {}, \
         \"bandwidth_cost_per_gb\": {}, \"backplane_node_hour_cost\": {}, \
         \"redundancy\": {}, \"survive_loss\": {}, \"managed\": {}, \
         \"max_new_connections_per_s\": {}, \"deploy_drain_s\": {}, \"deploy_jitter\": {}}}",
        opt(target.latency_p99.map(secs)),
        Value::Num(target.utilization).json(),
        opt(target.instance_hour_cost),
        opt(target.bandwidth_cost_per_gb),
        opt(target.backplane_node_hour_cost),
        string(target.redundancy.name()),
        opt(target.survive_loss),
        target.managed.as_deref().map_or("null".to_string(), string),
        opt(target.max_new_connections_per_s),
        opt(target.deploy_drain.map(secs)),
        target.deploy_jitter,
    );
    let rows: Vec<String> = rows
        .iter()
        .map(|r| {
            let pairs: Vec<String> = CSV_COLUMNS
                .iter()
                .zip(cells(r))
                .map(|(k, v)| format!("      {}: {}", string(k), v.json()))
                .collect();
            format!("    {{\n{}\n    }}", pairs.join(",\n"))
        })
        .collect();
    let rows = if rows.is_empty() {
        "[]".to_string()
    } else {
        format!("[\n{}\n  ]", rows.join(",\n"))
    };
    format!(
        "{{\n  \"experiment\": {},\n  \"target\": {target},\n  \"rows\": {rows}\n}}\n",
        string(name)
    )
}

fn money(v: f64) -> String {
    if v >= 100.0 {
        format!("${}", human::thousands(v))
    } else {
        format!("${v:.2}")
    }
}

/// The "Instances" cell: the steady state's count, and with redundancy the plan's
/// and its failover verdict ("2 → 3 (n+1) survives").
pub fn instances_cell(r: &Sizing) -> String {
    let Some(k) = r.instances_needed else {
        return "none meets it".to_string();
    };
    match &r.failover {
        None => k.to_string(),
        Some(f) => {
            let asked = match r.survive_loss {
                Some(share) => format!("lose {}", human::percent(share)),
                None => r.redundancy.name().to_string(),
            };
            format!(
                "{k} → {} ({asked}) {}",
                f.instances(),
                match f.survived() {
                    Some(true) => "survives",
                    Some(false) => "FAILS",
                    None => "not checked",
                }
            )
        }
    }
}

/// The "Runs out first" cell: the resource, or that nothing runs out at N (the search's
/// cap) and which resource is closest, at what share of its limit.
pub fn runs_out_cell(r: &Sizing) -> String {
    if r.backplane.as_ref().is_some_and(|b| b.binds) {
        // The notes say the backplane runs out first; the cell must too.
        let instance = if r.at_cap {
            "nothing".to_string()
        } else {
            resource_name(r.limiting_resource).to_string()
        };
        format!("backplane (instances: {instance})")
    } else if r.at_cap {
        format!(
            "nothing runs out at {}; closest: {} at {}",
            human::thousands(r.clients as f64),
            resource_name(r.limiting_resource),
            human::percent(r.limiting_use)
        )
    } else {
        resource_name(r.limiting_resource).to_string()
    }
}

/// The "Max clients/instance" cell: "≥ N" where the search stopped at its cap (a lower
/// bound), "none" where no count meets the target.
pub fn max_clients_cell(r: &Sizing) -> String {
    if r.instances_needed.is_none() {
        "none".to_string()
    } else if r.at_cap {
        format!("≥ {}", human::thousands(r.max_clients_per_instance as f64))
    } else {
        let max = r.max_clients_per_instance;
        if let Some(p) = r.max_clients_predicted {
            // Settled by the deployment: its share held, and no run nearer the limit was
            // simulated, so the measured figure is a lower bound.
            let at_least = if r
                .notes
                .iter()
                .any(|n| matches!(n, Note::SettledByDeployment { .. }))
            {
                "≥ "
            } else {
                ""
            };
            return format!(
                "{at_least}{} ({} predicted to run out at ~{})",
                human::thousands(max as f64),
                resource_name(r.limiting_resource),
                human::thousands(p.floor())
            );
        }
        match r.max_clients_below {
            // A bracket wider than the search's usual 2 %: the search stopped because the
            // instance count was settled; say where it failed.
            Some(below) if (below - max) as f64 > LOOSE_BRACKET * max as f64 => format!(
                "{} (fails at {})",
                human::thousands(max as f64),
                human::thousands(below as f64)
            ),
            _ => human::thousands(max as f64),
        }
    }
}

/// A max-clients bracket wider than this share is shown with its failing end.
const LOOSE_BRACKET: f64 = 0.025;

/// What a method means, in one line.
pub fn method_meaning(m: Method) -> &'static str {
    match m {
        Method::Full => {
            "every client and every instance of the deployment simulated, nothing scaled"
        }
        Method::ScaledRepresentative => {
            "two identical instances (with the backplane) simulated and totals scaled by \
             instances ÷ 2; exact because instances are identical and independent \
             (docs/sizing.md)"
        }
    }
}

/// The Markdown sizing table, with a caption stating the target, one line per
/// technique and one line per method used.
pub fn sizing_markdown(rows: &[Sizing], target: &Target) -> String {
    let mut s = String::new();
    let n = rows.first().map_or(0, |r| r.clients);
    let latency = target.latency_p99.map_or("no p99 target".to_string(), |l| {
        format!("p99 ≤ {}", human::duration(secs(l), true))
    });
    s.push_str(&format!(
        "Sizing for {} clients: {latency}, CPU ≤ {}",
        human::thousands(n as f64),
        human::percent(target.utilization),
    ));
    if let Some(p) = target.instance_hour_cost {
        s.push_str(&format!(", ${p}/instance-hour"));
    }
    if let Some(p) = target.bandwidth_cost_per_gb {
        s.push_str(&format!(", ${p}/GB egress"));
    }
    if let Some(p) = target.backplane_node_hour_cost {
        s.push_str(&format!(", ${p}/backplane node-hour"));
    }
    s.push_str("\n\n");
    s.push_str(
        "| Technique | Instances | Runs out first | Max clients/instance | Memory (all) | Down | Up | Requests/s | p99 | Monthly cost | Managed/month | Method |\n",
    );
    s.push_str("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    let rate = |v: f64| format!("{}/s", human::bytes(v, false));
    for r in rows {
        let dash = || "—".to_string();
        let or_dash = |v: f64, f: &dyn Fn(f64) -> String| if v.is_finite() { f(v) } else { dash() };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.technique.title(),
            instances_cell(r),
            runs_out_cell(r),
            max_clients_cell(r),
            or_dash(r.memory_bytes, &|v| human::bytes(v, false)),
            or_dash(r.bytes_down_per_s, &rate),
            or_dash(r.bytes_up_per_s, &rate),
            or_dash(r.requests_per_s, &human::count),
            human::duration(r.latency_p99_s, false),
            r.monthly_cost.map_or_else(dash, money),
            r.managed.as_ref().map_or_else(dash, managed_money),
            if r.instances_needed.is_some() {
                method_name(r.method).to_string()
            } else {
                dash()
            },
        ));
    }
    s.push('\n');
    for r in rows {
        s.push_str(&format!("- {}: ", r.technique.title()));
        let mut said = true;
        if r.instances_needed.is_none() {
            // The note says why (a latency floor).
            said = false;
        } else if r.at_cap {
            s.push_str(&format!(
                "nothing runs out with all {} clients on one instance; closest to its limit: \
                 {}, at {} of it",
                human::thousands(r.clients as f64),
                resource_meaning(r.limiting_resource),
                human::percent(r.limiting_use)
            ));
        } else if r.backplane.as_ref().is_some_and(|b| b.binds) {
            s.push_str(&format!(
                "the backplane runs out first (below); of an instance's limits, {} runs out \
                 first (at {} of it in the deployment)",
                resource_meaning(r.limiting_resource),
                human::percent(r.limiting_use)
            ));
        } else {
            s.push_str(&format!(
                "{} runs out first (at {} of it in the deployment)",
                resource_meaning(r.limiting_resource),
                human::percent(r.limiting_use)
            ));
        }
        if let Some(text) = backplane_text(r, target.utilization) {
            s.push_str(&format!("; {text}"));
        }
        if let Some(text) = cost_text(r) {
            s.push_str(&format!("; {text}"));
        }
        if let Some(text) = failover_text(r) {
            s.push_str(&format!("; {text}"));
        }
        if let Some(text) = deploy_text(r) {
            s.push_str(&format!("; {text}"));
        }
        if !r.notes.is_empty() {
            let sep = if said { "; " } else { "" };
            s.push_str(&format!("{sep}{}", notes_text(&r.notes)));
        } else if !said {
            s.push_str(&format!(
                "{} cannot be met",
                resource_meaning(r.limiting_resource)
            ));
        }
        s.push_str(".\n");
    }
    let mut first = true;
    for m in [Method::Full, Method::ScaledRepresentative] {
        if rows
            .iter()
            .any(|r| r.instances_needed.is_some() && r.method == m)
        {
            if std::mem::take(&mut first) {
                s.push('\n');
            }
            s.push_str(&format!(
                "Method {}: {}.\n",
                method_name(m),
                method_meaning(m)
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NS_PER_S;
    use crate::scenario::Technique;

    fn target() -> Target {
        Target {
            latency_p99: Some(NS_PER_S),
            instance_hour_cost: Some(0.34),
            ..Target::only_utilization(0.7)
        }
    }

    /// Short polling's latency floor, as the notification lesson finds it.
    fn floor_row() -> Sizing {
        Sizing {
            technique: Technique::ShortPolling,
            clients: 1_000_000,
            instances_needed: None,
            limiting_resource: Resource::Latency,
            limiting_use: f64::NAN,
            max_clients_per_instance: 0,
            at_cap: false,
            max_clients_below: None,
            max_clients_predicted: None,
            redundancy: Default::default(),
            survive_loss: None,
            failover: None,
            deploy: None,
            connections_per_instance: f64::NAN,
            memory_per_instance_bytes: f64::NAN,
            memory_bytes: f64::NAN,
            cpu_utilization: f64::NAN,
            bytes_down_per_s: f64::NAN,
            bytes_up_per_s: f64::NAN,
            requests_per_s: f64::NAN,
            handshakes_per_s: f64::NAN,
            new_connections_cap_use: f64::NAN,
            latency_p99_s: 3.047161855,
            egress_gb_per_month: f64::NAN,
            monthly_cost: None,
            instance_cost: None,
            egress_cost: None,
            backplane_cost: None,
            backplane: None,
            managed: None,
            method: Method::Full,
            simulations: 1,
            warmup_s: f64::NAN,
            notes: vec![Note::LatencyFloor {
                p99_s: 3.047161855,
                target_p99_s: Some(1.0),
                clients: 1000,
            }],
        }
    }

    #[test]
    fn csv_has_the_contract_columns() {
        let text = String::from_utf8(sizing_csv(&[])).unwrap();
        for c in [
            "technique",
            "instances_needed",
            "limiting_resource",
            "max_clients_per_instance",
            "memory_bytes",
            "bytes_down_per_s",
            "bytes_up_per_s",
            "requests_per_s",
            "latency_p99_s",
            "monthly_cost",
            "method",
        ] {
            assert!(
                text.lines().next().unwrap().split(',').any(|h| h == c),
                "{c}"
            );
        }
    }

    #[test]
    fn missing_figures_are_empty_cells_and_dashes() {
        let csv = String::from_utf8(sizing_csv(&[floor_row()])).unwrap();
        assert_eq!(
            csv.lines().nth(1).unwrap(),
            "short-polling,1000000,,latency,true,,,false,,,,,,,,,,,,3.047161855,,,,,,,,,,,,,,,,,,,none,,,,,,,,,,,,,,,,,,,,,1,,\"no instance \
             count meets the target: p99 is 3.05 s (target 1.00 s) even with 1,000 clients \
             per instance, a floor set by the technique rather than by load\""
        );
        let md = sizing_markdown(&[floor_row()], &target());
        assert!(md.starts_with(
            "Sizing for 1,000,000 clients: p99 ≤ 1 s, CPU ≤ 70%, $0.34/instance-hour\n"
        ));
        assert!(md.contains(
            "| Short polling | none meets it | latency | none | — | — | — | — | 3.05 s | — | — | — |"
        ));
        assert!(md.contains("- Short polling: no instance count meets the target: p99 is 3.05 s"));
        assert!(!md.contains("\nMethod "), "no deployment, no method: {md}");
    }

    /// SSE holding all its clients on one instance, slots at 10 %.
    fn at_cap_row() -> Sizing {
        Sizing {
            technique: Technique::Sse,
            instances_needed: Some(1),
            limiting_resource: Resource::Slots,
            limiting_use: 0.1,
            max_clients_per_instance: 1_000_000,
            at_cap: true,
            connections_per_instance: 1e6,
            memory_per_instance_bytes: 1e9,
            memory_bytes: 1e9,
            cpu_utilization: 0.05,
            bytes_down_per_s: 1e6,
            bytes_up_per_s: 0.0,
            requests_per_s: 0.0,
            latency_p99_s: 0.08,
            egress_gb_per_month: 2628.0,
            monthly_cost: Some(248.2),
            method: Method::Full,
            warmup_s: 20.0,
            notes: Vec::new(),
            ..floor_row()
        }
    }

    #[test]
    fn a_fan_out_heavy_broadcast_names_the_backplane() {
        use crate::scenario::{BackplaneCapacity, Pattern, Scenario};
        // 2,000 updates/s broadcast to 50 instances: 102,000 messages/s on one channel,
        // above one Redis node's 100,000.
        let mut sc = Scenario::reference();
        sc.workload.pattern = Pattern::Broadcast;
        sc.workload.rate = 2000.0;
        sc.server.backplane_capacity = BackplaneCapacity::PerSecond(100_000.0);
        let mut r = at_cap_row();
        r.at_cap = false;
        r.instances_needed = Some(50);
        r.backplane = crate::sizing::backplane::plan(&sc, 1_000_000, 50, &target());
        let md = sizing_markdown(std::slice::from_ref(&r), &target());
        assert!(
            md.contains("the backplane, not the instances, runs out first"),
            "{md}"
        );
        assert!(md.contains("no number of nodes carries it"), "{md}");
        // The cell says what the notes say: the backplane first, then the instances'.
        assert_eq!(runs_out_cell(&r), "backplane (instances: slots)");
        assert!(md.contains("| backplane (instances: slots) |"), "{md}");
        assert!(
            md.contains(
                "the backplane runs out first (below); of an instance's limits, \
                 connection slots (max_connections) runs out first"
            ),
            "{md}"
        );
        let csv = String::from_utf8(sizing_csv(std::slice::from_ref(&r))).unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
        assert_eq!(at("backplane_binds"), "true");
        assert_eq!(at("backplane_messages_per_s"), "102000");
        assert_eq!(at("backplane_nodes_needed"), "");
        // Without a finite backplane the cells are empty and nothing is said.
        r.backplane = None;
        let md = sizing_markdown(&[r], &target());
        assert!(
            !md.contains("backplane:") && !md.contains("backplane, not"),
            "{md}"
        );
    }

    #[test]
    fn nothing_binds_is_said_in_the_cells() {
        let r = at_cap_row();
        assert_eq!(
            runs_out_cell(&r),
            "nothing runs out at 1,000,000; closest: slots at 10%"
        );
        assert_eq!(max_clients_cell(&r), "≥ 1,000,000");
        let md = sizing_markdown(&[r.clone(), floor_row()], &target());
        assert!(
            md.contains(
                "| SSE | 1 | nothing runs out at 1,000,000; closest: slots at 10% | ≥ 1,000,000 |"
            ),
            "{md}"
        );
        assert!(md.contains("- SSE: nothing runs out with all 1,000,000 clients on one instance"));
        // Every method shown is explained once, under the table.
        assert!(
            md.contains("\nMethod full: every client and every instance"),
            "{md}"
        );
        assert!(!md.contains("Method scaled-representative"), "{md}");
        let csv = String::from_utf8(sizing_csv(&[r])).unwrap();
        let line = csv.lines().nth(1).unwrap();
        assert!(
            line.starts_with("sse,1000000,1,slots,false,0.1,1000000,true,"),
            "{line}"
        );
        // A count that binds: the plain number and the resource.
        let mut bound = at_cap_row();
        bound.at_cap = false;
        bound.max_clients_per_instance = 173_310;
        bound.method = Method::ScaledRepresentative;
        assert_eq!(runs_out_cell(&bound), "slots");
        assert_eq!(max_clients_cell(&bound), "173,310");
        let md = sizing_markdown(&[bound], &target());
        assert!(
            md.contains("Method scaled-representative: two identical"),
            "{md}"
        );
    }

    #[test]
    fn json_rows_have_the_csv_keys_in_order() {
        let text = sizing_json(&[at_cap_row(), floor_row()], "x", &target());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["experiment"], "x");
        assert_eq!(v["target"]["latency_p99_s"], 1.0);
        assert!(v["target"]["bandwidth_cost_per_gb"].is_null());
        // Every key of [target] the answer depends on.
        assert_eq!(v["target"]["redundancy"], "none");
        assert!(v["target"]["survive_loss"].is_null());
        assert!(v["target"]["managed"].is_null());
        assert!(v["target"]["max_new_connections_per_s"].is_null());
        assert!(v["target"]["deploy_drain_s"].is_null());
        assert_eq!(v["target"]["deploy_jitter"], false);
        let asked = Target {
            redundancy: crate::experiment::Redundancy::NPlus1,
            survive_loss: Some(0.34),
            managed: Some("ably".into()),
            max_new_connections_per_s: Some(500.0),
            deploy_drain: Some(20 * NS_PER_S),
            deploy_jitter: true,
            ..target()
        };
        let w: serde_json::Value =
            serde_json::from_str(&sizing_json(&[at_cap_row()], "x", &asked)).unwrap();
        assert_eq!(w["target"]["redundancy"], "n+1");
        assert_eq!(w["target"]["survive_loss"], 0.34);
        assert_eq!(w["target"]["managed"], "ably");
        assert_eq!(w["target"]["max_new_connections_per_s"], 500.0);
        assert_eq!(w["target"]["deploy_drain_s"], 20.0);
        assert_eq!(w["target"]["deploy_jitter"], true);
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["max_clients_at_least"], true);
        assert_eq!(rows[0]["instances_needed"], 1);
        assert!(rows[1]["instances_needed"].is_null());
        assert!(rows[1]["max_clients_per_instance"].is_null());
        // Key order is the CSV header's.
        let mut at = 0;
        for c in CSV_COLUMNS {
            let i = text[at..]
                .find(&format!("\"{c}\":"))
                .unwrap_or_else(|| panic!("{c} missing or out of order"));
            at += i;
        }
    }

    #[test]
    fn notes_are_worded_and_joined() {
        let notes = [
            Note::MoreThanFirst {
                instances: 3,
                first: 2,
            },
            Note::StartWindowStretched {
                start_window_s: 28.0,
                warmup_s: 108.0,
            },
            Note::AtCap {
                clients: 200_000,
                held: 200_000,
                closest: Resource::Cpu,
                predicted: 752_620.9,
            },
        ];
        assert_eq!(
            notes_text(&notes),
            "3 instances rather than ⌈N/max⌉ = 2: the backplane and the balancer's spread \
             cost headroom; clients start over 28 s (not all at once) and the warm-up is \
             1.8 min, so the start-up connection storm is not what is measured; one instance \
             holds all 200,000 clients, so the search stopped there: nothing runs out yet, \
             cpu is the closest to its limit, and max_clients_per_instance is at least \
             200,000 (the pilot run predicts ~752,620 by slots, memory and CPU)"
        );
        // N = 200 held by a pilot of 1,000: the note says N, and the bound the pilot.
        let small = note_text(&Note::AtCap {
            clients: 200,
            held: 1000,
            closest: Resource::Latency,
            predicted: 1e6,
        });
        assert!(
            small.starts_with("one instance holds all 200 clients")
                && small
                    .contains("at least 1,000 (the pilot's run of that many held, and predicts"),
            "{small}"
        );
        assert_eq!(
            note_text(&Note::WarmupExtended { warmup_s: 60.0 }),
            "warm-up extended to 1 min so the start-up connection storm drains before measuring"
        );
        assert_eq!(
            note_text(&Note::SettledByDeployment {
                instances: 3,
                clients_per_instance: 66_670,
                limiting: Resource::Cpu,
                predicted: 80_000.4,
                clients: 200_000,
            }),
            "3 instances of 66,670 clients each hold the target, and that run's own linear \
             prediction (cpu runs out at ~80,000 clients per instance) leaves 2 instances \
             short of 200,000 clients even 10% above it, so the count is settled without \
             simulating one instance near its limit: max_clients_per_instance is the \
             deployment's share"
        );
    }

    #[test]
    fn the_progress_line_keeps_its_columns() {
        let run = Simulated {
            technique: Technique::LongPolling,
            clients: 182_380,
            instances: 1,
            warmup: 182 * NS_PER_S,
            estimated_events: 1e8,
            cost: crate::runner::RunCost {
                wall: std::time::Duration::from_millis(8_440),
                cpu: Some(std::time::Duration::from_millis(7_910)),
                events: 41_234_567,
            },
        };
        assert_eq!(
            progress_line(&run),
            "  long-polling      182,380 clients on 1 instance(s), warm-up 3.03 min: 8.4 s \
             (7.9 s CPU, 41,234,567 events)"
        );
    }
}
