//! The ptrace engine: follows every thread and child of the traced program,
//! stops subscribed calls, asks the policy chain, and applies its decision.
//!
//! Spawned programs run under a seccomp filter, so only subscribed calls stop
//! (one seccomp stop each; a second, syscall-exit stop only when a policy
//! wants the result). Attached programs cannot get a filter and are traced
//! with `PTRACE_SYSCALL`, which stops every call twice.

mod attach;
pub mod ptrace;
pub mod seccomp;
pub mod signals;
mod spawn;
mod timers;

use std::collections::HashMap;
use std::fs;
use std::time::Duration;

use libc::user_regs_struct;
use syscalls::SysnoSet;

use crate::arch;
use crate::output::{CallRecord, Log};
use crate::policy::chain::{Chain, Decision};
use crate::policy::{Action, Call, PolicyError};
use crate::tracee::Tracee;
pub use attach::{attach, AttachError};
use ptrace::{Event, PtraceEvent, SyscallStop};
pub use spawn::{find_program, spawn, SpawnError, Spawned, StartError};
use timers::Timers;

/// How calls reach the tracer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A seccomp filter stops only subscribed calls (spawned programs).
    Seccomp,
    /// `PTRACE_SYSCALL` stops every call at entry and exit (attached
    /// programs, or `--no-seccomp`).
    Syscall,
}

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every traced process is gone; the main one ended with this status
    /// (exit code, or 128 + signal), if fi saw it.
    Exited(Option<i32>),
    /// fi was asked to stop (by this signal) and let the attached processes go.
    Detached(i32),
}

/// A call between its entry and its exit stop.
struct Pending {
    call: Call,
    original: Call,
    decision: Decision,
    /// A skipped call's result, set at the exit stop (`PTRACE_SYSCALL` mode).
    forced: Option<i64>,
}

/// What fi keeps per traced thread.
struct Thread {
    /// Its process (thread group) id.
    pid: i32,
    /// A decided call waiting for its exit stop.
    pending: Option<Pending>,
}

/// A failure that ends the run.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// A policy failed and `--on-plugin-error=abort` was in force.
    #[error("{0}")]
    Policy(#[from] PolicyError),
    /// waitpid itself failed.
    #[error("waitpid: {0}")]
    Wait(std::io::Error),
}

/// The engine for one run.
pub struct Tracer<'a> {
    chain: &'a mut Chain,
    log: Log,
    mode: Mode,
    subscription: SysnoSet,
    threads: HashMap<i32, Thread>,
    timers: Timers,
    /// The process whose exit status fi returns.
    main_pid: i32,
    main_status: Option<i32>,
    /// Attached (not spawned) processes are let go, not killed, on a signal.
    attached: bool,
}

impl<'a> Tracer<'a> {
    /// A tracer for the already seized `threads` (pid, tid pairs), whose main
    /// process is `main_pid`.
    pub fn new(
        chain: &'a mut Chain,
        log: Log,
        mode: Mode,
        main_pid: i32,
        threads: &[(i32, i32)],
        attached: bool,
    ) -> Tracer<'a> {
        let subscription = chain.subscription();
        let threads = threads
            .iter()
            .map(|&(pid, tid)| (tid, Thread { pid, pending: None }))
            .collect();
        Tracer {
            chain,
            log,
            mode,
            subscription,
            threads,
            timers: Timers::default(),
            main_pid,
            main_status: None,
            attached,
        }
    }

    /// Trace until every traced thread is gone, or a stop signal arrives.
    pub fn run(&mut self) -> Result<Ending, TraceError> {
        signals::accept_stop_signals();
        while !self.threads.is_empty() {
            if let Some(request) = signals::take_stop_request() {
                if self.attached {
                    self.detach_all();
                    return Ok(Ending::Detached(request.signal));
                }
                // A spawned program decides for itself. A terminal's Ctrl-C
                // already reached it: it shares fi's process group.
                if !request.from_terminal {
                    // SAFETY: plain kill of our own child.
                    unsafe { libc::kill(self.main_pid, request.signal) };
                }
            }
            for tid in self.timers.take_due() {
                self.resume(tid, 0);
            }
            let event = match self.timers.next_due() {
                None => ptrace::wait_any(false),
                Some(timeout) => match ptrace::wait_any(true) {
                    Ok(None) => {
                        signals::wait_for_child(timeout);
                        continue;
                    }
                    other => other,
                },
            };
            match event {
                Ok(Some(event)) => self.handle(event)?,
                Ok(None) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => break,
                Err(e) => return Err(TraceError::Wait(e)),
            }
        }
        Ok(Ending::Exited(self.main_status))
    }

    fn handle(&mut self, event: Event) -> Result<(), TraceError> {
        match event {
            Event::Exited(tid, code) => self.thread_gone(tid, code),
            Event::Killed(tid, signal) => self.thread_gone(tid, 128 + signal),
            Event::Signal(tid, signal) => {
                self.track(tid);
                self.resume(tid, signal);
            }
            Event::SyscallStop(tid) => {
                self.track(tid);
                self.on_syscall_stop(tid)?;
            }
            Event::Ptrace(tid, kind, signal) => {
                self.track(tid);
                self.on_ptrace_event(tid, kind, signal)?;
            }
        }
        Ok(())
    }

    /// Make sure fi knows `tid` (a new child can report before its parent's
    /// fork event does).
    fn track(&mut self, tid: i32) {
        self.threads.entry(tid).or_insert_with(|| Thread {
            pid: thread_group_of(tid).unwrap_or(tid),
            pending: None,
        });
    }

    fn thread_gone(&mut self, tid: i32, status: i32) {
        let Some(thread) = self.threads.remove(&tid) else {
            return;
        };
        if let Some(pending) = thread.pending {
            // The call never returned (exit, exit_group, a kill).
            self.log_call(thread.pid, tid, &pending, None);
        }
        if tid == self.main_pid {
            self.main_status = Some(status);
        }
        self.chain.thread_exited(tid);
    }

    fn on_ptrace_event(
        &mut self,
        tid: i32,
        kind: PtraceEvent,
        signal: i32,
    ) -> Result<(), TraceError> {
        match kind {
            PtraceEvent::Seccomp => {
                if let Ok(regs) = ptrace::get_regs(tid) {
                    return self.on_entry(tid, regs);
                }
            }
            PtraceEvent::NewChild => {
                if let Ok(child) = ptrace::event_message(tid) {
                    self.track(child as i32);
                }
                self.resume(tid, 0);
            }
            PtraceEvent::Exec => {
                self.on_exec(tid);
                self.resume(tid, 0);
            }
            PtraceEvent::Stop if is_group_stop(signal) => {
                // Stay stopped like the rest of the group, but hear SIGCONT.
                let _ = ptrace::listen(tid);
            }
            PtraceEvent::Stop | PtraceEvent::Other => self.resume(tid, 0),
        }
        Ok(())
    }

    /// After an exec from a non-leader thread, that thread takes the
    /// leader's id; the old ids are gone.
    fn on_exec(&mut self, tid: i32) {
        let Ok(former) = ptrace::event_message(tid) else {
            return;
        };
        let former = former as i32;
        if former == tid {
            return;
        }
        let pending = self.threads.remove(&former).and_then(|t| t.pending);
        self.threads.insert(tid, Thread { pid: tid, pending });
        self.chain.thread_exited(former);
        self.chain.thread_exited(tid);
    }

    fn on_syscall_stop(&mut self, tid: i32) -> Result<(), TraceError> {
        if self.mode == Mode::Seccomp {
            // Only exit stops that fi asked for arrive here.
            return self.on_exit(tid);
        }
        match ptrace::syscall_stop_kind(tid) {
            Ok(SyscallStop::Entry(nr)) if self.subscribed(nr) => match ptrace::get_regs(tid) {
                Ok(regs) => self.on_entry(tid, regs),
                Err(_) => Ok(()),
            },
            Ok(SyscallStop::Exit) => self.on_exit(tid),
            _ => {
                self.resume(tid, 0);
                Ok(())
            }
        }
    }

    fn subscribed(&self, nr: i64) -> bool {
        usize::try_from(nr)
            .ok()
            .and_then(syscalls::Sysno::new)
            .is_some_and(|sysno| self.subscription.contains(sysno))
    }

    /// A subscribed call enters: ask the chain and apply its decision.
    fn on_entry(&mut self, tid: i32, mut regs: user_regs_struct) -> Result<(), TraceError> {
        let pid = self.threads[&tid].pid;
        let tracee = Tracee { pid, tid };
        let original = arch::call_from_regs(pid, tid, &regs);
        let mut call = original;
        let mut decision = self.chain.enter(&mut call, &tracee)?;
        self.report_policy_errors(&mut decision.errors);
        let dirty = call != original;
        arch::store_call(&mut regs, &call);

        let forced = match decision.action {
            Action::Pass => None,
            Action::Fail(errno) => Some(-i64::from(errno.into_raw())),
            Action::Return(value) => Some(value),
        };
        for &signal in &decision.signals {
            let _ = ptrace::tgkill(pid, tid, signal);
        }
        let mut pending = Pending {
            call,
            original,
            decision,
            forced: None,
        };
        if let Some(mut result) = forced {
            // The call does not run: the stages before the decider see the
            // forced result right away.
            self.chain
                .exit(&mut pending.decision, &call, &mut result, &tracee)?;
            self.report_policy_errors(&mut pending.decision.errors);
            arch::skip_call(&mut regs);
            pending.forced = Some(result);
            if self.mode == Mode::Syscall {
                // The kernel sets -ENOSYS for a skipped call; fix it at exit.
                self.set_regs(tid, &regs);
                return self.wait_for_exit(tid, pending);
            }
            arch::set_result(&mut regs, result);
            self.set_regs(tid, &regs);
            self.log_call(pid, tid, &pending, Some(result));
            let hold = pending.decision.delay_enter + pending.decision.delay_exit;
            self.resume_after(tid, hold);
            return Ok(());
        }
        if dirty {
            self.set_regs(tid, &regs);
        }
        // The exit stop costs as much as the entry: take it when a policy
        // wants the result, or for the log's sake (every call with --trace,
        // a tampered one otherwise) when the log goes anywhere.
        let wants_exit = !pending.decision.exit_stages.is_empty()
            || !pending.decision.delay_exit.is_zero()
            || self.log.traces_all()
            || (self.log.writes_lines() && (dirty || pending.decision.tampers()));
        if wants_exit {
            self.wait_for_exit(tid, pending)
        } else {
            self.log_call(pid, tid, &pending, None);
            let delay = pending.decision.delay_enter;
            self.resume_after(tid, delay);
            Ok(())
        }
    }

    /// Resume a decided call so that its exit stops again.
    fn wait_for_exit(&mut self, tid: i32, pending: Pending) -> Result<(), TraceError> {
        let delay = pending.decision.delay_enter;
        if let Some(thread) = self.threads.get_mut(&tid) {
            thread.pending = Some(pending);
        }
        self.resume_after(tid, delay);
        Ok(())
    }

    /// A decided call has returned: let the exit stages see the result.
    fn on_exit(&mut self, tid: i32) -> Result<(), TraceError> {
        let Some(thread) = self.threads.get_mut(&tid) else {
            return Ok(());
        };
        let pid = thread.pid;
        let Some(mut pending) = thread.pending.take() else {
            self.resume(tid, 0);
            return Ok(());
        };
        let Ok(mut regs) = ptrace::get_regs(tid) else {
            return Ok(());
        };
        let real = arch::result(&regs);
        let mut result = pending.forced.unwrap_or(real);
        let tracee = Tracee { pid, tid };
        let call = pending.call;
        self.chain
            .exit(&mut pending.decision, &call, &mut result, &tracee)?;
        self.report_policy_errors(&mut pending.decision.errors);
        if result != real {
            arch::set_result(&mut regs, result);
            self.set_regs(tid, &regs);
            pending.forced = Some(result);
        }
        self.log_call(pid, tid, &pending, Some(result));
        let delay = pending.decision.delay_exit;
        self.resume_after(tid, delay);
        Ok(())
    }

    fn set_regs(&self, tid: i32, regs: &user_regs_struct) {
        // A thread killed meanwhile (ESRCH) reports its exit next.
        let _ = ptrace::set_regs(tid, regs);
    }

    fn log_call(&mut self, pid: i32, tid: i32, pending: &Pending, result: Option<i64>) {
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
        };
        self.log.call(&record);
    }

    fn report_policy_errors(&mut self, errors: &mut Vec<PolicyError>) {
        for error in errors.drain(..) {
            self.log.note(
                crate::cli::NAME,
                &format!("policy error (call passed): {error}"),
            );
        }
    }

    fn resume_after(&mut self, tid: i32, delay: Duration) {
        if delay.is_zero() {
            self.resume(tid, 0);
        } else {
            self.timers.hold(tid, delay);
        }
    }

    /// Let `tid` run on, delivering `signal`, so that its next decided call
    /// (or its pending exit) stops again.
    fn resume(&mut self, tid: i32, signal: i32) {
        let exit_pending = self.threads.get(&tid).is_some_and(|t| t.pending.is_some());
        let _ = if self.mode == Mode::Syscall || exit_pending {
            ptrace::syscall(tid, signal)
        } else {
            ptrace::cont(tid, signal)
        };
    }

    /// Let every attached thread go, each exactly as it was (a group-stopped
    /// one stays stopped; a pending signal is delivered).
    fn detach_all(&mut self) {
        for tid in self.timers.take_all() {
            self.detach_stopped(tid, 0);
        }
        for &tid in self.threads.keys() {
            let _ = ptrace::interrupt(tid);
        }
        while !self.threads.is_empty() {
            let event = match ptrace::wait_any(false) {
                Ok(Some(event)) => event,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                _ => break,
            };
            match event {
                Event::Exited(tid, code) => self.thread_gone(tid, code),
                Event::Killed(tid, signal) => self.thread_gone(tid, 128 + signal),
                Event::Signal(tid, signal) => self.detach_stopped(tid, signal),
                Event::SyscallStop(tid) | Event::Ptrace(tid, _, _) => self.detach_stopped(tid, 0),
            }
        }
    }

    fn detach_stopped(&mut self, tid: i32, signal: i32) {
        if let Some(Thread {
            pending: Some(pending),
            ..
        }) = self.threads.get(&tid)
        {
            if let (Some(result), Ok(SyscallStop::Exit)) =
                (pending.forced, ptrace::syscall_stop_kind(tid))
            {
                if let Ok(mut regs) = ptrace::get_regs(tid) {
                    arch::set_result(&mut regs, result);
                    let _ = ptrace::set_regs(tid, &regs);
                }
            }
        }
        let _ = ptrace::detach(tid, signal);
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

/// The thread group (process) of thread `tid`, from `/proc/TID/status`.
fn thread_group_of(tid: i32) -> Option<i32> {
    let status = fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Tgid:"))
        .and_then(|tgid| tgid.trim().parse().ok())
}
