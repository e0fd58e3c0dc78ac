//! `delay`: chosen calls run late, or return late.
//!
//! The calling thread is kept stopped for `enter=` before the call runs and
//! for `exit=` after it ran; other threads go on. Without either key, calls
//! are delayed by 10ms on entry.

use std::time::Duration;

use fi_sdk::{Call, Config, ConfigError, Description, Policy, Subscription, Trigger, Verdict};

struct Delay {
    enter: Duration,
    exit: Duration,
    trigger: Trigger,
}

impl Policy for Delay {
    fn describe() -> Description {
        Description::new("delay", "Delay system calls before they run or after")
            .key(
                "syscalls",
                "calls to delay: names, numbers or %classes, comma-separated; default write",
            )
            .key(
                "enter",
                "delay before the call runs (10ms, 1.5s); default 10ms without exit=",
            )
            .key("exit", "delay after the call ran; default none")
            .keys(Trigger::KEYS)
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let syscalls = config.list("syscalls")?.unwrap_or(vec!["write"]);
        let (enter, exit) = match (config.duration("enter")?, config.duration("exit")?) {
            (None, None) => (Duration::from_millis(10), Duration::ZERO),
            (enter, exit) => (enter.unwrap_or_default(), exit.unwrap_or_default()),
        };
        let policy = Delay {
            enter,
            exit,
            trigger: Trigger::from_config(config)?,
        };
        // Only a delay after the call needs its exit stop.
        let subscription = if policy.exit.is_zero() {
            Subscription::syscalls(syscalls).entry_only()
        } else {
            Subscription::syscalls(syscalls)
        };
        Ok((policy, subscription))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        if !self.trigger.fires(call) {
            return Verdict::pass();
        }
        Verdict::pass()
            .delay_enter(self.enter)
            .delay_exit(self.exit)
    }

    fn thread_exited(&mut self, tid: i32) {
        self.trigger.forget_thread(tid);
    }
}

fi_sdk::export_policy!(Delay);
