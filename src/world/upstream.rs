//! Chat upstream: messages a client sends as HTTP POSTs on its UPSTREAM connection.
//!
//! Each client has an outbox. A message stays queued until its POST is answered, so a
//! POST lost with its connection is sent again — unless it had already reached the
//! server, which must not publish it twice. One POST is outstanding at a time.

use std::collections::VecDeque;

use crate::engine::Nanos;
use crate::scenario::{Backoff, Pattern, Scenario};

#[derive(Default)]
struct Outbox {
    /// Creation times of the messages waiting to be POSTed, oldest first.
    queue: VecDeque<Nanos>,
    /// The outstanding POST reached the server (it must not be sent again).
    accepted: bool,
}

pub(super) struct Upstream {
    /// One per client with chat, none otherwise.
    outboxes: Vec<Outbox>,
    /// How long a refused POST connection waits before trying again.
    retry: Backoff,
    /// Bytes of one POST on the wire (headers and the message), and of its message.
    post_bytes: u64,
    payload: u64,
    /// CPU the server spends on one POST.
    request_cpu: Nanos,
}

impl Upstream {
    pub fn new(sc: &Scenario) -> Self {
        let outboxes = if sc.workload.pattern == Pattern::Chat {
            (0..sc.workload.clients)
                .map(|_| Outbox::default())
                .collect()
        } else {
            Vec::new()
        };
        Upstream {
            outboxes,
            retry: sc.workload.post_retry.clone(),
            post_bytes: sc.network.request_header_bytes + sc.workload.payload,
            payload: sc.workload.payload,
            request_cpu: sc.server.request_cpu,
        }
    }

    pub fn retry(&self) -> &Backoff {
        &self.retry
    }

    /// Bytes of a POST on the wire, and the message's part of them.
    pub fn post_bytes(&self) -> (u64, u64) {
        (self.post_bytes, self.payload)
    }

    pub fn request_cpu(&self) -> Nanos {
        self.request_cpu
    }

    /// A message created at `created` waits to be sent.
    pub fn queue(&mut self, c: u32, created: Nanos) {
        self.outboxes[c as usize].queue.push_back(created);
    }

    /// The message to POST next, if any.
    pub fn next(&self, c: u32) -> Option<Nanos> {
        self.outboxes.get(c as usize)?.queue.front().copied()
    }

    /// Its POST leaves (again).
    pub fn sending(&mut self, c: u32) {
        self.outboxes[c as usize].accepted = false;
    }

    /// Its POST reached the server.
    pub fn accepted(&mut self, c: u32) {
        self.outboxes[c as usize].accepted = true;
    }

    /// Its POST was answered: the message is sent.
    pub fn answered(&mut self, c: u32) {
        let outbox = &mut self.outboxes[c as usize];
        outbox.queue.pop_front();
        outbox.accepted = false;
    }

    /// The connection broke with the POST outstanding: if the server had it, only its
    /// answer is lost — the message is sent all the same.
    pub fn broke_outstanding(&mut self, c: u32) {
        if self.outboxes[c as usize].accepted {
            self.answered(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat() -> Upstream {
        let mut sc = Scenario::reference();
        sc.workload.pattern = Pattern::Chat;
        sc.workload.clients = 2;
        Upstream::new(&sc)
    }

    #[test]
    fn a_message_stays_queued_until_its_post_is_answered() {
        let mut u = chat();
        u.queue(1, 10);
        u.queue(1, 20);
        u.sending(1);
        assert_eq!(u.next(1), Some(10));
        u.broke_outstanding(1); // lost before the server had it: sent again
        assert_eq!(u.next(1), Some(10));
        u.accepted(1);
        u.broke_outstanding(1); // the server had it: not sent twice
        assert_eq!(u.next(1), Some(20));
        u.sending(1);
        u.answered(1);
        assert_eq!(u.next(1), None);
        assert_eq!(u.next(0), None);
    }

    #[test]
    fn without_chat_there_is_nothing_to_send() {
        let mut sc = Scenario::reference();
        sc.workload.pattern = Pattern::Broadcast;
        let u = Upstream::new(&sc);
        assert_eq!(u.next(0), None);
    }
}
