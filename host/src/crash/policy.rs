//! The crash as a policy: it follows the calls under the root into the
//! model, asks the crash-point predicate about each, has the engine kill
//! the traced tree after the chosen one, and rewrites the files when the
//! run has ended.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use syscalls::{Sysno, SysnoSet};

use super::fs::Fs;
use super::log::FileId;
use super::model::{followed, id_of, Model};
use super::point::Ack;
use super::state::{fates, prefix_states, reachable_on, reorder_states};
use super::{restore, Crash, CrashMode, CrashReport, CrashedAt, Point, Predicate};
use crate::model::{Call, Capabilities, ExitVerdict, Verdict};
use crate::policy::{Policy, PolicyError};
use crate::tracee::Tracee;

/// Where the run's [`CrashReport`] is left when the run ends.
pub(crate) type ReportSlot = Arc<Mutex<Option<CrashReport>>>;

/// A [`Crash`] made ready for a run.
pub(crate) struct CrashPolicy {
    name: String,
    model: Model,
    mode: CrashMode,
    fs: Fs,
    seed: u64,
    point: Option<Predicate>,
    subscription: SysnoSet,
    durability_points: u64,
    acks: Acks,
    /// Calls seen so far, per syscall number (for the replay spec).
    seen: HashMap<i64, u32>,
    crashed: Option<CrashedAt>,
    /// The scratch directory; `None` once removed.
    scratch: Option<PathBuf>,
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
            fs: crash.fs,
            seed: crash.seed,
            point: crash.point,
            subscription: followed().union(&crash.point_calls),
            durability_points: 0,
            acks: Acks {
                targets: crash.acks,
                main: None,
                looked_at: HashSet::new(),
                stdout: None,
                count: 0,
            },
            seen: HashMap::new(),
            crashed: None,
            scratch: Some(scratch),
            slot,
        })
    }

    /// Remove the scratch directory, once: its name is free again after,
    /// and another session of the process may take it (tests run sessions
    /// in threads), whose directory a second removal would delete.
    fn remove_scratch(&mut self) {
        if let Some(scratch) = self.scratch.take() {
            let _ = std::fs::remove_dir_all(scratch);
        }
    }

    /// Rewrite the files for the crash, if there was one; the report.
    fn report(&mut self) -> CrashReport {
        let mut problems = std::mem::take(&mut self.model.notes);
        let unsynced = self.model.log.len();
        let reorder = reorder_states(&self.model.log, self.fs);
        let mut restored = restore::Restored::default();
        let mut reachable = Vec::new();
        if self.crashed.is_some() {
            match fates(&self.model.log, self.fs, self.mode, self.seed) {
                Ok(fates) => {
                    reachable = reachable_on(&self.model.log, &fates);
                    restored = restore::apply(&self.model, &fates);
                }
                Err(e) => problems.push(e),
            }
        }
        problems.append(&mut restored.problems);
        CrashReport {
            root: self.model.root().to_path_buf(),
            mode: self.mode,
            fs: self.fs,
            reachable_on: reachable,
            prefix_states: prefix_states(&self.model.log, self.fs).unwrap_or_default(),
            seed: self.seed,
            point: self.crashed.clone(),
            durability_points: self.durability_points,
            ack_points: self.acks.count,
            unsynced,
            reorder_states: reorder,
            lost: restored.lost,
            own_copies: restored.own_copies,
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
        self.acks.learn_main(tracee);
        let durable = self.model.enter(call, tracee);
        if durable {
            self.durability_points += 1;
        }
        let point = Point {
            durability_point: durable.then_some(self.durability_points),
            ack_point: self.acks.is_ack(call, tracee).then_some(self.acks.count),
            end: call.sysno() == Some(Sysno::exit_group) && self.acks.main == Some(tracee.pid),
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
                ack_point: point.ack_point,
                paths: tracee.call_paths(call),
                replay: if point.end {
                    "end".into()
                } else {
                    format!("{}:when={nth}", call.name())
                },
            });
        }
        Ok(Verdict {
            want_exit: durable || fire,
            // An exit_group never returns: the crash comes as it ends.
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
    ) -> Result<ExitVerdict, PolicyError> {
        self.model.exit(call.tid, *result);
        Ok(ExitVerdict::KEEP)
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
        self.remove_scratch();
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(report);
    }
}

/// The acknowledgement targets of a run, and how many writes reached them.
struct Acks {
    targets: Vec<Ack>,
    /// The program's main process: the first traced process whose parent
    /// is fi's (a spawned program; none when attached).
    main: Option<i32>,
    /// The processes already looked at for it: `/proc` is read once a
    /// process, not at every call.
    looked_at: HashSet<i32>,
    /// The main process's standard output when first seen.
    stdout: Option<FileId>,
    count: u64,
}

impl Acks {
    /// Learn the main process from the first call of a child of fi's, and
    /// make relative targets absolute in its working directory.
    fn learn_main(&mut self, tracee: &Tracee) {
        if self.main.is_some()
            || !self.looked_at.insert(tracee.pid)
            || parent_of(tracee.pid) != Some(std::process::id() as i32)
        {
            return;
        }
        self.main = Some(tracee.pid);
        self.stdout = std::fs::metadata(format!("/proc/{}/fd/1", tracee.pid))
            .ok()
            .map(|meta| id_of(&meta));
        if let Ok(cwd) = std::fs::read_link(format!("/proc/{}/cwd", tracee.pid)) {
            for target in &mut self.targets {
                if let Ack::Path(path) = target {
                    if path.is_relative() {
                        *path = cwd.join(&*path);
                    }
                }
            }
        }
    }

    /// Whether `call` writes to an acknowledgement target (counted if so).
    fn is_ack(&mut self, call: &Call, tracee: &Tracee) -> bool {
        use Sysno::*;
        if self.targets.is_empty() {
            return false;
        }
        let fd = match call.sysno() {
            Some(write | pwrite64 | writev | pwritev | pwritev2 | sendfile) => call.args[0],
            Some(splice | copy_file_range) => call.args[2],
            _ => return false,
        };
        let Ok(meta) = std::fs::metadata(format!("/proc/{}/fd/{}", tracee.tid, fd as i32)) else {
            return false;
        };
        let written = id_of(&meta);
        let hit = self.targets.iter().any(|target| match target {
            Ack::Stdout => self.stdout == Some(written),
            Ack::Path(path) => std::fs::metadata(path).is_ok_and(|m| id_of(&m) == written),
        });
        if hit {
            self.count += 1;
        }
        hit
    }
}

/// The parent process of `pid`, from `/proc`.
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: after its end,
    // the state, then the parent.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

impl Drop for CrashPolicy {
    /// The scratch directory goes on every way out, a failed run's too
    /// ([`Policy::finish`] removes it on the usual one).
    fn drop(&mut self) {
        self.remove_scratch();
    }
}

/// A new, private directory inside `base`.
pub(super) fn new_scratch_dir(base: &std::path::Path) -> std::io::Result<PathBuf> {
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
