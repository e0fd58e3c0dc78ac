//! The one policy of every explore run: it finds the fault points among the
//! calls (in [`Scope`]), keys them, and either records them or injects one
//! fault at the point whose id it was given.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::GlobSet;
use syscalls::{Sysno, SysnoSet};

use super::corruption::{Corruption, PendingRead};
use super::faults::{Fault, FaultChoice};
use super::key::{site_of, workdir_relative, PointKey, RandomNames};
use crate::model::{Action, Call, Capabilities, ExitVerdict, Need, Verdict};
use crate::policy::{Policy, PolicyError};
use crate::tracee::stack::{Frame, Unwinder};
use crate::tracee::Tracee;

/// The calls that leave a file's writes unsynced, with the argument that
/// holds the written descriptor.
const UNSYNCING: &[(Sysno, usize)] = &[
    (Sysno::write, 0),
    (Sysno::pwrite64, 0),
    (Sysno::writev, 0),
    (Sysno::pwritev, 0),
    (Sysno::pwritev2, 0),
    (Sysno::ftruncate, 0),
    (Sysno::fallocate, 0),
    (Sysno::copy_file_range, 2),
    (Sysno::sendfile, 0),
    (Sysno::splice, 2),
];

/// Whether the file of `pid`'s descriptor `fd` (whose path is `path`) has
/// no name left: removed, and linked nowhere else.
fn has_no_name(path: &Path, pid: i32, fd: u64) -> bool {
    path.as_os_str().as_encoded_bytes().ends_with(b" (deleted)")
        && fs::metadata(format!("/proc/{pid}/fd/{fd}")).is_ok_and(|file| file.nlink() == 0)
}

/// The calls that sync a file's writes.
const SYNCING: &[Sysno] = &[Sysno::fsync, Sysno::fdatasync];

/// The deepest call stack a key keeps.
const STACK_DEPTH: usize = 16;

/// Which calls are fault points.
#[derive(Clone, Debug)]
pub struct Scope {
    /// The explored syscalls.
    pub syscalls: SysnoSet,
    /// The run's working directory: the default scope is the files in it.
    pub workdir: PathBuf,
    /// Explicit path globs, instead of the working directory.
    pub paths: Option<Arc<GlobSet>>,
    /// Every call of the explored syscalls, whatever it touches.
    pub all_paths: bool,
    /// Socket calls too.
    pub network: bool,
    /// The random file names the recording learned.
    pub random: RandomNames,
}

impl Scope {
    /// The file `call` touches if it is a fault point (empty for a point
    /// that touches no file, with `all_paths`); `None` if it is not one.
    fn target(&self, call: &Call, tracee: &Tracee) -> Option<PathBuf> {
        call.sysno()?;
        let paths = tracee.call_paths(call);
        if self.all_paths {
            return Some(paths.into_iter().next().unwrap_or_default());
        }
        paths.into_iter().find(|path| self.covers(call, path))
    }

    fn covers(&self, call: &Call, path: &Path) -> bool {
        let text = path.to_string_lossy();
        if text.contains("/__pycache__/") {
            // The interpreter's own best-effort cache, not the program's data.
            return false;
        }
        if text.starts_with("socket:") {
            return self.network;
        }
        if let Some(globs) = &self.paths {
            return globs.is_match(path);
        }
        path.starts_with(&self.workdir) || self.is_redirected_output(call, path)
    }

    /// A write to standard output or error that goes to a regular file.
    fn is_redirected_output(&self, call: &Call, path: &Path) -> bool {
        let writes = matches!(
            call.sysno(),
            Some(Sysno::write | Sysno::writev | Sysno::pwrite64)
        );
        writes && matches!(call.args[0], 1 | 2) && path.is_file()
    }
}

/// What a probe does with the points it finds.
#[derive(Clone, Debug)]
pub enum ProbeMode {
    /// List every point, with the faults to try there.
    Record,
    /// List the path of every point, and nothing else: no stack is
    /// unwound, no call stopped at its exit. The second recording, which
    /// tells which names vary by themselves, needs no more.
    Paths,
    /// Inject the fault whose id ([`PointKey::id`]) this is, at the point
    /// with this key if known (to tell why it did not occur).
    Inject(String, Option<PointKey>),
}

/// A point as the recording run saw it.
#[derive(Clone, Debug)]
pub struct SeenPoint {
    /// Its key.
    pub key: PointKey,
    /// The path it touched, before names were normalised.
    pub path: String,
    /// The thread that made the call.
    pub tid: i32,
    /// The faults to try there.
    pub faults: Vec<Fault>,
    /// Its call stack, for naming.
    pub frames: Vec<Frame>,
    /// The call failed in this run already (an `unlink` of a file that is
    /// not there): the program has its error path exercised, and failing it
    /// otherwise changes nothing it meant to change.
    pub failed: bool,
}

/// The fault a probe injected.
#[derive(Clone, Debug)]
pub struct Fired {
    /// Where.
    pub key: PointKey,
    /// What.
    pub fault: Fault,
    /// Its call stack, for naming.
    pub frames: Vec<Frame>,
    /// The program wrote the same bytes again from the same place after the
    /// error: it retried.
    pub retried: bool,
    /// The byte a corrupted read changed (`--faults corrupt`), once it
    /// returned bytes.
    pub corruption: Option<Corruption>,
}

/// What a probe found, readable after the run.
#[derive(Debug, Default)]
pub struct ProbeReport {
    /// Recording: the points, in the order the calls were made.
    pub points: Vec<SeenPoint>,
    /// Injecting: the fault, once it fired.
    pub fired: Option<Fired>,
    /// Injecting at a known point that did not occur: how near the run
    /// came to it.
    pub near: NearMiss,
    /// The processes of the run killed by a signal: executable name and
    /// signal, once per process.
    pub killed: Vec<(i32, String, i32)>,
}

/// The calls of an injected run like the point it was to fail: on the same
/// file with the same syscall, from any call site and from the point's own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NearMiss {
    /// Calls of the point's syscall on its file.
    pub on_file: u32,
    /// Of those, calls from the point's call site.
    pub from_site: u32,
}

/// The explore policy (see the module documentation).
pub struct Probe {
    scope: Scope,
    faults: FaultChoice,
    mode: ProbeMode,
    report: Arc<Mutex<ProbeReport>>,
    unwinder: Unwinder,
    /// Calls seen per key without its ordinal.
    counts: HashMap<PointKey, u32>,
    /// Executable names by process.
    programs: HashMap<i32, String>,
    /// A `close` that runs and then reports this errno, by thread.
    fail_at_exit: HashMap<i32, i64>,
    /// A read whose returned bytes are to be corrupted, by thread.
    corrupt_at_exit: HashMap<i32, PendingRead>,
    /// Recording: the point each thread's current call is, to note its
    /// result.
    recording: HashMap<i32, usize>,
    /// Files written since their last sync, by (process, fd): only closing
    /// one of them can lose data.
    unsynced: HashSet<(i32, u64)>,
    /// After an injected error on a write: its site and the written bytes,
    /// to tell a retry from the next write.
    retry_watch: Option<(PointKey, Vec<u8>)>,
}

impl Probe {
    /// A probe over `scope` trying `faults`; its findings go to the returned
    /// report.
    pub fn new(
        scope: Scope,
        faults: FaultChoice,
        mode: ProbeMode,
    ) -> (Probe, Arc<Mutex<ProbeReport>>) {
        let report = Arc::new(Mutex::new(ProbeReport::default()));
        let probe = Probe {
            scope,
            faults,
            mode,
            report: report.clone(),
            unwinder: Unwinder::new(),
            counts: HashMap::new(),
            programs: HashMap::new(),
            fail_at_exit: HashMap::new(),
            corrupt_at_exit: HashMap::new(),
            recording: HashMap::new(),
            unsynced: HashSet::new(),
            retry_watch: None,
        };
        (probe, report)
    }

    fn program(&mut self, pid: i32) -> String {
        self.programs
            .entry(pid)
            .or_insert_with(|| {
                fs::read_link(format!("/proc/{pid}/exe"))
                    .ok()
                    .and_then(|exe| Some(exe.file_name()?.to_string_lossy().into_owned()))
                    .unwrap_or_default()
            })
            .clone()
    }

    /// The key of `call` at the path `raw` (as [`workdir_relative`] gives
    /// it), counted.
    fn key(&mut self, call: &Call, raw: &str, frames: &[Frame]) -> PointKey {
        let mut key = PointKey {
            program: self.program(call.pid),
            syscall: call.name(),
            path: self.scope.random.class(raw),
            site: site_of(frames),
            ordinal: 0,
        };
        let count = self.counts.entry(key.clone()).or_insert(0);
        *count += 1;
        key.ordinal = *count;
        key
    }

    fn inject(&mut self, fault: Fault, call: &mut Call, tracee: &Tracee) -> Verdict {
        match fault {
            // A power loss is a crash campaign's, never a probe's.
            Fault::Crash(_) => Verdict::PASS,
            Fault::Corrupt => match PendingRead::of(call, tracee) {
                Some(read) => {
                    self.corrupt_at_exit.insert(call.tid, read);
                    Verdict {
                        want_exit: true,
                        ..Verdict::PASS
                    }
                }
                None => Verdict::PASS,
            },
            Fault::Short => {
                call.args[2] = (call.args[2] / 2).max(1);
                Verdict::PASS
            }
            Fault::Errno(errno) if call.sysno() == Some(Sysno::close) => {
                self.fail_at_exit
                    .insert(call.tid, -i64::from(errno.into_raw()));
                Verdict {
                    want_exit: true,
                    ..Verdict::PASS
                }
            }
            Fault::Errno(errno) => {
                if is_plain_write(call) {
                    let fired = self.report().fired.as_ref().map(|f| f.key.clone());
                    if let Some(key) = fired {
                        self.retry_watch = Some((key, written_bytes(call, tracee)));
                    }
                }
                Verdict::action(Action::Fail(errno))
            }
        }
    }

    fn report(&self) -> std::sync::MutexGuard<'_, ProbeReport> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Injecting, the fault has fired and no retry is watched for: later
    /// calls need no look.
    fn done(&self) -> bool {
        matches!(self.mode, ProbeMode::Inject(..))
            && self.retry_watch.is_none()
            && self.report().fired.is_some()
    }

    /// Keep track of which fds hold unsynced writes.
    fn note_sync_state(&mut self, call: &Call, sysno: Sysno) {
        if let Some(&(_, arg)) = UNSYNCING.iter().find(|(unsyncing, _)| *unsyncing == sysno) {
            self.unsynced.insert((call.pid, call.args[arg]));
        } else if SYNCING.contains(&sysno) {
            self.unsynced.remove(&(call.pid, call.args[0]));
        }
    }

    /// The calls an injecting probe must see: those of the point's syscall
    /// (a point's ordinal counts the calls of its own syscall only), and
    /// for a `close`, the calls that tell whether it has unsynced writes to
    /// lose. Every explored call when the point is not known.
    fn calls_to_see(&self) -> SysnoSet {
        let ProbeMode::Inject(_, Some(expected)) = &self.mode else {
            return self.scope.syscalls.clone();
        };
        let Ok(sysno) = expected.syscall.parse::<Sysno>() else {
            return self.scope.syscalls.clone();
        };
        let mut calls = SysnoSet::new(&[sysno]);
        if sysno == Sysno::close {
            for &(unsyncing, _) in UNSYNCING {
                calls.insert(unsyncing);
            }
            calls = calls.union(&SysnoSet::new(SYNCING));
        }
        calls.intersection(&self.scope.syscalls)
    }

    /// After the injected error: is this call the same write again?
    fn check_retry(&mut self, key: &PointKey, call: &Call, tracee: &Tracee) {
        let Some((watched, bytes)) = &self.retry_watch else {
            return;
        };
        let same_place = watched.site_id() == key.site_id() && watched.ordinal < key.ordinal;
        if same_place && written_bytes(call, tracee) == *bytes {
            if let Some(fired) = self.report().fired.as_mut() {
                fired.retried = true;
            }
            self.retry_watch = None;
        }
    }
}

fn is_plain_write(call: &Call) -> bool {
    matches!(call.sysno(), Some(Sysno::write | Sysno::pwrite64))
}

/// The first bytes a `write`/`pwrite64` writes, enough to tell one write
/// from another.
fn written_bytes(call: &Call, tracee: &Tracee) -> Vec<u8> {
    let len = call.args[2].min(4096) as usize;
    let mut bytes = tracee.read_memory(call.args[1], len).unwrap_or_default();
    bytes.extend(call.args[2].to_le_bytes());
    bytes
}

impl Policy for Probe {
    fn name(&self) -> &str {
        "explore"
    }

    fn subscription(&self) -> SysnoSet {
        let mut set = self.calls_to_see();
        set.insert(Sysno::execve);
        set.insert(Sysno::execveat);
        set
    }

    fn needs(&self) -> Capabilities {
        Capabilities {
            rewrite: true,
            results: true,
            delay_exit: false,
        }
    }

    fn need(&self, sysno: Sysno) -> Need {
        match self.mode {
            // A path is read at the call's entry, which a user notification
            // shows; an exec is stopped, to know the program.
            ProbeMode::Paths if !matches!(sysno, Sysno::execve | Sysno::execveat) => Need::Entry {
                passes_changed: false,
            },
            _ => Need::Stop,
        }
    }

    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError> {
        let Some(sysno) = call.sysno() else {
            return Ok(Verdict::PASS);
        };
        if matches!(sysno, Sysno::execve | Sysno::execveat) {
            // The address space and the executable are about to change.
            self.unwinder.forget(call.pid);
            self.programs.remove(&call.pid);
            return Ok(Verdict::PASS);
        }
        if !self.scope.syscalls.contains(sysno) || self.done() {
            return Ok(Verdict::PASS);
        }
        let Some(target) = self.scope.target(call, tracee) else {
            return Ok(Verdict::PASS);
        };
        let frames = match self.mode {
            ProbeMode::Paths => Vec::new(),
            _ => self.unwinder.stack(tracee, STACK_DEPTH),
        };
        let raw = workdir_relative(&target, &self.scope.workdir);
        let key = self.key(call, &raw, &frames);
        let count = matches!(
            sysno,
            Sysno::read | Sysno::write | Sysno::pread64 | Sysno::pwrite64 | Sysno::sendto
        )
        .then_some(call.args[2]);
        let fd = (call.pid, call.args[0]);
        let faults = match sysno {
            // Closing a file with nothing unsynced written has nothing to
            // lose: the kernel reports write-back errors only for such data.
            // Nor has closing a file that no name is left to (SQLite's
            // index of its log, removed before its close): no one can read
            // what it held.
            Sysno::close
                if !self.unsynced.remove(&fd) || has_no_name(&target, call.pid, call.args[0]) =>
            {
                Vec::new()
            }
            _ => self.faults.faults_for(sysno, count),
        };
        self.note_sync_state(call, sysno);
        match &self.mode {
            ProbeMode::Record | ProbeMode::Paths => {
                // Every counted call is kept, with no fault to try or some:
                // the plan counts them again once random names are known.
                let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
                let want_exit = matches!(self.mode, ProbeMode::Record);
                if want_exit {
                    self.recording.insert(call.tid, report.points.len());
                }
                report.points.push(SeenPoint {
                    key,
                    path: raw,
                    tid: call.tid,
                    faults,
                    frames,
                    failed: false,
                });
                Ok(Verdict {
                    want_exit,
                    ..Verdict::PASS
                })
            }
            _ if faults.is_empty() => Ok(Verdict::PASS),
            ProbeMode::Inject(id, expected) => {
                if self.report().fired.is_some() {
                    self.check_retry(&key, call, tracee);
                    return Ok(Verdict::PASS);
                }
                if let Some(expected) = expected {
                    let mut report = self.report();
                    let near = &mut report.near;
                    if (&key.program, &key.syscall, &key.path)
                        == (&expected.program, &expected.syscall, &expected.path)
                    {
                        near.on_file += 1;
                        near.from_site += u32::from(key.site == expected.site);
                    }
                }
                let Some(fault) = faults.into_iter().find(|&fault| key.id(fault) == *id) else {
                    return Ok(Verdict::PASS);
                };
                self.report().fired = Some(Fired {
                    key,
                    fault,
                    frames,
                    retried: false,
                    corruption: None,
                });
                Ok(self.inject(fault, call, tracee))
            }
        }
    }

    fn on_exit(
        &mut self,
        call: &Call,
        result: &mut i64,
        tracee: &Tracee,
    ) -> Result<ExitVerdict, PolicyError> {
        if let Some(errno) = self.fail_at_exit.remove(&call.tid) {
            *result = errno;
        }
        if let (Some(read), ProbeMode::Inject(id, _)) =
            (self.corrupt_at_exit.remove(&call.tid), &self.mode)
        {
            let returned = u64::try_from(*result).unwrap_or(0);
            let corruption = read.corrupt(tracee, returned, id);
            if let Some(fired) = self.report().fired.as_mut() {
                fired.corruption = corruption;
            }
        }
        if let Some(index) = self.recording.remove(&call.tid) {
            if let Some(point) = self.report().points.get_mut(index) {
                point.failed = (-4095..0).contains(result);
                if *result <= 0 {
                    // A read that returned nothing has no bytes to corrupt.
                    point.faults.retain(|&fault| fault != Fault::Corrupt);
                }
            }
        }
        Ok(ExitVerdict::KEEP)
    }

    fn thread_killed(&mut self, pid: i32, signal: i32) {
        let program = self.program(pid);
        let mut report = self.report();
        if !report.killed.iter().any(|(seen, _, _)| *seen == pid) {
            report.killed.push((pid, program, signal));
        }
    }

    fn thread_exited(&mut self, tid: i32) {
        self.fail_at_exit.remove(&tid);
        self.corrupt_at_exit.remove(&tid);
        self.recording.remove(&tid);
        // A process's first thread has the process's id.
        self.unwinder.forget(tid);
        self.programs.remove(&tid);
    }
}
