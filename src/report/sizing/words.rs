//! The sentences of `rtsim size`: verdicts, cost, failover and deploy lines, what each
//! resource and method means, a row's notes, and the progress lines of the search.

use super::*;
use crate::sizing::pricing::{Bound, ManagedCost};

/// The CSV spelling of a failover verdict: `survives`, `fails`, `not-checked`.
pub fn verdict_name(survived: Option<bool>) -> &'static str {
    match survived {
        Some(true) => "survives",
        Some(false) => "fails",
        None => "not-checked",
    }
}

/// The monthly cost split, self-hosted and managed, in words.
pub fn cost_text(r: &Sizing) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(total) = r.monthly_cost {
        let planned = r
            .failover
            .as_ref()
            .map_or(r.instances_needed, |f| Some(f.instances()));
        let split = [
            r.instance_cost.map(|c| match planned {
                Some(k) => format!("{} for {k} instance{}", money(c), plural(k)),
                None => format!("{} instances", money(c)),
            }),
            r.egress_cost.map(|c| format!("{} egress", money(c))),
            r.backplane_cost.map(|c| format!("{} backplane", money(c))),
        ];
        let split: Vec<String> = split.into_iter().flatten().collect();
        // Nothing to price without a backplane (one instance, or an unlimited one).
        let unpriced = if r.backplane.is_some() && r.backplane_cost.is_none() {
            "; the backplane is not priced"
        } else {
            ""
        };
        parts.push(format!(
            "self-hosted {} a month ({}{unpriced})",
            money(total),
            split.join(" + ")
        ));
    }
    if let Some(m) = &r.managed {
        let connections = if m.connections_priced {
            money(m.connections_cost)
        } else {
            "not priced".to_string()
        };
        let egress = if m.egress_priced {
            money(m.egress_cost)
        } else {
            "not priced".to_string()
        };
        let mut caveats = Vec::new();
        if let Some(because) = &m.lower_bound_because {
            caveats.push(format!("a lower bound: {because}"));
        }
        if !m.egress_priced {
            caveats.push(
                "a lower bound: egress is billed on top, priced only with \
                 bandwidth_cost_per_gb"
                    .to_string(),
            );
        }
        if m.beyond_first_tier > 0.0
            && let Some(price) = m.beyond_first_tier_per_million
        {
            caveats.push(format!(
                "{} of the messages beyond the first tier at its lower price, ${price:.2} per \
                 million",
                human::count(m.beyond_first_tier)
            ));
        } else if m.beyond_first_tier > 0.0 {
            caveats.push(format!(
                "an upper bound: the first tier's price for all messages, though {} of them \
                 are beyond it and cost less",
                human::count(m.beyond_first_tier)
            ));
        }
        let caveats = if caveats.is_empty() {
            String::new()
        } else {
            format!(" — {}", caveats.join("; "))
        };
        parts.push(format!(
            "bought from {}: {} a month ({} messages {} + {} connection-minutes {} + \
             egress {} + base {}){caveats}",
            m.service,
            managed_money(m),
            human::count(m.messages_per_month),
            money(m.messages_cost),
            human::count(m.connection_minutes_per_month),
            connections,
            egress,
            money(m.base_cost)
        ));
        if let Some(quota) = m.max_new_connections_per_s {
            let h = m.handshakes_per_s(r.handshakes_per_s);
            let closes = m.max_connection_duration_s.map_or(String::new(), |d| {
                format!(
                    "{} closes every connection after {}, so ",
                    m.service,
                    human::duration(d, true)
                )
            });
            parts.push(format!(
                "{closes}the deployment bought from {} opens {} new connections/s, {} its \
                 quota of {}/s per account and region{}",
                m.service,
                human::count(h),
                if h > quota { "ABOVE" } else { "within" },
                human::count(quota),
                if h > quota {
                    ": it refuses the rest whatever the price (ask for a raise)"
                } else {
                    ""
                }
            ));
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A managed total with how far it holds: "≥ $83,550" (a lower bound), "≤ …" (an upper
/// bound), "~…" (neither).
pub fn managed_money(m: &ManagedCost) -> String {
    let prefix = match m.bound() {
        Bound::Exact => "",
        Bound::Lower => "≥ ",
        Bound::Upper => "≤ ",
        Bound::Neither => "~",
    };
    format!("{prefix}{}", money(m.total()))
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The backplane as a resource in words: whether it runs out before the instances, how
/// many nodes it needs at the target utilization (`None` without a finite backplane).
pub fn backplane_text(r: &Sizing, target_utilization: f64) -> Option<String> {
    let b = r.backplane.as_ref()?;
    let nodes = |n: u32| format!("{n} node{}", if n == 1 { "" } else { "s" });
    let load = format!(
        "{} messages/s: each update published once and delivered to {} instance{}, at {} \
         messages/s per node",
        human::count(b.messages_per_s),
        b.subscribers,
        if b.subscribers == 1 { "" } else { "s" },
        human::count(b.capacity_per_node)
    );
    let head = if b.binds {
        "the backplane, not the instances, runs out first: "
    } else {
        "backplane: "
    };
    Some(match b.nodes_needed {
        Some(s) => format!(
            "{head}{} at {} ({load}); {} needed at {}",
            nodes(b.nodes),
            human::percent(b.utilization),
            nodes(s),
            human::percent(target_utilization)
        ),
        None => format!(
            "{head}one stream alone needs {} of a node ({load}), and a stream lives on one \
             node: no number of nodes carries it at {}",
            human::percent(b.stream_utilization),
            human::percent(target_utilization)
        ),
    })
}

/// The redundancy check in words (the line under the table).
pub fn failover_text(r: &Sizing) -> Option<String> {
    let asked = match (r.redundancy.spares(), r.survive_loss) {
        (_, Some(f)) => format!("survive losing {} of the instances", human::percent(f)),
        (k, None) => format!(
            "{} ({k} spare{})",
            r.redundancy.name(),
            if k == 1 { "" } else { "s" }
        ),
    };
    Some(match r.failover.as_ref()? {
        FailoverCheck::TooLarge { failure, events } => format!(
            "{asked}: {} instances planned, not checked: the failure run would take ~{} \
             events",
            failure.instances,
            human::count(*events)
        ),
        FailoverCheck::Checked { plan, storm, tried } => {
            let f = storm.failure;
            let broke = tried.first().map_or(String::new(), |first| {
                format!(
                    " ({} broken; p99 {}, {} handshakes/s at peak)",
                    first
                        .failed_on
                        .map_or("unserved clients", |res| resource_meaning(res)),
                    human::duration(first.latency_p99_s, false),
                    human::count(first.handshakes_per_s_peak)
                )
            });
            let verdict = match (storm.failed_on, f.instances > plan.instances) {
                (None, false) => format!(
                    "{} instances; losing {} at steady state, the survivors hold the target",
                    f.instances, f.lost
                ),
                (None, true) => format!(
                    "{} instances planned, but losing {} of them broke the target{broke}, so \
                     the plan adds {}: with {} the survivors hold it",
                    plan.instances,
                    plan.lost,
                    f.instances - plan.instances,
                    f.instances
                ),
                (Some(res), _) if !res.instances_help() => format!(
                    "FAILS: with {} instances, losing {} at steady state: {}; more instances \
                     cannot help ({})",
                    f.instances,
                    f.lost,
                    resource_meaning(res),
                    remedy(res)
                ),
                (Some(res), _) if storm.late_without_load => format!(
                    "FAILS: with {} instances, losing {} at steady state breaks {} on the \
                     survivors while their CPU stays under the target: the clients' own \
                     reconnect delay, not load, makes the storm's updates late; more \
                     instances cannot help (a shorter retry or backoff, or a looser target)",
                    f.instances,
                    f.lost,
                    resource_meaning(res)
                ),
                (Some(res), _) => format!(
                    "FAILS: with {} instances, losing {} at steady state breaks {} on the \
                     survivors (tried {} to {} instances)",
                    f.instances,
                    f.lost,
                    resource_meaning(res),
                    plan.instances,
                    f.instances
                ),
            };
            format!(
                "{asked}: {verdict}. Storm after the crash: {} handshakes/s at peak, \
                 survivors' CPU {} at peak ({} mean over the window), CPU queue wait {} \
                 mean, p99 {} (max {})",
                human::count(storm.handshakes_per_s_peak),
                human::percent(storm.cpu_peak),
                human::percent(storm.cpu_mean),
                human::duration(storm.queue_wait_mean_s, false),
                human::duration(storm.latency_p99_s, false),
                human::duration(storm.latency_max_s, false),
            )
        }
    })
}

/// The deploy check in words (the line under the table).
pub fn deploy_text(r: &Sizing) -> Option<String> {
    let check = r.deploy.as_ref()?;
    let d = check.deploy();
    let asked = format!(
        "rolling deploy (drain {}, {})",
        human::duration(d.drain as f64 / 1e9, false),
        if d.jitter {
            "closes jittered over it"
        } else if d.drain == 0 {
            "every connection cut at once"
        } else {
            "every connection cut at its end"
        }
    );
    Some(match check {
        DeployCheck::TooLarge {
            instances, events, ..
        } => format!(
            "{asked} on {instances} instances: not checked, the deploy run would take ~{} events",
            human::count(*events)
        ),
        DeployCheck::Checked { storm, .. } => {
            let k = storm.failure.instances;
            let verdict = match storm.failed_on {
                None if k == 1 => "survives".to_string(),
                None => format!("on {k} instances, one out at a time, the others hold the target"),
                Some(res) if !res.instances_help() => format!(
                    "FAILS on {k} instance{}: {}; more instances cannot help ({})",
                    if k == 1 { "" } else { "s" },
                    resource_meaning(res),
                    remedy(res)
                ),
                Some(res) if k == 1 => format!(
                    "FAILS: with one instance a deploy is downtime ({} broken)",
                    resource_meaning(res)
                ),
                Some(res) if storm.late_without_load => format!(
                    "FAILS: on {k} instances the storm breaks {} while the CPU stays under \
                     the target: the clients' own reconnect delay, not load, makes the \
                     drained instance's updates late; more instances cannot help (a shorter \
                     retry or backoff, or a looser target)",
                    resource_meaning(res)
                ),
                Some(res) => format!(
                    "FAILS: on {k} instances the storm breaks {}",
                    resource_meaning(res)
                ),
            };
            format!(
                "{asked}: {verdict}. Storm: {} handshakes/s at peak, CPU {} at peak, CPU \
                 queue wait {} mean, p99 {}",
                human::count(storm.handshakes_per_s_peak),
                human::percent(storm.cpu_peak),
                human::duration(storm.queue_wait_mean_s, false),
                human::duration(storm.latency_p99_s, false),
            )
        }
    })
}

/// The CSV spelling of a resource.
pub fn resource_name(r: Resource) -> &'static str {
    match r {
        Resource::Slots => "slots",
        Resource::Memory => "memory",
        Resource::Cpu => "cpu",
        Resource::Latency => "latency",
        Resource::Unserved(Cause::ReconnectWithoutResume) => "lost-on-reconnect",
        Resource::Unserved(Cause::SessionEnd) => "lost-at-session-end",
        Resource::Unserved(Cause::Retention) => "lost-from-retention",
        Resource::Unserved(Cause::StalledTabs) => "stalled-tabs",
    }
}

/// What running out of a resource means, for people.
pub(super) fn resource_meaning(r: Resource) -> &'static str {
    match r {
        Resource::Slots => "connection slots (max_connections)",
        Resource::Memory => "memory (memory_limit)",
        Resource::Cpu => "CPU at the target utilization",
        Resource::Latency => "the p99 latency target",
        Resource::Unserved(Cause::ReconnectWithoutResume) => {
            "updates lost by reconnects without resume (a WebSocket without `resume` \
             starts again from \"now\", and what was sent while it was away is gone)"
        }
        Resource::Unserved(Cause::SessionEnd) => {
            "updates lost when sessions end (what a leaving user had pending)"
        }
        Resource::Unserved(Cause::Retention) => {
            "updates lost from the server's retention before their clients came back"
        }
        Resource::Unserved(Cause::StalledTabs) => {
            "updates never delivered to the tabs the browser stalled (tabs beyond its \
             connections per origin receive nothing)"
        }
    }
}

/// What fixes a cause more instances cannot.
pub(super) fn remedy(r: Resource) -> &'static str {
    match r {
        Resource::Unserved(Cause::ReconnectWithoutResume) => "[websocket] resume = true",
        Resource::Unserved(Cause::SessionEnd) => "replay on rejoin, or longer sessions",
        Resource::Unserved(Cause::Retention) => "a longer [server] retention",
        Resource::Unserved(Cause::StalledTabs) => "HTTP/2, or fewer tabs per user",
        _ => "more instances",
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
        Note::Unserved {
            cause,
            p99_s,
            clients,
        } => format!(
            "no instance count meets the target: {} even with {} clients per instance and \
             every limit held, whatever the load, so more instances cannot help ({}); the \
             delivered updates' p99 is {}",
            resource_meaning(Resource::Unserved(cause)),
            human::thousands(clients as f64),
            remedy(Resource::Unserved(cause)),
            human::duration(p99_s, false)
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
        Note::OverConnectionCap {
            handshakes_per_s,
            cap,
            storm,
        } => format!(
            "{} {} new connections/s, above the cap of {}/s (max_new_connections_per_s): \
             the gateway refuses the rest whatever the instance count",
            if storm {
                "the failover storm peaks at"
            } else {
                "the steady state needs"
            },
            human::count(handshakes_per_s),
            human::count(cap)
        ),
        Note::SettledByDeployment {
            instances,
            clients_per_instance,
            limiting,
            predicted,
            clients,
        } => format!(
            "{} instances of {} clients each hold the target, and that run's own linear \
             prediction ({} runs out at ~{} clients per instance) leaves {} short of {} \
             clients even 10% above it, so the count is settled without simulating one \
             instance near its limit: max_clients_per_instance is the deployment's share",
            instances,
            human::thousands(clients_per_instance as f64),
            resource_name(limiting),
            human::thousands(predicted.floor()),
            match instances - 1 {
                1 => "one instance".to_string(),
                k => format!("{k} instances"),
            },
            human::thousands(clients as f64)
        ),
        Note::AtCap {
            clients,
            held,
            closest,
            predicted,
        } => format!(
            "one instance holds all {} clients, so the search stopped there: nothing runs \
             out yet, {} is the closest to its limit, and max_clients_per_instance is at \
             least {} ({}predicts ~{} by slots, memory and CPU)",
            human::thousands(clients as f64),
            resource_name(closest),
            human::thousands(held as f64),
            if held > clients {
                "the pilot's run of that many held, and "
            } else {
                "the pilot run "
            },
            human::thousands(predicted.floor())
        ),
    }
}

/// A row's notes in words, one sentence: the `note` column.
pub fn notes_text(notes: &[Note]) -> String {
    notes.iter().map(note_text).collect::<Vec<_>>().join("; ")
}

/// The line of one finished sizing simulation (stderr): what it was, its wall time and,
/// where the platform says, its CPU time (what it cost on a shared machine), and its
/// events.
pub fn progress_line(run: &Simulated) -> String {
    let cpu = run
        .cost
        .cpu
        .map_or(String::new(), |c| format!("{:.1} s CPU, ", c.as_secs_f64()));
    format!(
        "  {:13} {:>11} clients on {} instance(s), warm-up {:>5}: {:.1} s ({cpu}{} events)",
        run.technique.name(),
        human::thousands(run.clients as f64),
        run.instances,
        human::duration(secs(run.warmup), true),
        run.cost.wall.as_secs_f64(),
        human::thousands(run.cost.events as f64),
    )
}

/// The line of a round of sizing simulations (stderr): its runs and their estimated
/// events, then the whole sizing's: estimated events planned so far (the runs done, this
/// round's and the ones the searches will most likely ask for later) and done, and the
/// ETA from them ([`crate::sizing::progress::Overall`]).
pub fn round_line(
    round: u32,
    runs: usize,
    events: f64,
    overall: &Overall,
    elapsed_s: f64,
) -> String {
    format!(
        "round {round}: {runs} run(s), ~{} events; overall ~{} of ~{} events done in {}, ETA ~{}",
        human::count(events),
        human::count(overall.done()),
        human::count(overall.planned()),
        human::duration(elapsed_s, true),
        human::duration(overall.eta_s(elapsed_s).max(0.1), true),
    )
}

/// The overall progress bar's message: the share of the estimated events done and the
/// ETA.
pub fn overall_message(overall: &Overall, elapsed_s: f64) -> String {
    let share = if overall.planned() > 0.0 {
        overall.done() / overall.planned()
    } else {
        0.0
    };
    format!(
        "~{} of ~{} events ({}), ETA ~{}",
        human::count(overall.done()),
        human::count(overall.planned()),
        human::percent(share),
        human::duration(overall.eta_s(elapsed_s).max(0.1), true),
    )
}
