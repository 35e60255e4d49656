//! `rtsim trace FILE`: one short run of a few clients, every message on its lane, as
//! text, Mermaid or SVG (`crate::report::trace`).

use super::*;

// ------------------------------------------------------------------- trace

/// Most clients a trace follows: beyond this a sequence diagram is unreadable.
const TRACE_MAX_CLIENTS: u32 = 50;
/// Longest simulated span a trace covers.
const TRACE_MAX_UNTIL: std::time::Duration = std::time::Duration::from_secs(600);

pub(super) fn trace(a: args::TraceArgs) -> Result<(), Failure> {
    use crate::report::trace as render;
    use crate::scenario::Technique;
    if a.clients == 0 || a.clients > TRACE_MAX_CLIENTS {
        return Err(usage(anyhow!(
            "--clients {}: a trace follows 1 to {TRACE_MAX_CLIENTS} clients \
             (it is a tiny run for reading message by message; use `rtsim run` for load)",
            a.clients
        )));
    }
    if a.until.is_zero() || a.until > TRACE_MAX_UNTIL {
        return Err(usage(anyhow!(
            "--until {}: a trace covers more than 0 and at most 10min of simulated time",
            humantime::format_duration(a.until)
        )));
    }
    let exp = load(&a.file, &a.set)?;
    let technique = match &a.technique {
        None => exp.base.technique,
        Some(name) => Technique::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Technique::ALL.iter().map(|t| t.name()).collect();
            usage(anyhow!(
                "--technique {name}: expected one of {}",
                names.join(", ")
            ))
        })?,
    };
    let mut sc = exp.base.clone();
    sc.technique = technique;
    sc.workload.clients = a.clients;
    sc.warmup = 0;
    sc.duration = a.until.as_nanos() as u64;
    sc.replication = 0;
    within_budget([&sc], a.allow_large)?;
    let (_, trace) = crate::sim::simulate_traced(&sc, interrupt_flag()).map_err(|e| match e {
        crate::sim::SimError::Interrupted => Failure {
            status: EXIT_INTERRUPTED,
            error: anyhow!("interrupted; nothing was written"),
        },
        stuck => usage(stuck),
    })?;
    let options = render::TraceOptions::for_scenario(&sc);
    let text = match a.format {
        args::TraceFormat::Text => render::text(&trace, &options),
        args::TraceFormat::Mermaid => render::mermaid(&trace, &options),
        args::TraceFormat::Svg => render::svg(&trace, &options),
    };
    match &a.out {
        Some(path) => report::write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
        None => output::write_stdout(format_args!("{text}"))?,
    }
    Ok(())
}
