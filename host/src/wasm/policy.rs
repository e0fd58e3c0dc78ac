//! A configured plugin as a [`Policy`]: converts calls and verdicts between
//! the engine's types and the WIT's, and turns traps into policy errors.

use std::rc::Rc;
use std::time::Duration;

use syscalls::{Errno, SysnoSet};
use wasmtime::Trap;

use super::bindings::fi::policy::types;
use super::instance::Instance;
use super::seed::SeedReport;
use crate::output::Log;
use crate::policy::{Action, Call, Policy, PolicyError, Verdict};
use crate::tracee::Tracee;

/// One `--plugin` occurrence, configured and subscribed.
pub struct WasmPolicy {
    instance: Instance,
    subscription: SysnoSet,
    log: Log,
    seed_report: Rc<SeedReport>,
    /// Set once the plugin has failed; it decides nothing more.
    failed: bool,
}

impl WasmPolicy {
    pub(super) fn new(
        instance: Instance,
        subscription: SysnoSet,
        log: Log,
        seed_report: Rc<SeedReport>,
    ) -> WasmPolicy {
        WasmPolicy {
            instance,
            subscription,
            log,
            seed_report,
            failed: false,
        }
    }

    /// Run one export with the call's thread made available to the imports,
    /// the time limit armed, and the plugin's output passed to the log; also
    /// whether the plugin wrote to the thread's memory meanwhile.
    fn with_call<R>(
        &mut self,
        call: &Call,
        tracee: &Tracee,
        run: impl FnOnce(&mut Instance, types::Syscall) -> wasmtime::Result<R>,
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

    fn error(&self, call: &Call, error: &wasmtime::Error) -> PolicyError {
        let cause = match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => format!(
                "ran longer than {:?} (--plugin-timeout) and was stopped",
                self.instance.limits.timeout
            ),
            _ => format!("{error:#}"),
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

    fn flush_output(&mut self) {
        let state = self.instance.store.data_mut();
        let messages = std::mem::take(&mut state.messages);
        let lines = state.output.take_lines();
        for line in messages.iter().chain(&lines) {
            self.log.note(&self.instance.name, line);
        }
    }
}

fn to_wit(call: &Call) -> types::Syscall {
    let [a, b, c, d, e, f] = call.args;
    types::Syscall {
        nr: call.nr as u32,
        args: (a, b, c, d, e, f),
        pid: call.pid,
        tid: call.tid,
    }
}

fn errno(value: u16) -> Errno {
    Errno::new(i32::from(value))
}

/// Apply a plugin's verdict to the call; a rewrite of a seventh argument is
/// the plugin's error.
fn from_wit(verdict: types::Verdict, call: &mut Call) -> Result<Verdict, String> {
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
    };
    Ok(Verdict {
        action,
        delay_enter: Duration::from_nanos(verdict.delay_enter_ns),
        delay_exit: Duration::from_nanos(verdict.delay_exit_ns),
        signal: (verdict.signal != 0).then_some(i32::from(verdict.signal)),
        want_exit: verdict.want_exit,
        wrote_memory: false,
    })
}

impl Policy for WasmPolicy {
    fn name(&self) -> &str {
        &self.instance.name
    }

    fn subscription(&self) -> SysnoSet {
        self.subscription.clone()
    }

    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError> {
        if self.failed {
            return Ok(Verdict::PASS);
        }
        let (verdict, wrote_memory) = self.with_call(call, tracee, |instance, wit_call| {
            instance
                .plugin
                .fi_policy_policy()
                .call_on_enter(&mut instance.store, wit_call)
        })?;
        let verdict = from_wit(verdict, call).map_err(|cause| PolicyError {
            policy: self.instance.name.clone(),
            syscall: call.name(),
            cause,
        })?;
        Ok(Verdict {
            wrote_memory,
            ..verdict
        })
    }

    fn on_exit(
        &mut self,
        call: &Call,
        result: &mut i64,
        tracee: &Tracee,
    ) -> Result<bool, PolicyError> {
        if self.failed {
            return Ok(false);
        }
        let seen = *result;
        let (action, wrote_memory) = self.with_call(call, tracee, |instance, wit_call| {
            instance
                .plugin
                .fi_policy_policy()
                .call_on_exit(&mut instance.store, wit_call, seen)
        })?;
        match action {
            types::ExitAction::Keep => {}
            types::ExitAction::Fail(e) => *result = -i64::from(e),
            types::ExitAction::Return(value) => *result = value,
        }
        Ok(wrote_memory)
    }

    fn finish(&mut self) {
        if self.failed {
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
        self.report_seed();
    }
}
