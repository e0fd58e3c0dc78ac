//! Starting a program under fi: fork, wait to be seized, install the seccomp
//! filter, exec.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use seccompiler::BpfProgram;

use super::sys as ptrace;

/// Why a program could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The command names no executable file.
    #[error("{0}: command not found")]
    NotFound(String),
    /// An argument holds a NUL byte.
    #[error("{0:?}: argument contains a NUL byte")]
    Nul(OsString),
    /// A system call of fi's failed.
    #[error("{0}: {1}")]
    Os(&'static str, io::Error),
}

/// A program fi started and seized.
pub struct Spawned {
    /// Its process id.
    pub pid: i32,
    /// Reads the errno of a failed exec (empty when exec succeeded).
    exec_error: OwnedFd,
}

impl Spawned {
    /// Why exec failed, once the process has exited (`None` if it did exec).
    pub fn exec_error(&self) -> Option<io::Error> {
        let mut errno = [0u8; 4];
        // SAFETY: reading into a local buffer from an fd we own.
        let n = unsafe { libc::read(self.exec_error.as_raw_fd(), errno.as_mut_ptr().cast(), 4) };
        (n == 4).then(|| io::Error::from_raw_os_error(i32::from_ne_bytes(errno)))
    }
}

/// Find `program` the way `execvp` would: as a path if it has a slash
/// (anything that exists: exec says why it cannot run it), otherwise in
/// `search_path` (the caller's `PATH` for `None`).
pub fn find_program(program: &OsStr, search_path: Option<&OsStr>) -> Result<PathBuf, SpawnError> {
    let not_found = || SpawnError::NotFound(program.to_string_lossy().into_owned());
    if program.as_bytes().contains(&b'/') {
        let path = PathBuf::from(program);
        return if path.symlink_metadata().is_ok() {
            Ok(path)
        } else {
            Err(not_found())
        };
    }
    let search = search_path
        .map(OsString::from)
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&search)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(not_found)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
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

/// A program to start: what `std::process::Command` says of it.
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
}

/// Start `program` seized by this thread. With a `filter`, the child
/// installs it (after no_new_privs) just before exec; without one, the child
/// is interrupted so the tracer can trace it with `PTRACE_SYSCALL`.
pub fn spawn(program: &Program, filter: Option<&BpfProgram>) -> Result<Spawned, SpawnError> {
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
    let fprog = filter.map(|program| libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    });
    let (go_read, go_write) = pipe()?;
    let (error_read, error_write) = pipe()?;

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
                &error_write,
                &path,
                &argv_ptrs,
                &env_ptrs,
                cwd.as_ref(),
                fprog.as_ref(),
            )
        }
    }
    drop(go_read);
    drop(error_write);
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
    drop(go_write); // the child may go on
    Ok(Spawned {
        pid,
        exec_error: error_read,
    })
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// The child's side: wait until seized, filter, exec; report a failure.
///
/// # Safety
/// Must run in a freshly forked child; uses only async-signal-safe calls.
unsafe fn child(
    go: &OwnedFd,
    error: &OwnedFd,
    path: &CString,
    argv: &[*const libc::c_char],
    env: &[*const libc::c_char],
    cwd: Option<&CString>,
    fprog: Option<&libc::sock_fprog>,
) -> ! {
    let mut byte = 0u8;
    // EOF (the tracer closed its end) means "seized, go on".
    while libc::read(go.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) == -1
        && *libc::__errno_location() == libc::EINTR
    {}
    unblock_all_signals();
    if let Some(dir) = cwd {
        if libc::chdir(dir.as_ptr()) == -1 {
            report_and_exit(error);
        }
    }
    if let Some(fprog) = fprog {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1
            || libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, fprog) == -1
        {
            report_and_exit(error);
        }
    }
    libc::execve(path.as_ptr(), argv.as_ptr(), env.as_ptr());
    report_and_exit(error)
}

/// Start the program with no signal blocked, whatever the mask of the
/// thread that forked it. Async-signal-safe.
unsafe fn unblock_all_signals() {
    let mut empty = std::mem::zeroed::<libc::sigset_t>();
    libc::sigemptyset(&mut empty);
    libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
}

/// Send errno to the parent and exit like a shell that could not exec.
unsafe fn report_and_exit(error: &OwnedFd) -> ! {
    let errno = (*libc::__errno_location()).to_ne_bytes();
    libc::write(error.as_raw_fd(), errno.as_ptr().cast(), errno.len());
    libc::_exit(127)
}
