//! What a policy decides about a call.

use std::time::Duration;

use crate::bindings::fi::policy::types;
use crate::{Errno, Invocation};

/// The answer to [`Policy::on_enter`](crate::Policy::on_enter): what happens
/// to the call, plus modifiers.
///
/// Start from [`Verdict::pass`], [`Verdict::fail`], [`Verdict::ret`],
/// [`Verdict::rewrite_arg`] or [`Verdict::replace`], then chain modifiers:
///
/// ```
/// use std::time::Duration;
/// use fi_sdk::{Errno, Verdict};
///
/// let slow_failure = Verdict::fail(Errno::EIO).delay_enter(Duration::from_millis(50));
/// let short_write = Verdict::rewrite_arg(2, 10).want_exit();
/// # let _ = (slow_failure, short_write);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    action: Action,
    delay_enter: Duration,
    delay_exit: Duration,
    signal: u8,
    want_exit: bool,
    log_call: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Action {
    #[default]
    Pass,
    Fail(Errno),
    Return(i64),
    Rewrite(Vec<(u8, u64)>),
    Replace(Invocation),
}

impl Verdict {
    /// Run the call as it stands.
    pub fn pass() -> Verdict {
        Verdict::default()
    }

    /// Do not run the call; it fails with `errno`.
    pub fn fail(errno: Errno) -> Verdict {
        Verdict::with(Action::Fail(errno))
    }

    /// Do not run the call; it returns `value`.
    pub fn ret(value: i64) -> Verdict {
        Verdict::with(Action::Return(value))
    }

    /// Set argument register `index` (0 to 5) to `value`, then run the call:
    /// for example shrink a `write` count so the kernel writes fewer bytes.
    pub fn rewrite_arg(index: u8, value: u64) -> Verdict {
        Verdict::pass().and_rewrite_arg(index, value)
    }

    /// Also set argument register `index` to `value`. Turns a pass into a
    /// rewrite, and sets an argument of a replacing call; a call that fails
    /// or returns without running keeps its registers, so on those verdicts
    /// this does nothing.
    pub fn and_rewrite_arg(mut self, index: u8, value: u64) -> Verdict {
        assert!(index < 6, "a system call has arguments 0 to 5");
        match &mut self.action {
            Action::Pass => self.action = Action::Rewrite(vec![(index, value)]),
            Action::Rewrite(changes) => changes.push((index, value)),
            Action::Replace(invocation) => {
                *invocation = invocation.arg(usize::from(index), value);
            }
            Action::Fail(_) | Action::Return(_) => {}
        }
        self
    }

    /// Run `invocation` instead of the call: for example an `lseek` that
    /// moves the descriptor's offset as a `write` would have, without
    /// writing. [`Policy::on_exit`](crate::Policy::on_exit), if asked for
    /// with [`Verdict::want_exit`], sees the new call and its result and
    /// may return what the caller sees instead. Not for calls the
    /// subscription declares [entry-only](crate::Subscription::entry_only).
    pub fn replace(invocation: Invocation) -> Verdict {
        Verdict::with(Action::Replace(invocation))
    }

    /// Keep the calling thread stopped this long before the call runs.
    pub fn delay_enter(mut self, delay: Duration) -> Verdict {
        self.delay_enter = delay;
        self
    }

    /// Keep the calling thread stopped this long after the call ran.
    pub fn delay_exit(mut self, delay: Duration) -> Verdict {
        self.delay_exit = delay;
        self
    }

    /// Deliver signal number `signal` (such as 9 for `SIGKILL`) to the
    /// calling thread.
    pub fn signal(mut self, signal: u8) -> Verdict {
        self.signal = signal;
        self
    }

    /// Call [`Policy::on_exit`](crate::Policy::on_exit) once the call has
    /// run. Costs one more stop of the thread, so ask only when the result
    /// matters.
    pub fn want_exit(mut self) -> Verdict {
        self.want_exit = true;
        self
    }

    /// Have fault log this call, with its result, even if no policy changed
    /// it: a plugin that watches calls points out the ones that matter.
    pub fn log_call(mut self) -> Verdict {
        self.log_call = true;
        self
    }

    fn with(action: Action) -> Verdict {
        Verdict {
            action,
            ..Verdict::default()
        }
    }
}

/// What the caller sees once a call ran: the answer to
/// [`Policy::on_exit`](crate::Policy::on_exit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExitAction {
    /// The real result.
    #[default]
    Keep,
    /// This errno instead. The call's effects remain: a write that reached
    /// the file but reports `EIO` is a torn write.
    Fail(Errno),
    /// This value instead.
    Return(i64),
    /// Make this call too, in the same thread, before the caller goes on:
    /// for example an `lseek` that moves the descriptor's offset after a
    /// `pwrite64` wrote the bytes elsewhere. fault then calls
    /// [`Policy::on_exit`](crate::Policy::on_exit) again with that call and
    /// its result, and that answer decides what the caller sees: `Keep`
    /// shows the second call's result, so return the first one's to show
    /// it. After a call that did not run (a policy failed or returned it),
    /// this call runs in its place.
    Then(Invocation),
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl From<Verdict> for types::Verdict {
    fn from(verdict: Verdict) -> types::Verdict {
        let action = match verdict.action {
            Action::Pass => types::Action::Pass,
            Action::Fail(errno) => types::Action::Fail(errno.code()),
            Action::Return(value) => types::Action::Return(value),
            Action::Rewrite(changes) => types::Action::Rewrite(
                changes
                    .into_iter()
                    .map(|(index, value)| types::ArgChange { index, value })
                    .collect(),
            ),
            Action::Replace(invocation) => types::Action::Replace(invocation.into()),
        };
        types::Verdict {
            action,
            delay_enter_ns: nanos(verdict.delay_enter),
            delay_exit_ns: nanos(verdict.delay_exit),
            signal: (verdict.signal != 0).then_some(verdict.signal),
            want_exit: verdict.want_exit,
            log_call: verdict.log_call,
        }
    }
}

impl From<ExitAction> for types::ExitAction {
    fn from(action: ExitAction) -> types::ExitAction {
        match action {
            ExitAction::Keep => types::ExitAction::Keep,
            ExitAction::Fail(errno) => types::ExitAction::Fail(errno.code()),
            ExitAction::Return(value) => types::ExitAction::Return(value),
            ExitAction::Then(invocation) => types::ExitAction::Then(invocation.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sysno;

    #[test]
    fn builds_the_wire_verdict() {
        let v: types::Verdict = Verdict::rewrite_arg(2, 7)
            .and_rewrite_arg(3, 1)
            .delay_exit(Duration::from_millis(2))
            .signal(9)
            .want_exit()
            .log_call()
            .into();
        let types::Action::Rewrite(changes) = &v.action else {
            panic!("not a rewrite: {:?}", v.action);
        };
        assert_eq!(changes.len(), 2);
        assert_eq!((changes[1].index, changes[1].value), (3, 1));
        assert_eq!((v.delay_enter_ns, v.delay_exit_ns), (0, 2_000_000));
        assert_eq!((v.signal, v.want_exit, v.log_call), (Some(9), true, true));
        let quiet: types::Verdict = Verdict::pass().into();
        assert!(!quiet.log_call && quiet.signal.is_none());
    }

    #[test]
    fn a_replacing_call_takes_rewritten_arguments() {
        let v: types::Verdict = Verdict::replace(Invocation::new(Sysno::lseek).arg(0, 3))
            .and_rewrite_arg(1, 10)
            .want_exit()
            .into();
        let types::Action::Replace(call) = v.action else {
            panic!("not a replace: {:?}", v.action);
        };
        assert_eq!(
            (call.nr, call.args),
            (Sysno::lseek.nr(), (3, 10, 0, 0, 0, 0))
        );
        assert!(v.want_exit);
    }

    #[test]
    fn rewrite_does_not_undo_a_failure() {
        let v = Verdict::fail(Errno::EIO).and_rewrite_arg(2, 1);
        assert_eq!(v, Verdict::fail(Errno::EIO));
        assert!(matches!(
            types::Verdict::from(Verdict::ret(3)).action,
            types::Action::Return(3)
        ));
    }
}
