//! Calls on file descriptors left unstopped until a file they matter for is
//! open.
//!
//! When every stage subscribed to a call that takes a file descriptor (and
//! no path) decides it by the descriptor's file alone
//! ([`Policy::fd_paths`]), such a call needs no stop in a process that has
//! no descriptor of such a file: the seccomp filter lets it run
//! ([`plan::unstopped_fd_calls`]). The engine sees every call that opens a
//! file ([`OPENS`]); when one may open a file the stages decide fd calls
//! for ([`may_open_decided_file`]), the backend adds a filter to the
//! process that stops those fd calls on the descriptor the open returns,
//! from its return on, before the process runs any more of its code
//! ([`Backend::stop_fd_calls_after`]); calls on other descriptors still run
//! unstopped. A copy of such a descriptor ([`COPIES`], stopped by that
//! filter) gets a filter of its own ([`Backend::stop_fd_calls_on`]).
//! Children forked afterwards inherit the filters with the descriptors.
//! A call that acts on a descriptor when its path is NULL (`futimens`,
//! [`fd_when_path_null`]) is one of these calls in that case alone: the
//! filter lets it run then, and an fd filter stops it on its descriptor.
//!
//! What is not seen (`docs/cannot-see.md`): a file that takes a decided
//! name after it was opened (renamed, or linked from `O_TMPFILE`), and a
//! descriptor received from a process fi does not trace.
//!
//! [`Policy::fd_paths`]: crate::policy::Policy::fd_paths
//! [`plan::unstopped_fd_calls`]: super::plan::unstopped_fd_calls
//! [`Backend::stop_fd_calls_after`]: crate::backend::Backend::stop_fd_calls_after
//! [`Backend::stop_fd_calls_on`]: crate::backend::Backend::stop_fd_calls_on

use std::fs;
use std::path::{Path, PathBuf};

use syscalls::{Sysno, SysnoSet};

use super::real_dirs::{opened_path, RealDirs};
use crate::arch::classes::{classes_of, fd_args, fd_when_path_null, path_args, Classes};
use crate::backend::filter::FdCall;
use crate::model::Call;
use crate::policy::chain::Chain;
use crate::tracee::{is_within, split_name, Tracee};

/// The calls that give a process a descriptor of a file a path may name.
pub const OPENS: &[Sysno] = &[
    Sysno::open,
    Sysno::openat,
    Sysno::openat2,
    Sysno::creat,
    Sysno::open_by_handle_at,
    Sysno::memfd_create,
];

/// The calls a process must make in fi's name to add a filter to itself:
/// none of them may wait on a user notification.
pub const FILTER_INSTALL: &[Sysno] = &[Sysno::mmap, Sysno::munmap, Sysno::seccomp];

/// The calls that copy a descriptor (`fcntl` with `F_DUPFD`,
/// `F_DUPFD_CLOEXEC`): an fd filter stops them on its descriptor, to follow
/// the copy.
pub const COPIES: &[Sysno] = &[Sysno::dup, Sysno::dup2, Sysno::dup3, Sysno::fcntl];

/// The calls an fd filter stops on its descriptor: the `unstopped` ones,
/// and the others of [`COPIES`] when they copy it.
pub fn fd_filter_calls(unstopped: &SysnoSet) -> Vec<FdCall> {
    const FCNTL_COPIES: &[u32] = &[libc::F_DUPFD as u32, libc::F_DUPFD_CLOEXEC as u32];
    unstopped
        .clone()
        .union(&SysnoSet::new(COPIES))
        .iter()
        .map(|sysno| FdCall {
            nr: sysno.id() as u32,
            fd_args: fd_when_path_null(sysno).map_or(fd_args(sysno), |(fd, _)| fd),
            only_when: (sysno == Sysno::fcntl && !unstopped.contains(sysno))
                .then_some((1, FCNTL_COPIES)),
        })
        .collect()
}

/// Whether `call` copies its first argument (one of [`COPIES`]), a
/// descriptor of a file whose fd calls a stage of `chain` decides.
pub fn copies_decided_fd(call: &Call, chain: &Chain) -> bool {
    copies_fd(call)
        && tracee_of(call)
            .fd_path(call.args[0] as i32)
            .is_some_and(|path| chain.fd_path_matters(&path))
}

/// Whether `call` copies its first argument, a descriptor.
fn copies_fd(call: &Call) -> bool {
    match call.sysno() {
        Some(Sysno::dup | Sysno::dup2 | Sysno::dup3) => true,
        Some(Sysno::fcntl) => {
            [libc::F_DUPFD, libc::F_DUPFD_CLOEXEC].contains(&(call.args[1] as i32))
        }
        _ => false,
    }
}

/// How many symlinks [`real_path`] follows in a path's last component, as
/// the kernel's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// Whether `sysno` acts on a descriptor and names no file: a call on an fd
/// that a stage can decide by the fd's file alone. `fsconfig` names a file
/// for some of its commands (strace's `%file`), so it is not one: with it
/// among them, a `-P` rule on `%file` would have every open checked for
/// the sake of a call hardly any program makes.
pub fn is_fd_call(sysno: Sysno) -> bool {
    !fd_args(sysno).is_empty()
        && path_args(sysno).is_empty()
        && !classes_of(sysno).contains(Classes::FILE)
}

/// Whether `call`, one of [`OPENS`], may give its process a descriptor of a
/// file whose fd calls a stage of `chain` decides: the file its path names,
/// as written or with its symlinks resolved, is one. A call that names no
/// file yet (`O_TMPFILE`, `memfd_create`, `open_by_handle_at`), or whose
/// path cannot be read, may.
pub fn may_open_decided_file(call: &Call, chain: &Chain, dirs: &mut RealDirs) -> bool {
    let tracee = tracee_of(call);
    let Some(sysno) = call.sysno() else {
        return true;
    };
    let flags = match sysno {
        Sysno::open => call.args[1],
        Sysno::openat => call.args[2],
        // struct open_how starts with the flags.
        Sysno::openat2 => match tracee.read_memory(call.args[2], 8) {
            Ok(bytes) => u64::from_ne_bytes(bytes.try_into().unwrap_or_default()),
            Err(_) => return true,
        },
        Sysno::creat => 0,
        _ => return true,
    };
    let tmpfile = libc::O_TMPFILE as u64;
    if flags & tmpfile == tmpfile {
        return true;
    }
    let Some(path) = path_args(sysno)
        .first()
        .and_then(|&arg| tracee.path_arg(call, arg))
    else {
        return true;
    };
    if names_a_descriptor(&path) {
        return true;
    }
    if chain.fd_path_matters(&path) {
        return true;
    }
    let excl = (libc::O_CREAT | libc::O_EXCL) as u64;
    let real = if flags & excl == excl {
        // It creates the file or fails, even on a symlink: only the
        // directory's symlinks count.
        new_file_path(&path, dirs)
    } else {
        real_path(&path, dirs)
    };
    real.is_some_and(|real| real.as_os_str() != path.as_os_str() && chain.fd_path_matters(&real))
}

/// The path a descriptor of a file created at `path` shows in
/// `/proc/PID/fd`: its directory's symlinks resolved.
fn new_file_path(path: &Path, dirs: &mut RealDirs) -> Option<PathBuf> {
    let (dir, name) = split_name(path)?;
    Some(dirs.real(dir)?.join(name))
}

/// The thread making `call`.
fn tracee_of(call: &Call) -> Tracee {
    Tracee {
        pid: call.pid,
        tid: call.tid,
    }
}

/// Whether fi itself holds a descriptor of a file whose fd calls a stage of
/// `chain` decides: a program it spawns may start with it.
pub fn inherited_may_matter(chain: &Chain) -> bool {
    let Ok(fds) = fs::read_dir("/proc/self/fd") else {
        return true;
    };
    fds.flatten()
        .filter_map(|fd| fs::read_link(fd.path()).ok())
        .any(|path| chain.fd_path_matters(&path))
}

/// Whether `path` may name a file through one of a process's descriptors
/// or directories (`/proc/self/fd/3`, `/proc/PID/cwd/f`, `/dev/stdin`),
/// which fi cannot resolve as the caller would.
fn names_a_descriptor(path: &Path) -> bool {
    const DEV_LINKS: &[&str] = &["/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"];
    /// The entries of `/proc/PID/` (and `/proc/PID/task/TID/`) that link
    /// to a process's files.
    const PROC_LINKS: &[&str] = &["fd", "cwd", "root", "exe", "map_files"];
    let under = |dir: &str| is_within(path, Path::new(dir));
    DEV_LINKS.iter().any(|link| under(link))
        || (under("/proc")
            && path
                .iter()
                .any(|part| PROC_LINKS.iter().any(|link| part == *link)))
}

/// The path a descriptor opened through `path` shows in `/proc/PID/fd`, its
/// symlinks resolved; for a file not there yet, that of the file an
/// `O_CREAT` open would create. `None` if it cannot be told.
fn real_path(path: &Path, dirs: &mut RealDirs) -> Option<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        let is_symlink = fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_symlink());
        if !is_symlink {
            // A file's own name (or one not there yet) is shown as written,
            // after its directory's real path.
            return new_file_path(&path, dirs);
        }
        match opened_path(&path) {
            Some(real) => return Some(real),
            None => {
                // A dangling symlink: O_CREAT creates its target.
                let dir = dirs.real(split_name(&path)?.0)?;
                path = crate::tracee::resolve_path_at(&dir, &fs::read_link(&path).ok()?);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_calls_take_a_descriptor_and_no_path() {
        assert!(is_fd_call(Sysno::read));
        assert!(is_fd_call(Sysno::fsync));
        assert!(!is_fd_call(Sysno::openat));
        assert!(!is_fd_call(Sysno::getpid));
        assert!(!is_fd_call(Sysno::fsconfig));
    }

    #[test]
    fn paths_through_a_process_s_descriptors_are_told_apart() {
        for path in [
            "/proc/self/fd/3",
            "/proc/12/task/13/cwd/f",
            "/dev/stdin",
            "/dev/fd/0",
        ] {
            assert!(names_a_descriptor(Path::new(path)), "{path}");
        }
        for path in [
            "/proc/filesystems",
            "/proc/self/status",
            "/data/fd/x",
            "/dev/null",
        ] {
            assert!(!names_a_descriptor(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn real_paths_follow_symlinks_and_name_files_to_be_created() {
        let dir = std::env::temp_dir().join(format!("fi-fd-scope-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("real")).unwrap();
        std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
        std::os::unix::fs::symlink(dir.join("real/target"), dir.join("dangling")).unwrap();
        let real = dir.join("real").canonicalize().unwrap();
        let dirs = &mut RealDirs::new(false);
        assert_eq!(
            real_path(&dir.join("link/new"), dirs),
            Some(real.join("new"))
        );
        assert_eq!(
            new_file_path(&dir.join("link/new"), dirs),
            Some(real.join("new"))
        );
        assert_eq!(
            real_path(&dir.join("dangling"), dirs),
            Some(real.join("target"))
        );
        fs::write(dir.join("real/file"), "x").unwrap();
        assert_eq!(
            real_path(&dir.join("link/file"), dirs),
            Some(real.join("file"))
        );
        std::os::unix::fs::symlink(dir.join("real/file"), dir.join("to-file")).unwrap();
        assert_eq!(
            real_path(&dir.join("to-file"), dirs),
            Some(real.join("file"))
        );
        assert_eq!(real_path(&dir.join("missing/file"), dirs), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}
