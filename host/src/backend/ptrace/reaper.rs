//! Nothing of a traced tree outlives its run: while a tree is traced, fi's
//! process is a child subreaper (`PR_SET_CHILD_SUBREAPER`), so that a
//! process orphaned in the tree (a daemon's double fork, a worker whose
//! parent was killed) becomes fi's child rather than init's, and when the
//! run is over fi reaps every process of the tree that is its child. A
//! killed daemon then leaves no zombie that `kill(pid, 0)` would call
//! alive (PostgreSQL's `postmaster.pid` check, a pid file's) when the
//! files are restored and a check runs.

use foldhash::HashSet;
use std::sync::Mutex;

/// How many traced trees are running in this process: fi is a subreaper
/// while one is.
static TREES: Mutex<usize> = Mutex::new(0);

/// fi's process is a child subreaper while a `Subreaper` lives; it reaps
/// the processes it was told of when dropped.
pub struct Subreaper {
    /// Every process (and thread) of the tree that ended.
    ended: HashSet<i32>,
}

impl Subreaper {
    /// Make fi's process a subreaper (if no other tree already did).
    pub fn begin() -> Subreaper {
        let mut trees = TREES.lock().unwrap_or_else(|e| e.into_inner());
        if *trees == 0 {
            // SAFETY: prctl sets a flag of the calling process.
            unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong) };
        }
        *trees += 1;
        Subreaper {
            ended: HashSet::default(),
        }
    }

    /// Thread `tid` of the tree ended (its tracer saw it go): reaped now if
    /// it is fi's child (an orphan, as init would reap it), else at the end
    /// (its parent may die and leave it to fi later).
    pub fn ended(&mut self, tid: i32) {
        if !reap(tid) {
            self.ended.insert(tid);
        }
    }
}

/// Reap `pid` if it is an ended child of fi's process; whether it was.
fn reap(pid: i32) -> bool {
    let mut status = 0;
    loop {
        // Without __WNOTHREAD: an orphan becomes the child of fi's main
        // thread, not of the tracing thread. A thread that is no process,
        // or a process that is not fi's child, gives ECHILD.
        // SAFETY: status is a valid out pointer.
        match unsafe { libc::waitpid(pid, &mut status, libc::__WALL | libc::WNOHANG) } {
            -1 if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
            reaped => return reaped == pid,
        }
    }
}

impl Drop for Subreaper {
    /// Reap every ended process of the tree that is fi's child (an orphan
    /// that came to fi), then stop being a subreaper if no tree is left.
    fn drop(&mut self) {
        for &pid in &self.ended {
            let mut status = 0;
            // Without __WNOTHREAD: an orphan becomes the child of fi's main
            // thread, not of the tracing thread. A thread that is no
            // process, or a process that is not fi's child, gives ECHILD.
            // SAFETY: status is a valid out pointer.
            while unsafe { libc::waitpid(pid, &mut status, libc::__WALL | libc::WNOHANG) } == -1
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
            {}
        }
        let mut trees = TREES.lock().unwrap_or_else(|e| e.into_inner());
        *trees = trees.saturating_sub(1);
        if *trees == 0 {
            // SAFETY: prctl clears a flag of the calling process.
            unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 0 as libc::c_ulong) };
        }
    }
}
