//! The ptrace backends: one over a seccomp filter (spawned programs: only
//! subscribed calls stop, once each) and one over `PTRACE_SYSCALL`
//! (attached programs, or `--no-seccomp`: every call stops at entry and
//! exit, and the backend lets the unsubscribed ones go).
//!
//! The thread that creates a [`PtraceBackend`] must be the one that spawned
//! or attached its tracees and the only one that calls it: ptrace answers
//! only the tracer thread.

mod attach;
pub mod child_signal;
mod inject;
mod reaper;
mod spawn;
pub mod sys;

use foldhash::{HashMap, HashSet};
use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use libc::user_regs_struct;
use syscalls::SysnoSet;

use super::filter::BpfProgram;
use super::{Backend, Capabilities, Event, Termination, Waited};
use crate::arch;
use crate::tracee::vdso;
pub use attach::{attach, AttachError};
use child_signal::ChildSignal;
use reaper::Subreaper;
pub use spawn::{find_program, spawn, Filter, Program, SpawnError, Spawned, StartError};
use sys::{PtraceEvent, SyscallStop};

/// How calls reach a [`PtraceBackend`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A seccomp filter stops only subscribed calls (spawned programs).
    Seccomp,
    /// `PTRACE_SYSCALL` stops every call at entry and exit (attached
    /// programs, or `--no-seccomp`).
    Syscall,
}

/// What the backend keeps of a thread stopped at an entry or exit.
struct Stopped {
    regs: user_regs_struct,
    /// The registers changed since they were read.
    dirty: bool,
}

/// A thread making a call of fi's at an exit ([`Backend::call_again`]).
struct Again {
    /// Its process.
    pid: i32,
    /// Its registers at the exit it was asked at: the caller's again once
    /// the call returned.
    saved: user_regs_struct,
    /// Signals held back until the call ran (a handler run before it would
    /// make calls of its own in between).
    signals: Vec<i32>,
}

/// The shortest and longest naps between two polls while a thread is held
/// and `SIGCHLD` cannot be read from a descriptor: short after an event, so
/// a busy program is served at once, longer while it is quiet.
const SHORTEST_NAP: Duration = Duration::from_micros(5);
/// Also the longest sleep on `SIGCHLD`, which another thread of the process
/// may take (see [`ChildSignal`]): ptrace events are seen at most this late.
pub(crate) const LONGEST_NAP: Duration = Duration::from_millis(1);

/// Calls reach the engine through ptrace stops.
pub struct PtraceBackend {
    mode: Mode,
    subscription: SysnoSet,
    /// Every traced thread fi has heard of.
    threads: HashSet<i32>,
    /// Threads stopped at an entry or exit the engine is deciding.
    stopped: HashMap<i32, Stopped>,
    /// Threads whose next syscall stop is the exit of their current call.
    exit_wanted: HashSet<i32>,
    /// `PTRACE_SYSCALL` mode: skipped calls' results, set at their exit stop
    /// (the kernel sets `-ENOSYS` for a skipped call).
    forced: HashMap<i32, i64>,
    /// Readable when a tracee changed state: the backend sleeps on it while
    /// a thread is held. `None` if no signalfd could be opened: it naps.
    child_signal: Option<ChildSignal>,
    /// The next nap while polling without `child_signal`.
    nap: Duration,
    /// Signals to pass with the request that next resumes a thread from a
    /// syscall stop ([`Backend::signal`]).
    on_resume: HashMap<i32, i32>,
    /// Seccomp mode: signals sent to a thread at a seccomp stop, to be
    /// presented as the kernel's at their delivery stop.
    sent: HashMap<i32, i32>,
    /// Attached processes whose vDSO is rewritten at their first stop.
    vdso_pending: HashSet<i32>,
    /// A vDSO could not be rewritten: said once.
    vdso_warned: bool,
    /// Warnings not yet taken by [`Backend::take_warnings`].
    warnings: Vec<String>,
    /// Threads making a call of fi's at an exit.
    again: HashMap<i32, Again>,
    /// Events `waitpid` gave while a filter was being added, to act on next.
    deferred: VecDeque<sys::Event>,
    /// fi is a subreaper while the tree runs, and reaps its orphans after.
    reaper: Subreaper,
}

impl PtraceBackend {
    /// What both ptrace backends can do: everything.
    pub const CAPABILITIES: Capabilities = Capabilities::ALL;

    /// A backend for `threads`, already seized by the calling thread, that
    /// stops the calls of `subscription`.
    pub fn new(mode: Mode, subscription: SysnoSet, threads: &[i32]) -> PtraceBackend {
        PtraceBackend {
            mode,
            subscription,
            threads: threads.iter().copied().collect(),
            stopped: HashMap::default(),
            exit_wanted: HashSet::default(),
            forced: HashMap::default(),
            child_signal: ChildSignal::open().ok(),
            nap: SHORTEST_NAP,
            on_resume: HashMap::default(),
            sent: HashMap::default(),
            vdso_pending: HashSet::default(),
            vdso_warned: false,
            warnings: Vec::new(),
            again: HashMap::default(),
            deferred: VecDeque::new(),
            reaper: Subreaper::begin(),
        }
    }

    /// Rewrite the vDSO entries of the subscribed calls in the attached
    /// processes `pids` when each first stops (spawned programs get theirs
    /// at every exec).
    pub fn patch_vdso_of(&mut self, pids: &[i32]) {
        if vdso::has_entries(&self.subscription) {
            self.vdso_pending.extend(pids);
        }
    }

    /// Make the vDSO entries of the subscribed calls enter the kernel in
    /// process `pid`, stopped; a failure is said once, as a warning.
    fn patch_vdso(&mut self, pid: i32) {
        if let Err(error) = vdso::patch(pid, &self.subscription) {
            if !std::mem::replace(&mut self.vdso_warned, true) {
                self.warnings.push(error.to_string());
            }
        }
    }

    fn subscribed(&self, nr: i64) -> bool {
        usize::try_from(nr)
            .ok()
            .and_then(syscalls::Sysno::new)
            .is_some_and(|sysno| self.subscription.contains(sysno))
    }

    /// Turn one raw ptrace event into an engine event, or handle it here.
    fn translate(&mut self, event: sys::Event) -> Option<Event> {
        match event {
            sys::Event::Exited(tid, code) => self.gone(tid, Termination::Exit(code)),
            sys::Event::Killed(tid, signal) => self.gone(tid, Termination::Signal(signal)),
            sys::Event::Signal(tid, signal) if self.again.contains_key(&tid) => {
                if let Some(again) = self.again.get_mut(&tid) {
                    again.signals.push(signal);
                }
                self.go_on(tid, 0);
                None
            }
            sys::Event::Signal(tid, signal) => {
                self.threads.insert(tid);
                if self.sent.get(&tid) == Some(&signal)
                    && sys::present_as_kernel_signal(tid).unwrap_or(false)
                {
                    self.sent.remove(&tid);
                }
                self.go_on(tid, signal);
                None
            }
            sys::Event::SyscallStop(tid) => {
                self.threads.insert(tid);
                self.syscall_stop(tid)
            }
            sys::Event::Ptrace(tid, kind, signal) => {
                self.threads.insert(tid);
                self.ptrace_event(tid, kind, signal)
            }
        }
    }

    fn gone(&mut self, tid: i32, status: Termination) -> Option<Event> {
        self.threads.remove(&tid);
        self.reaper.ended(tid);
        self.stopped.remove(&tid);
        self.exit_wanted.remove(&tid);
        self.forced.remove(&tid);
        self.on_resume.remove(&tid);
        self.sent.remove(&tid);
        self.again.remove(&tid);
        Some(Event::ThreadExited { tid, status })
    }

    fn syscall_stop(&mut self, tid: i32) -> Option<Event> {
        if self.again.contains_key(&tid) {
            return self.again_stop(tid);
        }
        if self.mode == Mode::Seccomp {
            // Only exit stops that the engine asked for arrive here.
            self.exit_wanted.remove(&tid);
            return self.stop_at(tid, |regs| Event::Exit {
                tid,
                result: arch::result(regs),
            });
        }
        match sys::syscall_stop_kind(tid) {
            Ok(SyscallStop::Entry(nr)) if self.subscribed(nr) => self.entry(tid),
            Ok(SyscallStop::Exit) => {
                if let Some(result) = self.forced.remove(&tid) {
                    if let Ok(mut regs) = sys::get_regs(tid) {
                        arch::set_result(&mut regs, result);
                        let _ = sys::set_regs(tid, &regs);
                    }
                    self.go_on(tid, 0);
                    return None;
                }
                if self.exit_wanted.remove(&tid) {
                    return self.stop_at(tid, |regs| Event::Exit {
                        tid,
                        result: arch::result(regs),
                    });
                }
                self.go_on(tid, 0);
                None
            }
            _ => {
                self.go_on(tid, 0);
                None
            }
        }
    }

    /// A syscall stop of a thread making a call of fi's: its entry goes on;
    /// at its exit the thread gets the caller's registers back, but for the
    /// result, and the signals held meanwhile, and the exit is reported.
    fn again_stop(&mut self, tid: i32) -> Option<Event> {
        if sys::syscall_stop_kind(tid).ok()? != SyscallStop::Exit {
            self.go_on(tid, 0);
            return None;
        }
        let again = self.again.remove(&tid)?;
        self.exit_wanted.remove(&tid);
        let result = arch::result(&sys::get_regs(tid).ok()?);
        let mut regs = again.saved;
        arch::set_result(&mut regs, result);
        self.stopped.insert(tid, Stopped { regs, dirty: true });
        for signal in again.signals {
            let _ = sys::tgkill(again.pid, tid, signal);
        }
        Some(Event::Exit { tid, result })
    }

    fn ptrace_event(&mut self, tid: i32, kind: PtraceEvent, signal: i32) -> Option<Event> {
        match kind {
            // The call fi makes meets a filter of the program's or of fi's.
            PtraceEvent::Seccomp if self.again.contains_key(&tid) => {
                self.go_on(tid, 0);
                None
            }
            PtraceEvent::Seccomp if from_fault_filter(tid) => self.entry(tid),
            PtraceEvent::Seccomp => {
                self.untraced_meaning(tid);
                None
            }
            PtraceEvent::NewChild => {
                if let Ok(child) = sys::event_message(tid) {
                    self.threads.insert(child as i32);
                }
                self.go_on(tid, 0);
                None
            }
            PtraceEvent::Exec => {
                let former = sys::event_message(tid).map_or(tid, |f| f as i32);
                self.patch_vdso(tid);
                self.go_on(tid, 0);
                if former == tid {
                    return None;
                }
                self.threads.remove(&former);
                Some(Event::IdChanged { tid, former })
            }
            PtraceEvent::Stop if is_group_stop(signal) => {
                // Stay stopped like the rest of the group, but hear SIGCONT.
                let _ = sys::listen(tid);
                None
            }
            PtraceEvent::Stop if self.vdso_pending.remove(&tid) => {
                self.patch_vdso(tid);
                self.go_on(tid, 0);
                None
            }
            PtraceEvent::Stop | PtraceEvent::Other => {
                self.go_on(tid, 0);
                None
            }
        }
    }

    /// A `RET_TRACE` stop of the program's own filter: the call fails with
    /// `ENOSYS`, as it does when no tracer is attached (seccomp(2)). The
    /// call is skipped; the kernel set its result to `ENOSYS` before the
    /// filters ran, and it is set again here.
    fn untraced_meaning(&mut self, tid: i32) {
        if let Ok(mut regs) = sys::get_regs(tid) {
            arch::skip_call(&mut regs);
            arch::set_result(&mut regs, -i64::from(libc::ENOSYS));
            let _ = sys::set_regs(tid, &regs);
        }
        self.go_on(tid, 0);
    }

    fn entry(&mut self, tid: i32) -> Option<Event> {
        self.stop_at(tid, |regs| {
            let (nr, args) = arch::call_of(regs);
            Event::Entry {
                tid,
                nr,
                args,
                notified: false,
            }
        })
    }

    /// Keep `tid` stopped with its registers, and report `event` of them.
    /// A thread that cannot be read was killed meanwhile: its exit follows.
    fn stop_at(
        &mut self,
        tid: i32,
        event: impl FnOnce(&user_regs_struct) -> Event,
    ) -> Option<Event> {
        let regs = sys::get_regs(tid).ok()?;
        let event = event(&regs);
        self.stopped.insert(tid, Stopped { regs, dirty: false });
        Some(event)
    }

    /// Resume a thread the engine is not deciding about.
    fn go_on(&mut self, tid: i32, signal: i32) {
        let _ = if self.mode == Mode::Syscall || self.exit_wanted.contains(&tid) {
            sys::syscall(tid, signal)
        } else {
            sys::cont(tid, signal)
        };
    }

    fn regs_of(&mut self, tid: i32) -> Option<&mut user_regs_struct> {
        self.stopped.get_mut(&tid).map(|stopped| {
            stopped.dirty = true;
            &mut stopped.regs
        })
    }

    /// The next raw event: a deferred one, or `waitpid`'s (`Ok(None)` when
    /// `nohang` and nothing is ready).
    fn next_raw(&mut self, nohang: bool) -> io::Result<Option<sys::Event>> {
        match self.deferred.pop_front() {
            Some(event) => Ok(Some(event)),
            None => sys::wait_any(nohang),
        }
    }

    /// Wait for thread `tid`, interrupted (`PTRACE_INTERRUPT`) while its
    /// call ran, to stop after it; the call's result. Another event of the
    /// thread first is kept for [`Backend::wait`] and is an error.
    pub(crate) fn stopped_after_call(&mut self, tid: i32) -> io::Result<i64> {
        let event = sys::wait_for(tid)?;
        match event {
            sys::Event::Ptrace(_, PtraceEvent::Stop, signal) if !is_group_stop(signal) => {
                Ok(arch::result(&sys::get_regs(tid)?))
            }
            sys::Event::Exited(..) | sys::Event::Killed(..) => {
                self.deferred.push_back(event);
                Err(io::Error::from_raw_os_error(libc::ESRCH))
            }
            _ => {
                self.deferred.push_back(event);
                Err(io::Error::other(
                    "the thread stopped for another reason first",
                ))
            }
        }
    }

    /// Add `program` to the filters of process `pid` through its thread
    /// `tid`, stopped after a call; the thread stays stopped.
    pub(crate) fn add_filter(
        &mut self,
        pid: i32,
        tid: i32,
        program: &BpfProgram,
    ) -> io::Result<()> {
        let mut ended = Vec::new();
        let added = inject::add_filter(pid, tid, program, &mut ended);
        self.deferred.extend(ended);
        added
    }

    /// Let thread `tid` go on from a stop the engine does not decide about.
    pub(crate) fn let_go(&mut self, tid: i32) {
        self.go_on(tid, 0);
    }

    /// The next event already waiting, if any, without blocking.
    pub(crate) fn take_ready(&mut self) -> io::Result<Option<Event>> {
        while let Some(event) = self.next_raw(true)? {
            self.nap = SHORTEST_NAP;
            if let Some(event) = self.translate(event) {
                return Ok(Some(event));
            }
        }
        Ok(None)
    }

    /// `SIGCHLD` as a descriptor, if one could be opened.
    pub(crate) fn child_signal(&self) -> Option<&ChildSignal> {
        self.child_signal.as_ref()
    }

    /// Poll once for an event; if none is ready, sleep at most `timeout`:
    /// until `SIGCHLD` comes, so that a held thread is let go when it is
    /// due and the others are served at once, or, without a signalfd, in
    /// naps (short after recent events, longer while the program is quiet).
    /// The engine calls again, checking its stop requests and timers in
    /// between.
    fn poll(&mut self, timeout: Duration) -> io::Result<Waited> {
        if let Some(event) = self.take_ready()? {
            return Ok(Waited::Event(event));
        }
        let slept = match &self.child_signal {
            Some(signal) => signal.wait(timeout.min(LONGEST_NAP)).map(|pending| {
                if pending {
                    signal.clear();
                }
            }),
            None => {
                let nap = self.nap.min(timeout);
                self.nap = (self.nap * 2).min(LONGEST_NAP);
                sys::nap(nap)
            }
        };
        match slept {
            Err(e) if e.raw_os_error() != Some(libc::EINTR) => Err(e),
            _ => Ok(Waited::Nothing),
        }
    }
}

impl Backend for PtraceBackend {
    fn capabilities(&self) -> Capabilities {
        PtraceBackend::CAPABILITIES
    }

    fn wait(&mut self, timeout: Option<Duration>, _held_due: bool) -> io::Result<Waited> {
        let result = match timeout {
            Some(timeout) => self.poll(timeout),
            None => loop {
                match self.next_raw(false) {
                    Ok(Some(event)) => {
                        if let Some(event) = self.translate(event) {
                            break Ok(Waited::Event(event));
                        }
                    }
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
            },
        };
        match result {
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => Ok(Waited::Nothing),
            Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(Waited::NoneLeft),
            other => other,
        }
    }

    fn rewrite(&mut self, tid: i32, nr: i64, args: [u64; 6]) {
        if let Some(regs) = self.regs_of(tid) {
            arch::store_call(regs, nr, args);
        }
    }

    fn skip(&mut self, tid: i32, result: i64) {
        let mode = self.mode;
        if let Some(regs) = self.regs_of(tid) {
            arch::skip_call(regs);
            arch::set_result(regs, result);
        }
        if mode == Mode::Syscall {
            // The exit stop still comes; the result is set there.
            self.forced.insert(tid, result);
        }
    }

    fn set_result(&mut self, tid: i32, result: i64) {
        if let Some(regs) = self.regs_of(tid) {
            arch::set_result(regs, result);
        }
    }

    fn call_again(&mut self, pid: i32, tid: i32, nr: i64, args: [u64; 6]) {
        let Some(regs) = self.regs_of(tid) else {
            return;
        };
        let saved = *regs;
        arch::run_call_at(regs, arch::last_syscall_insn(&saved), nr, args);
        self.again.insert(
            tid,
            Again {
                pid,
                saved,
                signals: Vec::new(),
            },
        );
    }

    fn resume(&mut self, tid: i32, stop_at_exit: bool) {
        if let Some(stopped) = self.stopped.remove(&tid) {
            if stopped.dirty {
                // A thread killed meanwhile (ESRCH) reports its exit next.
                let _ = sys::set_regs(tid, &stopped.regs);
            }
        }
        if stop_at_exit {
            self.exit_wanted.insert(tid);
        }
        let signal = self.on_resume.remove(&tid).unwrap_or(0);
        self.go_on(tid, signal);
    }

    /// A thread stopped at a call gets the signal as strace delivers it,
    /// pending while the call runs and read as the kernel's (`si_code`
    /// `SI_KERNEL`): at a syscall stop as the data of the request resuming
    /// it (the kernel sends that so); at a seccomp stop, which drops such
    /// data, with `tgkill`, its siginfo rewritten at its delivery stop.
    fn signal(&mut self, pid: i32, tid: i32, signal: i32) {
        let stopped = self.stopped.contains_key(&tid);
        match self.mode {
            Mode::Syscall if stopped && !self.on_resume.contains_key(&tid) => {
                self.on_resume.insert(tid, signal);
            }
            Mode::Seccomp if stopped && !self.sent.contains_key(&tid) => {
                self.sent.insert(tid, signal);
                let _ = sys::tgkill(pid, tid, signal);
            }
            _ => {
                let _ = sys::tgkill(pid, tid, signal);
            }
        }
    }

    fn kill_all(&mut self) {
        for &tid in &self.threads {
            // kill() with a thread's id ends its whole process.
            // SAFETY: plain kill of a traced process.
            unsafe { libc::kill(tid, libc::SIGKILL) };
        }
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn detach_all(&mut self, held: &[i32]) {
        for &tid in held {
            self.detach_stopped(tid, 0);
        }
        for &tid in &self.threads {
            let _ = sys::interrupt(tid);
        }
        while !self.threads.is_empty() {
            let event = match self.next_raw(false) {
                Ok(Some(event)) => event,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                _ => break,
            };
            match event {
                sys::Event::Exited(tid, _) | sys::Event::Killed(tid, _) => {
                    self.threads.remove(&tid);
                    self.reaper.ended(tid);
                }
                sys::Event::Signal(tid, signal) => self.detach_stopped(tid, signal),
                sys::Event::SyscallStop(tid) | sys::Event::Ptrace(tid, _, _) => {
                    self.detach_stopped(tid, 0)
                }
            }
        }
    }
}

impl PtraceBackend {
    /// Detach a stopped thread; a skipped call waiting at its exit stop gets
    /// its result first.
    fn detach_stopped(&mut self, tid: i32, signal: i32) {
        if let Some(stopped) = self.stopped.remove(&tid) {
            if stopped.dirty {
                let _ = sys::set_regs(tid, &stopped.regs);
            }
        }
        if let Some(result) = self.forced.remove(&tid) {
            if let (Ok(SyscallStop::Exit), Ok(mut regs)) =
                (sys::syscall_stop_kind(tid), sys::get_regs(tid))
            {
                arch::set_result(&mut regs, result);
                let _ = sys::set_regs(tid, &regs);
            }
        }
        let _ = sys::detach(tid, signal);
        self.threads.remove(&tid);
    }
}

/// Whether a `PTRACE_EVENT_STOP` with this signal is a group-stop (rather
/// than an interrupt or a new tracee's first stop, which report SIGTRAP).
fn is_group_stop(signal: i32) -> bool {
    matches!(
        signal,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    )
}

/// Whether `tid`'s `RET_TRACE` stop came from one of fault's filters (their
/// data is [`TRACE_DATA`](crate::backend::filter::TRACE_DATA)).
fn from_fault_filter(tid: i32) -> bool {
    sys::event_message(tid)
        .is_ok_and(|data| data & 0xffff == u64::from(crate::backend::filter::TRACE_DATA))
}
