//! What fi tells a policy about an open file descriptor of the caller.

use crate::bindings::fi::policy::tracee;

/// The kind of file a descriptor refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FdKind {
    /// A regular file: the kernel neither interrupts its reads and writes
    /// with a signal nor fails them with `EAGAIN`.
    Regular,
    /// A directory.
    Directory,
    /// A pipe or FIFO.
    Pipe,
    /// A socket.
    Socket,
    /// A character device (a terminal, `/dev/null`).
    CharacterDevice,
    /// A block device.
    BlockDevice,
    /// An anonymous inode: eventfd, timerfd, signalfd, epoll, ...
    Anonymous,
    /// Anything else.
    Other,
}

/// An open file descriptor of the caller, as fi reads it from
/// `/proc/PID/fd/N` and `/proc/PID/fdinfo/N` ([`Call::fd_info`](crate::Call::fd_info)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdInfo {
    /// The kind of file.
    pub kind: FdKind,
    /// Its path, as [`Call::fd_path`](crate::Call::fd_path) gives it
    /// (`/data/db.log`, `pipe:[123]`).
    pub path: Option<String>,
    /// `O_NONBLOCK` is set: a call that would block fails with `EAGAIN`.
    pub nonblocking: bool,
    /// `O_APPEND` is set: every write goes to the end.
    pub append: bool,
    /// The file's size in bytes (0 for pipes, sockets and devices).
    pub size: u64,
    /// The descriptor's file offset.
    pub position: u64,
}

impl FdInfo {
    /// A descriptor of `kind`, blocking, without a path, empty, at offset 0
    /// (for unit tests; change the fields as needed).
    pub fn new(kind: FdKind) -> FdInfo {
        FdInfo {
            kind,
            path: None,
            nonblocking: false,
            append: false,
            size: 0,
            position: 0,
        }
    }
}

impl From<tracee::OpenFile> for FdInfo {
    fn from(info: tracee::OpenFile) -> FdInfo {
        FdInfo {
            kind: match info.kind {
                tracee::FileKind::Regular => FdKind::Regular,
                tracee::FileKind::Directory => FdKind::Directory,
                tracee::FileKind::Pipe => FdKind::Pipe,
                tracee::FileKind::Socket => FdKind::Socket,
                tracee::FileKind::CharacterDevice => FdKind::CharacterDevice,
                tracee::FileKind::BlockDevice => FdKind::BlockDevice,
                tracee::FileKind::Anonymous => FdKind::Anonymous,
                tracee::FileKind::Other => FdKind::Other,
            },
            path: info.path,
            nonblocking: info.nonblocking,
            append: info.append,
            size: info.size,
            position: info.position,
        }
    }
}
