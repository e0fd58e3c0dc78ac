//! The one seam every decision passes through.
//!
//! A [`Policy`] sees a subscribed system call when it enters and, if it asked
//! to, when it exits. strace-style rules ([`crate::rules`]) and WebAssembly
//! plugins ([`crate::wasm`]) are its two implementations; [`chain::Chain`]
//! runs several of them in command-line order.

pub mod chain;

use std::path::Path;

use syscalls::{Sysno, SysnoSet};

pub use crate::model::{Action, Call, Capabilities, ExitVerdict, Need, Verdict};
use crate::tracee::Tracee;

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

/// The files whose descriptors' calls a policy decides
/// ([`Policy::fd_paths`]).
pub trait FdPaths {
    /// Whether calls on a descriptor of the file at `path` (absolute, as
    /// `/proc/PID/fd` shows it) may be decided.
    fn holds(&self, path: &Path) -> bool;
}

/// A decision maker for system calls.
pub trait Policy {
    /// The name the user gave this policy (`short-write`, `-e inject=...`).
    fn name(&self) -> &str;

    /// The syscalls this policy wants to see; the tracer stops no others.
    fn subscription(&self) -> SysnoSet;

    /// What this policy may ask of the backend (rewriting arguments, seeing
    /// results, delaying exits). A chain that needs more than a backend can
    /// do is refused before anything runs. Everything, unless a policy
    /// knows better.
    fn needs(&self) -> Capabilities {
        Capabilities::ALL
    }

    /// How this policy needs to see the calls of `sysno`, one of its
    /// subscription: the engine answers a constant in the kernel, decides
    /// entry-only calls through a seccomp user notification, and stops the
    /// rest with ptrace. A full stop, unless a policy knows better.
    fn need(&self, sysno: Sysno) -> Need {
        let _ = sysno;
        Need::Stop
    }

    /// The files whose descriptors' calls this policy decides, when it
    /// decides calls on a file descriptor by the path of its file alone and
    /// passes untouched those on any other file: then the engine need not
    /// stop a process's fd calls until it opens such a file. `None`, unless
    /// a policy knows better: any fd call may matter.
    fn fd_paths(&self) -> Option<&dyn FdPaths> {
        None
    }

    /// Decide `call` before it runs. Rewrite it by changing `call`: its
    /// arguments, or its number to run another call in its place (which
    /// needs a ptrace stop: not for calls decided at entry only,
    /// [`Need::Entry`]).
    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError>;

    /// See, and possibly change, the raw `result` (negative errno on failure)
    /// of a call that ran, when [`Verdict::want_exit`] asked for it; and
    /// say whether the policy wrote to the tracee's memory, or wants
    /// another call made before the caller goes on
    /// ([`ExitVerdict::then`]), whose exit this is called for in turn.
    fn on_exit(
        &mut self,
        call: &Call,
        result: &mut i64,
        tracee: &Tracee,
    ) -> Result<ExitVerdict, PolicyError> {
        let _ = (call, result, tracee);
        Ok(ExitVerdict::KEEP)
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

    /// The policy wrote its own account of the run to the log (a plugin's
    /// log lines, such as `count`'s table). Having changed no call is then
    /// no news: fault gives no "changed no call" warning for it.
    fn reported(&self) -> bool {
        false
    }

    /// Thread `tid` has ended (or changed its id in an exec); forget any state
    /// kept for it, since the kernel may give the id to a new thread.
    fn thread_exited(&mut self, tid: i32) {
        let _ = tid;
    }

    /// A thread of process `pid` was killed by `signal` (each thread of a
    /// killed process reports it, just before [`Policy::thread_exited`]).
    fn thread_killed(&mut self, pid: i32, signal: i32) {
        let _ = (pid, signal);
    }

    /// The traced program has ended.
    fn finish(&mut self) {}
}
