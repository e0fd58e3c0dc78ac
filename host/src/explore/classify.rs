//! What a run with one fault says about the program, against the run
//! without faults.

use std::fmt;

use serde::{Deserialize, Serialize};
use syscalls::Sysno;

use std::collections::BTreeSet;

use super::trial::Observed;
use crate::session::Status;

/// The outcome of one injected run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Killed by a signal, or a runtime fault (a nil dereference, an
    /// uncaught exception that is not an I/O error).
    Crash,
    /// The check (`--check`) failed after the run.
    Corrupt,
    /// Still running at the time limit.
    Hang,
    /// An error that cannot be retried away fired, and the program ended as
    /// if nothing had happened: same status, same output, no retry.
    Silent,
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
}

impl Baseline {
    /// The baseline of two runs without faults.
    pub fn new(run: Observed, again: &Observed) -> Baseline {
        let noisy_files = match (&run.tree, &again.tree) {
            (Some(first), Some(second)) => first
                .keys()
                .chain(second.keys())
                .filter(|path| first.get(*path) != second.get(*path))
                .cloned()
                .collect(),
            _ => BTreeSet::new(),
        };
        Baseline {
            stdout_stable: run.stdout.hash == again.stdout.hash,
            stderr_stable: run.stderr.hash == again.stderr.hash,
            noisy_files,
            run,
        }
    }

    /// Whether `run` left the same files as the run without faults (those
    /// that do not vary by themselves); `None` when runs share a directory.
    fn same_files(&self, run: &Observed) -> Option<bool> {
        let (Some(ours), Some(theirs)) = (&self.run.tree, &run.tree) else {
            return None;
        };
        let stable = |tree: &super::trial::Tree| {
            tree.iter()
                .filter(|(path, _)| !self.noisy_files.contains(*path))
                .map(|(path, hashes)| (path.clone(), hashes.clone()))
                .collect::<Vec<_>>()
        };
        Some(stable(ours) == stable(theirs))
    }
}

/// The outcome of `run` against `baseline`, with a line saying why. A
/// failed check makes the run corrupt if the program ended as the recording
/// did (it claimed success), or after any run with `check_always` (an
/// integrity check that must hold whatever happened).
pub fn classify(baseline: &Baseline, run: &Observed, check_always: bool) -> (Outcome, String) {
    let Some(fired) = &run.probe.fired else {
        return (Outcome::NotReached, "the point did not occur".into());
    };
    if run.status == Status::TimedOut {
        return (Outcome::Hang, "still running at the time limit".into());
    }
    if let Status::Killed(signal) = run.status {
        return (Outcome::Crash, format!("killed by {}", signal_name(signal)));
    }
    let stderr = run.stderr.text();
    if let Some(marker) = crash_marker(&stderr) {
        if !baseline.run.stderr.text().contains(marker) {
            return (Outcome::Crash, format!("the program crashed: {marker}"));
        }
    }
    let claimed_success = run.status == baseline.run.status;
    if let Some(check) = &run.check_failed {
        if claimed_success || check_always {
            return (Outcome::Corrupt, check.clone());
        }
    }
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
    if !reports_lost_sync(&fired.key.syscall) && baseline.same_files(run) == Some(true) {
        return (
            Outcome::Handled,
            "recovered: the files are as without the fault".into(),
        );
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

/// Whether a failure of `syscall` loses something the program meant to
/// keep (data, a name, a sync), as opposed to a read it may redo or do
/// without.
fn changes_state(syscall: &str) -> bool {
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

/// Whether a failure of `syscall` reports data lost on its way to the disk
/// (a sync, a close), which the files left behind cannot show: the pages
/// stay cached, as after a real write-back error.
fn reports_lost_sync(syscall: &str) -> bool {
    matches!(
        syscall,
        "fsync" | "fdatasync" | "msync" | "sync_file_range" | "close"
    )
}

fn describe(status: Status) -> String {
    match status {
        Status::Exited(code) => format!("exit {code}"),
        Status::Killed(signal) => signal_name(signal),
        Status::TimedOut => "timed out".into(),
        Status::Detached(_) | Status::Unknown => "status unknown".into(),
    }
}

fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signal}"))
}

/// The sign of a crash in a language runtime's error output: a Go runtime
/// error, a Java or Python exception that is not an I/O error, a Rust panic
/// that is not about an I/O error, a sanitizer's report.
fn crash_marker(stderr: &str) -> Option<&'static str> {
    const GO: &[&str] = &["panic: runtime error", "fatal error: ", "[signal SIG"];
    if let Some(marker) = GO.iter().find(|m| stderr.contains(**m)) {
        return Some(marker);
    }
    if stderr.contains("ERROR: AddressSanitizer") {
        return Some("ERROR: AddressSanitizer");
    }
    if stderr.contains("Exception in thread") && !java_io_exception(stderr) {
        return Some("Exception in thread");
    }
    if stderr.contains("Traceback (most recent call last)") && !python_os_error(stderr) {
        return Some("Traceback (most recent call last)");
    }
    if stderr.contains("panicked at") && !stderr.contains("Os {") && !stderr.contains("kind: ") {
        return Some("panicked at");
    }
    None
}

fn java_io_exception(stderr: &str) -> bool {
    stderr
        .lines()
        .find(|line| line.contains("Exception in thread"))
        .is_some_and(|line| line.contains("IOException") || line.contains("IOError"))
}

/// The traceback's exception is an `OSError` (or one of its subclasses).
fn python_os_error(stderr: &str) -> bool {
    const OS_ERRORS: &[&str] = &[
        "OSError",
        "IOError",
        "FileNotFoundError",
        "FileExistsError",
        "PermissionError",
        "IsADirectoryError",
        "NotADirectoryError",
        "BlockingIOError",
        "InterruptedError",
        "BrokenPipeError",
        "ConnectionError",
        "ConnectionResetError",
        "ConnectionRefusedError",
        "TimeoutError",
        "sqlite3.OperationalError",
        "sqlite3.DatabaseError",
    ];
    stderr
        .lines()
        .rev()
        .find(|line| !line.starts_with(' ') && line.contains(':'))
        .is_some_and(|line| OS_ERRORS.iter().any(|e| line.starts_with(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_faults_are_crashes_and_io_errors_are_not() {
        assert_eq!(
            crash_marker("panic: runtime error: invalid memory address or nil pointer dereference"),
            Some("panic: runtime error")
        );
        assert_eq!(crash_marker("panic: open x: input/output error\n"), None);
        let py_io = "Traceback (most recent call last):\n  File \"a.py\", line 1\nOSError: [Errno 5] Input/output error\n";
        assert_eq!(crash_marker(py_io), None);
        let py_bug = "Traceback (most recent call last):\n  File \"a.py\", line 1\nAttributeError: 'NoneType' object has no attribute 'write'\n";
        assert_eq!(
            crash_marker(py_bug),
            Some("Traceback (most recent call last)")
        );
        assert_eq!(
            crash_marker("Exception in thread \"main\" java.io.IOException: Input/output error"),
            None
        );
        assert_eq!(
            crash_marker("Exception in thread \"main\" java.lang.NullPointerException"),
            Some("Exception in thread")
        );
    }
}
