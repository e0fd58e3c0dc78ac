//! Attaching to running processes (`fi -p PID`) and letting them go again.

use std::collections::BTreeSet;
use std::fs;
use std::io;

use super::sys as ptrace;

/// Why a process could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// No such process.
    #[error("-p {0}: no such process")]
    NoSuchProcess(i32),
    /// Another tracer (strace, gdb, another fi) holds it.
    #[error("-p {0}: already traced by process {1}")]
    AlreadyTraced(i32, i32),
    /// The kernel refused.
    #[error("-p {0}: cannot attach: {1}")]
    Refused(i32, io::Error),
}

/// The pid of the process tracing `pid`, if any.
fn tracer_of(pid: i32) -> Option<i32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("TracerPid:"))?;
    line.split_whitespace()
        .nth(1)?
        .parse()
        .ok()
        .filter(|&p| p != 0)
}

/// Seize every thread of `pid` and interrupt it, so that each reports a stop
/// from which the tracer resumes it with `PTRACE_SYSCALL`. Threads born while
/// attaching are picked up by listing the threads again until none is new.
pub fn attach(pid: i32) -> Result<Vec<i32>, AttachError> {
    if let Some(tracer) = tracer_of(pid) {
        return Err(AttachError::AlreadyTraced(pid, tracer));
    }
    let mut seized = BTreeSet::new();
    loop {
        let threads = ptrace::threads_of(pid).map_err(|_| AttachError::NoSuchProcess(pid))?;
        let new: Vec<i32> = threads.difference(&seized).copied().collect();
        if new.is_empty() {
            return Ok(seized.into_iter().collect());
        }
        for tid in new {
            match ptrace::seize(tid, ptrace::FOLLOW_OPTIONS).and_then(|()| ptrace::interrupt(tid)) {
                Ok(()) => {
                    seized.insert(tid);
                }
                // The thread ended meanwhile.
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) && tid != pid => {}
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                    return Err(AttachError::NoSuchProcess(pid))
                }
                Err(e) => return Err(AttachError::Refused(pid, e)),
            }
        }
    }
}
