//! One client's record: the state of every part of the world that concerns it, side by
//! side in two cache lines.
//!
//! At 10^6 clients nearly every event is a cache miss on its client; the fewer lines a
//! client spans, the fewer misses. So the parts do not each keep a table of their own:
//! each owns a field here, of a type whose insides only it can touch — the connections
//! ([`Conn`], connections and admission), the stream position ([`Feed`], streams), the
//! network ([`Link`]), the demand left unserved ([`Unserved`]) — plus the generation of
//! the client's timers and a few bytes that belong to the technique (`local`).

use crate::world::connections::{Conn, Unserved};
use crate::world::network::Link;
use crate::world::streams::{Feed, Feeds};

#[repr(C, align(64))]
pub(super) struct Client<L> {
    /// First cache line: MAIN and UPSTREAM (see [`crate::world::Slot`]).
    pub conns: [Conn; 2],
    /// Second cache line: everything else.
    pub feed: Feed,
    pub link: Link,
    /// Generation of the client's timers: bumped to cancel them all.
    pub timers: u32,
    pub unserved: Unserved,
    /// The technique's own per-client state ([`crate::world::Protocol::Local`]).
    pub local: L,
}

impl<L: Default> Client<L> {
    /// Two cache lines, no more (see the module note); the technique's state must fit in
    /// what is left of the second.
    pub const TWO_LINES: () = assert!(
        std::mem::size_of::<Client<L>>() == 128,
        "a technique's per-client state must fit in the client's second cache line"
    );

    pub fn new(link: Link) -> Self {
        Client {
            conns: [Conn::CLOSED; 2],
            feed: Feed::NEW,
            link,
            timers: 0,
            unserved: Unserved::default(),
            local: L::default(),
        }
    }
}

impl<L> Feeds for [Client<L>] {
    #[inline]
    fn feed(&mut self, c: u32) -> &mut Feed {
        &mut self[c as usize].feed
    }
}
