//! Working directories of traced threads, kept between calls while the
//! engine follows every call that could change one.
//!
//! A relative path is resolved against `/proc/TID/cwd`, one `readlink` per
//! call; a path-selective policy on a program that opens files by relative
//! paths (`git status`, `make`) pays one for nearly every call it decides.
//! While a [`Following`] is alive on the engine's thread, each thread's
//! directory is read once and kept until the engine reports a change:
//! a call of [`CHANGES`] entering (cleared then, and not kept again until it
//! returned), or the thread gone. A change reaches every thread that shares
//! the caller's directory (`CLONE_FS`), or whose directory lies under a
//! renamed one, so any change clears them all.
//!
//! Without a `Following` (a library caller deciding calls on its own, a run
//! that subscribes to no call with a path) nothing is kept.
//!
//! What no traced call shows is not followed: an untraced process renaming a
//! directory above a tracee's working directory.

use foldhash::{HashMap, HashSet};
use std::cell::RefCell;
use std::fs;
use std::path::PathBuf;

use syscalls::Sysno;

use super::Tracee;

/// The calls that change a thread's working directory, or its name:
/// `chdir`, `fchdir`, `setns` into a mount namespace (to its root),
/// `pivot_root` (of every process whose directory was the old root), and the
/// renames (of a directory above it).
pub const CHANGES: &[Sysno] = &[
    Sysno::chdir,
    Sysno::fchdir,
    Sysno::setns,
    Sysno::pivot_root,
    Sysno::rename,
    Sysno::renameat,
    Sysno::renameat2,
];

/// The kept directories.
#[derive(Default)]
struct Kept {
    /// Each thread's directory, as read when it was first needed.
    dirs: HashMap<i32, PathBuf>,
    /// Threads inside a call of [`CHANGES`]: nothing is kept meanwhile.
    changing: HashSet<i32>,
}

thread_local! {
    /// The directories kept for the [`Following`] alive on this thread.
    static KEPT: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

/// The working directory of `tracee`'s thread: the one kept, or read now
/// (and kept, if allowed).
pub(super) fn of(tracee: &Tracee) -> Option<PathBuf> {
    let tid = tracee.tid;
    let kept = KEPT.with_borrow(|kept| kept.as_ref().and_then(|kept| kept.dirs.get(&tid).cloned()));
    if kept.is_some() {
        return kept;
    }
    let dir = fs::read_link(tracee.proc_file("cwd")).ok()?;
    KEPT.with_borrow_mut(|kept| {
        if let Some(kept) = kept.as_mut().filter(|kept| kept.changing.is_empty()) {
            kept.dirs.insert(tid, dir.clone());
        }
    });
    Some(dir)
}

/// The engine's promise, while this lives, to report every call of
/// [`CHANGES`] at its entry and its exit, and every thread gone; in return
/// the working directories of the threads on its thread are kept.
pub struct Following(());

impl Following {
    /// Start keeping directories on this thread.
    pub fn begin() -> Following {
        KEPT.set(Some(Kept::default()));
        Following(())
    }

    /// Thread `tid` entered a call of [`CHANGES`].
    pub fn entered(&self, tid: i32) {
        Self::with(|kept| {
            kept.changing.insert(tid);
            kept.dirs.clear();
        });
    }

    /// A call of thread `tid` returned (or was answered without running):
    /// if it was one of [`CHANGES`], directories are read afresh.
    pub fn returned(&self, tid: i32) {
        Self::with(|kept| {
            if kept.changing.remove(&tid) {
                kept.dirs.clear();
            }
        });
    }

    /// Thread `tid` is gone (or became another id at an exec): its id may
    /// be reused.
    pub fn forget(&self, tid: i32) {
        Self::with(|kept| {
            if kept.changing.remove(&tid) {
                kept.dirs.clear();
            }
            kept.dirs.remove(&tid);
        });
    }

    fn with(f: impl FnOnce(&mut Kept)) {
        KEPT.with_borrow_mut(|kept| kept.as_mut().map(f));
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        KEPT.set(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Tracee {
        Tracee {
            pid: std::process::id() as i32,
            // SAFETY: gettid has no preconditions.
            tid: unsafe { libc::gettid() },
        }
    }

    fn kept(tid: i32) -> Option<PathBuf> {
        KEPT.with_borrow(|kept| kept.as_ref()?.dirs.get(&tid).cloned())
    }

    #[test]
    fn nothing_is_kept_without_following() {
        let tid = me().tid;
        assert_eq!(of(&me()), std::env::current_dir().ok());
        assert_eq!(kept(tid), None);
    }

    #[test]
    fn a_directory_is_kept_until_a_change_enters_and_again_after_it_returned() {
        let tid = me().tid;
        let following = Following::begin();
        let here = of(&me());
        assert_eq!(here, std::env::current_dir().ok());
        assert_eq!(kept(tid), here);
        following.entered(tid);
        assert_eq!(kept(tid), None);
        assert_eq!(of(&me()), here, "read while changing");
        assert_eq!(kept(tid), None, "kept while a change was in flight");
        following.returned(tid);
        of(&me());
        assert_eq!(kept(tid), here);
        following.forget(tid);
        assert_eq!(kept(tid), None);
        drop(following);
        assert!(KEPT.with_borrow(Option::is_none));
    }
}
