//! The user's check (`--check`) after a run: `sh -c CHECK` in the run's
//! directory, in a process group of its own, killed with its tree past the
//! time limit, and never outliving fault.
//!
//! It is started like a traced program ([`crate::launch`]), sharing
//! fault's memory until it execs, not with `fork`: fault's page tables are
//! not copied for each run. std's `Command` would do as much with
//! `posix_spawn`, but not with the parent-death signal the check needs
//! (explore's helpers are not traced, so the kernel does not kill them
//! with fault as it kills the traced programs).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use super::streams::Streams;
use crate::interrupt::{self, Interrupt};
use crate::launch::{self, StartError};

/// Run `check` in `dir`, its whole tree killed past `limit` or once
/// `interrupt` is raised; its failure (status and output) if it failed.
pub fn run(check: &str, dir: &Path, limit: Duration, interrupt: &Interrupt) -> Option<String> {
    let (child, stdout, stderr) = match start(check, dir) {
        Ok(started) => started,
        Err(e) => return Some(format!("the check could not start: {e}")),
    };
    let mut streams = Streams::new([stdout, stderr]);
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline && !interrupt.is_raised() => {
                let nap = match child.ended {
                    Some(_) => interrupt::POLL,
                    None => NAP,
                };
                let left = deadline.saturating_duration_since(Instant::now());
                let ended = child.ended.as_ref().map(AsRawFd::as_raw_fd);
                streams.wait(ended, Some(left.min(nap)));
            }
            _ => {
                // SAFETY: kills the check's own process group.
                unsafe { libc::kill(-child.pid, libc::SIGKILL) };
                let _ = child.wait();
                break None;
            }
        }
    };
    streams.drain();
    let [stdout, stderr] = streams.finish();
    let output = format!("{}{}", stdout.text(), stderr.text());
    match status {
        Some(status) if status.success() => None,
        Some(status) if output.trim().is_empty() => Some(format!("the check failed ({status})")),
        Some(status) => Some(format!("the check failed ({status}): {}", output.trim())),
        None => Some(format!("check timed out after {limit:?}")),
    }
}

/// The shell that runs the check, as `system(3)` runs a command.
const SHELL: &str = "/bin/sh";

/// `sh -c CHECK` started in `dir`, its standard input `/dev/null`: the
/// child, and the read ends of its standard output and error.
fn start(check: &str, dir: &Path) -> io::Result<(Child, OwnedFd, OwnedFd)> {
    let stdin = File::open("/dev/null")?;
    let (stdout_read, stdout_write) = io::pipe()?;
    let (stderr_read, stderr_write) = io::pipe()?;
    let argv: [OsString; 3] = ["sh".into(), "-c".into(), check.into()];
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let plan = launch::Plan::new(
        OsStr::new(SHELL),
        &argv,
        &env,
        Some(dir.as_os_str()),
        [
            Some(stdin.as_raw_fd()),
            Some(stdout_write.as_raw_fd()),
            Some(stderr_write.as_raw_fd()),
        ],
    )
    .map_err(|launch::Nul(_)| io::Error::other("the check holds a NUL byte"))?
    .own_process_group()
    .dies_with_its_thread()
    // Rust ignores SIGPIPE; a shell pipeline in the check must not.
    .default_action(libc::SIGPIPE);
    let pid = launch::start_and_wait(plan).map_err(|error| match error {
        StartError::Exec(e)
        | StartError::Directory(e)
        | StartError::Stdio(e)
        | StartError::Process(e)
        | StartError::Seccomp(e) => e,
    })?;
    Ok((Child::of(pid), stdout_read.into(), stderr_read.into()))
}

/// How long the wait for a check sleeps where the kernel has no pidfds
/// (before 5.3).
const NAP: Duration = Duration::from_millis(5);

/// The started check: its process id, and a pidfd that is readable once it
/// has ended (none where the kernel has no pidfds: naps of [`NAP`] then).
struct Child {
    pid: i32,
    ended: Option<OwnedFd>,
}

impl Child {
    fn of(pid: i32) -> Child {
        // SAFETY: pidfd_open of our own unreaped child, whose id stays its.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        // SAFETY: a descriptor just opened and owned by nothing else.
        let ended = (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) });
        Child { pid, ended }
    }

    /// Its status if it has ended (then reaped).
    fn try_wait(&self) -> io::Result<Option<ExitStatus>> {
        self.waitpid(libc::WNOHANG)
    }

    /// Wait for it to end, and reap it.
    fn wait(&self) -> io::Result<Option<ExitStatus>> {
        self.waitpid(0)
    }

    fn waitpid(&self, flags: i32) -> io::Result<Option<ExitStatus>> {
        let mut status = 0;
        loop {
            // SAFETY: status is a valid out pointer; the pid is our child's.
            match unsafe { libc::waitpid(self.pid, &mut status, flags) } {
                -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
                -1 => return Err(io::Error::last_os_error()),
                0 => return Ok(None),
                _ => return Ok(Some(ExitStatus::from_raw(status))),
            }
        }
    }
}
