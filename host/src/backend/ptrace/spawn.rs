//! Starting a program under fault: find it, start a child sharing fault's
//! memory ([`crate::launch`]), seize it, let it install the seccomp filter,
//! change directory and exec.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::sys as ptrace;
use crate::backend::filter::BpfProgram;
pub use crate::launch::StartError;
use crate::launch::{self, Listener};

/// Why a program could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The command names no file (exit status 127).
    #[error("{0}: command not found")]
    NotFound(String),
    /// The command names a file that cannot be run: a directory, or a file
    /// without execute permission (exit status 126).
    #[error("cannot run {0}: {1}")]
    CannotRun(String, io::Error),
    /// An argument holds a NUL byte.
    #[error("{0:?}: argument contains a NUL byte")]
    Nul(OsString),
    /// A system call of fault's failed.
    #[error("{0}: {1}")]
    Os(&'static str, io::Error),
}

/// The seccomp filter a spawned program starts under.
pub struct Filter<'a> {
    /// The compiled filter.
    pub program: &'a BpfProgram,
    /// Ask the kernel for a user-notification listener, handed to fi
    /// before the program execs (its notified calls wait on fi).
    pub listener: bool,
    /// `sched_yield` passes the filter unrouted: the child, waiting for fi
    /// to take its listener, yields its CPU with it (to fi, when they share
    /// one) rather than spin.
    pub may_yield: bool,
}

/// A program fault started and seized.
pub struct Spawned {
    /// Its process id.
    pub pid: i32,
    /// The filter's user-notification listener, when one was asked for
    /// (none if the child failed before it had one).
    pub listener: Option<OwnedFd>,
    /// The child, which shares fault's memory until it execs: what it
    /// reads, and where it leaves its [`StartError`] if it had one.
    started: launch::Started,
}

impl Spawned {
    /// Why the child could not start the program, once it has exited
    /// (`None` if it did exec).
    pub fn start_error(&self) -> Option<StartError> {
        self.started.plan().start_error()
    }
}

/// Find `program` the way `execvp` and shells do: as a path if it has a
/// slash, otherwise the first executable file of that name in `search_path`
/// (the caller's `$PATH` for `None`), or, if there is none, the first file,
/// which then cannot be run.
pub fn find_program(program: &OsStr, search_path: Option<&OsStr>) -> Result<PathBuf, SpawnError> {
    let name = || program.to_string_lossy().into_owned();
    if program.as_bytes().contains(&b'/') {
        let path = PathBuf::from(program);
        return match path.metadata() {
            Ok(meta) if meta.is_dir() => Err(SpawnError::CannotRun(
                name(),
                io::Error::from_raw_os_error(libc::EISDIR),
            )),
            Ok(_) => Ok(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(SpawnError::NotFound(name())),
            Err(e) => Err(SpawnError::CannotRun(name(), e)),
        };
    }
    let search = search_path
        .map(OsString::from)
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let files: Vec<PathBuf> = std::env::split_paths(&search)
        .map(|dir| dir.join(program))
        .filter(|candidate| candidate.is_file())
        .collect();
    if let Some(found) = files.iter().find(|file| is_executable(file)) {
        return Ok(found.clone());
    }
    match files.first() {
        Some(file) => Err(SpawnError::CannotRun(
            file.display().to_string(),
            io::Error::from_raw_os_error(libc::EACCES),
        )),
        None => Err(SpawnError::NotFound(name())),
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.permissions().mode() & 0o111 != 0)
}

/// A program to start: what a `std::process::Command` says of it.
#[derive(Clone, Debug)]
pub struct Program {
    /// The executable, as found by [`find_program`].
    pub path: PathBuf,
    /// Its arguments, the program's name first.
    pub argv: Vec<OsString>,
    /// Its whole environment.
    pub env: Vec<(OsString, OsString)>,
    /// The directory to start it in (the caller's when `None`).
    pub cwd: Option<PathBuf>,
    /// Open files to become its standard input, output and error (the
    /// caller's own where `None`); the caller keeps them open until
    /// [`spawn`] returns.
    pub stdio: [Option<RawFd>; 3],
}

/// Start `program` seized by this thread. With a `filter`, the child
/// installs it (after no_new_privs) just before exec, and hands over its
/// listener if asked; without one, the child is interrupted so the tracer
/// can trace it with `PTRACE_SYSCALL`. The child shares fault's memory
/// until it execs ([`launch`]): no copy of fault's page tables.
pub fn spawn(program: &Program, filter: Option<&Filter>) -> Result<Spawned, SpawnError> {
    // Everything the child needs is prepared before the clone.
    let plan = launch::Plan::new(
        program.path.as_os_str(),
        &program.argv,
        &program.env,
        program.cwd.as_deref().map(Path::as_os_str),
        program.stdio,
    )
    .map_err(|launch::Nul(string)| SpawnError::Nul(string))?;
    let flags = match filter {
        Some(Filter { listener: true, .. }) => {
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
        }
        _ => 0,
    };
    let plan = match filter {
        Some(filter) => plan.filtered(launch::Seccomp {
            program: filter.program.clone(),
            flags,
            may_yield: filter.may_yield,
        }),
        None => plan,
    };
    let started = launch::start(plan).map_err(|e| SpawnError::Os("clone", e))?;
    let pid = started.pid;
    let options = ptrace::FOLLOW_OPTIONS | ptrace::EXIT_KILL;
    let seized = ptrace::seize(pid, options).and_then(|()| match filter {
        Some(_) => Ok(()),
        None => ptrace::interrupt(pid),
    });
    if let Err(error) = seized {
        kill_and_reap(pid);
        return Err(SpawnError::Os("ptrace(PTRACE_SEIZE)", error));
    }
    // One byte, not EOF, says "go on": a child another thread started
    // meanwhile holds a copy of this end until it execs.
    // SAFETY: writing one byte from a local to a pipe we own.
    unsafe { libc::write(started.go(), [1u8].as_ptr().cast(), 1) };
    let listener = if flags != 0 {
        take_listener(pid, started.plan()).inspect_err(|_| kill_and_reap(pid))?
    } else {
        None
    };
    Ok(Spawned {
        pid,
        listener,
        started,
    })
}

/// Kill our child `pid`, which has not exec'd, and reap it: nothing is left
/// of a start that failed.
fn kill_and_reap(pid: i32) {
    // SAFETY: our own child, not reaped yet, so the id is still its.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let mut status = 0;
    // SAFETY: status is a valid out pointer; __WALL: it may be traced.
    while unsafe { libc::waitpid(pid, &mut status, libc::__WALL) } == -1
        && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
    {}
}

/// How long the child may take to post its listener.
const LISTENER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Take a copy of the child's listener once it posts its number (`None` if
/// the child failed first), and tell the child it may exec.
fn take_listener(pid: i32, plan: &launch::Plan) -> Result<Option<OwnedFd>, SpawnError> {
    let started = std::time::Instant::now();
    // The child posts it within a millisecond or so (the kernel compiles
    // the filter): check every 20µs, not 70.
    let _slack = crate::backend::ExactWakeUps::begin();
    let number = loop {
        match plan.listener() {
            Listener::Failed => return Ok(None),
            Listener::Pending if started.elapsed() > LISTENER_DEADLINE => {
                return Err(SpawnError::Os(
                    "waiting for the seccomp listener",
                    io::Error::from_raw_os_error(libc::ETIMEDOUT),
                ))
            }
            Listener::Pending => std::thread::sleep(std::time::Duration::from_micros(20)),
            Listener::Posted(number) => break number,
        }
    };
    let os = |what| SpawnError::Os(what, io::Error::last_os_error());
    // SAFETY: plain syscalls with integer arguments; each returns a new fd.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        return Err(os("pidfd_open"));
    }
    // SAFETY: pidfd_open returned a new fd that we now own.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    // SAFETY: as above.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), number, 0) };
    if fd < 0 {
        return Err(os("pidfd_getfd"));
    }
    plan.listener_taken();
    // SAFETY: pidfd_getfd returned a new fd (close-on-exec) that we own.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
}
