//! The words and files of `rtsim size`: `sizing.csv`, the Markdown answer printed on
//! stdout, the notes beside each row and the progress line of each simulation.
//!
//! `crate::sizing` computes numbers only (a [`Resource`], a [`Note`] with its figures);
//! everything a person reads is spelled here. Numbers for machines use
//! [`super::machine_number`], numbers for people `units::human`.

use super::machine_number;
use crate::engine::time::secs;
use crate::experiment::Target;
use crate::sizing::{Method, Note, Resource, Simulated, Sizing};
use crate::units::human;

/// `sizing.csv`: the file name in the output folder.
pub const CSV_FILE_NAME: &str = "sizing.csv";

/// `sizing.csv` columns, in order.
pub const CSV_COLUMNS: &[&str] = &[
    "technique",
    "clients",
    "instances_needed",
    "limiting_resource",
    "max_clients_per_instance",
    "connections_per_instance",
    "memory_per_instance_bytes",
    "memory_bytes",
    "cpu_utilization",
    "bytes_down_per_s",
    "bytes_up_per_s",
    "requests_per_s",
    "latency_p99_s",
    "egress_gb_per_month",
    "monthly_cost",
    "method",
    "simulations",
    "warmup_s",
    "note",
];

/// The CSV spelling of a resource.
pub fn resource_name(r: Resource) -> &'static str {
    match r {
        Resource::Slots => "slots",
        Resource::Memory => "memory",
        Resource::Cpu => "cpu",
        Resource::Latency => "latency",
    }
}

/// What running out of a resource means, for people.
fn resource_meaning(r: Resource) -> &'static str {
    match r {
        Resource::Slots => "connection slots (max_connections)",
        Resource::Memory => "memory (memory_limit)",
        Resource::Cpu => "CPU at the target utilization",
        Resource::Latency => "the p99 latency target",
    }
}

/// The CSV spelling of a method.
pub fn method_name(m: Method) -> &'static str {
    match m {
        Method::Full => "full",
        Method::ScaledRepresentative => "scaled-representative",
    }
}

/// One note in words.
pub fn note_text(note: &Note) -> String {
    match *note {
        Note::LatencyFloor {
            p99_s,
            target_p99_s,
            clients,
        } => format!(
            "no instance count meets the target: p99 is {} (target {}) even with {} clients \
             per instance, a floor set by the technique rather than by load",
            human::duration(p99_s, false),
            human::duration(target_p99_s.unwrap_or(f64::NAN), false),
            human::thousands(clients as f64)
        ),
        Note::MoreThanFirst { instances, first } => format!(
            "{instances} instances rather than ⌈N/max⌉ = {first}: the backplane and the \
             balancer's spread cost headroom"
        ),
        Note::StartWindowStretched {
            start_window_s,
            warmup_s,
        } => format!(
            "clients start over {} (not all at once) and the warm-up is {}, so the \
             start-up connection storm is not what is measured",
            human::duration(start_window_s, true),
            human::duration(warmup_s, true)
        ),
        Note::WarmupExtended { warmup_s } => format!(
            "warm-up extended to {} so the start-up connection storm drains before measuring",
            human::duration(warmup_s, true)
        ),
        Note::AtCap {
            clients,
            closest,
            predicted,
        } => format!(
            "one instance holds all {} clients, so the search stopped there: nothing runs \
             out yet, {} is the closest to its limit, and max_clients_per_instance is at \
             least {} (the pilot run predicts ~{} by slots, memory and CPU)",
            human::thousands(clients as f64),
            resource_name(closest),
            human::thousands(clients as f64),
            human::thousands(predicted.floor())
        ),
    }
}

/// A row's notes in words, one sentence: the `note` column.
pub fn notes_text(notes: &[Note]) -> String {
    notes.iter().map(note_text).collect::<Vec<_>>().join("; ")
}

/// The progress line of one sizing simulation (stderr).
pub fn progress_line(run: &Simulated) -> String {
    format!(
        "  {:13} {:>11} clients on {} instance(s), warm-up {:>5}: {:.1} s",
        run.technique.name(),
        human::thousands(run.clients as f64),
        run.instances,
        human::duration(secs(run.warmup), true),
        run.wall.as_secs_f64()
    )
}

/// The text of `sizing.csv`.
pub fn sizing_csv(rows: &[Sizing]) -> Vec<u8> {
    let num = |v: f64| {
        if v.is_finite() {
            machine_number(v)
        } else {
            String::new()
        }
    };
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS)
        .expect("writing to memory cannot fail");
    for r in rows {
        w.write_record([
            r.technique.name().to_string(),
            r.clients.to_string(),
            r.instances_needed.map_or(String::new(), |k| k.to_string()),
            resource_name(r.limiting_resource).to_string(),
            r.max_clients_per_instance.to_string(),
            num(r.connections_per_instance),
            num(r.memory_per_instance_bytes),
            num(r.memory_bytes),
            num(r.cpu_utilization),
            num(r.bytes_down_per_s),
            num(r.bytes_up_per_s),
            num(r.requests_per_s),
            num(r.latency_p99_s),
            num(r.egress_gb_per_month),
            r.monthly_cost.map_or(String::new(), num),
            method_name(r.method).to_string(),
            r.simulations.to_string(),
            num(r.warmup_s),
            notes_text(&r.notes),
        ])
        .expect("writing to memory cannot fail");
    }
    w.into_inner().expect("writing to memory cannot fail")
}

fn money(v: f64) -> String {
    if v >= 100.0 {
        format!("${}", human::thousands(v))
    } else {
        format!("${v:.2}")
    }
}

/// The Markdown sizing table, with a caption stating the target and the method.
pub fn sizing_markdown(rows: &[Sizing], target: &Target) -> String {
    let mut s = String::new();
    let n = rows.first().map_or(0, |r| r.clients);
    s.push_str(&format!(
        "Sizing for {} clients: p99 ≤ {}, CPU ≤ {}",
        human::thousands(n as f64),
        target
            .latency_p99
            .map_or("(no target)".to_string(), |l| human::duration(
                secs(l),
                true
            )),
        human::percent(target.utilization),
    ));
    if let Some(p) = target.instance_hour_cost {
        s.push_str(&format!(", ${p}/instance-hour"));
    }
    if let Some(p) = target.bandwidth_cost_per_gb {
        s.push_str(&format!(", ${p}/GB egress"));
    }
    s.push_str("\n\n");
    s.push_str(
        "| Technique | Instances | Runs out first | Max clients/instance | Memory (all) | Down | Up | Requests/s | p99 | Monthly cost | Method |\n",
    );
    s.push_str("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    let rate = |v: f64| format!("{}/s", human::bytes(v, false));
    for r in rows {
        let dash = || "—".to_string();
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.technique.title(),
            r.instances_needed
                .map_or("none meets it".to_string(), |k| k.to_string()),
            resource_name(r.limiting_resource),
            human::thousands(r.max_clients_per_instance as f64),
            if r.memory_bytes.is_finite() {
                human::bytes(r.memory_bytes, false)
            } else {
                dash()
            },
            if r.bytes_down_per_s.is_finite() {
                rate(r.bytes_down_per_s)
            } else {
                dash()
            },
            if r.bytes_up_per_s.is_finite() {
                rate(r.bytes_up_per_s)
            } else {
                dash()
            },
            if r.requests_per_s.is_finite() {
                human::count(r.requests_per_s)
            } else {
                dash()
            },
            human::duration(r.latency_p99_s, false),
            r.monthly_cost.map_or_else(dash, money),
            method_name(r.method),
        ));
    }
    s.push('\n');
    for r in rows {
        s.push_str(&format!(
            "- {}: {} runs out first",
            r.technique.title(),
            resource_meaning(r.limiting_resource)
        ));
        if !r.notes.is_empty() {
            s.push_str(&format!("; {}", notes_text(&r.notes)));
        }
        s.push_str(".\n");
    }
    if rows
        .iter()
        .any(|r| r.method == Method::ScaledRepresentative)
    {
        s.push_str(
            "\nscaled-representative: two identical instances (with the backplane) were \
             simulated and totals scaled; exact because instances are identical and \
             independent (docs/sizing.md).\n",
        );
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
            utilization: 0.7,
            instance_hour_cost: Some(0.34),
            bandwidth_cost_per_gb: None,
        }
    }

    /// Short polling's latency floor, as the notification lesson finds it.
    fn floor_row() -> Sizing {
        Sizing {
            technique: Technique::ShortPolling,
            clients: 1_000_000,
            instances_needed: None,
            limiting_resource: Resource::Latency,
            max_clients_per_instance: 0,
            connections_per_instance: f64::NAN,
            memory_per_instance_bytes: f64::NAN,
            memory_bytes: f64::NAN,
            cpu_utilization: f64::NAN,
            bytes_down_per_s: f64::NAN,
            bytes_up_per_s: f64::NAN,
            requests_per_s: f64::NAN,
            latency_p99_s: 3.047161855,
            egress_gb_per_month: f64::NAN,
            monthly_cost: None,
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
            "short-polling,1000000,,latency,0,,,,,,,,3.047161855,,,full,1,,\"no instance \
             count meets the target: p99 is 3.05 s (target 1.00 s) even with 1,000 clients \
             per instance, a floor set by the technique rather than by load\""
        );
        let md = sizing_markdown(&[floor_row()], &target());
        assert!(md.starts_with(
            "Sizing for 1,000,000 clients: p99 ≤ 1 s, CPU ≤ 70%, $0.34/instance-hour\n"
        ));
        assert!(md.contains(
            "| Short polling | none meets it | latency | 0 | — | — | — | — | 3.05 s | — | full |"
        ));
        assert!(md.contains("- Short polling: the p99 latency target runs out first; no instance"));
        assert!(!md.contains("scaled-representative:"));
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
        assert_eq!(
            note_text(&Note::WarmupExtended { warmup_s: 60.0 }),
            "warm-up extended to 1 min so the start-up connection storm drains before measuring"
        );
    }

    #[test]
    fn the_progress_line_keeps_its_columns() {
        let run = Simulated {
            technique: Technique::LongPolling,
            clients: 182_380,
            instances: 1,
            warmup: 182 * NS_PER_S,
            wall: std::time::Duration::from_millis(8_440),
        };
        assert_eq!(
            progress_line(&run),
            "  long-polling      182,380 clients on 1 instance(s), warm-up 3.03 min: 8.4 s"
        );
    }
}
