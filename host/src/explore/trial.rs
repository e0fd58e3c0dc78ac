//! One run of the explored program under a probe: in a fresh copy of the
//! work directory (or the current directory), with its output captured, a
//! time limit, and the user's check afterwards.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::faults::reports_lost_sync;
use super::key::normalize_names;
use super::probe::{Probe, ProbeReport};
pub use super::streams::Captured;
use super::streams::Streams;
use crate::crash::{Crash, CrashReport};
use crate::interrupt::Interrupt;
use crate::session::{Session, SessionError, Status};

/// How long after its time limit a run is killed: the time to note which
/// of its processes still run.
const LOOK_AT_THE_LIMIT: Duration = Duration::from_millis(300);

/// The built-in `clock` plugin moving the wall clock (`CLOCK_REALTIME` and
/// its coarse form, `gettimeofday`, `time`) a second ahead: a run made
/// right after another reads every time in seconds later than any the
/// other read, as if it had waited for the next second.
pub const CLOCK_AHEAD: &str = "clock:jump=+1s:clocks=realtime";

/// How long the processes a probed run's program leaves running (gpg's
/// agent, a background job) may go on once it ended: then they are killed,
/// so that the run ends with the program, its check sees what it left, and
/// the next run starts without them. A power-loss run keeps its tree to the
/// crash.
const LEFTOVERS: Duration = Duration::from_millis(500);

/// What to run, and where.
#[derive(Clone, Debug)]
pub struct Program {
    /// The executable, as the user named it, found from the directory explore
    /// was started in.
    pub argv: Vec<OsString>,
    /// The directory every run starts in a copy of (`--workdir`), or `None`
    /// to run in `cwd` itself.
    pub workdir: Option<PathBuf>,
    /// The directory explore was started in.
    pub cwd: PathBuf,
    /// The shell command that checks a run's result (`--check`).
    pub check: Option<String>,
    /// The check must pass after every run, even one in which the program
    /// reported an error (`--check-always`).
    pub check_always: bool,
}

/// What one run gave.
#[derive(Debug)]
pub struct Observed {
    /// How the program ended.
    pub status: Status,
    /// Its standard output.
    pub stdout: Captured,
    /// Its standard error.
    pub stderr: Captured,
    /// How long it ran.
    pub duration: Duration,
    /// Whether a `--check` ran after the program.
    pub checked: bool,
    /// The check's failure, if it failed: its status and output.
    pub check_failed: Option<String>,
    /// The files the run left in its copy of the work directory, after
    /// the check (`None` without `--workdir`, where runs share the current
    /// directory).
    pub tree: Option<Tree>,
    /// The files the program left before the check ran, when the check
    /// may have hidden its course: kept for the recordings and the runs
    /// that failed a sync or a close (`None` otherwise, or without a check:
    /// then they are [`Self::tree`]).
    pub left: Option<Tree>,
    /// What the probe saw or did.
    pub probe: ProbeReport,
    /// What a simulated power loss did.
    pub crash: Option<CrashReport>,
    /// At the time limit: the processes still running, each in a line
    /// with where its threads wait (empty if the run ended by itself).
    pub running: Vec<String>,
}

/// The directory a run works in, removed afterwards if it is a copy.
pub struct RunDir {
    path: PathBuf,
    copy: bool,
}

impl RunDir {
    /// The run's working directory: a fresh copy of `program.workdir` under
    /// `scratch` named `name` (its symlinks into the original retargeted
    /// into the copy), or the current directory.
    pub fn prepare(program: &Program, scratch: &Path, name: &str) -> io::Result<RunDir> {
        let Some(source) = &program.workdir else {
            return Ok(RunDir {
                path: program.cwd.clone(),
                copy: false,
            });
        };
        // Made first, so that a copy that fails half-way is removed.
        let dir = RunDir {
            path: scratch.join(name),
            copy: true,
        };
        super::copy::tree(source, &dir.path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "copying {} to {}: {e}",
                    source.display(),
                    dir.path.display()
                ),
            )
        })?;
        super::links::retarget(source, &dir.path)?;
        Ok(dir)
    }

    /// Where the run works.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if self.copy {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// What a run injects: a probe's fault, or a simulated power loss.
pub enum Injector {
    /// A probe, where its report goes, and the wall clock the program reads.
    Probe(Box<Probe>, Arc<Mutex<ProbeReport>>, Clock),
    /// A crash (or, without a crash point, the count of durability points).
    Crash(Crash),
}

/// The wall clock a probed run's program reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The real one.
    Real,
    /// A second ahead ([`CLOCK_AHEAD`]).
    Ahead,
}

/// Run `program` in `dir` under `injector`, killed after `limit` or once
/// `interrupt` is raised, then its check. Nothing starts once it is raised.
pub fn run(
    program: &Program,
    dir: &RunDir,
    injector: Injector,
    limit: Duration,
    interrupt: &Arc<Interrupt>,
) -> Result<Observed, SessionError> {
    if let Some(signal) = interrupt.signal() {
        return Err(SessionError::Failed(format!(
            "explore: interrupted by signal {signal}"
        )));
    }
    let (first, rest) = program
        .argv
        .split_first()
        .ok_or_else(|| SessionError::Invalid("explore: no command given".into()))?;
    let mut command = Command::new(resolve_program(first, &program.cwd));
    command.args(rest).current_dir(dir.path());
    let (stdout_read, stdout_write) = io::pipe().map_err(failed("a pipe for the output"))?;
    let (stderr_read, stderr_write) = io::pipe().map_err(failed("a pipe for the output"))?;
    let stdin = File::open("/dev/null").map_err(failed("/dev/null"))?;
    let (ended, session_over) = io::pipe().map_err(failed("a pipe"))?;
    let watched = dir.copy.then(|| dir.path().to_path_buf());
    let beside = std::thread::spawn(move || {
        watch(
            Streams::new([stdout_read.into(), stderr_read.into()]),
            session_over.into(),
            limit,
            watched.as_deref(),
        )
    });
    let started = Instant::now();
    let (session, report) = match injector {
        Injector::Probe(probe, report, clock) => {
            let session = Session::command(&command)
                .policy(*probe)
                .leftovers_for(LEFTOVERS);
            let session = match clock {
                Clock::Real => session,
                Clock::Ahead => session.plugin(CLOCK_AHEAD),
            };
            (session, Some(report))
        }
        Injector::Crash(crash) => (Session::command(&command).crash(crash), None),
    };
    let outcome = session
        .keep_no_calls()
        .time_limit(limit + LOOK_AT_THE_LIMIT)
        .interrupt(Arc::clone(interrupt))
        .stdin(stdin)
        .stdout(stdout_write)
        .stderr(stderr_write)
        .run();
    let duration = started.elapsed();
    drop(ended);
    let ([stdout, stderr], running) = beside.join().unwrap_or_default();
    let outcome = outcome?;
    let status = outcome.status;
    let probe: ProbeReport = report
        .map(|report| std::mem::take(&mut *report.lock().unwrap_or_else(|e| e.into_inner())))
        .unwrap_or_default();
    let checked = program.check.is_some() && status != Status::TimedOut;
    // A check may change what the program left (SQLite recovers from a log
    // it kept, and removes it): what a recording, or a run that failed a
    // sync or a close, left is kept as it was before the check too.
    let course_matters = probe
        .fired
        .as_ref()
        .is_none_or(|fired| reports_lost_sync(&fired.key.syscall));
    let left = (dir.copy && checked && course_matters).then(|| snapshot(dir.path()));
    let check_failed = match &program.check {
        Some(check) if checked => super::check::run(check, dir.path(), limit, interrupt),
        _ => None,
    };
    let tree = dir.copy.then(|| snapshot(dir.path()));
    Ok(Observed {
        status,
        stdout,
        stderr,
        duration,
        checked,
        check_failed,
        tree,
        left,
        probe,
        crash: outcome.crash,
        running: if status == Status::TimedOut {
            running
        } else {
            Vec::new()
        },
    })
}

/// Beside a run: read its output streams to their ends, and at the time
/// `limit`, if the session is not over (`session_over` has not hung up),
/// note which processes still run and where (the session's own limit comes
/// a moment later, [`LOOK_AT_THE_LIMIT`]).
fn watch(
    mut streams: Streams<2>,
    session_over: OwnedFd,
    limit: Duration,
    watched: Option<&Path>,
) -> ([Captured; 2], Vec<String>) {
    let at_limit = Instant::now() + limit;
    let mut running = None;
    let mut over = false;
    loop {
        let watching = !over && running.is_none();
        if !watching && !streams.open() {
            break;
        }
        let left = at_limit.saturating_duration_since(Instant::now());
        if watching && left.is_zero() {
            running = Some(super::running::still_running(watched));
            continue;
        }
        let session = watching.then(|| session_over.as_raw_fd());
        over |= streams.wait(session, watching.then_some(left));
    }
    (streams.finish(), running.unwrap_or_default())
}

/// The files under a directory, by path class (the relative path with
/// temporary names and numbers normalised, as in a point's key, so that a
/// file named by a hash or a time is the same file in every run): the hashes
/// of their contents (of the target, for a symlink; zero, for a directory),
/// sorted.
pub type Tree = BTreeMap<String, Vec<FileState>>;

/// What a file held at the end of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileState {
    /// SHA-256 of its contents (of the target's name, for a symlink; zero,
    /// for a directory).
    pub hash: [u8; 32],
    /// Its size in bytes (0 for a directory or symlink).
    pub size: u64,
}

/// The tree under `root`.
fn snapshot(root: &Path) -> Tree {
    let mut tree = Tree::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let state = if kind.is_dir() {
                pending.push(path.clone());
                FileState {
                    hash: [0; 32],
                    size: 0,
                }
            } else if kind.is_symlink() {
                let target = fs::read_link(&path).unwrap_or_default();
                FileState {
                    hash: Sha256::digest(target.as_os_str().as_encoded_bytes()).into(),
                    size: 0,
                }
            } else {
                let mut hasher = Sha256::new();
                let size = File::open(&path)
                    .and_then(|mut file| io::copy(&mut file, &mut hasher))
                    .unwrap_or(0);
                FileState {
                    hash: hasher.finalize().into(),
                    size,
                }
            };
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let class = normalize_names(&relative.to_string_lossy());
            tree.entry(class).or_default().push(state);
        }
    }
    for hashes in tree.values_mut() {
        hashes.sort_unstable();
    }
    tree
}

/// A program named with a slash is found from where explore was started,
/// not from the run's copy; a bare name is looked up in `PATH`.
pub(super) fn resolve_program(program: &OsString, cwd: &Path) -> OsString {
    let path = Path::new(program);
    if path.is_relative() && path.components().count() > 1 {
        cwd.join(path).into_os_string()
    } else {
        program.clone()
    }
}

fn failed(what: &'static str) -> impl Fn(io::Error) -> SessionError {
    move |e| SessionError::Failed(format!("explore: {what}: {e}"))
}
