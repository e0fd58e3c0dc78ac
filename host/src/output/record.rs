//! What the log is given of one decided call: [`CallRecord`].

use std::time::Duration;

use crate::model::{Action, Call, Record};
use crate::tracee::Tracee;

/// Everything fi knows about one decided call once it is done.
pub struct CallRecord<'a> {
    /// The thread that made it.
    pub tracee: Tracee,
    /// The call as it ran (after rewrites).
    pub call: &'a Call,
    /// The call as the program made it.
    pub original: &'a Call,
    /// The entry action the policies chose.
    pub action: Action,
    /// The result the caller saw, if fi saw it.
    pub result: Option<i64>,
    /// Whether fi set or changed the result.
    pub injected: bool,
    /// Total time the thread was held, in nanoseconds.
    pub delay_ns: u128,
    /// Signals fi delivered.
    pub signals: &'a [i32],
    /// The policies that changed something, by name.
    pub policies: &'a [&'a str],
    /// A policy asked for this call to be logged even if nothing changed it.
    pub logged: bool,
    /// The wall time from its entry's decision to its return (delays
    /// included), when fi saw it return.
    pub took: Option<Duration>,
}

impl CallRecord<'_> {
    /// Whether any policy changed anything about this call.
    pub fn tampered(&self) -> bool {
        self.injected || self.call != self.original || self.delay_ns > 0 || !self.signals.is_empty()
    }

    /// The record as owned data, for a run's outcome.
    pub fn to_record(&self) -> Record {
        Record {
            call: *self.call,
            original: *self.original,
            action: self.action,
            result: self.result,
            injected: self.injected,
            delay: Duration::from_nanos(self.delay_ns as u64),
            signals: self.signals.to_vec(),
            policies: self.policies.iter().map(|name| name.to_string()).collect(),
        }
    }
}
