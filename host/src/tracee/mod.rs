//! Access to one traced thread: its memory, the files its calls touch, its
//! descriptors and its signal handlers.
//!
//! Everything here works on the thread whose call is being decided, through
//! `process_vm_readv`/`process_vm_writev` (falling back to `/proc/PID/mem`)
//! and `/proc/PID/{fd,cwd,maps}` — the same sources strace uses for `-y`.
//! Each access is counted ([`looks`]).

pub mod cwd;
mod fds;
mod memory;
mod paths;
pub mod stack;
pub mod vdso;

pub use fds::{FdInfo, FdKind};
pub use paths::{forget_resolved, is_within, resolve_path_at, split_name};

use std::cell::Cell;
use std::fmt::Display;

thread_local! {
    /// How many times this thread looked into a tracee.
    static LOOKS: Cell<u64> = const { Cell::new(0) };
}

/// How many times this thread has looked into a tracee: read or written its
/// memory, or read one of its `/proc` files. A backend that answers a call
/// after the decision compares the counts before and after it: a decision
/// that looked at nothing needs no check that what it saw was the caller's.
pub fn looks() -> u64 {
    LOOKS.get()
}

/// Count one look into a tracee.
fn look() {
    LOOKS.set(LOOKS.get() + 1);
}

/// The thread whose call is being decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracee {
    /// Process (thread group) id.
    pub pid: i32,
    /// Thread id.
    pub tid: i32,
}

impl Tracee {
    /// The path of the thread's `/proc` file `name` (`mem`, `fd/3`), to be
    /// read now: counted as a look.
    fn proc_file(&self, name: impl Display) -> String {
        look();
        format!("/proc/{}/{name}", self.tid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_look_into_a_tracee_is_counted() {
        let me = Tracee {
            pid: std::process::id() as i32,
            // SAFETY: gettid has no preconditions.
            tid: unsafe { libc::gettid() },
        };
        let word = 7u64;
        let before = looks();
        assert_eq!(
            me.read_memory(&word as *const u64 as u64, 8).unwrap(),
            7u64.to_ne_bytes()
        );
        assert_eq!(looks(), before + 1);
        me.fd_path(0);
        me.signal_handled(libc::SIGINT as u8);
        assert_eq!(looks(), before + 3);
    }
}
