//! Message traces: every message of a (tiny) run with its simulated send and arrival
//! times, for `rtsim trace` — the seed's sequence diagrams, drawn by the simulator.
//!
//! Recording is off unless a run asks for it; then the world calls [`Trace::message`]
//! and [`Trace::note`] at every send. Labels are written the way the protocol looks on
//! the wire (`GET /messages?since=41`, `HTTP/1.1 101 Switching Protocols`, `id: 42`).

use serde::Serialize;

use crate::engine::Nanos;

/// Who sends a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Client → server.
    Up,
    /// Server → client.
    Down,
    /// Something that happens on one side (a timer, a crash, the network dropping).
    Note,
}

/// Where a note happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lane {
    Client,
    Proxy,
    Server,
}

/// Stream positions [from, to) as ids for a label: "41", "41–43" or "" (none).
pub fn ids(from: u64, to: u64) -> String {
    match to.saturating_sub(from) {
        0 => String::new(),
        1 => format!("{from}"),
        _ => format!("{from}–{}", to - 1),
    }
}

/// Stream positions [from, to) as a reply's contents: "no update", "1 update: id 41",
/// "3 updates: ids 41–43" (a bare "updates 0" read as "no updates").
pub fn updates(from: u64, to: u64) -> String {
    match to.saturating_sub(from) {
        0 => "no update".to_string(),
        1 => format!("1 update: id {from}"),
        n => format!("{n} updates: ids {from}–{}", to - 1),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceMessage {
    /// Simulated time it leaves (or happens, for a note), ns.
    pub sent: Nanos,
    /// Simulated time it arrives (equal to `sent` for a note), ns.
    pub arrives: Nanos,
    pub client: u32,
    pub direction: Direction,
    /// For notes: where it happens.
    pub lane: Lane,
    pub label: String,
}

/// The recorded messages, in the order they were sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Trace {
    pub messages: Vec<TraceMessage>,
}

impl Trace {
    pub fn message(&mut self, client: u32, up: bool, sent: Nanos, arrives: Nanos, label: String) {
        let direction = if up { Direction::Up } else { Direction::Down };
        let lane = if up { Lane::Client } else { Lane::Server };
        self.messages.push(TraceMessage {
            sent,
            arrives,
            client,
            direction,
            lane,
            label,
        });
    }

    /// A message that leaves `lane` (the proxy, when it acts on its own).
    pub fn message_from(
        &mut self,
        client: u32,
        lane: Lane,
        up: bool,
        sent: Nanos,
        arrives: Nanos,
        label: String,
    ) {
        let direction = if up { Direction::Up } else { Direction::Down };
        self.messages.push(TraceMessage {
            sent,
            arrives,
            client,
            direction,
            lane,
            label,
        });
    }

    pub fn note(&mut self, client: u32, lane: Lane, at: Nanos, label: String) {
        self.messages.push(TraceMessage {
            sent: at,
            arrives: at,
            client,
            direction: Direction::Note,
            lane,
            label,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_contents_say_how_many() {
        assert_eq!(updates(3, 3), "no update");
        assert_eq!(updates(0, 1), "1 update: id 0");
        assert_eq!(updates(41, 44), "3 updates: ids 41–43");
    }
}
