//! The one seam every decision passes through.
//!
//! A [`Policy`] sees a subscribed system call when it enters and, if it asked
//! to, when it exits. strace-style rules ([`crate::rules`]) and WebAssembly
//! plugins ([`crate::wasm`]) are its two implementations; [`chain::Chain`]
//! runs several of them in command-line order.

pub mod chain;

use std::time::Duration;

use syscalls::{Errno, Sysno, SysnoSet};

use crate::tracee::Tracee;

/// One system call as a traced thread made it (or as earlier policies
/// rewrote it). Policies rewrite a call by changing `nr` or `args`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// Process (thread group) id of the caller.
    pub pid: i32,
    /// Thread id of the caller.
    pub tid: i32,
    /// The x86_64 system call number.
    pub nr: i64,
    /// The six argument registers: rdi, rsi, rdx, r10, r8, r9.
    pub args: [u64; 6],
}

impl Call {
    /// The call's number as a known syscall, if it is one.
    pub fn sysno(&self) -> Option<Sysno> {
        usize::try_from(self.nr).ok().and_then(Sysno::new)
    }

    /// The call's name (`write`), or its number for unknown calls.
    pub fn name(&self) -> String {
        self.sysno()
            .map(|s| s.name().to_string())
            .unwrap_or_else(|| format!("syscall_{}", self.nr))
    }
}

/// What happens to a call when it enters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Action {
    /// Run the call (as rewritten, if it was).
    #[default]
    Pass,
    /// Do not run the call; it fails with this errno.
    Fail(Errno),
    /// Do not run the call; it returns this value.
    Return(i64),
}

/// A policy's answer when a call enters: an action and its modifiers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// What happens to the call.
    pub action: Action,
    /// Keep the thread stopped this long before the call runs.
    pub delay_enter: Duration,
    /// Keep the thread stopped this long after the call ran.
    pub delay_exit: Duration,
    /// Deliver this signal number to the calling thread.
    pub signal: Option<i32>,
    /// Call [`Policy::on_exit`] for this call once it has run.
    pub want_exit: bool,
    /// The policy wrote to the tracee's memory while deciding (a path
    /// buffer, a struct the call reads): the call is tampered with even if
    /// nothing else changed.
    pub wrote_memory: bool,
}

impl Verdict {
    /// Let the call run untouched.
    pub const PASS: Verdict = Verdict {
        action: Action::Pass,
        delay_enter: Duration::ZERO,
        delay_exit: Duration::ZERO,
        signal: None,
        want_exit: false,
        wrote_memory: false,
    };

    /// A verdict with this action and no modifiers.
    pub fn action(action: Action) -> Verdict {
        Verdict {
            action,
            ..Verdict::PASS
        }
    }
}

/// Why a policy could not decide a call (a plugin trapped, ran too long, ...).
#[derive(Debug, thiserror::Error)]
#[error("{policy}: {syscall}: {cause}")]
pub struct PolicyError {
    /// The policy that failed, as the user named it.
    pub policy: String,
    /// The call it was deciding.
    pub syscall: String,
    /// What went wrong.
    pub cause: String,
}

/// A decision maker for system calls.
pub trait Policy {
    /// The name the user gave this policy (`short-write`, `-e inject=...`).
    fn name(&self) -> &str;

    /// The syscalls this policy wants to see; the tracer stops no others.
    fn subscription(&self) -> SysnoSet;

    /// Decide `call` before it runs. Rewrite it by changing `call`.
    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError>;

    /// See, and possibly change, the raw `result` (negative errno on failure)
    /// of a call that ran, when [`Verdict::want_exit`] asked for it.
    /// Returns whether the policy wrote to the tracee's memory (what the
    /// call returned through a buffer, say), which a changed `result` does
    /// not show.
    fn on_exit(
        &mut self,
        call: &Call,
        result: &mut i64,
        tracee: &Tracee,
    ) -> Result<bool, PolicyError> {
        let _ = (call, result, tracee);
        Ok(false)
    }

    /// A call stopped for another stage, outside this policy's subscription:
    /// a policy may note it to explain later why it changed nothing.
    fn observe(&mut self, call: &Call, tracee: &Tracee) {
        let _ = (call, tracee);
    }

    /// Why this policy changed no call, if it can tell; asked at the end of
    /// a run in which it changed none.
    fn idle_reason(&self) -> Option<String> {
        None
    }

    /// Thread `tid` has ended (or changed its id in an exec); forget any state
    /// kept for it, since the kernel may give the id to a new thread.
    fn thread_exited(&mut self, tid: i32) {
        let _ = tid;
    }

    /// The traced program has ended.
    fn finish(&mut self) {}
}
