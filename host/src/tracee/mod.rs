//! Access to one traced thread: its memory, the files its calls touch, its
//! descriptors and its signal handlers.
//!
//! Everything here works on the thread whose call is being decided, through
//! `process_vm_readv`/`process_vm_writev` (falling back to `/proc/PID/mem`)
//! and `/proc/PID/{fd,cwd,maps}` — the same sources strace uses for `-y`.

pub mod cwd;
mod fds;
mod memory;
mod paths;
pub mod stack;
pub mod vdso;

pub use fds::{FdInfo, FdKind};
pub use paths::resolve_path_at;

/// The thread whose call is being decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracee {
    /// Process (thread group) id.
    pub pid: i32,
    /// Thread id.
    pub tid: i32,
}
