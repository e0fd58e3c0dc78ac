//! What a run with one fault says about the program, against the run
//! without faults.

use std::fmt;

use serde::{Deserialize, Serialize};
use syscalls::Sysno;

use std::collections::BTreeSet;

use super::corruption::Corruption;
use super::faults::{reports_lost_sync, Fault};
use super::probe::NearMiss;
use super::trial::{FileState, Observed, Tree};
use super::uncaught::{uncaught, Uncaught};
use crate::session::Status;

/// The outcome of one injected run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// A process of the run was killed by SIGSEGV, SIGBUS, SIGILL,
    /// SIGFPE, SIGABRT or SIGSYS, or a runtime reported a fault of the
    /// error path (a nil dereference, an uncaught exception that is not the
    /// injected error).
    Crash,
    /// The check (`--check`) failed after the run; or, with a corrupted
    /// read (`--faults corrupt`), the program passed a wrong result on
    /// without a word.
    Corrupt,
    /// Still running at the time limit.
    Hang,
    /// An error that cannot be retried away fired, and the program ended as
    /// if nothing had happened: same status, same output, no retry.
    Silent,
    /// The injected error reached the top of the program as an uncaught
    /// exception that names it (a Java `IOException`, a Python `OSError`):
    /// reported, if not gracefully. Shown apart; not a finding.
    ReportedUncaught,
    /// The program reported the error or failed cleanly, or absorbed a
    /// retryable fault and finished correctly.
    Handled,
    /// The point did not occur in this run: nothing was injected.
    NotReached,
}

impl Outcome {
    /// Whether this outcome is a finding (a bug to look at).
    pub fn is_finding(self) -> bool {
        matches!(
            self,
            Outcome::Crash | Outcome::Corrupt | Outcome::Hang | Outcome::Silent
        )
    }

    /// The outcome's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Crash => "crash",
            Outcome::Corrupt => "corrupt",
            Outcome::Hang => "hang",
            Outcome::Silent => "silent",
            Outcome::ReportedUncaught => "reported-uncaught",
            Outcome::Handled => "handled",
            Outcome::NotReached => "not-reached",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The run without faults, and what of it varies by itself: two runs
/// without faults tell the output and the files that differ with no fault
/// to explain it, which then cannot show a fault's effect.
#[derive(Debug)]
pub struct Baseline {
    /// The first run (the recording).
    pub run: Observed,
    /// Standard output is the same in both runs.
    pub stdout_stable: bool,
    /// Standard error is the same in both runs.
    pub stderr_stable: bool,
    /// Path classes of files that differ between the two runs (or exist
    /// in one only).
    pub noisy_files: BTreeSet<String>,
    /// Directories whose entries' names vary by themselves (a file named
    /// by a hash of a time, such as git's objects): a name that exists in
    /// one run only (or not as many times in both) says nothing about a fault
    /// there.
    varying_dirs: BTreeSet<String>,
}

impl Baseline {
    /// The baseline of two runs without faults.
    pub fn new(run: Observed, again: &Observed) -> Baseline {
        let (mut noisy_files, mut varying_dirs) = (BTreeSet::new(), BTreeSet::new());
        if let (Some(first), Some(second)) = (&run.tree, &again.tree) {
            for path in first.keys().chain(second.keys()) {
                match (first.get(path), second.get(path)) {
                    (Some(ours), Some(theirs)) if ours == theirs => continue,
                    (Some(ours), Some(theirs)) if ours.len() == theirs.len() => {}
                    // In one run only, or not as many times: the names in
                    // its directory vary.
                    _ => {
                        varying_dirs.insert(parent(path).to_string());
                    }
                }
                // A file that varies under a numbered or random name: the
                // name may come of what varies (a hash, a time).
                let components: Vec<&str> = path.split('/').collect();
                for (at, component) in components.iter().enumerate() {
                    if is_numbered(component) {
                        varying_dirs.insert(components[..at].join("/"));
                    }
                }
                noisy_files.insert(path.clone());
            }
        }
        Baseline {
            stdout_stable: run.stdout.hash == again.stdout.hash,
            stderr_stable: run.stderr.hash == again.stderr.hash,
            noisy_files,
            varying_dirs,
            run,
        }
    }

    /// Whether the file at `path` (a path class of a run's tree) varies
    /// without faults: it differs between the two runs without faults, or
    /// it sits in a directory whose names vary by themselves under an
    /// entry of a numbered, random or hexadecimal name (`fe`, a hash's).
    fn is_noise(&self, path: &str) -> bool {
        self.noisy_files.contains(path)
            || self.varying_dirs.iter().any(|dir| {
                let below = if dir.is_empty() {
                    Some(path)
                } else {
                    path.strip_prefix(dir.as_str())
                        .and_then(|rest| rest.strip_prefix('/'))
                };
                below.is_some_and(|rest| is_numbered(rest.split('/').next().unwrap_or_default()))
            })
    }

    /// The differences of `run`'s files from the run without faults
    /// (leaving out those that vary by themselves): each path with its
    /// states then and now (none where the file is missing or new); `None`
    /// when runs share a directory.
    fn differences<'a>(&'a self, run: &'a Observed) -> Option<Vec<Difference<'a>>> {
        Some(self.differences_between(self.run.tree.as_ref()?, run.tree.as_ref()?))
    }

    /// The differences of the files in `ours` from those in `theirs`, as
    /// [`Self::differences`] gives them.
    fn differences_between<'a>(&'a self, theirs: &'a Tree, ours: &'a Tree) -> Vec<Difference<'a>> {
        let mut differences = Vec::new();
        for path in theirs
            .keys()
            .chain(ours.keys().filter(|p| !theirs.contains_key(*p)))
        {
            let (then, now) = (theirs.get(path), ours.get(path));
            if then != now && !self.is_noise(path) {
                differences.push((path.as_str(), then, now));
            }
        }
        differences
    }

    /// Whether `run` left the same files as the run without faults (those
    /// that do not vary by themselves); `None` when runs share a directory.
    fn same_files(&self, run: &Observed) -> Option<bool> {
        self.differences(run)
            .map(|differences| differences.is_empty())
    }

    /// Whether all that `run` left otherwise than the run without faults
    /// is new entries that no later run can trip over: empty directories,
    /// or, where the removal that failed was of a file of a random name
    /// (`removed`, a path class with `*`), that file. A lock file of a
    /// fixed name left behind is no such thing: the next run finds it.
    fn only_unfindable_left(&self, run: &Observed, removed: &str) -> bool {
        let random = removed.contains('*');
        self.differences(run).is_some_and(|differences| {
            !differences.is_empty()
                && differences.iter().all(|(_, then, now)| {
                    then.is_none()
                        && now.is_some_and(|states| random || states.iter().all(is_directory))
                })
        })
    }

    /// After a failed sync or close, which changes no file by itself: the
    /// files `run`'s program left (before the check) that the run without
    /// faults did not, when they show it took another course and lost
    /// nothing. That is when every file the run without faults left is
    /// still there, and either the run only added files, or its check
    /// passed (SQLite keeps its write-ahead log when a checkpoint's sync
    /// fails, so the database file is not yet what it would be, and
    /// recovers from the log on the next open). `None` otherwise, or when
    /// the files are the same.
    fn changed_course<'a>(&'a self, run: &'a Observed) -> Option<Vec<&'a str>> {
        let left = |observed: &'a Observed| observed.left.as_ref().or(observed.tree.as_ref());
        let differences = self.differences_between(left(&self.run)?, left(run)?);
        let lost = differences.iter().any(|(_, then, now)| {
            then.is_some() && (now.is_none() || !run.checked || run.check_failed.is_some())
        });
        let added: Vec<&str> = differences
            .iter()
            .filter(|(_, then, _)| then.is_none())
            .map(|(path, _, _)| *path)
            .collect();
        (!lost && !added.is_empty()).then_some(added)
    }
}

/// A file that differs from the run without faults: its path class, its
/// states then and now.
type Difference<'a> = (
    &'a str,
    Option<&'a Vec<FileState>>,
    Option<&'a Vec<FileState>>,
);

/// Whether `state` is a directory's (the tree gives them no contents).
fn is_directory(state: &FileState) -> bool {
    state.hash == [0; 32] && state.size == 0
}

/// Whether a component of a path class is numbered or random (`N`, `*`,
/// as [`super::key::normalize_names`] writes them), or hexadecimal letters
/// only (`fe`: a hash's first byte, like `Nc` or `N`).
fn is_numbered(component: &str) -> bool {
    component.contains(['N', '*'])
        || (!component.is_empty() && component.bytes().all(|b| matches!(b, b'a'..=b'f')))
}

/// The directory of the path class `path` (empty at the top).
fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The outcome of `run` against `baseline`, with a line saying why. A
/// failed check makes the run corrupt if the program ended as the recording
/// did (it claimed success), or after any run with `check_always` (an
/// integrity check that must hold whatever happened).
pub fn classify(baseline: &Baseline, run: &Observed, check_always: bool) -> (Outcome, String) {
    let Some(fired) = &run.probe.fired else {
        return (Outcome::NotReached, why_not_reached(run.probe.near).into());
    };
    if run.status == Status::TimedOut {
        let running = if run.running.is_empty() {
            String::new()
        } else {
            format!(": {}", run.running.join(" | "))
        };
        return (
            Outcome::Hang,
            format!("still running at the time limit{running}"),
        );
    }
    let crashed = run
        .probe
        .killed
        .iter()
        .find(|(_, _, signal)| is_crash_signal(*signal));
    if let Some((_, program, signal)) = crashed {
        let who = if program.is_empty() {
            "a process of the run".to_string()
        } else {
            program.clone()
        };
        return (
            Outcome::Crash,
            format!("{who} killed by {}", signal_name(*signal)),
        );
    }
    let output = format!("{}{}", run.stderr.text(), run.stdout.text());
    let uncaught = uncaught(&output, fired.fault).filter(|error| {
        let before = format!(
            "{}{}",
            baseline.run.stderr.text(),
            baseline.run.stdout.text()
        );
        !before.contains(&error.error)
    });
    if let Some(error) = uncaught.as_ref().filter(|error| !error.names_fault) {
        return (
            Outcome::Crash,
            format!("uncaught in the error path: {}", error.error),
        );
    }
    if fired.fault == Fault::Corrupt {
        return judge_corruption(baseline, run, fired.corruption, uncaught, check_always);
    }
    if let Some(verdict) = check_or_uncaught(baseline, run, uncaught, check_always) {
        return verdict;
    }
    let claimed_success = run.status == baseline.run.status;
    let told = !claimed_success
        || (baseline.stdout_stable && run.stdout.hash != baseline.run.stdout.hash)
        || (baseline.stderr_stable && run.stderr.hash != baseline.run.stderr.hash);
    if told {
        return (
            Outcome::Handled,
            format!("the program noticed ({})", describe(run.status)),
        );
    }
    if !baseline.stdout_stable || !baseline.stderr_stable {
        return (
            Outcome::Handled,
            "the output varies from run to run without faults: only a --check can judge".into(),
        );
    }
    if fired.fault.is_retryable() {
        return (Outcome::Handled, "absorbed and finished correctly".into());
    }
    if fired.retried {
        return (Outcome::Handled, "retried the write and finished".into());
    }
    if !changes_state(&fired.key.syscall) {
        return (
            Outcome::Handled,
            "recovered from a failed read and finished correctly".into(),
        );
    }
    if removes(&fired.key.syscall) && baseline.only_unfindable_left(run, &fired.key.path) {
        return (
            Outcome::Handled,
            "a failed removal left behind only what no later run can find: \
             an empty directory, or a file of a random name"
                .into(),
        );
    }
    // A failed sync or close changes no file by itself: the same files are
    // no recovery, but other files are another course the program took.
    let handled = if reports_lost_sync(&fired.key.syscall) {
        baseline.changed_course(run).map(|left| {
            format!(
                "noticed: the program left {} as the run without faults did not, \
                 and lost nothing{}",
                left.join(", "),
                if run.checked {
                    "; the check passed"
                } else {
                    ""
                }
            )
        })
    } else {
        (baseline.same_files(run) == Some(true))
            .then(|| "recovered: the files are as without the fault".to_string())
    };
    if let Some(detail) = handled {
        return (Outcome::Handled, detail);
    }
    (
        Outcome::Silent,
        format!(
            "{} failed with {}, yet the program ended as without it ({})",
            fired.key.syscall,
            fired.fault,
            describe(run.status)
        ),
    )
}

/// The verdict a failed `--check` or a runtime's uncaught report gives
/// before anything else is weighed: a check failed after a run that ended as
/// without the fault (or after any run, with `--check-always`) is
/// corruption; an uncaught error naming the fault is reported, uncaught.
fn check_or_uncaught(
    baseline: &Baseline,
    run: &Observed,
    uncaught: Option<Uncaught>,
    check_always: bool,
) -> Option<(Outcome, String)> {
    let claimed_success = run.status == baseline.run.status;
    if let Some(check) = &run.check_failed {
        if claimed_success || check_always {
            return Some((Outcome::Corrupt, check.clone()));
        }
    }
    uncaught.map(|error| {
        (
            Outcome::ReportedUncaught,
            format!("{} ({})", error.error, describe(run.status)),
        )
    })
}

/// The outcome of a run whose read returned `corruption` (none: the read
/// returned no bytes), against `baseline`, after the crash and hang checks;
/// `uncaught` is a runtime's report of an error that names the damage.
fn judge_corruption(
    baseline: &Baseline,
    run: &Observed,
    corruption: Option<Corruption>,
    uncaught: Option<Uncaught>,
    check_always: bool,
) -> (Outcome, String) {
    let Some(corruption) = corruption else {
        return (
            Outcome::NotReached,
            "the read returned no bytes to corrupt".into(),
        );
    };
    let (outcome, why) = corruption_verdict(baseline, run, uncaught, check_always);
    (outcome, format!("{why}; {corruption}"))
}

fn corruption_verdict(
    baseline: &Baseline,
    run: &Observed,
    uncaught: Option<Uncaught>,
    check_always: bool,
) -> (Outcome, String) {
    if let Some(verdict) = check_or_uncaught(baseline, run, uncaught, check_always) {
        return verdict;
    }
    let claimed_success = run.status == baseline.run.status;
    if !claimed_success {
        return (
            Outcome::Handled,
            format!("the program reported the damage ({})", describe(run.status)),
        );
    }
    if !baseline.stdout_stable || !baseline.stderr_stable {
        return (
            Outcome::Handled,
            "the output varies from run to run without faults: only a --check can judge".into(),
        );
    }
    let ended = describe(run.status);
    if run.stderr.hash != baseline.run.stderr.hash {
        return (
            Outcome::Handled,
            format!("the program noticed and said so ({ended})"),
        );
    }
    if run.stdout.hash != baseline.run.stdout.hash {
        return (
            Outcome::Corrupt,
            format!(
                "a silent wrong result: the output differs from the run without faults, \
                 and the program ended as without it ({ended})"
            ),
        );
    }
    if baseline.same_files(run) == Some(false) {
        return (
            Outcome::Corrupt,
            format!("the damage reached the program's files unreported ({ended})"),
        );
    }
    (
        Outcome::Handled,
        "the changed bytes did not change the result".into(),
    )
}

/// Why a point did not occur, from how near the run came to it (the
/// summary counts points by these reasons).
pub fn why_not_reached(near: NearMiss) -> &'static str {
    if near.from_site > 0 {
        "its call site made fewer such calls on the file than in the recording"
    } else if near.on_file > 0 {
        "the call on the file came from another call stack than in the recording"
    } else {
        "the run made no such call on the file"
    }
}

/// Whether a failure of `syscall` loses something the program meant to
/// keep (data, a name, a sync), as opposed to a read it may redo or do
/// without.
pub(super) fn changes_state(syscall: &str) -> bool {
    let Ok(sysno) = syscall.parse::<Sysno>() else {
        return false;
    };
    !matches!(
        sysno,
        Sysno::read
            | Sysno::pread64
            | Sysno::readv
            | Sysno::preadv
            | Sysno::preadv2
            | Sysno::recvfrom
            | Sysno::recvmsg
            | Sysno::open
            | Sysno::openat
            | Sysno::openat2
            | Sysno::connect
            | Sysno::accept
            | Sysno::accept4
    )
}

/// Whether `syscall` removes a name (what it leaves behind when it fails is
/// all it changes).
fn removes(syscall: &str) -> bool {
    matches!(syscall, "rmdir" | "unlink" | "unlinkat")
}

/// What the user loses in `run`, in a line: how it ended, the check's
/// failure, and the output and files that differ from the run without
/// faults (`exit 0; dump.sql 240,887 of 244,993 bytes`).
pub fn loss(baseline: &Baseline, run: &Observed) -> String {
    let mut parts = vec![describe(run.status)];
    if let Some(check) = &run.check_failed {
        parts.push(check.lines().next().unwrap_or_default().to_string());
    }
    let streams = [
        (
            "stdout",
            &run.stdout,
            &baseline.run.stdout,
            baseline.stdout_stable,
        ),
        (
            "stderr",
            &run.stderr,
            &baseline.run.stderr,
            baseline.stderr_stable,
        ),
    ];
    for (name, ours, theirs, stable) in streams {
        if stable && ours.hash != theirs.hash && ours.len < theirs.len {
            parts.push(format!(
                "{name} {} of {} bytes",
                thousands(ours.len),
                thousands(theirs.len)
            ));
        }
    }
    let mut files = Vec::new();
    if let (Some(theirs), Some(ours)) = (&baseline.run.tree, &run.tree) {
        for (path, states) in theirs.iter().filter(|(p, _)| !baseline.is_noise(p)) {
            match ours.get(path) {
                None => files.push(format!("{path} missing")),
                Some(now) if now == states => {}
                Some(now) => match (now.as_slice(), states.as_slice()) {
                    ([now], [then]) => files.push(format!(
                        "{path} {} of {} bytes{}",
                        thousands(now.size),
                        thousands(then.size),
                        if now.size == then.size {
                            ", changed"
                        } else {
                            ""
                        }
                    )),
                    _ => files.push(format!("{path} differs")),
                },
            }
        }
        for path in ours.keys().filter(|p| !theirs.contains_key(*p)) {
            if !baseline.is_noise(path) {
                files.push(format!("{path} left behind"));
            }
        }
    }
    let more = files.len().saturating_sub(3);
    files.truncate(3);
    if more > 0 {
        files.push(format!("{more} more files differ"));
    }
    parts.extend(files);
    if parts.len() == 1 {
        if let Some(fired) = &run.probe.fired {
            let what = if fired.fault == Fault::Corrupt {
                "corrupted"
            } else {
                "failed"
            };
            parts.push(format!(
                "the {what} {} went unreported; nothing else differs",
                fired.key.syscall
            ));
        }
    }
    parts.join("; ")
}

/// `n` with a comma between thousands.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How a run ended, in a word or two: `exit 3`, `SIGSEGV`, `timed out`.
pub fn describe(status: Status) -> String {
    match status {
        Status::Exited(code) => format!("exit {code}"),
        Status::Killed(signal) => signal_name(signal),
        Status::TimedOut => "timed out".into(),
        Status::Detached(_) | Status::Unknown => "status unknown".into(),
    }
}

/// The signals of a process that crashed: a bad access, a bad
/// instruction, an abort (a failed assertion), a bad system call.
fn is_crash_signal(signal: i32) -> bool {
    [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGABRT,
        libc::SIGSYS,
    ]
    .contains(&signal)
}

fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signal}"))
}
