//! Several policies in command-line order, like middleware.
//!
//! On entry each stage that subscribed to the call sees it as the stages
//! before it rewrote it; the first stage that fails the call or returns a
//! value ends the entry phase. On exit, the stages that saw the entry and
//! asked for the result run in reverse order, each seeing the result as the
//! stages inside it left it. A stage that asks for another call at exit
//! ([`ExitVerdict::then`]) sees that call's exit before the stages outside
//! it go on. Delays add up and every signal is delivered.

use std::path::Path;
use std::time::Duration;

use syscalls::{Sysno, SysnoSet};

use super::{Action, Call, Capabilities, ExitVerdict, Need, Policy, PolicyError, Verdict};
use crate::tracee::Tracee;

/// What to do when a policy fails to decide (a plugin trapped or timed out).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnPolicyError {
    /// Report the error, kill the traced program and stop.
    #[default]
    Abort,
    /// Report the error and let the call pass as if the policy had said so.
    Pass,
}

/// The chain's combined answer for one call at entry.
#[derive(Debug, Default)]
pub struct Decision {
    /// What happens to the call.
    pub action: Action,
    /// The stages that changed something (action, arguments, delay,
    /// signal), in order; the last one set `action` if it is not a pass.
    pub changed_by: Vec<usize>,
    /// Total time to hold the thread before the call runs.
    pub delay_enter: Duration,
    /// Total time to hold the thread after the call ran.
    pub delay_exit: Duration,
    /// Signals to deliver to the thread, in stage order.
    pub signals: Vec<i32>,
    /// Stages to call on exit, in entry order (run in reverse; each leaves
    /// the list once called).
    pub exit_stages: Vec<usize>,
    /// The stage that asked for another call at exit, and that call: the
    /// exit phase goes on with it once the call returned.
    pub follow_up: Option<(usize, Call)>,
    /// Policies that failed and were passed over (`--on-plugin-error=pass`).
    pub errors: Vec<PolicyError>,
    /// Some stage wrote to the tracee's memory, on entry or exit.
    pub wrote_memory: bool,
    /// A stage asked for the call to be logged even if nothing changed it.
    pub log: bool,
    /// A stage asked for every traced process to be killed once the call
    /// has returned ([`Verdict::kill_after`]).
    pub kill_after: bool,
}

impl Decision {
    /// Whether any stage changed what happens to the call.
    pub fn tampers(&self) -> bool {
        self.action != Action::Pass
            || !self.signals.is_empty()
            || !self.delay_enter.is_zero()
            || !self.delay_exit.is_zero()
            || self.wrote_memory
            || self.kill_after
    }
}

struct Stage {
    policy: Box<dyn Policy>,
    subscription: SysnoSet,
    /// How many calls this stage changed.
    changed: u64,
    /// Syscalls whose calls the seccomp filter answers for this stage,
    /// without fi seeing them.
    in_kernel: SysnoSet,
}

/// What one stage did over a run, for the end-of-run report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageReport {
    /// The stage's name as the user gave it (`-e inject=...`, a plugin).
    pub name: String,
    /// How many calls it changed (action, arguments, result, delay, signal).
    pub changed: u64,
    /// Why it changed no call, when it can tell ([`Policy::idle_reason`]).
    pub idle_reason: Option<String>,
    /// It wrote its own account of the run ([`Policy::reported`]).
    pub reported: bool,
}

/// Policies in command-line order.
pub struct Chain {
    stages: Vec<Stage>,
    on_error: OnPolicyError,
}

impl Chain {
    /// A chain of `policies`, first on the command line first.
    pub fn new(policies: Vec<Box<dyn Policy>>, on_error: OnPolicyError) -> Chain {
        let stages = policies
            .into_iter()
            .map(|policy| Stage {
                subscription: policy.subscription(),
                policy,
                changed: 0,
                in_kernel: SysnoSet::empty(),
            })
            .collect();
        Chain { stages, on_error }
    }

    /// Every syscall some stage subscribed to.
    pub fn subscription(&self) -> SysnoSet {
        self.stages.iter().fold(SysnoSet::empty(), |all, stage| {
            all.union(&stage.subscription)
        })
    }

    /// Each stage's name and what it needs of the backend, in order.
    pub fn needs(&self) -> impl Iterator<Item = (&str, Capabilities)> {
        self.stages
            .iter()
            .map(|stage| (stage.policy.name(), stage.policy.needs()))
    }

    /// What each stage subscribed to `sysno` needs to see of its calls, in
    /// chain order.
    pub fn needs_at(&self, sysno: Sysno) -> Vec<Need> {
        self.stages
            .iter()
            .filter(|stage| stage.subscription.contains(sysno))
            .map(|stage| stage.policy.need(sysno))
            .collect()
    }

    /// Whether every stage subscribed to `sysno` (one at least) decides its
    /// calls on an fd by the fd's file alone ([`Policy::fd_paths`]).
    pub fn fd_scoped(&self, sysno: Sysno) -> bool {
        let mut subscribed = self
            .stages
            .iter()
            .filter(|stage| stage.subscription.contains(sysno))
            .peekable();
        subscribed.peek().is_some() && subscribed.all(|stage| stage.policy.fd_paths().is_some())
    }

    /// Whether calls on a descriptor of the file at `path` may matter to a
    /// stage that decides fd calls by their file ([`Policy::fd_paths`]).
    pub fn fd_path_matters(&self, path: &Path) -> bool {
        self.stages
            .iter()
            .filter_map(|stage| stage.policy.fd_paths())
            .any(|paths| paths.holds(path))
    }

    /// The calls of `sysno` are answered in the kernel for the one stage
    /// subscribed to it: its report says so, since fi counts none of them.
    pub fn decided_in_kernel(&mut self, sysno: Sysno) {
        for stage in &mut self.stages {
            if stage.subscription.contains(sysno) {
                stage.in_kernel.insert(sysno);
            }
        }
    }

    /// The name of stage `index`.
    pub fn stage_name(&self, index: usize) -> &str {
        self.stages[index].policy.name()
    }

    /// What each stage did so far, in command-line order.
    pub fn stages(&self) -> Vec<StageReport> {
        self.stages
            .iter()
            .map(|stage| StageReport {
                name: stage.policy.name().to_string(),
                changed: stage.changed,
                idle_reason: (stage.changed == 0)
                    .then(|| kernel_note(&stage.in_kernel).or_else(|| stage.policy.idle_reason()))
                    .flatten(),
                reported: stage.policy.reported(),
            })
            .collect()
    }

    /// Run the entry phase for `call`, rewriting it in place.
    pub fn enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Decision, PolicyError> {
        let mut decision = Decision::default();
        for (index, stage) in self.stages.iter_mut().enumerate() {
            if !call.sysno().is_some_and(|s| stage.subscription.contains(s)) {
                stage.policy.observe(call, tracee);
                continue;
            }
            let before = *call;
            let verdict = match stage.policy.on_enter(call, tracee) {
                Ok(verdict) => verdict,
                Err(error) if self.on_error == OnPolicyError::Pass => {
                    decision.errors.push(error);
                    continue;
                }
                Err(error) => return Err(error),
            };
            decision.delay_enter += verdict.delay_enter;
            decision.delay_exit += verdict.delay_exit;
            decision.signals.extend(verdict.signal);
            decision.wrote_memory |= verdict.wrote_memory;
            decision.log |= verdict.log;
            decision.kill_after |= verdict.kill_after;
            let unchanged = Verdict {
                want_exit: false,
                log: false,
                ..verdict
            } == Verdict::PASS;
            if !unchanged || *call != before {
                decision.changed_by.push(index);
                stage.changed += 1;
            }
            if verdict.action != Action::Pass {
                decision.action = verdict.action;
                break;
            }
            if verdict.want_exit {
                decision.exit_stages.push(index);
            }
        }
        Ok(decision)
    }

    /// Run the exit phase, or go on with it: the decision's exit stages see
    /// `result` in reverse order and may change it or the tracee's memory;
    /// those that do join `changed_by`. A stage that asks for another call
    /// stops the phase: that call is returned, to be made, and the phase
    /// goes on at its exit with its result, the asking stage seeing it
    /// first; the stages outside it then see `call` again.
    pub fn exit(
        &mut self,
        decision: &mut Decision,
        call: &Call,
        result: &mut i64,
        tracee: &Tracee,
    ) -> Result<Option<Call>, PolicyError> {
        loop {
            let (index, seen) = match decision.follow_up.take() {
                Some(follow_up) => follow_up,
                None => match decision.exit_stages.pop() {
                    Some(index) => (index, *call),
                    None => return Ok(None),
                },
            };
            let before = *result;
            match self.stages[index].policy.on_exit(&seen, result, tracee) {
                Ok(ExitVerdict { wrote_memory, then }) => {
                    decision.wrote_memory |= wrote_memory;
                    let changed = wrote_memory || *result != before || then.is_some();
                    if changed && !decision.changed_by.contains(&index) {
                        decision.changed_by.push(index);
                        self.stages[index].changed += 1;
                    }
                    if let Some(then) = then {
                        let then = Call {
                            pid: call.pid,
                            tid: call.tid,
                            ..then
                        };
                        decision.follow_up = Some((index, then));
                        return Ok(Some(then));
                    }
                }
                Err(error) if self.on_error == OnPolicyError::Pass => decision.errors.push(error),
                Err(error) => return Err(error),
            }
        }
    }

    /// Tell every stage that thread `tid` is gone.
    pub fn thread_exited(&mut self, tid: i32) {
        for stage in &mut self.stages {
            stage.policy.thread_exited(tid);
        }
    }

    /// Tell every stage that a thread of process `pid` was killed by
    /// `signal`.
    pub fn thread_killed(&mut self, pid: i32, signal: i32) {
        for stage in &mut self.stages {
            stage.policy.thread_killed(pid, signal);
        }
    }

    /// Tell every stage that the run has ended.
    pub fn finish(&mut self) {
        for stage in &mut self.stages {
            stage.policy.finish();
        }
    }
}

/// Why a stage whose calls the kernel answered shows no changed call.
fn kernel_note(in_kernel: &SysnoSet) -> Option<String> {
    if in_kernel.is_empty() {
        return None;
    }
    let names: Vec<&str> = in_kernel.iter().map(|sysno| sysno.name()).collect();
    Some(format!(
        "its {} calls were answered by the seccomp filter in the kernel \
         (SECCOMP_RET_ERRNO), which fi does not see or count; \
         log them (-o FILE) to have them counted",
        names.join("/")
    ))
}
