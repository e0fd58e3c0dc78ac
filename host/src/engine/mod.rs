//! The engine: for every call a [`Backend`] stops, asks the policy chain and
//! carries out its decision; keeps the traced threads, the calls between
//! entry and exit, the threads held for a delay, and the log.
//!
//! The engine knows nothing of ptrace: a backend reports entries and exits
//! and applies what the engine decides ([`crate::backend`]).

pub mod fd_scope;
pub mod plan;
pub mod real_dirs;
pub mod stop_signals;
mod timers;

use foldhash::{HashMap, HashSet};
use std::fs;
use std::sync::Arc;
use std::time::{Duration, Instant};

use syscalls::{Sysno, SysnoSet};

use crate::backend::{Backend, Event, ExactWakeUps, Termination, Waited};
use crate::interrupt::{self, Interrupt};
use crate::model::{Action, Call};
use crate::output::{CallRecord, Log};
use crate::policy::chain::{Chain, Decision};
use crate::policy::PolicyError;
use crate::tracee::cwd::{self, Following};
use crate::tracee::{self, Tracee};
use real_dirs::RealDirs;
use stop_signals::StopSignals;
use timers::Timers;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every traced thread is gone; the main process ended this way, if fi
    /// saw it.
    Exited(Option<Termination>),
    /// fi was asked to stop (by this signal) and let the attached processes go.
    Detached(i32),
    /// The time limit passed: fi killed every traced process.
    TimedOut,
}

/// What happens when fi itself receives SIGINT, SIGTERM or SIGHUP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStopSignal {
    /// fi does not handle them (a library caller keeps its own handlers).
    Ignore,
    /// Forward the signal to the spawned program (which decides for itself)
    /// and let every thread held in a delay go at once; once the program
    /// ended, kill what it left running (a daemon), which alone keeps the
    /// run going.
    Forward,
    /// Let every attached thread go, as it was, and end the run.
    Detach,
}

/// Where a spawned program is in its launch: strace neither tampers with
/// nor counts any call before the command's own first execve succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Launch {
    /// The command runs (or fi attached to running processes).
    Done,
    /// fi's own preparations before the command's execve run.
    Awaiting,
    /// The command's execve is running: its result says whether it started.
    Executing,
}

/// A call between its entry and its exit stop.
struct Pending {
    call: Call,
    original: Call,
    decision: Decision,
    /// The result fi set (a skipped call's, or one changed at exit).
    forced: Option<i64>,
    /// A stage had another call made at its exit ([`Backend::call_again`]),
    /// or in its place: what the caller sees is fi's doing.
    followed: bool,
    /// When its entry reached fi (the engine's `event_at` then).
    entered: Instant,
}

/// What the engine keeps per traced thread.
struct Thread {
    /// Its process (thread group) id.
    pid: i32,
    /// A decided call waiting for its exit.
    pending: Option<Pending>,
}

/// A failure that ends the run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A policy failed and `--on-plugin-error=abort` was in force.
    #[error("{0}")]
    Policy(#[from] PolicyError),
    /// Waiting for the traced threads failed.
    #[error("waiting for the traced program: {0}")]
    Wait(std::io::Error),
}

/// One run's engine over backend `B`.
pub struct Engine<'a, B: Backend> {
    backend: &'a mut B,
    chain: &'a mut Chain,
    log: Log,
    /// The calls that reach the chain and the log: the ones the stages
    /// subscribe to, and those logged though none does. The backend also
    /// reports the calls the engine watches for its own sake
    /// ([`plan::watched`]); those are neither decided nor counted.
    followed: SysnoSet,
    /// Working directories are kept between calls while the run lasts, if
    /// the chain follows them ([`plan::follows_cwd`]).
    following: Option<Following>,
    threads: HashMap<i32, Thread>,
    timers: Timers,
    /// When the event being handled reached fi: a delay counts from there,
    /// so that the time spent deciding the call is part of it.
    event_at: Instant,
    /// The process whose exit status the run returns.
    main_pid: i32,
    main_status: Option<Termination>,
    on_stop: OnStopSignal,
    stop_signals: Option<StopSignals>,
    /// When to kill every traced process, if the run has a time limit.
    deadline: Option<Instant>,
    /// The deadline passed (and every traced process was killed).
    timed_out: bool,
    /// How long the processes the program leaves running may go on once it
    /// ended ([`Engine::leftovers_for`]); `None`: until they end.
    leftovers_for: Option<Duration>,
    /// When the processes the program left running are killed.
    leftovers_until: Option<Instant>,
    /// Raised, it ends the run as the deadline would (taken when acted on).
    interrupt: Option<Arc<Interrupt>>,
    /// Every traced process was killed (the deadline passed, or a policy
    /// asked with [`Verdict::kill_after`]): a thread still making calls is
    /// killed too.
    ///
    /// [`Verdict::kill_after`]: crate::model::Verdict::kill_after
    killed: bool,
    launch: Launch,
    /// Processes already warned that fi does not see their io_uring.
    warned_of_io_uring: HashSet<i32>,
    /// The filter lets the fd calls of [`fd_scope`] run unstopped: the
    /// engine watches the calls that open files.
    fd_calls_unstopped: bool,
    /// Threads copying a descriptor of a file whose fd calls a stage
    /// decides, with their process: the copy gets an fd filter at the
    /// call's exit.
    copying_fd: HashMap<i32, i32>,
    /// The real paths of directories, kept while fd calls run unstopped
    /// and every call that could change one is seen.
    real_dirs: RealDirs,
}

impl<'a, B: Backend> Engine<'a, B> {
    /// An engine for the threads `backend` traces, whose main process is
    /// `main_pid`; `threads` are the (pid, tid) pairs already traced.
    pub fn new(
        backend: &'a mut B,
        chain: &'a mut Chain,
        log: Log,
        main_pid: i32,
        threads: &[(i32, i32)],
        on_stop: OnStopSignal,
    ) -> Engine<'a, B> {
        let threads = threads
            .iter()
            .map(|&(pid, tid)| (tid, Thread { pid, pending: None }))
            .collect();
        Engine {
            backend,
            followed: chain.subscription(),
            following: None,
            chain,
            log,
            threads,
            timers: Timers::default(),
            event_at: Instant::now(),
            main_pid,
            main_status: None,
            on_stop,
            stop_signals: None,
            deadline: None,
            timed_out: false,
            leftovers_for: None,
            leftovers_until: None,
            interrupt: None,
            killed: false,
            launch: Launch::Done,
            warned_of_io_uring: HashSet::default(),
            fd_calls_unstopped: false,
            copying_fd: HashMap::default(),
            real_dirs: RealDirs::default(),
        }
    }

    /// The filter lets some fd calls run unstopped
    /// ([`plan::unstopped_fd_calls`]): have the backend stop them in each
    /// process that opens a file they matter for ([`fd_scope`]).
    pub fn with_fd_calls_unstopped(mut self) -> Engine<'a, B> {
        self.fd_calls_unstopped = true;
        self
    }

    /// Let every call of the main process before its first successful
    /// `execve`/`execveat` (the launch of the command, and whatever fi's
    /// child does before it) pass untouched and uncounted, as strace does.
    /// The backend must report those calls of the main process.
    pub fn await_launch(mut self) -> Engine<'a, B> {
        self.launch = Launch::Awaiting;
        self
    }

    /// Log the calls of `set` too, though no stage subscribes to them (the
    /// backend reports them: `-e trace=` with `--trace`).
    pub fn logging(mut self, set: &SysnoSet) -> Engine<'a, B> {
        self.followed = self.followed.union(set);
        self
    }

    /// A stop before the launch: let it go, and watch the launch's result.
    fn before_launch(&mut self, event: Event) {
        match event {
            Event::Entry { tid, nr, .. } if tid == self.main_pid && is_exec(nr) => {
                self.launch = Launch::Executing;
                self.backend.resume(tid, true);
            }
            Event::Exit { tid, result } if tid == self.main_pid => {
                if self.launch == Launch::Executing {
                    self.launch = if result == 0 {
                        Launch::Done
                    } else {
                        Launch::Awaiting
                    };
                }
                self.backend.resume(tid, false);
            }
            Event::Entry { tid, .. } | Event::Exit { tid, .. } => self.backend.resume(tid, false),
            Event::ThreadExited { .. } | Event::IdChanged { .. } => {}
        }
    }

    /// Kill every traced process once `limit` has passed (from now).
    pub fn time_limit(mut self, limit: Option<Duration>) -> Engine<'a, B> {
        self.deadline = limit.map(|limit| Instant::now() + limit);
        self
    }

    /// Kill the processes the program leaves running (a daemon it started)
    /// once `grace` has passed after it ended; the run ends with its status.
    pub fn leftovers_for(mut self, grace: Option<Duration>) -> Engine<'a, B> {
        self.leftovers_for = grace;
        self
    }

    /// End the run as the time limit would once `interrupt` is raised.
    pub fn interrupt(mut self, interrupt: Option<Arc<Interrupt>>) -> Engine<'a, B> {
        self.interrupt = interrupt;
        self
    }

    /// Trace until every traced thread is gone, or a stop signal detaches.
    pub fn run(&mut self) -> Result<Ending, EngineError> {
        let _slack = ExactWakeUps::begin();
        let subscription = self.chain.subscription();
        self.following = plan::follows_cwd(&subscription).then(Following::begin);
        self.real_dirs =
            RealDirs::new(self.fd_calls_unstopped && real_dirs::sees_every_change(&subscription));
        if self.on_stop != OnStopSignal::Ignore {
            self.stop_signals = Some(StopSignals::accept());
        }
        loop {
            self.log_backend_warnings();
            if let Some(ending) = self.serve_stop_request() {
                return Ok(ending);
            }
            if self.interrupt.as_ref().is_some_and(|i| i.is_raised()) {
                self.interrupt = None;
                self.deadline = Some(Instant::now());
            }
            self.check_deadline();
            if self.leftovers_until.is_some_and(|at| Instant::now() >= at) {
                self.leftovers_until = None;
                self.kill_all();
            }
            for tid in self.timers.take_due() {
                self.backend.resume(tid, self.exit_pending(tid));
            }
            match self
                .backend
                .wait(self.next_wakeup(), self.timers.next_due().is_some())
            {
                Ok(Waited::Event(event)) => {
                    self.event_at = Instant::now();
                    self.handle(event)?
                }
                Ok(Waited::Nothing) => {}
                Ok(Waited::NoneLeft) => break,
                Err(e) => return Err(EngineError::Wait(e)),
            }
        }
        self.log_backend_warnings();
        if self.timed_out {
            return Ok(Ending::TimedOut);
        }
        Ok(Ending::Exited(self.main_status))
    }

    /// How long the backend may wait: until the next held thread is due,
    /// the deadline passes or it is time to look at the interrupt, whichever
    /// comes first.
    fn next_wakeup(&self) -> Option<Duration> {
        let to_deadline = self
            .deadline
            .map(|at| at.saturating_duration_since(Instant::now()));
        let to_interrupt = self.interrupt.as_ref().map(|_| interrupt::POLL);
        let to_leftovers = self
            .leftovers_until
            .map(|at| at.saturating_duration_since(Instant::now()));
        [
            self.timers.next_due(),
            to_deadline,
            to_interrupt,
            to_leftovers,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Past the deadline, kill every process fi knows of and let the held
    /// threads go, so that the kill takes effect at once.
    fn check_deadline(&mut self) {
        if self.deadline.is_none_or(|at| Instant::now() < at) {
            return;
        }
        self.deadline = None;
        self.timed_out = true;
        self.kill_all();
        for tid in self.timers.take_all() {
            self.backend.resume(tid, false);
        }
    }

    /// Act on a SIGINT/SIGTERM/SIGHUP fi received, if any.
    fn serve_stop_request(&mut self) -> Option<Ending> {
        let request = self.stop_signals.as_ref()?.take()?;
        match self.on_stop {
            OnStopSignal::Ignore => None,
            OnStopSignal::Detach => {
                let held = self.timers.take_all();
                self.backend.detach_all(&held);
                for tid in self.threads.keys().copied().collect::<Vec<_>>() {
                    self.thread_gone(tid, None);
                }
                Some(Ending::Detached(request.signal))
            }
            OnStopSignal::Forward => {
                if self.main_status.is_some() {
                    // The program ended: what it left running (a daemon) is
                    // all that keeps the run going, and it ends now.
                    self.kill_all();
                } else if !request.from_terminal {
                    // The program gets the signal, unless a terminal's Ctrl-C
                    // already reached it (it shares fi's process group).
                    // SAFETY: plain kill of the process fi spawned.
                    unsafe { libc::kill(self.main_pid, request.signal) };
                }
                // A fatal signal is not kept waiting behind a delay.
                for tid in self.timers.take_all() {
                    self.backend.resume(tid, self.exit_pending(tid));
                }
                None
            }
        }
    }

    fn handle(&mut self, event: Event) -> Result<(), EngineError> {
        // The tracee ran since the last event: its paths are to be read anew.
        tracee::forget_resolved();
        match event {
            Event::Entry { tid, nr, .. } => self.real_dirs.event(tid, Sysno::new(nr as usize)),
            Event::Exit { tid, .. } => self.real_dirs.event(tid, None),
            _ => {}
        }
        if self.launch != Launch::Done && matches!(event, Event::Entry { .. } | Event::Exit { .. })
        {
            self.before_launch(event);
            return Ok(());
        }
        match event {
            Event::Entry {
                tid,
                nr,
                args,
                notified,
            } => self.on_entry(tid, nr, args, notified),
            Event::Exit { tid, result } => {
                if let Some(following) = &self.following {
                    following.returned(tid);
                }
                if let Some(pid) = self.copying_fd.remove(&tid) {
                    if let Ok(fd) = u32::try_from(result) {
                        self.backend.stop_fd_calls_on(pid, tid, fd);
                    }
                }
                self.on_exit(tid, result)
            }
            Event::ThreadExited { tid, status } => {
                self.thread_gone(tid, Some(status));
                Ok(())
            }
            Event::IdChanged { tid, former } => {
                if let Some(following) = &self.following {
                    following.forget(former);
                    following.forget(tid);
                }
                self.real_dirs.gone(former);
                self.real_dirs.gone(tid);
                // The exec'd thread's pending execve continues under its new id.
                let pending = self.threads.remove(&former).and_then(|t| t.pending);
                self.threads.insert(tid, Thread { pid: tid, pending });
                self.chain.thread_exited(former);
                self.chain.thread_exited(tid);
                Ok(())
            }
        }
    }

    /// The thread fi knows as `tid`, learning of it if new (a new child can
    /// report before its parent's fork event does).
    fn thread(&mut self, tid: i32) -> &mut Thread {
        self.threads.entry(tid).or_insert_with(|| Thread {
            pid: thread_group_of(tid).unwrap_or(tid),
            pending: None,
        })
    }

    fn exit_pending(&self, tid: i32) -> bool {
        self.threads.get(&tid).is_some_and(|t| t.pending.is_some())
    }

    fn thread_gone(&mut self, tid: i32, status: Option<Termination>) {
        if tid == self.main_pid && status.is_some() {
            self.main_status = status;
            self.leftovers_until = self.leftovers_for.map(|grace| Instant::now() + grace);
        }
        if let Some(following) = &self.following {
            following.forget(tid);
        }
        self.real_dirs.gone(tid);
        self.copying_fd.remove(&tid);
        let thread = self.threads.remove(&tid);
        if let Some(Termination::Signal(signal)) = status {
            // A thread fi never saw stop is its own process's, as far as
            // anyone can tell now.
            let pid = thread.as_ref().map_or(tid, |thread| thread.pid);
            self.chain.thread_killed(pid, signal);
        }
        let Some(thread) = thread else {
            return;
        };
        if let Some(pending) = thread.pending {
            // The call never returned (exit, exit_group, a kill).
            self.log_call(thread.pid, tid, &pending, None, None);
            if pending.decision.kill_after {
                self.kill_all();
            }
        }
        self.chain.thread_exited(tid);
    }

    /// A subscribed call enters: ask the chain and apply its decision. A
    /// `notified` call can only be answered or let run.
    fn on_entry(
        &mut self,
        tid: i32,
        nr: i64,
        args: [u64; 6],
        notified: bool,
    ) -> Result<(), EngineError> {
        let pid = self.thread(tid).pid;
        if notified && self.exit_pending(tid) {
            // The filter's second look at the call fi rewrote to another
            // number or made at an exit: it is decided already.
            self.backend.resume(tid, false);
            return Ok(());
        }
        if self.killed {
            // A process of the tree that the kill missed (a fork in flight):
            // its call does not run.
            self.backend.kill_all();
            self.backend.skip(tid, -i64::from(libc::EINTR));
            self.backend.resume(tid, false);
            return Ok(());
        }
        let sysno = Sysno::new(nr as usize);
        let following = self.following.as_ref();
        let changes_cwd = following.is_some() && sysno.is_some_and(|s| cwd::CHANGES.contains(&s));
        if let Some(following) = following.filter(|_| changes_cwd) {
            following.entered(tid);
        }
        let original = Call { pid, tid, nr, args };
        let copies_fd = self.follows_fd_copy(&original, notified);
        if !sysno.is_some_and(|sysno| self.followed.contains(sysno)) {
            self.watch(&original, changes_cwd || copies_fd);
            return Ok(());
        }
        let tracee = Tracee { pid, tid };
        let mut call = original;
        let mut decision = self.chain.enter(&mut call, &tracee)?;
        self.report_policy_errors(&mut decision.errors);
        let rewritten = call != original;
        for &signal in &decision.signals {
            self.backend.signal(pid, tid, signal);
        }
        let mut pending = Pending {
            call,
            original,
            decision,
            forced: None,
            followed: false,
            entered: self.event_at,
        };
        let forced = match pending.decision.action {
            Action::Pass => None,
            Action::Fail(errno) => Some(-i64::from(errno.into_raw())),
            Action::Return(value) => Some(value),
        };
        if let Some(mut result) = forced {
            // The call does not run: the stages before the decider see the
            // forced result right away.
            let follow_up = self
                .chain
                .exit(&mut pending.decision, &call, &mut result, &tracee)?;
            self.report_policy_errors(&mut pending.decision.errors);
            if let Some(follow_up) = follow_up {
                return self.follow_up_in_place(pending, follow_up, notified);
            }
            self.backend.skip(tid, result);
            pending.forced = Some(result);
            self.log_call(pid, tid, &pending, Some(result), None);
            if pending.decision.kill_after {
                self.kill_all();
            }
            if let Some(following) = &self.following {
                // The call does not run: the directory stays.
                following.returned(tid);
            }
            self.copying_fd.remove(&tid);
            let hold = pending.decision.delay_enter + pending.decision.delay_exit;
            self.resume_after(tid, hold, false);
            return Ok(());
        }
        if sysno == Some(Sysno::io_uring_setup) {
            self.warn_of_io_uring(pid);
        }
        if notified {
            return self.let_notified_run(pending);
        }
        if rewritten {
            self.backend.rewrite(tid, call.nr, call.args);
        }
        // The exit stop costs as much as the entry: take it when a policy
        // wants the result, or for the log's sake (every call with --trace,
        // a tampered one otherwise) when the log keeps anything.
        let decision = &pending.decision;
        // A call given another number meets the filter again: its exit
        // tells a user notification of that second look from the thread's
        // next call.
        let wants_exit = changes_cwd
            || copies_fd
            || call.nr != original.nr
            || !decision.exit_stages.is_empty()
            || !decision.delay_exit.is_zero()
            || decision.kill_after
            || self.log.traces_all()
            || (self.log.keeps_lines() && (rewritten || decision.tampers() || decision.log));
        let delay = decision.delay_enter;
        if wants_exit {
            self.thread(tid).pending = Some(pending);
        } else {
            self.log_call(pid, tid, &pending, None, None);
        }
        self.resume_after(tid, delay, wants_exit);
        Ok(())
    }

    /// A call the engine watches for its own sake and no stage decides: a
    /// ring set up, a working directory changed or a descriptor copied
    /// (seen again at its exit: `at_exit`).
    fn watch(&mut self, call: &Call, at_exit: bool) {
        if call.sysno() == Some(Sysno::io_uring_setup) {
            self.warn_of_io_uring(call.pid);
        }
        self.stop_fd_calls_if_opening(call);
        self.backend.resume(call.tid, at_exit);
    }

    /// While fd calls run unstopped, a call about to run that may open a
    /// file they matter for has the backend stop its process's fd calls
    /// from its return on ([`fd_scope`]).
    fn stop_fd_calls_if_opening(&mut self, call: &Call) {
        if !self.fd_calls_unstopped
            || !call
                .sysno()
                .is_some_and(|sysno| fd_scope::OPENS.contains(&sysno))
        {
            return;
        }
        if fd_scope::may_open_decided_file(call, self.chain, &mut self.real_dirs) {
            self.backend.stop_fd_calls_after(call.pid, call.tid);
        }
    }

    /// While fd calls run unstopped, whether `call` (stopped with ptrace)
    /// copies a descriptor of a file whose fd calls a stage decides; if so,
    /// the copy gets an fd filter at the call's exit, which must be stopped.
    fn follows_fd_copy(&mut self, call: &Call, notified: bool) -> bool {
        if !self.fd_calls_unstopped || notified {
            return false;
        }
        let copied = fd_scope::copies_decided_fd(call, self.chain);
        if copied {
            self.copying_fd.insert(call.tid, call.pid);
        }
        copied
    }

    /// A stage asked for another call once the call it saw skipped had
    /// returned: that call runs in the skipped one's place, and the exit
    /// phase goes on at its exit. A notified call cannot be rewritten: the
    /// stage's error.
    fn follow_up_in_place(
        &mut self,
        mut pending: Pending,
        follow_up: Call,
        notified: bool,
    ) -> Result<(), EngineError> {
        let Call { tid, .. } = pending.original;
        if notified {
            self.backend.skip(tid, -i64::from(libc::ENOSYS));
            self.backend.resume(tid, false);
            return Err(self.rewrote_notified(&pending, "asked for another call after"));
        }
        self.backend.rewrite(tid, follow_up.nr, follow_up.args);
        pending.followed = true;
        let delay = pending.decision.delay_enter;
        self.thread(tid).pending = Some(pending);
        self.resume_after(tid, delay, true);
        Ok(())
    }

    /// The error of a stage that changed a notified call as only a ptrace
    /// stop allows (`did` it).
    fn rewrote_notified(&self, pending: &Pending, did: &str) -> EngineError {
        let stage = pending.decision.changed_by.last().copied().unwrap_or(0);
        EngineError::Policy(PolicyError {
            policy: self.chain.stage_name(stage).to_string(),
            syscall: pending.original.name(),
            cause: format!(
                "{did} a call it declared to decide at entry only (answered through \
                 a seccomp user notification, which cannot rewrite); run with \
                 --backend ptrace, or declare that it rewrites this call"
            ),
        })
    }

    /// Let a notified call that no stage failed run. Its policies declared
    /// it decided at entry ([`crate::model::Need::Entry`]): a rewrite is
    /// their error, and its result goes unseen.
    fn let_notified_run(&mut self, pending: Pending) -> Result<(), EngineError> {
        let Call { pid, tid, .. } = pending.original;
        let delay = pending.decision.delay_enter;
        if pending.call != pending.original {
            self.backend.resume(tid, false);
            return Err(self.rewrote_notified(&pending, "rewrote"));
        }
        self.log_call(pid, tid, &pending, None, None);
        self.stop_fd_calls_if_opening(&pending.call);
        self.resume_after(tid, delay, false);
        Ok(())
    }

    /// A decided call has returned: let the exit stages see the result.
    fn on_exit(&mut self, tid: i32, real: i64) -> Result<(), EngineError> {
        let thread = self.thread(tid);
        let pid = thread.pid;
        let Some(mut pending) = thread.pending.take() else {
            self.backend.resume(tid, false);
            return Ok(());
        };
        let mut result = real;
        let tracee = Tracee { pid, tid };
        let call = pending.call;
        let follow_up = self
            .chain
            .exit(&mut pending.decision, &call, &mut result, &tracee)?;
        self.report_policy_errors(&mut pending.decision.errors);
        if let Some(follow_up) = follow_up {
            self.backend
                .call_again(pid, tid, follow_up.nr, follow_up.args);
            pending.followed = true;
            self.thread(tid).pending = Some(pending);
            self.backend.resume(tid, true);
            return Ok(());
        }
        if result != real {
            self.backend.set_result(tid, result);
        }
        if result != real || pending.followed {
            pending.forced = Some(result);
        }
        let took = pending.entered.elapsed();
        self.log_call(pid, tid, &pending, Some(result), Some(took));
        if pending.decision.kill_after {
            self.kill_all();
        }
        let delay = pending.decision.delay_exit;
        self.resume_after(tid, delay, false);
        Ok(())
    }

    /// Kill every traced process at once with SIGKILL, as a power cut
    /// would stop them: no exit handler runs, no buffer is flushed.
    fn kill_all(&mut self) {
        self.killed = true;
        self.backend.kill_all();
    }

    /// Give the log `pending`'s record: `result` as the caller saw it and,
    /// for a call fi saw return, the time it `took` from its entry reaching
    /// fi (the decision and the delays included, as strace's `-w` counts).
    fn log_call(
        &mut self,
        pid: i32,
        tid: i32,
        pending: &Pending,
        result: Option<i64>,
        took: Option<Duration>,
    ) {
        if !self.log.keeps_records() {
            return;
        }
        let decision = &pending.decision;
        let names: Vec<&str> = decision
            .changed_by
            .iter()
            .map(|&index| self.chain.stage_name(index))
            .collect();
        let record = CallRecord {
            tracee: Tracee { pid, tid },
            call: &pending.call,
            original: &pending.original,
            action: decision.action,
            result,
            // A plugin that wrote the call's buffers changed what it
            // returned as surely as one that set its result.
            injected: pending.forced.is_some() || decision.wrote_memory,
            delay_ns: (decision.delay_enter + decision.delay_exit).as_nanos(),
            signals: &decision.signals,
            policies: &names,
            logged: decision.log,
            took,
        };
        self.log.call(&record);
    }

    /// Write the backend's warnings to the log.
    fn log_backend_warnings(&mut self) {
        for warning in self.backend.take_warnings() {
            self.log
                .note(crate::COMMAND, &format!("warning: {warning}"));
        }
    }

    /// Process `pid` sets up an io_uring (and no stage failed the call):
    /// say once that what it submits through the ring is not seen.
    fn warn_of_io_uring(&mut self, pid: i32) {
        if self.warned_of_io_uring.insert(pid) {
            self.log.note(
                crate::COMMAND,
                &format!(
                    "warning: process {pid} sets up an io_uring: the I/O it submits through \
                     the ring makes no system call, so {command} neither sees nor injects \
                     it; `-e fault=io_uring_setup:error=ENOSYS` makes most programs fall \
                     back to plain system calls",
                    command = crate::COMMAND
                ),
            );
        }
    }

    fn report_policy_errors(&mut self, errors: &mut Vec<PolicyError>) {
        for error in errors.drain(..) {
            self.log.note(
                crate::COMMAND,
                &format!("policy error (call passed): {error}"),
            );
        }
    }

    /// Resume `tid` after `delay` (at once for none), stopping it again at
    /// its call's exit when `stop_at_exit`.
    fn resume_after(&mut self, tid: i32, delay: Duration, stop_at_exit: bool) {
        if delay.is_zero() {
            self.backend.resume(tid, stop_at_exit);
        } else {
            self.timers.hold(tid, self.event_at + delay);
        }
    }
}

/// Whether `nr` starts a program (`execve`, `execveat`).
fn is_exec(nr: i64) -> bool {
    nr == libc::SYS_execve || nr == libc::SYS_execveat
}

/// The thread group (process) of thread `tid`, from `/proc/TID/status`.
fn thread_group_of(tid: i32) -> Option<i32> {
    let status = fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Tgid:"))
        .and_then(|tgid| tgid.trim().parse().ok())
}

#[cfg(test)]
mod tests;
