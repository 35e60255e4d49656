//! The clients' records: what every event touches in one cache line (hot), the rest
//! beside it (cold), and the UPSTREAM connections only in runs that send on them.
//!
//! At 10^6+ clients nearly every event is a cache miss on its client; the fewer lines an
//! event touches, the fewer misses. So the parts do not each keep a table of their own:
//! each owns a field here, of a type whose insides only it can touch — the connections
//! ([`Conn`], connections and admission), the stream position ([`Feed`] and
//! [`Listening`], streams), the network ([`Link`] and [`Outage`]), the demand left
//! unserved ([`Unserved`]) — plus the generation of the client's timers and a few bytes
//! that belong to the technique (`local`). A poll, a response, a timer or a held
//! request's timeout reads and writes the hot line only: the MAIN connection, the
//! cursor and the stream's head, the round trip, the timers, the technique's state.
//! Pushes (`pushed`), listening, outages and refusals touch the cold record too.
//!
//! UPSTREAM carries chat POSTs only: a run whose clients send nothing has no array for
//! it (32 bytes per client saved), and reads its connections as closed.

use crate::world::connections::{Conn, Unserved};
use crate::world::event::Slot;
use crate::world::network::{Link, Outage};
use crate::world::streams::{Feed, Feeds, Listening};

/// What every event of a client touches: one cache line.
#[repr(C, align(64))]
pub(super) struct Hot<L> {
    /// MAIN (see [`crate::world::Slot`]).
    pub main: Conn,
    pub feed: Feed,
    pub link: Link,
    /// Generation of the client's timers: bumped to cancel them all.
    pub timers: u32,
    /// The technique's own per-client state ([`crate::world::Protocol::Local`]).
    pub local: L,
}

/// What fewer events touch: a stream's push position and place among listeners, the
/// network's outage, the refusals not yet made good.
pub(super) struct Cold {
    pub listening: Listening,
    pub outage: Outage,
    pub unserved: Unserved,
}

impl<L: Default> Hot<L> {
    /// One cache line, no more (see the module note); the technique's state must fit in
    /// what is left of it (4 bytes).
    pub const ONE_LINE: () = assert!(
        std::mem::size_of::<Hot<L>>() == 64,
        "a technique's per-client state must fit in the 4 bytes left in the client's hot line"
    );

    fn new(link: Link) -> Self {
        Hot {
            main: Conn::CLOSED,
            feed: Feed::NEW,
            link,
            timers: 0,
            local: L::default(),
        }
    }
}

// 24 bytes (see `Listening`): 240 MB at 10^7 clients.
const _: () = assert!(std::mem::size_of::<Cold>() <= 24);

/// Every client's records, indexed by client.
pub(super) struct Clients<L> {
    pub hot: Vec<Hot<L>>,
    pub cold: Vec<Cold>,
    /// Each client's UPSTREAM connection; empty when no client sends (no chat).
    upstream: Vec<Conn>,
}

impl<L: Default + 'static> Clients<L> {
    /// Records for the clients with these round trips (on huge pages: at 10^7 clients
    /// they are touched at random all over); UPSTREAM connections if `upstream`.
    pub fn new(rtts: impl ExactSizeIterator<Item = Link>, upstream: bool) -> Self {
        let n = rtts.len();
        let () = Hot::<L>::ONE_LINE;
        let mut hot = crate::engine::hugepages::huge_vec(n);
        hot.extend(rtts.map(Hot::new));
        let mut cold = crate::engine::hugepages::huge_vec(n);
        cold.extend((0..n).map(|_| Cold {
            listening: Listening::NEW,
            outage: Outage::default(),
            unserved: Unserved::default(),
        }));
        let upstream = if upstream {
            vec![Conn::CLOSED; n]
        } else {
            Vec::new()
        };
        Clients {
            hot,
            cold,
            upstream,
        }
    }
}

/// The cold records go back to the thread for its next run (`engine/hugepages.rs`);
/// the hot ones are of the technique's own type, which the next run may not share.
impl<L> Drop for Clients<L> {
    fn drop(&mut self) {
        crate::engine::hugepages::give_back(std::mem::take(&mut self.cold));
    }
}

impl<L> Clients<L> {
    #[inline]
    pub fn len(&self) -> usize {
        self.hot.len()
    }

    /// The slots a client may have a connection on: UPSTREAM only in runs that send.
    pub fn slots(&self) -> &'static [Slot] {
        if self.upstream.is_empty() {
            &Slot::BOTH[..1]
        } else {
            &Slot::BOTH
        }
    }

    #[inline]
    pub fn conn(&self, c: u32, slot: Slot) -> &Conn {
        match slot {
            Slot::Main => &self.hot[c as usize].main,
            Slot::Upstream => self.upstream.get(c as usize).unwrap_or(&Conn::CLOSED),
        }
    }

    /// The connection on `slot`. UPSTREAM only in runs that send (see
    /// [`Clients::slots`]): nothing else opens one.
    #[inline]
    pub fn conn_mut(&mut self, c: u32, slot: Slot) -> &mut Conn {
        match slot {
            Slot::Main => &mut self.hot[c as usize].main,
            Slot::Upstream => &mut self.upstream[c as usize],
        }
    }

    /// The client's stream position, both parts (for the verbs that move both).
    #[inline]
    pub fn feed_mut(&mut self, c: u32) -> (&mut Feed, &mut Listening) {
        (
            &mut self.hot[c as usize].feed,
            &mut self.cold[c as usize].listening,
        )
    }
}

impl<L> Feeds for Clients<L> {
    #[inline]
    fn feed(&mut self, c: u32) -> &mut Feed {
        &mut self.hot[c as usize].feed
    }

    #[inline]
    fn listening(&mut self, c: u32) -> &mut Listening {
        &mut self.cold[c as usize].listening
    }
}
