//! The crash as a policy: it follows the calls under the root into the
//! model, asks the crash-point predicate about each, has the engine kill
//! the traced tree after the chosen one, and rewrites the files when the
//! run has ended.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use syscalls::SysnoSet;

use super::model::{followed, Model};
use super::state::{fates, reorder_states};
use super::{restore, Crash, CrashMode, CrashReport, CrashedAt, Point, Predicate};
use crate::model::{Call, Capabilities, Verdict};
use crate::policy::{Policy, PolicyError};
use crate::tracee::Tracee;

/// Where the run's [`CrashReport`] is left when the run ends.
pub(crate) type ReportSlot = Arc<Mutex<Option<CrashReport>>>;

/// A [`Crash`] made ready for a run.
pub(crate) struct CrashPolicy {
    name: String,
    model: Model,
    mode: CrashMode,
    seed: u64,
    point: Option<Predicate>,
    subscription: SysnoSet,
    durability_points: u64,
    /// Calls seen so far, per syscall number (for the replay spec).
    seen: HashMap<i64, u32>,
    crashed: Option<CrashedAt>,
    scratch: PathBuf,
    slot: ReportSlot,
}

impl CrashPolicy {
    /// Check `crash` and make its scratch directory; the report will be
    /// left in `slot`.
    pub(crate) fn new(crash: Crash, slot: ReportSlot) -> Result<CrashPolicy, String> {
        let root = crash
            .root
            .canonicalize()
            .map_err(|e| format!("--root {}: {e}", crash.root.display()))?;
        if !root.is_dir() {
            return Err(format!("--root {}: not a directory", crash.root.display()));
        }
        let base = crash.scratch.unwrap_or_else(std::env::temp_dir);
        let scratch = new_scratch_dir(&base)
            .map_err(|e| format!("scratch directory in {}: {e}", base.display()))?;
        Ok(CrashPolicy {
            name: crash.name,
            model: Model::new(root, scratch.clone(), crash.memory),
            mode: crash.mode,
            seed: crash.seed,
            point: crash.point,
            subscription: followed().union(&crash.point_calls),
            durability_points: 0,
            seen: HashMap::new(),
            crashed: None,
            scratch,
            slot,
        })
    }

    /// Rewrite the files for the crash, if there was one; the report.
    fn report(&mut self) -> CrashReport {
        let mut problems = std::mem::take(&mut self.model.notes);
        let unsynced = self.model.log.len();
        let reorder = reorder_states(&self.model.log);
        let mut lost = Vec::new();
        if self.crashed.is_some() {
            match fates(&self.model.log, self.mode, self.seed) {
                Ok(fates) => {
                    let (l, errors) = restore::apply(&self.model, &fates);
                    lost = l;
                    problems.extend(errors);
                }
                Err(e) => problems.push(e),
            }
        }
        CrashReport {
            root: self.model.root().to_path_buf(),
            mode: self.mode,
            seed: self.seed,
            point: self.crashed.clone(),
            durability_points: self.durability_points,
            unsynced,
            reorder_states: reorder,
            lost,
            spilled_bytes: self.model.store.spilled_total(),
            problems,
        }
    }
}

impl Policy for CrashPolicy {
    fn name(&self) -> &str {
        &self.name
    }

    fn subscription(&self) -> SysnoSet {
        self.subscription.clone()
    }

    fn needs(&self) -> Capabilities {
        Capabilities {
            rewrite: false,
            results: true,
            delay_exit: false,
        }
    }

    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError> {
        if self.crashed.is_some() {
            // The tree is being killed: nothing more reaches the disk model.
            return Ok(Verdict::PASS);
        }
        let seen = self.seen.entry(call.nr).or_insert(0);
        *seen = seen.saturating_add(1);
        let nth = *seen;
        let durable = self.model.enter(call, tracee);
        if durable {
            self.durability_points += 1;
        }
        let point = Point {
            durability_point: durable.then_some(self.durability_points),
        };
        let fire = self
            .point
            .as_mut()
            .is_some_and(|predicate| predicate(call, tracee, &point));
        if fire {
            self.crashed = Some(CrashedAt {
                call: *call,
                syscall: call.name(),
                durability_point: point.durability_point,
                paths: tracee.call_paths(call),
                replay: format!("{}:when={nth}", call.name()),
            });
        }
        Ok(Verdict {
            want_exit: durable || fire,
            kill_after: fire,
            // The crash call is logged, with its result.
            log: fire,
            ..Verdict::PASS
        })
    }

    fn on_exit(
        &mut self,
        call: &Call,
        result: &mut i64,
        _tracee: &Tracee,
    ) -> Result<bool, PolicyError> {
        self.model.exit(call.tid, *result);
        Ok(false)
    }

    fn idle_reason(&self) -> Option<String> {
        Some(format!(
            "the run ended before the crash point ({} durability points)",
            self.durability_points
        ))
    }

    fn thread_exited(&mut self, tid: i32) {
        self.model.thread_gone(tid);
    }

    fn finish(&mut self) {
        let report = self.report();
        let _ = std::fs::remove_dir_all(&self.scratch);
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(report);
    }
}

impl Drop for CrashPolicy {
    /// The scratch directory goes on every way out, a failed run's too
    /// ([`Policy::finish`] removes it on the usual one).
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// A new, private directory inside `base`.
fn new_scratch_dir(base: &std::path::Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    for n in 0..1000u32 {
        let dir = base.join(format!("fi-crash-{}-{n}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free name"))
}
