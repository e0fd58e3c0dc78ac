//! Starting a program under fault: find it, fork, wait to be seized, install
//! the seccomp filter, change directory, exec.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::sys as ptrace;
use crate::backend::filter::{self, BpfProgram};

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
    /// Where the child leaves its [`StartError`], if it had one.
    report: StartReport,
}

/// Why a started child never became the program: which step failed.
#[derive(Debug)]
pub enum StartError {
    /// Installing no_new_privs or the seccomp filter (fault's failure).
    Seccomp(io::Error),
    /// `execve` itself: the program cannot be run (not an executable, a
    /// missing interpreter, ...).
    Exec(io::Error),
    /// Changing to the program's directory.
    Directory(io::Error),
    /// Giving the program the standard streams it was asked to have.
    Stdio(io::Error),
}

/// The steps a child reports a failure of, in [`StartReport`]'s high half.
const STEP_SECCOMP: u64 = 1;
const STEP_EXEC: u64 = 2;
const STEP_DIRECTORY: u64 = 3;
const STEP_STDIO: u64 = 4;

impl Spawned {
    /// Why the child could not start the program, once it has exited
    /// (`None` if it did exec).
    pub fn start_error(&self) -> Option<StartError> {
        let word = self.report.word(WORD_ERROR).load(Ordering::Acquire);
        let error = io::Error::from_raw_os_error(word as u32 as i32);
        match word >> 32 {
            STEP_SECCOMP => Some(StartError::Seccomp(error)),
            STEP_EXEC => Some(StartError::Exec(error)),
            STEP_DIRECTORY => Some(StartError::Directory(error)),
            STEP_STDIO => Some(StartError::Stdio(error)),
            _ => None,
        }
    }
}

/// Words of memory shared with the child: where it leaves the failed step
/// and errno (`step << 32 | errno`, 0 when nothing failed) before it exits,
/// its listener's fd number (plus one, 0 for none yet), and fi's word that it
/// has taken the listener. Shared memory, not a pipe: once the filter is
/// installed, a `write` of the child's would be a filtered call that the
/// user's rules may tamper with (or that waits for fi to answer it).
struct StartReport {
    word: *mut AtomicU64,
}

/// The failed step and errno.
const WORD_ERROR: usize = 0;
/// The listener's fd number plus one.
const WORD_LISTENER: usize = 1;
/// Nonzero once fi took a copy of the listener.
const WORD_TAKEN: usize = 2;
const WORDS: usize = 3;

impl StartReport {
    fn new() -> Result<StartReport, SpawnError> {
        // SAFETY: a fresh anonymous mapping, zero-filled by the kernel.
        let page = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                WORDS * std::mem::size_of::<AtomicU64>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if page == libc::MAP_FAILED {
            return Err(SpawnError::Os("mmap", io::Error::last_os_error()));
        }
        Ok(StartReport { word: page.cast() })
    }

    fn word(&self, index: usize) -> &AtomicU64 {
        debug_assert!(index < WORDS);
        // SAFETY: the mapping lives as long as self, page-aligned, zeroed,
        // WORDS words long.
        unsafe { &*self.word.add(index) }
    }
}

impl Drop for StartReport {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer referenced.
        unsafe { libc::munmap(self.word.cast(), WORDS * std::mem::size_of::<AtomicU64>()) };
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

fn c_string(s: &OsStr) -> Result<CString, SpawnError> {
    CString::new(s.as_bytes()).map_err(|_| SpawnError::Nul(s.to_owned()))
}

fn pipe() -> Result<(OwnedFd, OwnedFd), SpawnError> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid out array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(SpawnError::Os("pipe", io::Error::last_os_error()));
    }
    // SAFETY: pipe2 returned two fresh fds we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
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
/// can trace it with `PTRACE_SYSCALL`.
pub fn spawn(program: &Program, filter: Option<&Filter>) -> Result<Spawned, SpawnError> {
    // Everything the child needs is allocated before fork: after it, the
    // child may only make async-signal-safe calls.
    let path = c_string(program.path.as_os_str())?;
    let argv: Vec<CString> = program
        .argv
        .iter()
        .map(|a| c_string(a))
        .collect::<Result<_, _>>()?;
    let env: Vec<CString> = program
        .env
        .iter()
        .map(|(k, v)| {
            let mut pair = k.clone().into_vec();
            pair.push(b'=');
            pair.extend(v.as_bytes());
            CString::new(pair).map_err(|e| SpawnError::Nul(OsString::from_vec(e.into_vec())))
        })
        .collect::<Result<_, _>>()?;
    let cwd = program
        .cwd
        .as_ref()
        .map(|dir| c_string(dir.as_os_str()))
        .transpose()?;
    let argv_ptrs = null_terminated(&argv);
    let env_ptrs = null_terminated(&env);
    let fprog = filter.map(|f| filter::fprog(f.program));
    let may_yield = filter.is_some_and(|f| f.may_yield);
    let flags = match filter {
        Some(Filter { listener: true, .. }) => {
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
        }
        _ => 0,
    };
    let (go_read, go_write) = pipe()?;
    let report = StartReport::new()?;

    // SAFETY: fork; the child branch below only makes async-signal-safe calls.
    let pid = unsafe { libc::fork() };
    if pid == -1 {
        return Err(SpawnError::Os("fork", io::Error::last_os_error()));
    }
    if pid == 0 {
        drop(go_write);
        // SAFETY: async-signal-safe calls on memory prepared before fork.
        unsafe {
            child(
                &go_read,
                &report,
                &Exec {
                    path: &path,
                    argv: &argv_ptrs,
                    env: &env_ptrs,
                    cwd: cwd.as_ref(),
                    stdio: program.stdio,
                    filter: fprog.as_ref().map(|fprog| (fprog, flags)),
                    may_yield,
                },
            )
        }
    }
    drop(go_read);
    let options = ptrace::FOLLOW_OPTIONS | ptrace::EXIT_KILL;
    let seized = ptrace::seize(pid, options).and_then(|()| match filter {
        Some(_) => Ok(()),
        None => ptrace::interrupt(pid),
    });
    if let Err(error) = seized {
        // SAFETY: our own child, still waiting on the pipe.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        return Err(SpawnError::Os("ptrace(PTRACE_SEIZE)", error));
    }
    // One byte, not EOF, says "go on": a child another thread forked
    // meanwhile holds a copy of this end until it execs.
    // SAFETY: writing one byte from a local to a pipe we own.
    unsafe { libc::write(go_write.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
    let listener = if flags != 0 {
        take_listener(pid, &report).inspect_err(|_| {
            // SAFETY: our own child, spinning before its exec.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        })?
    } else {
        None
    };
    Ok(Spawned {
        pid,
        listener,
        report,
    })
}

/// How long the child may take to post its listener.
const LISTENER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Take a copy of the child's listener once it posts its number (`None` if
/// the child failed first), and tell the child it may exec.
fn take_listener(pid: i32, report: &StartReport) -> Result<Option<OwnedFd>, SpawnError> {
    let started = std::time::Instant::now();
    // The child posts it within a millisecond or so (the kernel compiles
    // the filter): check every 20µs, not 70.
    let _slack = crate::backend::ExactWakeUps::begin();
    let number = loop {
        if report.word(WORD_ERROR).load(Ordering::Acquire) != 0 {
            return Ok(None);
        }
        match report.word(WORD_LISTENER).load(Ordering::Acquire) {
            0 if started.elapsed() > LISTENER_DEADLINE => {
                return Err(SpawnError::Os(
                    "waiting for the seccomp listener",
                    io::Error::from_raw_os_error(libc::ETIMEDOUT),
                ))
            }
            0 => std::thread::sleep(std::time::Duration::from_micros(20)),
            plus_one => break (plus_one - 1) as i32,
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
    report.word(WORD_TAKEN).store(1, Ordering::Release);
    // SAFETY: pidfd_getfd returned a new fd (close-on-exec) that we own.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// What the child does after it is seized, prepared before the fork.
struct Exec<'a> {
    path: &'a CString,
    argv: &'a [*const libc::c_char],
    env: &'a [*const libc::c_char],
    cwd: Option<&'a CString>,
    stdio: [Option<RawFd>; 3],
    /// The seccomp filter and the flags to install it with.
    filter: Option<(&'a libc::sock_fprog, libc::c_ulong)>,
    /// [`Filter::may_yield`].
    may_yield: bool,
}

/// The child's side: wait until seized, filter, exec; leave a failure in
/// `report`.
///
/// # Safety
/// Must run in a freshly forked child; uses only async-signal-safe calls.
unsafe fn child(go: &OwnedFd, report: &StartReport, exec: &Exec) -> ! {
    let mut byte = 0u8;
    // A byte means "seized, go on"; EOF means the tracer is gone.
    let got = loop {
        match libc::read(go.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) {
            -1 if *libc::__errno_location() == libc::EINTR => continue,
            n => break n,
        }
    };
    if got != 1 {
        libc::_exit(127);
    }
    unblock_all_signals();
    for (target, fd) in (0..).zip(exec.stdio) {
        let Some(fd) = fd else { continue };
        // dup2 onto itself would keep close-on-exec: clear it instead.
        let ok = if fd == target {
            libc::fcntl(fd, libc::F_SETFD, 0) != -1
        } else {
            libc::dup2(fd, target) != -1
        };
        if !ok {
            report_and_exit(report, STEP_STDIO);
        }
    }
    if let Some(dir) = exec.cwd {
        if libc::chdir(dir.as_ptr()) == -1 {
            report_and_exit(report, STEP_DIRECTORY);
        }
    }
    if let Some((fprog, flags)) = exec.filter {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 {
            report_and_exit(report, STEP_SECCOMP);
        }
        let listener = libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            fprog,
        );
        if listener == -1 {
            report_and_exit(report, STEP_SECCOMP);
        }
        if flags & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
            // Post the listener (close-on-exec) and wait until fi took a
            // copy: with no system call but sched_yield, if the filter lets
            // it pass (any other call may now wait on fi).
            report
                .word(WORD_LISTENER)
                .store(listener as u64 + 1, Ordering::Release);
            while report.word(WORD_TAKEN).load(Ordering::Acquire) == 0 {
                if exec.may_yield {
                    libc::sched_yield();
                } else {
                    std::hint::spin_loop();
                }
            }
        }
    }
    libc::execve(exec.path.as_ptr(), exec.argv.as_ptr(), exec.env.as_ptr());
    report_and_exit(report, STEP_EXEC)
}

/// Start the program with no signal blocked, whatever the mask of the
/// thread that forked it. Async-signal-safe.
unsafe fn unblock_all_signals() {
    let mut empty = std::mem::zeroed::<libc::sigset_t>();
    libc::sigemptyset(&mut empty);
    libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
}

/// Leave the failed step and errno for the parent (a store, no system
/// call), and exit like a shell that could not exec.
unsafe fn report_and_exit(report: &StartReport, step: u64) -> ! {
    let errno = *libc::__errno_location() as u32;
    report
        .word(WORD_ERROR)
        .store(step << 32 | u64::from(errno), Ordering::Release);
    libc::_exit(127)
}
