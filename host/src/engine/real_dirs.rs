//! Real paths of directories, kept between calls while the engine sees
//! every call that could change one.
//!
//! Whether an open may give a process a descriptor of a file whose fd calls
//! a stage decides ([`fd_scope`]) depends on the path the kernel shows for
//! that descriptor: its directories' symlinks resolved. Asking the kernel
//! (an `O_PATH` open, a `readlink` of `/proc/self/fd/N`, a close) costs
//! three system calls per open, and `tar x` opens thousands of files in a
//! few dozen directories.
//!
//! A directory's real path changes only when a name on its way is removed
//! or replaced, or a mount comes or goes there ([`CHANGES`]). While the
//! engine sees every such call ([`sees_every_change`]), each directory's
//! real path is read once and kept. A thread entering one of [`CHANGES`]
//! clears what is kept, and nothing is kept again until that thread's next
//! event (its call has then returned: a thread makes one call at a time) or
//! its end. Without that promise nothing is kept.
//!
//! What no traced call shows is not followed: an untraced process renaming
//! a directory (`docs/cannot-see.md`). A ring of `io_uring`, which renames
//! and unlinks without a system call, is seen being set up: from then on
//! nothing is kept.
//!
//! [`fd_scope`]: super::fd_scope

use foldhash::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use syscalls::{Sysno, SysnoSet};

/// The calls that can change the real path of an existing directory: they
/// remove or replace a name (a directory on the way, or a symlink), or move
/// a mount. Creating a name cannot: a name on a kept directory's way
/// exists, and must be removed before another file takes it.
pub const CHANGES: &[Sysno] = &[
    Sysno::rename,
    Sysno::renameat,
    Sysno::renameat2,
    Sysno::unlink,
    Sysno::unlinkat,
    Sysno::rmdir,
    Sysno::mount,
    Sysno::umount2,
    Sysno::move_mount,
    Sysno::pivot_root,
];

/// Whether a run stopping the calls of `subscription` sees every call of
/// [`CHANGES`], so that directories' real paths can be kept.
pub fn sees_every_change(subscription: &SysnoSet) -> bool {
    CHANGES.iter().all(|&sysno| subscription.contains(sysno))
}

/// The real paths of directories, kept while every change is seen.
#[derive(Default)]
pub struct RealDirs {
    kept: Option<Kept>,
}

/// What is kept.
#[derive(Default)]
struct Kept {
    /// A directory's path, as written and made absolute (its bytes: hashed
    /// at every open), and its real path.
    dirs: HashMap<OsString, PathBuf>,
    /// The threads whose call of [`CHANGES`] may not have returned yet:
    /// nothing is kept meanwhile.
    changing: HashSet<i32>,
}

impl RealDirs {
    /// Kept paths, if the engine sees every call of [`CHANGES`] (and
    /// reports them with [`Self::event`] and [`Self::gone`]); otherwise
    /// every path is read afresh.
    pub fn new(keep: bool) -> RealDirs {
        RealDirs {
            kept: keep.then(Kept::default),
        }
    }

    /// Thread `tid` stopped entering a call of `entering`, or at a call's
    /// exit (`None`): its earlier calls have returned.
    pub fn event(&mut self, tid: i32, entering: Option<Sysno>) {
        if entering == Some(Sysno::io_uring_setup) {
            self.kept = None;
        }
        let Some(kept) = &mut self.kept else {
            return;
        };
        if kept.changing.remove(&tid) {
            kept.dirs.clear();
        }
        if entering.is_some_and(|sysno| CHANGES.contains(&sysno)) {
            kept.changing.insert(tid);
            kept.dirs.clear();
        }
    }

    /// Thread `tid` is gone (or became another id at an exec).
    pub fn gone(&mut self, tid: i32) {
        if let Some(kept) = &mut self.kept {
            if kept.changing.remove(&tid) {
                kept.dirs.clear();
            }
        }
    }

    /// The real path of directory `dir` (absolute): kept, or read now.
    pub fn real(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(real) = self
            .kept
            .as_ref()
            .and_then(|kept| kept.dirs.get(dir.as_os_str()))
        {
            return Some(real.clone());
        }
        let real = opened_path(dir)?;
        if let Some(kept) = self.kept.as_mut().filter(|kept| kept.changing.is_empty()) {
            kept.dirs.insert(dir.as_os_str().to_owned(), real.clone());
        }
        Some(real)
    }
}

/// The path of the file `path` names, as the kernel shows a descriptor of
/// it (opened with `O_PATH`: no side effect on devices or FIFOs).
pub fn opened_path(path: &Path) -> Option<PathBuf> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(path)
        .ok()?;
    fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory of this test's own.
    struct Root(PathBuf);

    impl Root {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A directory with a symlink to another, under a root named `test`:
    /// (the root, the real directory, the link).
    fn dirs(test: &str) -> (Root, PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("fi-real-dirs-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let real = root.join("real");
        fs::create_dir_all(&real).unwrap();
        let link = root.join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        (Root(root), real.canonicalize().unwrap(), link)
    }

    /// Point `link` at `target`, behind fi's back.
    fn repoint(link: &Path, target: &Path) {
        fs::remove_file(link).unwrap();
        std::os::unix::fs::symlink(target, link).unwrap();
    }

    /// A second real directory, `other`, under `root`: its real path.
    fn other(root: &Root) -> PathBuf {
        let other = root.path().join("other");
        fs::create_dir(&other).unwrap();
        other.canonicalize().unwrap()
    }

    #[test]
    fn a_kept_path_holds_until_a_change_enters_and_is_read_again_after_it() {
        let (root, real, link) = dirs("kept");
        let mut dirs = RealDirs::new(true);
        assert_eq!(dirs.real(&link), Some(real.clone()));
        // Replaced behind fi's back, the kept path still answers...
        let other = other(&root);
        repoint(&link, &other);
        assert_eq!(dirs.real(&link), Some(real.clone()));
        // ...but a rename (the way `ln -sfn` replaces a link) clears it,
        // and nothing is kept while it may still run.
        dirs.event(7, Some(Sysno::rename));
        assert_eq!(dirs.real(&link), Some(other.clone()));
        repoint(&link, &real);
        assert_eq!(dirs.real(&link), Some(real.clone()));
        // The thread's next event: its rename returned; paths are kept again.
        dirs.event(7, Some(Sysno::openat));
        assert_eq!(dirs.real(&link), Some(real.clone()));
        repoint(&link, &other);
        assert_eq!(dirs.real(&link), Some(real));
    }

    /// `dirs` reads `link` afresh after it is repointed behind fi's back.
    fn reads_afresh(mut dirs: RealDirs, test: &str) {
        let (root, real, link) = self::dirs(test);
        assert_eq!(dirs.real(&link), Some(real));
        let other = other(&root);
        repoint(&link, &other);
        assert_eq!(dirs.real(&link), Some(other));
    }

    #[test]
    fn nothing_is_kept_without_the_engines_promise() {
        reads_afresh(RealDirs::new(false), "not-kept");
    }

    #[test]
    fn a_thread_gone_in_its_change_lets_paths_be_kept_again() {
        let (_root, real, link) = dirs("gone");
        let mut dirs = RealDirs::new(true);
        dirs.event(7, Some(Sysno::unlinkat));
        assert_eq!(dirs.real(&link), Some(real.clone()));
        assert!(dirs.kept.as_ref().unwrap().dirs.is_empty());
        dirs.gone(7);
        assert_eq!(dirs.real(&link), Some(real));
        assert_eq!(dirs.kept.as_ref().unwrap().dirs.len(), 1);
    }

    #[test]
    fn nothing_is_kept_once_a_ring_is_set_up() {
        let mut dirs = RealDirs::new(true);
        dirs.event(7, Some(Sysno::io_uring_setup));
        reads_afresh(dirs, "ring");
    }

    #[test]
    fn every_change_is_a_file_call() {
        use crate::arch::classes::{classes_of, Classes};
        for &sysno in CHANGES {
            assert!(classes_of(sysno).contains(Classes::FILE), "{sysno}");
        }
    }
}
