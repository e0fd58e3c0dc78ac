//! A policy that keeps state per thread, as `When` does: it counts each
//! thread's `write` calls, and when fi says a thread has ended it logs
//! `thread TID exited after N writes` and forgets the thread, so a new thread
//! given the same id would count from 1 again.

use std::collections::HashMap;

use fi_sdk::{log, Call, Config, ConfigError, Description, Policy, Subscription, Verdict};

struct Threads {
    writes: HashMap<i32, u32>,
}

impl Policy for Threads {
    fn describe() -> Description {
        Description::new("threads", "Count writes per thread, log them as threads end")
    }

    fn new(_config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let policy = Threads {
            writes: HashMap::new(),
        };
        Ok((policy, Subscription::syscalls(["write"])))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        *self.writes.entry(call.tid()).or_default() += 1;
        Verdict::pass()
    }

    fn thread_exited(&mut self, tid: i32) {
        if let Some(writes) = self.writes.remove(&tid) {
            log(&format!("thread {tid} exited after {writes} writes"));
        }
    }
}

fi_sdk::export_policy!(Threads);
