//! What happens next in a run: the events the world schedules, and the small codes a
//! technique's own timers, requests and frames travel as inside them.
//!
//! An event is plain data, 24 bytes, allocation-free: at 10^6 clients there are millions
//! of them pending. Its target is typed by its variant — a client's step names the
//! client and the connection slot, a publish names the stream, a crash the instance —
//! and a technique's enums ride along as one byte ([`Code`]), decoded back into the
//! technique's own type before the technique sees them.

use crate::engine::Nanos;

/// A client's connection slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Slot {
    /// Polls, the long poll, the SSE stream or the WebSocket.
    Main = 0,
    /// Chat POSTs, for the techniques that need a separate request to send (a browser
    /// would open a second connection for them too).
    Upstream = 1,
}

impl Slot {
    pub const BOTH: [Slot; 2] = [Slot::Main, Slot::Upstream];

    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A technique's own event type (a timer, a request, a frame) as one byte in an event.
pub trait Code: Copy {
    fn code(self) -> u8;
    /// The value [`Code::code`] gave `code` (only ever called on such a byte).
    fn from_code(code: u8) -> Self;
}

/// Declares a fieldless enum whose values travel as [`Code`]s.
macro_rules! codes {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $crate::world::Code for $name {
            #[inline]
            fn code(self) -> u8 {
                self as u8
            }
            #[inline]
            fn from_code(code: u8) -> Self {
                $(if code == $name::$variant as u8 {
                    return $name::$variant;
                })+
                unreachable!("{} is not a code of {}", code, stringify!($name))
            }
        }
    };
}
pub(crate) use codes;

/// For a technique without events of some type (no server timers, no frames): no value
/// exists, so none is ever scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Never {}

impl Code for Never {
    fn code(self) -> u8 {
        match self {}
    }
    fn from_code(_: u8) -> Self {
        unreachable!("no event carries a value of an empty type")
    }
}

/// What a response tells the client, as the world interprets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// The answer to a poll or long poll, covering the stream up to its position.
    Updates,
    /// The answer to a chat POST.
    Posted,
    /// A proxy's 504 Gateway Timeout.
    GatewayTimeout,
}

/// Why a client's attempt was refused, as the client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The connection itself failed (no slot or memory: a reset; or the client's
    /// network is down): to a browser, a network error.
    Reset,
    /// The server answered `503 Service Unavailable` (no memory for another held
    /// request or stream): an HTTP answer, not a network error.
    Unavailable,
}

impl Refusal {
    /// The refusal an event's `arg` carries.
    pub(super) fn from_arg(arg: u64) -> Refusal {
        if arg == 1 {
            Refusal::Unavailable
        } else {
            Refusal::Reset
        }
    }

    pub(super) fn arg(self) -> u64 {
        match self {
            Refusal::Reset => 0,
            Refusal::Unavailable => 1,
        }
    }
}

/// How a connection broke, as the client learns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Break {
    /// Announced by a reset or close (a crash, the proxy): learned at once.
    Clean,
    /// Announced by nothing (the network dropped): found by heartbeats or errors.
    Silent,
}

/// One step of a client's life on one of its connection slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// The client starts (its random start phase has come).
    Start,
    /// A SYN reaches the load balancer.
    Syn,
    /// The client learns its connection attempt was refused.
    Refused,
    /// The handshake is done at the client: it may send its first request.
    Ready,
    /// A technique's request reaches the server (its code; `arg` = its argument).
    Request(u8),
    /// A chat POST reaches the server (`arg` = the message's creation time).
    ChatPost,
    /// The server finished a response and it leaves (`arg` = stream position covered).
    Depart(Response),
    /// A response reaches the client.
    Response(Response),
    /// Pushed events reach the client (`arg` = stream position covered).
    Push,
    /// A technique's frame from the client reaches the server (its code).
    Frame(u8),
    /// A technique's client timer (its code; void once the client's timers are cancelled).
    ClientTimer(u8),
    /// A technique's server timer on the MAIN connection (its code).
    ServerTimer(u8),
    /// An idle connection's keep-alive or the proxy's idle timer may have run out
    /// (`arg` = the due time it was scheduled for).
    IdleCheck,
    /// The client learns its connection broke (`arg` = when it broke).
    Broken(Break),
    /// A draining instance closes this connection (a deploy's jittered close).
    Drained,
    /// Retry a refused UPSTREAM connection (not cancelled with the client's timers).
    UpstreamRetry,
    /// The user's session ends; a new user takes the client's place (churn).
    Leave,
    /// A gateway closes the connection for its age (`max_connection_duration`).
    GatewayCloses,
}

/// An event about one client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ClientEvent {
    pub client: u32,
    pub slot: Slot,
    pub step: Step,
    /// Generation of the connection (or of the client's timers) when scheduled: an event
    /// whose generation is stale was cancelled.
    pub generation: u32,
    pub arg: u64,
}

/// What happens next in the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Event {
    /// The merged Poisson update (or chat message) process fires.
    UpdateTick,
    /// A periodic source fires: the broadcast stream (0), or the client whose stream it
    /// is or who sends (per-client, chat).
    SourceTick { source: u32 },
    /// An update becomes visible at the servers.
    Publish {
        stream: u32,
        sender: u32,
        created: Nanos,
    },
    /// A chat message reaches the backplane (one with queues): it joins its node's queue.
    BackplaneEnter {
        stream: u32,
        sender: u32,
        created: Nanos,
    },
    /// The merged per-client network-drop process fires.
    Drop,
    /// An instance crashes (a scheduled fault).
    Crash { instance: u32, downtime: Nanos },
    /// A crashed instance is back.
    Restart { instance: u32 },
    /// A deploy (the scenario's fault number `fault`) drains an instance: it admits no
    /// new connection and closes its open ones within the drain period.
    Drain { instance: u32, fault: u32 },
    /// The drain period is over: the instance closes what is left and stops for
    /// `downtime`.
    DrainEnd { instance: u32, downtime: Nanos },
    /// A step of one client.
    Client(ClientEvent),
}

// 24 bytes, no more (see the module note).
const _: () = assert!(std::mem::size_of::<Event>() == 24);

impl ClientEvent {
    #[inline]
    pub fn new(client: u32, slot: Slot, step: Step, generation: u32, arg: u64) -> ClientEvent {
        ClientEvent {
            client,
            slot,
            step,
            generation,
            arg,
        }
    }
}

impl Event {
    #[inline]
    pub fn client(client: u32, slot: Slot, step: Step, generation: u32, arg: u64) -> Event {
        Event::Client(ClientEvent::new(client, slot, step, generation, arg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    codes! {
        enum Sample { A, B, C }
    }

    #[test]
    fn codes_round_trip() {
        for s in [Sample::A, Sample::B, Sample::C] {
            assert_eq!(Sample::from_code(s.code()), s);
        }
    }
}
