//! The shared model every layer speaks: a system call ([`Call`]), what a
//! policy decides for it ([`Action`], [`Verdict`]), and what became of it
//! ([`Record`]). A leaf: it imports nothing else of fi's, so `arch`,
//! `tracee`, `policy`, `engine` and `output` all build on it.

use std::time::Duration;

use syscalls::{Errno, Sysno};

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
        Call::name_of(self.nr)
    }

    /// The name of syscall number `nr` (`write`), or `syscall_NR`.
    pub fn name_of(nr: i64) -> String {
        usize::try_from(nr)
            .ok()
            .and_then(Sysno::new)
            .map(|s| s.name().to_string())
            .unwrap_or_else(|| format!("syscall_{nr}"))
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
    /// Call `Policy::on_exit` for this call once it has run.
    pub want_exit: bool,
    /// The policy wrote to the tracee's memory while deciding (a path
    /// buffer, a struct the call reads): the call is tampered with even if
    /// nothing else changed.
    pub wrote_memory: bool,
    /// Log this call, with its result, even if nothing changed it.
    pub log: bool,
    /// Kill every traced process with SIGKILL once this call has returned
    /// (a crash: no exit handler runs, no buffer is flushed).
    pub kill_after: bool,
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
        log: false,
        kill_after: false,
    };

    /// A verdict with this action and no modifiers.
    pub fn action(action: Action) -> Verdict {
        Verdict {
            action,
            ..Verdict::PASS
        }
    }
}

/// A policy's answer once a call it asked to see has returned, beside the
/// result it may have changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExitVerdict {
    /// The policy wrote to the tracee's memory (what the call returned
    /// through a buffer, say), which a changed result does not show.
    pub wrote_memory: bool,
    /// Make this call too, in the same thread, before the caller goes on
    /// (its `pid` and `tid` are the caller's): the policy then sees it
    /// return, and what it leaves as the result is what the caller sees.
    pub then: Option<Call>,
}

impl ExitVerdict {
    /// Nothing beside the result: no memory written, no call to make.
    pub const KEEP: ExitVerdict = ExitVerdict {
        wrote_memory: false,
        then: None,
    };

    /// The policy wrote to the tracee's memory, or did not.
    pub fn wrote_memory(wrote_memory: bool) -> ExitVerdict {
        ExitVerdict {
            wrote_memory,
            then: None,
        }
    }
}

/// What a backend can do with a call beyond letting it run, and what a
/// policy may ask of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Rewrite a call's number or arguments before it runs.
    pub rewrite: bool,
    /// Stop a call at its exit, so that policies see and change its result.
    pub results: bool,
    /// Hold a thread after its call ran (`delay_exit=`).
    pub delay_exit: bool,
}

impl Capabilities {
    /// Everything a ptrace backend can do.
    pub const ALL: Capabilities = Capabilities {
        rewrite: true,
        results: true,
        delay_exit: true,
    };

    /// The first of `needed` that these capabilities lack, by name.
    pub fn missing(&self, needed: &Capabilities) -> Option<&'static str> {
        [
            (needed.rewrite && !self.rewrite, "rewriting arguments"),
            (needed.results && !self.results, "seeing results"),
            (needed.delay_exit && !self.delay_exit, "delaying exits"),
        ]
        .into_iter()
        .find_map(|(lacking, what)| lacking.then_some(what))
    }
}

/// How a policy needs to see the calls of one syscall it subscribed to: what
/// lets the engine choose, per syscall, the cheapest way to reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// A full stop: the policy may rewrite the call, see or change its
    /// result, hold it after it ran or write the caller's memory.
    Stop,
    /// The policy decides at entry only: pass, fail, return a value, hold
    /// the call before it runs, deliver a signal (what a seccomp
    /// user notification can answer). It may read the caller's memory.
    Entry {
        /// It may let a call it changed (held, signalled, asked to log) run,
        /// whose real result only an exit stop shows.
        passes_changed: bool,
    },
    /// Every call gets this action and nothing else, whatever the call, its
    /// thread or how many came before: a seccomp filter can answer it.
    Constant(Action),
}

/// What became of one decided call: the typed form of a log line, kept in a
/// session's [`Outcome`](crate::session::Outcome).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The call as it ran (after rewrites); its `pid` and `tid` name the caller.
    pub call: Call,
    /// The call as the program made it.
    pub original: Call,
    /// The entry action the policies chose.
    pub action: Action,
    /// The result the caller saw (negative errno on failure), if fi saw it:
    /// `None` for a call that never returned (exit, a kill) or whose exit
    /// fi did not stop.
    pub result: Option<i64>,
    /// Whether fi set or changed the result.
    pub injected: bool,
    /// Total time the thread was held.
    pub delay: Duration,
    /// Signals fi delivered to the thread.
    pub signals: Vec<i32>,
    /// The policies that changed something, by name, in chain order.
    pub policies: Vec<String>,
}

impl Record {
    /// Whether any policy changed anything about this call.
    pub fn tampered(&self) -> bool {
        self.injected
            || self.call != self.original
            || !self.delay.is_zero()
            || !self.signals.is_empty()
            || !self.policies.is_empty()
    }

    /// The errno the caller saw, if the call failed.
    pub fn errno(&self) -> Option<Errno> {
        self.result
            .filter(|r| (-4095..0).contains(r))
            .map(|r| Errno::new(-r as i32))
    }
}
