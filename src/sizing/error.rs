//! Why `rtsim size` could not answer: the experiment cannot be sized at all
//! ([`SizingError`]), or one technique's search could not finish ([`SearchError`]).

use crate::scenario::Technique;
use crate::units::human;

/// `rtsim size` failed.
#[derive(Debug, thiserror::Error)]
pub enum SizingError {
    #[error(
        "`rtsim size` sizes the steady state of identical instances, but this experiment \
         has {count} scheduled [[faults]]: a crash makes the instances unequal (its clients \
         herd onto the others), so neither a representative instance nor per-instance \
         limits from totals would be exact. Remove [[faults]] to size it, and use \
         `rtsim run` to study the crash."
    )]
    ScheduledFaults { count: usize },
    /// The problem is part of the message, so it is not also a `source` (a chain printer
    /// would say it twice).
    #[error("sizing {technique}: {problem}")]
    Technique {
        technique: Technique,
        problem: SearchError,
    },
    #[error(transparent)]
    Run(#[from] crate::runner::RunError),
}

/// One technique's search could not finish.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{clients} clients do not fit one simulation")]
    TooManyClients { clients: u64 },
    #[error(
        "a sizing run of {clients} clients on {instances} instance(s) would take \
         ~{} events (limit {}); shorten duration/warm-up or raise the per-instance \
         limits' realism",
        human::count(*events),
        human::count(*limit)
    )]
    RunTooLarge {
        clients: u64,
        instances: u32,
        events: f64,
        limit: f64,
    },
    #[error(
        "no deployment of {first}..{last} instances keeps every limit although one instance \
         holds {max_clients} clients; the search is not monotone here (noisy p99?)"
    )]
    NotMonotone {
        first: u32,
        last: u32,
        max_clients: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_technique_failure_names_the_technique_and_the_problem() {
        let e = SizingError::Technique {
            technique: Technique::LongPolling,
            problem: SearchError::RunTooLarge {
                clients: 1_000_000,
                instances: 1,
                events: 3_708_100_000.0,
                limit: 2e9,
            },
        };
        assert_eq!(
            e.to_string(),
            "sizing long-polling: a sizing run of 1000000 clients on 1 instance(s) would take \
             ~3,708,100,000 events (limit 2,000,000,000); shorten duration/warm-up or raise \
             the per-instance limits' realism"
        );
        let e = SearchError::NotMonotone {
            first: 2,
            last: 10,
            max_clients: 7000,
        };
        assert_eq!(
            e.to_string(),
            "no deployment of 2..10 instances keeps every limit although one instance holds \
             7000 clients; the search is not monotone here (noisy p99?)"
        );
    }

    #[test]
    fn faults_are_refused_with_the_reason() {
        let e = SizingError::ScheduledFaults { count: 2 };
        let text = e.to_string();
        assert!(text.contains("has 2 scheduled [[faults]]"), "{text}");
        assert!(
            text.ends_with("use `rtsim run` to study the crash."),
            "{text}"
        );
    }
}
