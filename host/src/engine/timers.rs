//! Threads held stopped for a delay, and when to let each go.
//!
//! A delayed thread stays in its ptrace stop while the tracer goes on serving
//! every other thread, as strace does for `delay_enter=`/`delay_exit=`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// Threads to resume at given times.
#[derive(Default)]
pub struct Timers {
    queue: BinaryHeap<Reverse<(Instant, i32)>>,
}

impl Timers {
    /// Resume thread `tid` at `at`.
    pub fn hold(&mut self, tid: i32, at: Instant) {
        self.queue.push(Reverse((at, tid)));
    }

    /// How long until the next thread is due, if any is held.
    pub fn next_due(&self) -> Option<Duration> {
        self.queue
            .peek()
            .map(|Reverse((at, _))| at.saturating_duration_since(Instant::now()))
    }

    /// Take the threads whose time has come.
    pub fn take_due(&mut self) -> Vec<i32> {
        if self.queue.is_empty() {
            return Vec::new(); // without reading the clock, at every event
        }
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(Reverse((at, tid))) = self.queue.peek().copied() {
            if at > now {
                break;
            }
            self.queue.pop();
            due.push(tid);
        }
        due
    }

    /// Take every held thread, due or not.
    pub fn take_all(&mut self) -> Vec<i32> {
        self.queue.drain().map(|Reverse((_, tid))| tid).collect()
    }
}
