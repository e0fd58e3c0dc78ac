//! A configured plugin as a [`Policy`]: converts calls and verdicts between
//! the engine's types and the WIT's, and turns traps into policy errors.

use std::collections::HashSet;
use std::rc::Rc;
use std::time::Duration;

use syscalls::{Errno, Sysno, SysnoSet};
use wasmtime::Trap;

use super::contract::types::{self, ExitAction, Syscall};
use super::instance::Instance;
use super::output_cap::{Admit, OutputCap};
use super::paths::PathGlobs;
use super::seed::SeedReport;
use super::verdict;
use crate::crash::UnsyncedWrites;
use crate::output::Log;
use crate::policy::{
    Action, Call, Capabilities, ExitVerdict, FdPaths, Need, Policy, PolicyError, Verdict,
};
use crate::tracee::Tracee;

/// One `--plugin` occurrence, configured and subscribed.
pub struct WasmPolicy {
    instance: Instance,
    /// What the plugin subscribed to, as fault reads it.
    declared: Declared,
    log: Log,
    seed_report: Rc<SeedReport>,
    /// Set once the plugin has failed; it decides nothing more.
    failed: bool,
    /// What it logged and what was dropped past the limit.
    output: OutputCap,
    /// The calls followed for `host.keep-unsynced`, if the plugin asked.
    unsynced_calls: Option<SysnoSet>,
    /// Threads whose current call only the unsynced writes wait for: the
    /// plugin is not asked about its exit.
    only_unsynced: HashSet<i32>,
}

/// A plugin's subscription, read: the calls it decides and its promises
/// about them.
pub struct Declared {
    /// The calls it decides (`syscalls`).
    pub subscription: SysnoSet,
    /// Those it decides at entry only (`entry-only`): no rewrite, no
    /// result, no delayed exit.
    pub entry_only: SysnoSet,
    /// Those of `entry_only` it lets run only untouched
    /// (`passes-untouched`).
    pub passes_untouched: SysnoSet,
    /// The files it acts on (`paths`), if it declared them.
    pub paths: Option<PathGlobs>,
}

impl WasmPolicy {
    pub(super) fn new(
        instance: Instance,
        declared: Declared,
        log: Log,
        seed_report: Rc<SeedReport>,
    ) -> WasmPolicy {
        WasmPolicy {
            instance,
            declared,
            log,
            seed_report,
            failed: false,
            output: OutputCap::default(),
            unsynced_calls: None,
            only_unsynced: HashSet::new(),
        }
        .following_unsynced()
    }

    /// Follow the calls that change or sync the plugin's files if it asked
    /// to keep what unsynced writes overwrite.
    fn following_unsynced(mut self) -> WasmPolicy {
        if self.instance.store.data().unsynced.is_some() {
            self.unsynced_calls = Some(UnsyncedWrites::calls());
        }
        self
    }

    /// Whether `call` is followed for the unsynced writes.
    fn follows(&self, call: &Call) -> bool {
        self.unsynced_calls
            .as_ref()
            .zip(call.sysno())
            .is_some_and(|(calls, sysno)| calls.contains(sysno))
    }

    /// Whether the plugin subscribed to `call`.
    fn decides(&self, call: &Call) -> bool {
        call.sysno()
            .is_some_and(|sysno| self.declared.subscription.contains(sysno))
    }

    /// What the plugin subscribed to and promised.
    pub(crate) fn declared(&self) -> &Declared {
        &self.declared
    }

    /// Whether `call` may matter to the plugin: it declared no `paths`, or
    /// the call touches no file or a matching one. fault does not ask it
    /// about the others.
    fn may_matter(&self, call: &Call, tracee: &Tracee) -> bool {
        self.declared
            .paths
            .as_ref()
            .is_none_or(|paths| paths.may_matter(&tracee.call_paths(call)))
    }

    /// Run one export with the call's thread made available to the imports,
    /// the time limit armed, and the plugin's output passed to the log; also
    /// whether the plugin wrote to the thread's memory meanwhile.
    fn with_call<R>(
        &mut self,
        call: &Call,
        tracee: &Tracee,
        run: impl FnOnce(&mut Instance, Syscall) -> wasmtime::Result<R>,
    ) -> Result<(R, bool), PolicyError> {
        let instance = &mut self.instance;
        let state = instance.store.data_mut();
        state.current = Some((*call, *tracee));
        state.wrote_memory = false;
        instance.arm_timeout();
        let result = run(instance, to_wit(call));
        let state = instance.store.data_mut();
        state.current = None;
        let wrote_memory = state.wrote_memory;
        self.flush_output();
        match result {
            Ok(value) => Ok((value, wrote_memory)),
            Err(error) => {
                self.failed = true;
                Err(self.error(call, &error))
            }
        }
    }

    /// The error of a failed call into the plugin: a trap's cause, with
    /// the WebAssembly backtrace only if asked for (`--verbose`).
    fn error(&self, call: &Call, error: &wasmtime::Error) -> PolicyError {
        let cause = match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => format!(
                "ran longer than {:?} (--plugin-timeout) and was stopped",
                self.instance.limits.timeout
            ),
            _ if self.instance.limits.backtrace => format!("{error:#}"),
            _ => format!("{} (--verbose shows where)", error.root_cause()),
        };
        PolicyError {
            policy: self.instance.name.clone(),
            syscall: call.name(),
            cause,
        }
    }

    /// The plugin has ended: the seed goes to the log if it drew a number.
    fn report_seed(&self) {
        let drew = self.instance.store.data().drew_random();
        self.seed_report.plugin_finished(drew);
    }

    /// Pass what the plugin wrote to the log, within its [`OutputCap`].
    fn flush_output(&mut self) {
        let state = self.instance.store.data_mut();
        let messages = std::mem::take(&mut state.messages);
        let lines = state.output.take_lines();
        let (dropped_lines, dropped_bytes) = state.output.take_dropped();
        let (dropped_messages, dropped_message_bytes) = std::mem::take(&mut state.dropped_messages);
        for line in messages.iter().chain(&lines) {
            match self.output.admit(line) {
                Admit::Log => self.log.note(&self.instance.name, line),
                Admit::DropFirst => self
                    .log
                    .note(&self.instance.name, &OutputCap::limit_notice()),
                Admit::Drop => {}
            }
        }
        let first = self.output.drop(
            dropped_lines + dropped_messages,
            dropped_bytes + dropped_message_bytes,
        );
        if first {
            self.log
                .note(&self.instance.name, &OutputCap::limit_notice());
        }
    }

    /// Say how much of the plugin's output was dropped, if any was.
    fn report_dropped_output(&self) {
        if let Some(notice) = self.output.dropped_notice() {
            self.log.note(&self.instance.name, &notice);
        }
    }
}

impl WasmPolicy {
    /// Ask the plugin about a call it subscribed to.
    fn decide(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError> {
        if self.failed || !self.may_matter(call, tracee) {
            return Ok(Verdict::PASS);
        }
        let (verdict, wrote_memory) = self.with_call(call, tracee, |instance, wit_call| {
            instance
                .plugin
                .fi_policy_policy()
                .call_on_enter(&mut instance.store, wit_call)
        })?;
        let max_delay = self.instance.limits.max_delay;
        let verdict =
            from_wit(verdict, call, &self.declared, max_delay).map_err(|cause| PolicyError {
                policy: self.instance.name.clone(),
                syscall: call.name(),
                cause,
            })?;
        Ok(Verdict {
            wrote_memory,
            ..verdict
        })
    }

    /// Show the plugin the result of a call it asked to see.
    fn decide_exit(
        &mut self,
        call: &Call,
        result: &mut i64,
        tracee: &Tracee,
    ) -> Result<ExitVerdict, PolicyError> {
        if self.failed {
            return Ok(ExitVerdict::KEEP);
        }
        let seen = *result;
        let (action, wrote_memory) = self.with_call(call, tracee, |instance, wit_call| {
            instance
                .plugin
                .fi_policy_policy()
                .call_on_exit(&mut instance.store, wit_call, seen)
        })?;
        verdict::check_exit(&action).map_err(|cause| PolicyError {
            policy: self.instance.name.clone(),
            syscall: call.name(),
            cause,
        })?;
        let then = match action {
            ExitAction::Keep => None,
            ExitAction::Fail(e) => {
                *result = -i64::from(e);
                None
            }
            ExitAction::Return(value) => {
                *result = value;
                None
            }
            ExitAction::Then(invocation) => Some(from_invocation(invocation, call)),
        };
        Ok(ExitVerdict { wrote_memory, then })
    }

    /// Tell the plugin that thread `tid` has ended.
    fn tell_thread_exited(&mut self, tid: i32) {
        if self.failed {
            return;
        }
        self.instance.arm_timeout();
        let done = self
            .instance
            .plugin
            .fi_policy_policy()
            .call_thread_exited(&mut self.instance.store, tid);
        self.flush_output();
        if let Err(error) = done {
            self.failed = true;
            self.log.note(
                "fi",
                &format!("{}: thread-exited: {error:#}", self.instance.name),
            );
        }
    }
}

fn to_wit(call: &Call) -> Syscall {
    let [a, b, c, d, e, f] = call.args;
    Syscall {
        nr: call.nr as u32,
        args: (a, b, c, d, e, f),
        pid: call.pid,
        tid: call.tid,
    }
}

/// The call a plugin asks fault to make in `caller`'s thread.
fn from_invocation(invocation: types::Invocation, caller: &Call) -> Call {
    let (a, b, c, d, e, f) = invocation.args;
    Call {
        nr: i64::from(invocation.nr),
        args: [a, b, c, d, e, f],
        ..*caller
    }
}

fn errno(value: u16) -> Errno {
    Errno::new(i32::from(value))
}

/// Apply a plugin's verdict to the call: the one place a verdict enters
/// fault's model. A rewrite of a seventh argument, a result asked for a call
/// the plugin declared entry-only, or a call changed and let run that it
/// declared to pass untouched is the plugin's error.
fn from_wit(
    verdict: types::Verdict,
    call: &mut Call,
    declared: &Declared,
    max_delay: Duration,
) -> Result<Verdict, String> {
    verdict::check(&verdict, max_delay)?;
    let listed = |set: &SysnoSet| call.sysno().is_some_and(|sysno| set.contains(sysno));
    let wants_result = verdict.want_exit || verdict.delay_exit_ns > 0;
    if wants_result && listed(&declared.entry_only) {
        return Err(format!(
            "asked for the result of {} (want-exit or delay-exit-ns), but its subscription \
             declares the call in `entry-only`",
            call.name()
        ));
    }
    let lets_run = matches!(verdict.action, types::Action::Pass);
    let changed = verdict.delay_enter_ns > 0 || verdict.signal.is_some() || verdict.log_call;
    if lets_run && changed && listed(&declared.entry_only) && listed(&declared.passes_untouched) {
        return Err(format!(
            "held, signalled or marked for the log a call of {} it let run, but its \
             subscription declares the call in `passes-untouched`",
            call.name()
        ));
    }
    let action = match verdict.action {
        types::Action::Pass => Action::Pass,
        types::Action::Fail(e) => Action::Fail(errno(e)),
        types::Action::Return(value) => Action::Return(value),
        types::Action::Rewrite(changes) => {
            for change in changes {
                let slot = call
                    .args
                    .get_mut(usize::from(change.index))
                    .ok_or_else(|| {
                        format!("rewrite of argument {}: there are 6 (0 to 5)", change.index)
                    })?;
                *slot = change.value;
            }
            Action::Pass
        }
        types::Action::Replace(invocation) => {
            *call = from_invocation(invocation, call);
            Action::Pass
        }
    };
    Ok(Verdict {
        action,
        delay_enter: Duration::from_nanos(verdict.delay_enter_ns),
        delay_exit: Duration::from_nanos(verdict.delay_exit_ns),
        signal: verdict.signal.map(i32::from),
        want_exit: verdict.want_exit,
        wrote_memory: false,
        log: verdict.log_call,
        kill_after: false,
    })
}

impl Policy for WasmPolicy {
    fn name(&self) -> &str {
        &self.instance.name
    }

    fn reported(&self) -> bool {
        self.output.wrote()
    }

    /// The calls it subscribed to, and those followed for
    /// `host.keep-unsynced`.
    fn subscription(&self) -> SysnoSet {
        match &self.unsynced_calls {
            Some(calls) => self.declared.subscription.clone().union(calls),
            None => self.declared.subscription.clone(),
        }
    }

    /// Rewriting is always possible (a verdict may rewrite any call);
    /// results and delayed exits only if a call it subscribed to is not
    /// entry-only, or unsynced writes are kept.
    fn needs(&self) -> Capabilities {
        let declared = &self.declared;
        let results = self.unsynced_calls.is_some()
            || declared
                .subscription
                .iter()
                .any(|sysno| !declared.entry_only.contains(sysno));
        Capabilities {
            rewrite: true,
            results,
            delay_exit: results,
        }
    }

    /// The plugin's `paths`, when they are all absolute.
    fn fd_paths(&self) -> Option<&dyn FdPaths> {
        self.declared.paths.as_ref()?.as_fd_paths()
    }

    /// What the subscription says: a call declared `entry-only` is decided
    /// at entry, and its verdicts may let a changed call run unless it is
    /// declared `passes-untouched`; any other needs a stop.
    fn need(&self, sysno: Sysno) -> Need {
        let followed = self
            .unsynced_calls
            .as_ref()
            .is_some_and(|calls| calls.contains(sysno));
        if self.declared.entry_only.contains(sysno) && !followed {
            Need::Entry {
                passes_changed: !self.declared.passes_untouched.contains(sysno),
            }
        } else {
            Need::Stop
        }
    }

    /// The plugin's verdict on a call it subscribed to; then, for a call
    /// followed for `host.keep-unsynced` that runs, what it will overwrite
    /// is kept (as the call stands after the plugin's rewrite).
    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError> {
        self.only_unsynced.remove(&call.tid);
        let mut verdict = if self.decides(call) {
            self.decide(call, tracee)?
        } else {
            Verdict::PASS
        };
        if self.follows(call) && matches!(verdict.action, Action::Pass) {
            let unsynced = self.instance.store.data_mut().unsynced.as_mut();
            if unsynced.is_some_and(|unsynced| unsynced.enter(call, tracee)) && !verdict.want_exit {
                self.only_unsynced.insert(call.tid);
                verdict.want_exit = true;
            }
        }
        Ok(verdict)
    }

    fn on_exit(
        &mut self,
        call: &Call,
        result: &mut i64,
        tracee: &Tracee,
    ) -> Result<ExitVerdict, PolicyError> {
        if self.follows(call) {
            // The real result, before the plugin changes what the caller sees.
            if let Some(unsynced) = self.instance.store.data_mut().unsynced.as_mut() {
                unsynced.exit(call.tid, *result);
            }
        }
        if self.only_unsynced.remove(&call.tid) {
            return Ok(ExitVerdict::KEEP);
        }
        self.decide_exit(call, result, tracee)
    }

    /// Tell the plugin, so that what it keeps per thread starts afresh for
    /// a new thread given the same id; a failure is logged, and the plugin
    /// decides nothing more.
    fn thread_exited(&mut self, tid: i32) {
        self.only_unsynced.remove(&tid);
        if let Some(unsynced) = self.instance.store.data_mut().unsynced.as_mut() {
            unsynced.thread_gone(tid);
        }
        self.tell_thread_exited(tid);
    }

    fn finish(&mut self) {
        if self.failed {
            self.report_dropped_output();
            self.report_seed();
            return;
        }
        self.instance.arm_timeout();
        let finished = self
            .instance
            .plugin
            .fi_policy_policy()
            .call_finish(&mut self.instance.store);
        self.flush_output();
        if let Err(error) = finished {
            self.log
                .note("fi", &format!("{}: finish: {error:#}", self.instance.name));
        }
        self.report_dropped_output();
        self.report_seed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::LogFormat;
    use crate::wasm::{Limits, Loader, Seed};

    fn need_of(spec: &str, sysno: Sysno) -> Need {
        let log = Log::lines_to(Box::new(std::io::sink()), LogFormat::Text);
        let seed = Seed {
            value: 0,
            always_logged: false,
        };
        let mut loader = Loader::new(Limits::default(), seed, log).unwrap();
        loader.load(spec).unwrap().need(sysno)
    }

    /// What a built-in's subscription declares decides whether its calls
    /// can be answered without a stop while the log writes lines.
    #[test]
    fn a_plugin_that_passes_calls_untouched_needs_no_exit_to_be_logged() {
        let untouched = Need::Entry {
            passes_changed: false,
        };
        assert_eq!(need_of("path-errno:path=/x/*", Sysno::openat), untouched);
        assert_eq!(need_of("fsync-fail", Sysno::fsync), untouched);
        assert_eq!(
            need_of("delay:syscalls=openat:enter=1ms", Sysno::openat),
            Need::Entry {
                passes_changed: true
            }
        );
        assert_eq!(need_of("count:syscalls=openat", Sysno::openat), Need::Stop);
    }
}
