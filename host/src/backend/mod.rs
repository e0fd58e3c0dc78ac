//! How system calls reach the engine: the [`Backend`] seam.
//!
//! A backend stops a traced thread at the calls the engine subscribed to,
//! reports each stop as an [`Event`], and carries out what the engine decided
//! (rewrite the call, skip it with a result, change the result at exit or
//! make one more call there, resume). Everything else a traced program does (signals, group
//! stops, forks, execs of threads) the backend handles itself, so that the
//! engine sees only what a policy can decide about.
//!
//! The contract, which every backend keeps:
//! 1. After [`Event::Entry`] the thread stays stopped until the engine calls
//!    [`Backend::resume`]; before that it may call [`Backend::rewrite`] or
//!    [`Backend::skip`] (not both).
//! 2. [`Event::Exit`] arrives only for a call resumed with `stop_at_exit`,
//!    and only if the call returns; the thread then stays stopped until
//!    [`Backend::resume`], before which [`Backend::set_result`] may change
//!    what the caller sees, or [`Backend::call_again`] have the thread make
//!    one more call: resumed with `stop_at_exit`, it makes that call, which
//!    reports no ptrace [`Event::Entry`] of its own, and the next
//!    [`Event::Exit`] of the thread is that call's, with the caller's
//!    registers as they were but for the result.
//! 3. A call the engine rewrote to another number, or made with
//!    [`Backend::call_again`], meets the seccomp filter again: a user
//!    notification of it is reported as a `notified` [`Event::Entry`] of a
//!    thread whose call has not returned yet, which the engine lets run.
//! 4. A skipped call never reports an exit: the caller sees the result given
//!    to [`Backend::skip`].
//! 5. [`Event::ThreadExited`] is the last event of a thread id (until the
//!    kernel reuses it). A thread that execs from a non-leader thread takes
//!    the leader's id: [`Event::IdChanged`] says so.
//! 6. [`Backend::wait`] never waits for a child the engine did not start or
//!    attach (it never reaps the caller's own children).
//!
//! [`ptrace::PtraceBackend`] implements it twice: with a seccomp filter
//! (spawned programs, one stop per subscribed call) and with
//! `PTRACE_SYSCALL` (attached programs, two stops per call).

pub mod doorbell;
pub mod filter;
pub mod notify;
pub mod ptrace;

use std::io;
use std::time::Duration;

pub use crate::model::Capabilities;

/// How the seccomp filter sends the calls of one syscall number on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// A ptrace stop (`SECCOMP_RET_TRACE`): everything is possible.
    Trace,
    /// A user notification (`SECCOMP_RET_USER_NOTIF`): the engine lets the
    /// call run or answers it, without a ptrace stop.
    Notify,
    /// The kernel fails every call with this errno (`SECCOMP_RET_ERRNO`);
    /// fi never sees them.
    Errno(u16),
}

/// Which backend a session runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// The fastest the kernel and the policies allow: constant answers in
    /// the seccomp filter, entry-only decisions through user notification,
    /// ptrace stops for the rest (ptrace alone on kernels before 5.19).
    #[default]
    Auto,
    /// ptrace stops for every decided call (the behaviour before user
    /// notification, for comparison).
    Ptrace,
}

impl Kind {
    /// The backend named by `FI_BACKEND` (`auto`, `ptrace`), the default
    /// when it is unset or names none (what test suites run once per backend
    /// set).
    pub fn from_env() -> Kind {
        match std::env::var("FI_BACKEND").as_deref() {
            Ok("ptrace") => Kind::Ptrace,
            _ => Kind::Auto,
        }
    }
}

/// How a thread ended, as the tracer's wait saw it: an exit status above
/// 128 is an exit status, never a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// It exited with this code.
    Exit(i32),
    /// This signal killed it.
    Signal(i32),
}

/// A stop the engine must decide about, or news of a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Thread `tid` is entering a subscribed call (raw x86_64 number and
    /// argument registers). It stays stopped until resumed.
    Entry {
        /// The calling thread.
        tid: i32,
        /// The system call number.
        nr: i64,
        /// The six argument registers.
        args: [u64; 6],
        /// The call waits on a seccomp user notification, not in a ptrace
        /// stop: it may only be skipped with a result or let run
        /// ([`Backend::rewrite`] and `stop_at_exit` do nothing).
        notified: bool,
    },
    /// A call resumed with `stop_at_exit` has returned `result` (negative
    /// errno on failure). The thread stays stopped until resumed.
    Exit {
        /// The calling thread.
        tid: i32,
        /// The raw return value.
        result: i64,
    },
    /// Thread `tid` is gone, with this status.
    ThreadExited {
        /// The thread.
        tid: i32,
        /// How it ended: its exit code, or the signal that killed it.
        status: Termination,
    },
    /// Thread `former` exec'd and now has the id `tid` (its process's).
    IdChanged {
        /// The new id (the thread group leader's).
        tid: i32,
        /// The id the thread had before the exec.
        former: i32,
    },
}

/// What [`Backend::wait`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waited {
    /// Something happened.
    Event(Event),
    /// Nothing yet: the time given passed, a signal interrupted the wait, or
    /// the backend polls and wants to be asked again. The caller checks its
    /// timers and stop requests, then waits again.
    Nothing,
    /// No traced thread is left.
    NoneLeft,
}

/// How calls reach the engine. See the module documentation for the contract.
pub trait Backend {
    /// What this backend can do with a call.
    fn capabilities(&self) -> Capabilities;

    /// Wait for the next event, at most `timeout` (until one comes or a
    /// signal interrupts for `None`). `held_due`: the timeout is when a
    /// held call is due (a delay), to be kept as exactly as a timed wait of
    /// this thread keeps it; otherwise (a time limit, a look at the
    /// interrupt) a little late does no harm.
    fn wait(&mut self, timeout: Option<Duration>, held_due: bool) -> io::Result<Waited>;

    /// Replace the number and arguments of the call `tid` is entering.
    fn rewrite(&mut self, tid: i32, nr: i64, args: [u64; 6]);

    /// Do not run the call `tid` is entering: it returns `result`.
    fn skip(&mut self, tid: i32, result: i64);

    /// Change the result of the call `tid` is returning from.
    fn set_result(&mut self, tid: i32, result: i64);

    /// Thread `tid` of process `pid`, stopped at an exit, makes call `nr`
    /// with `args` once resumed (with `stop_at_exit`), through the
    /// instruction of the call that returned, before it goes on; its exit
    /// is the thread's next [`Event::Exit`], with the caller's registers as
    /// they were at the first exit but for the result. Signals that come
    /// before that call ran are delivered after it.
    fn call_again(&mut self, pid: i32, tid: i32, nr: i64, args: [u64; 6]);

    /// Let thread `tid`, stopped at an entry or exit, go on; with
    /// `stop_at_exit` (at an entry), stop it again when its call returns.
    fn resume(&mut self, tid: i32, stop_at_exit: bool);

    /// Send `signal` to thread `tid` of process `pid`.
    fn signal(&mut self, pid: i32, tid: i32, signal: i32);

    /// Thread `tid` of process `pid` is entering a call that may give the
    /// process a descriptor of a file whose fd calls a stage decides, while
    /// the filter lets such calls run unstopped
    /// ([`crate::engine::fd_scope`]): from the call's return on, stop the
    /// fd calls on the descriptor it returns in this process. Called before
    /// [`Backend::resume`] lets the call run. Nothing to do for a backend
    /// that stops every fd call.
    fn stop_fd_calls_after(&mut self, pid: i32, tid: i32) {
        let _ = (pid, tid);
    }

    /// Thread `tid` of process `pid`, stopped at the exit of a call that
    /// gave it `fd`, a copy of a descriptor of a file whose fd calls a stage
    /// decides ([`crate::engine::fd_scope`]): stop the fd calls on `fd` in
    /// this process too. Nothing to do for a backend that stops every fd
    /// call.
    fn stop_fd_calls_on(&mut self, pid: i32, tid: i32, fd: u32) {
        let _ = (pid, tid, fd);
    }

    /// Let every traced thread go, each as it was: `held` are stopped at an
    /// entry or exit and let go there; the rest are stopped first.
    fn detach_all(&mut self, held: &[i32]);

    /// Kill (SIGKILL) every traced process, those the engine has not heard
    /// from too; their ends are reported by `wait` as usual.
    fn kill_all(&mut self);

    /// The warnings for the user since the last call (a vDSO that could not
    /// be rewritten, fd calls that could not be stopped): the backend never
    /// prints, the engine writes them to the log.
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// While alive, the calling thread's timed waits end when asked, not up to
/// the kernel's default 50µs timer slack later (a thread held for a 1ms
/// delay would be held 5% longer); the thread's own slack comes back after,
/// so that processes it starts later inherit that.
pub struct ExactWakeUps {
    /// The thread's slack before, in nanoseconds.
    before: libc::c_ulong,
}

impl ExactWakeUps {
    /// Make the calling thread's timed waits exact until the guard is dropped.
    pub fn begin() -> ExactWakeUps {
        // SAFETY: prctl reads and sets the calling thread's own timer slack.
        unsafe {
            let before = libc::prctl(libc::PR_GET_TIMERSLACK) as libc::c_ulong;
            libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
            ExactWakeUps { before }
        }
    }
}

impl Drop for ExactWakeUps {
    fn drop(&mut self) {
        // SAFETY: as in `begin`.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, self.before) };
    }
}
