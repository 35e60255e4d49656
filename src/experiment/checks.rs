//! The rules a value must pass on its own, named by the parameter table (`check rule` in
//! `scenario.rs` and `schema.rs`).
//!
//! Each rule takes the located value and its dotted key, and points at the value when it
//! fails. Rules that need two keys (a warm-up no longer than the run, a memory limit above
//! the base memory…) are cross-field checks and live in `validate.rs`.

use crate::scenario::{Backoff, Retention, Rtt};
use crate::units::text::{format_duration, format_size};

use super::error::Problem;
use super::schema::Val;
use super::values::{Dur, OffDur, Size};

/// Most clients one run may have.
pub(crate) const MAX_CLIENTS: u64 = 100_000_000;
/// Most replications.
pub(crate) const MAX_REPLICATIONS: u32 = 1000;
/// Estimated bytes of simulator state per client.
pub(crate) const CLIENT_STATE_BYTES: u64 = 200;
/// Estimated pending events per client, and bytes per pending event.
pub(crate) const EVENTS_PER_CLIENT: u64 = 2;
pub(crate) const EVENT_BYTES: u64 = 64;
/// Largest estimated memory of one run.
pub(crate) const MEMORY_CAP: u64 = 16 << 30;

/// A duration above zero.
pub(crate) fn positive(v: &Val<Dur>, key: &str) -> Result<(), Problem> {
    if v.v.0 == 0 {
        Err(Problem::new(&v.loc, "a duration above zero", "\"0s\"").for_key(key))
    } else {
        Ok(())
    }
}

/// The shortest a timer may be: a delay, an interval or a period below it makes the
/// simulated world take thousands of steps per client per millisecond, or loop at one
/// instant (a retry of zero while the network is down) — no real client, browser or
/// server runs timers this short, and a run of it would never end in useful time.
pub(crate) const MIN_TIMER: crate::engine::Nanos = crate::engine::NS_PER_MS;
/// Why [`MIN_TIMER`] (the help line of its errors).
const MIN_TIMER_WHY: &str = "shorter timers than 1ms have no physical counterpart here and would \
     make the simulated world loop at one instant or take millions of steps per second";

/// A duration of at least [`MIN_TIMER`] (zero is reported as "above zero").
pub(crate) fn at_least_1ms(v: &Val<Dur>, key: &str) -> Result<(), Problem> {
    positive(v, key)?;
    if v.v.0 < MIN_TIMER {
        return Err(Problem::new(
            &v.loc,
            "a duration of at least 1ms",
            format!("\"{}\"", format_duration(v.v.0)),
        )
        .for_key(key)
        .help(MIN_TIMER_WHY));
    }
    Ok(())
}

/// A duration of at least [`MIN_TIMER`], or `"off"`.
pub(crate) fn at_least_1ms_or_off(v: &Val<OffDur>, key: &str) -> Result<(), Problem> {
    positive_or_off(v, key)?;
    match v.v.0 {
        Some(d) if d < MIN_TIMER => Err(Problem::new(
            &v.loc,
            "a duration of at least 1ms, or \"off\"",
            format!("\"{}\"", format_duration(d)),
        )
        .for_key(key)
        .help(MIN_TIMER_WHY)),
        _ => Ok(()),
    }
}

/// A duration of at least [`MIN_TIMER`], when the key is written at all.
pub(crate) fn at_least_1ms_if_set(v: &Val<Option<Dur>>, key: &str) -> Result<(), Problem> {
    match v.v {
        Some(d) => at_least_1ms(
            &Val {
                v: d,
                loc: v.loc.clone(),
            },
            key,
        ),
        None => Ok(()),
    }
}

/// A size of at most 64 KiB: a body or message the model treats as one small write.
pub(crate) fn at_most_64kib(v: &Val<Size>, key: &str) -> Result<(), Problem> {
    if v.v.0 > 64 * 1024 {
        return Err(
            Problem::new(&v.loc, "a size of at most 64KiB", format!("{} B", v.v.0)).for_key(key),
        );
    }
    Ok(())
}

/// A duration above zero, when the key is written at all.
pub(crate) fn positive_if_set(v: &Val<Option<Dur>>, key: &str) -> Result<(), Problem> {
    match v.v {
        Some(d) => positive(
            &Val {
                v: d,
                loc: v.loc.clone(),
            },
            key,
        ),
        None => Ok(()),
    }
}

/// A duration above zero, or `"off"`.
pub(crate) fn positive_or_off(v: &Val<OffDur>, key: &str) -> Result<(), Problem> {
    if v.v.0 == Some(0) {
        Err(
            Problem::new(&v.loc, "a duration above zero, or \"off\"", "\"0s\"")
                .for_key(key)
                .help("write \"off\" to turn it off"),
        )
    } else {
        Ok(())
    }
}

/// At least one of `what` (an instance, a core…).
pub(crate) fn at_least_one<T: Copy + Into<u64>>(
    v: &Val<T>,
    key: &str,
    what: &str,
) -> Result<(), Problem> {
    if v.v.into() == 0 {
        Err(Problem::new(&v.loc, format!("at least 1 {what}"), "0").for_key(key))
    } else {
        Ok(())
    }
}

/// Most cores per instance: the largest two-socket servers sold today have 384 cores (768
/// hardware threads); a simulated core costs a free-at time in a heap per instance.
pub(crate) const MAX_CORES: u32 = 1024;
/// Most instances: beyond any single deployment rtsim is meant to size.
pub(crate) const MAX_INSTANCES: u32 = 100_000;
/// Most backplane nodes (see `world/backplane.rs`).
pub(crate) const MAX_BACKPLANE_NODES: u32 = crate::world::backplane::MAX_NODES;

/// A backplane node's capacity: unlimited, or a finite rate of at least one message per
/// second (below that an update would hold a node for longer than any run).
pub(crate) fn backplane_capacity(
    v: &Val<crate::scenario::BackplaneCapacity>,
    key: &str,
) -> Result<(), Problem> {
    match v.v.per_second() {
        Some(c) if !(c >= 1.0 && c.is_finite()) => Err(Problem::new(
            &v.loc,
            "\"unlimited\", a backplane preset or a finite rate of at least 1 message per second",
            c.to_string(),
        )
        .for_key(key)),
        _ => Ok(()),
    }
}

/// Tabs a user may keep (`[workload] tabs`): a user's connections and streams are
/// counted in a byte each (`world/pool.rs`).
pub(crate) const MAX_TABS: u32 = 100;

/// Largest `[server] max_concurrent_streams` (RFC 9113 lets it go to 2^31 − 1; beyond a
/// user's tabs × 2 it changes nothing here).
pub(crate) const MAX_CONCURRENT_STREAMS: u32 = 1_000_000;

/// From 1 to `max` of something counted (`what`: "core", "instance").
pub(crate) fn count_in(v: &Val<u32>, key: &str, what: &str, max: u32) -> Result<(), Problem> {
    at_least_one(v, key, what)?;
    if v.v > max {
        let grouped = crate::units::human::thousands(f64::from(max));
        Err(Problem::new(
            &v.loc,
            format!("a whole number of {what}s from 1 to {grouped}"),
            v.v.to_string(),
        )
        .for_key(key))
    } else {
        Ok(())
    }
}

/// Largest payload of one update: far above any real push message (managed gateways cap
/// a message at 32 KiB to 1 MiB), and small enough that bytes summed over the largest
/// accepted run (10^10 events) stay far below the 64-bit counters' limit.
pub(crate) const MAX_PAYLOAD: u64 = 64 << 20;
/// Largest header or handshake: servers refuse request heads above 8–64 KiB.
pub(crate) const MAX_HEAD: u64 = 1 << 20;

/// A message size of at most `max` bytes (see [`MAX_PAYLOAD`], [`MAX_HEAD`]).
pub(crate) fn at_most_bytes(v: &Val<Size>, key: &str, max: u64) -> Result<(), Problem> {
    if v.v.0 > max {
        Err(Problem::new(
            &v.loc,
            format!("at most {}", format_size(max)),
            format!("\"{}\"", format_size(v.v.0)),
        )
        .for_key(key)
        .help("one message this large has no counterpart on a real wire; bytes per second scale linearly with it, so a smaller value and a multiplication give the same answer"))
    } else {
        Ok(())
    }
}

/// From 1 to [`MAX_CLIENTS`] clients, and a run that fits in [`MEMORY_CAP`] of simulator
/// memory (`clients × (200 B of client state + 2 pending events × 64 B)`; the message
/// states the estimate).
pub(crate) fn clients_fit(clients: &Val<u32>, key: &str) -> Result<(), Problem> {
    let n = u64::from(clients.v);
    if n == 0 || n > MAX_CLIENTS {
        return Err(Problem::new(
            &clients.loc,
            "a whole number of clients from 1 to 100,000,000",
            clients.v.to_string(),
        )
        .for_key(key));
    }
    let estimate = n * (CLIENT_STATE_BYTES + EVENTS_PER_CLIENT * EVENT_BYTES);
    if estimate > MEMORY_CAP {
        return Err(Problem::new(
            &clients.loc,
            format!(
                "a run that fits in about {} of simulator memory",
                format_size(MEMORY_CAP)
            ),
            format!(
                "{n} clients, an estimated {:.1} GiB ({n} × ({CLIENT_STATE_BYTES} B of \
                 client state + {EVENTS_PER_CLIENT} pending events × {EVENT_BYTES} B))",
                estimate as f64 / f64::from(1u32 << 30)
            ),
        )
        .title("this run would need too much memory")
        .help("use fewer clients; results per client scale, see `rtsim size`"));
    }
    Ok(())
}

/// From 1 to [`MAX_REPLICATIONS`].
pub(crate) fn replications_in_range(reps: &Val<u32>, key: &str) -> Result<(), Problem> {
    if reps.v == 0 || reps.v > MAX_REPLICATIONS {
        return Err(Problem::new(
            &reps.loc,
            format!("from 1 to {MAX_REPLICATIONS} replications"),
            reps.v.to_string(),
        )
        .for_key(key));
    }
    Ok(())
}

/// A rate above 0 per second.
/// Clients joining per second: finite and above zero.
pub(crate) fn join_rate(rate: &Val<f64>, key: &str) -> Result<(), Problem> {
    if !(rate.v > 0.0 && rate.v.is_finite()) {
        return Err(Problem::new(
            &rate.loc,
            "a finite rate above 0 clients per second",
            rate.v.to_string(),
        )
        .for_key(key));
    }
    Ok(())
}

pub(crate) fn rate_above_zero(rate: &Val<f64>, key: &str) -> Result<(), Problem> {
    if rate.v <= 0.0 {
        return Err(
            Problem::new(&rate.loc, "a rate above 0 per second", rate.v.to_string()).for_key(key),
        );
    }
    Ok(())
}

/// A retention of some time or some updates.
pub(crate) fn retention_above_zero(retention: &Val<Retention>, key: &str) -> Result<(), Problem> {
    if matches!(retention.v, Retention::Duration(0) | Retention::Count(0)) {
        return Err(Problem::new(&retention.loc, "a positive duration or count", "0").for_key(key));
    }
    Ok(())
}

/// A fraction above 0 and at most 1.
pub(crate) fn fraction(u: &Val<f64>, key: &str) -> Result<(), Problem> {
    if !(u.v > 0.0 && u.v <= 1.0) {
        return Err(
            Problem::new(&u.loc, "a fraction above 0 and at most 1", u.v.to_string()).for_key(key),
        );
    }
    Ok(())
}

/// The name of a built-in price table (`models/pricing/`), if set.
pub(crate) fn price_table_if_set(name: &Val<Option<String>>, key: &str) -> Result<(), Problem> {
    match &name.v {
        Some(n) if !crate::sizing::pricing::NAMES.contains(&n.as_str()) => Err(Problem::new(
            &name.loc,
            format!(
                "the name of a price table of models/pricing/: {}",
                crate::sizing::pricing::NAMES.join(", ")
            ),
            format!("{n:?}"),
        )
        .for_key(key)),
        _ => Ok(()),
    }
}

/// The largest share of instances `[target] survive_loss` may lose at once: beyond it
/// the plan needs ~1 ÷ (1 − f) times the instances (100× at 0.99).
pub const MAX_SURVIVE_LOSS: f64 = 0.99;

/// A share of instances lost at once, above 0 and at most [`MAX_SURVIVE_LOSS`], if set.
pub(crate) fn fraction_if_set(u: &Val<Option<f64>>, key: &str) -> Result<(), Problem> {
    match u.v {
        Some(f) if !(f > 0.0 && f <= MAX_SURVIVE_LOSS) => Err(Problem::new(
            &u.loc,
            "a fraction above 0 and at most 0.99 (the share of instances lost at once; \
             losing more needs over 100 times the instances)",
            f.to_string(),
        )
        .for_key(key)),
        _ => Ok(()),
    }
}

/// The largest price accepted, dollars per instance-hour, node-hour or GB: far above any
/// cloud's list price, low enough that a month of 10^5 instances stays a finite number.
pub const MAX_PRICE: f64 = 10_000.0;

/// A price from 0 to [`MAX_PRICE`] dollars, when the key is written at all.
pub(crate) fn cost_if_set(cost: &Val<Option<f64>>, key: &str) -> Result<(), Problem> {
    match cost.v {
        Some(c) if !(0.0..=MAX_PRICE).contains(&c) => Err(Problem::new(
            &cost.loc,
            "a price in dollars from 0 to 10,000",
            c.to_string(),
        )
        .for_key(key)),
        _ => Ok(()),
    }
}

/// The largest `[target] max_new_connections_per_s` accepted.
pub const MAX_CONNECTION_CAP: f64 = 1e9;

/// New connections per second above 0 (a cap of 0 would refuse every connection), when
/// the key is written at all.
pub(crate) fn connection_cap_if_set(cap: &Val<Option<f64>>, key: &str) -> Result<(), Problem> {
    match cap.v {
        Some(c) if !(c > 0.0 && c <= MAX_CONNECTION_CAP) => Err(Problem::new(
            &cap.loc,
            "new connections per second above 0 and at most 10^9 (leave the key out for \
             no cap)",
            c.to_string(),
        )
        .for_key(key)),
        _ => Ok(()),
    }
}

/// A column name (not blank).
pub(crate) fn column_name(v: &Val<String>, key: &str) -> Result<(), Problem> {
    if v.v.trim().is_empty() {
        return Err(Problem::new(&v.loc, "a column name", "an empty string").for_key(key));
    }
    Ok(())
}

/// A round-trip time above zero, or a log-normal with a positive median, a non-negative
/// sigma and bounds in order.
pub(crate) fn valid_rtt(rtt: &Val<Rtt>, key: &str) -> Result<(), Problem> {
    let bad =
        |expected: &str, found: String| Err(Problem::new(&rtt.loc, expected, found).for_key(key));
    match rtt.v {
        Rtt::Constant(0) => bad("a round-trip time above zero", "\"0s\"".into()),
        Rtt::Constant(_) => Ok(()),
        Rtt::LogNormal {
            median,
            sigma,
            min,
            max,
        } => {
            if median == 0 {
                return bad("a median above zero", "median = \"0s\"".into());
            }
            if sigma < 0.0 {
                return bad("sigma of 0 or more", format!("sigma = {sigma}"));
            }
            if let (Some(lo), Some(hi)) = (min, max) {
                if lo > hi {
                    return bad(
                        "min no larger than max",
                        format!(
                            "min = \"{}\", max = \"{}\"",
                            format_duration(lo),
                            format_duration(hi)
                        ),
                    );
                }
            }
            if max.is_some_and(|m| m == 0) {
                return bad("a max above zero", "max = \"0s\"".into());
            }
            Ok(())
        }
    }
}

/// A first delay of at least [`MIN_TIMER`], a cap no shorter than it, a jitter from 0 to 1.
pub(crate) fn valid_backoff(b: &Val<Backoff>, key: &str) -> Result<(), Problem> {
    let v = &b.v;
    if v.initial == 0 {
        return Err(
            Problem::new(&b.loc, "an initial delay above zero", "initial = \"0s\"").for_key(key),
        );
    }
    if v.initial < MIN_TIMER {
        return Err(Problem::new(
            &b.loc,
            "an initial delay of at least 1ms",
            format!("initial = \"{}\"", format_duration(v.initial)),
        )
        .for_key(key)
        .help(MIN_TIMER_WHY));
    }
    if v.max < v.initial {
        return Err(Problem::new(
            &b.loc,
            "max at least as long as initial",
            format!(
                "initial = \"{}\", max = \"{}\"",
                format_duration(v.initial),
                format_duration(v.max)
            ),
        )
        .for_key(key));
    }
    if !(0.0..=1.0).contains(&v.jitter) {
        return Err(
            Problem::new(&b.loc, "a jitter from 0 to 1", v.jitter.to_string()).for_key(key),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::human::thousands;

    /// The README's key list states each count's upper bound as the checks enforce it.
    #[test]
    fn the_readme_states_the_upper_bounds() {
        let readme = include_str!("../../README.md").replace("\n  ", " ");
        for said in [
            format!("`tabs` [1, at most {}:", thousands(f64::from(MAX_TABS))),
            format!(
                "a browser queues requests beyond it; at most {}]",
                thousands(f64::from(MAX_CONCURRENT_STREAMS))
            ),
            format!(
                "`backplane_nodes` [1, at most {}:",
                thousands(f64::from(MAX_BACKPLANE_NODES))
            ),
        ] {
            assert!(readme.contains(&said), "README.md does not say {said}");
        }
    }
}
