//! The calls that change what a quota holds, read from their registers.

use fi_sdk::{Call, Sysno};

use crate::quota::Quota;

/// The calls the plugin subscribes to.
pub const SYSCALLS: [&str; 18] = [
    "write",
    "pwrite64",
    "writev",
    "pwritev",
    "pwritev2",
    "fallocate",
    "ftruncate",
    "truncate",
    "open",
    "openat",
    "creat",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "statfs",
    "fstatfs",
];

// x86_64 Linux flag values (the plugin is built for wasm32, whose libc
// has other numbers).
/// `open`: create the file if missing.
const O_CREAT: u64 = 0o100;
/// `open`: with `O_CREAT`, fail if the file exists.
const O_EXCL: u64 = 0o200;
/// `open`: empty the file.
const O_TRUNC: u64 = 0o1000;
/// `open`: the access mode bits.
const O_ACCMODE: u64 = 0o3;
/// `unlinkat`: remove a directory.
const AT_REMOVEDIR: u64 = 0x200;
/// `renameat2`: swap the two names.
const RENAME_EXCHANGE: u64 = 2;
/// The most buffers a vectored write takes.
const IOV_MAX: u32 = 1024;
/// The working directory, as a `dirfd`.
const AT_FDCWD: i32 = -100;

/// How an `open` may create its file.
#[derive(Debug, PartialEq, Eq)]
pub enum Create {
    /// Through `O_CREAT` in argument `arg`; `without` is the flags without it.
    Flags { arg: u8, without: u64 },
    /// Only as a new file (`O_EXCL`, or `creat`).
    Always,
}

/// One call, as the quota sees it.
#[derive(Debug, PartialEq, Eq)]
pub enum Op {
    /// `count` bytes written to `path` through `fd`, at offset `at` (`None`:
    /// the file position); `count_arg` is the register holding the count,
    /// for a call whose count can be cut.
    Write {
        path: String,
        fd: i32,
        count: u64,
        at: Option<u64>,
        count_arg: Option<u8>,
    },
    /// `fallocate` of `path` through `fd`, to `end`.
    Allocate { path: String, fd: i32, end: u64 },
    /// `path` set to `len` bytes, through `fd` for `ftruncate`.
    Truncate {
        path: String,
        fd: Option<i32>,
        len: u64,
    },
    /// `path` opened, emptied if `truncate`, maybe created.
    Open {
        path: String,
        truncate: bool,
        create: Option<Create>,
    },
    /// `path` deleted.
    Unlink { path: String },
    /// `from` renamed to `to`.
    Rename { from: String, to: String },
    /// The file system of `path` described into the `statfs` at `addr`.
    Statfs { path: String, addr: u64 },
}

impl Op {
    /// What `call` does to a quota, if anything (`None` also for calls on
    /// descriptors or names that cannot be resolved).
    pub fn of(call: &Call) -> Option<Op> {
        let arg = |n: usize| call.arg(n);
        let fd = arg(0) as i32;
        let fd_path = || call.fd_path(0);
        let named = |dirfd: i32, n: usize| call.resolve_path(dirfd, arg(n));
        Some(match call.sysno() {
            Sysno::write | Sysno::pwrite64 => Op::Write {
                path: fd_path()?,
                fd,
                count: arg(2),
                at: (call.sysno() == Sysno::pwrite64).then(|| arg(3)),
                count_arg: Some(2),
            },
            Sysno::writev | Sysno::pwritev | Sysno::pwritev2 => {
                let count = u32::try_from(arg(2)).ok().filter(|&n| n <= IOV_MAX)?;
                let bytes = call
                    .read_iovecs(arg(1), count)
                    .ok()?
                    .iter()
                    .fold(0u64, |sum, iovec| sum.saturating_add(iovec.len));
                // pwritev2 with offset -1 writes at the file position.
                let at = (call.sysno() != Sysno::writev && arg(3) != u64::MAX).then(|| arg(3));
                Op::Write {
                    path: fd_path()?,
                    fd,
                    count: bytes,
                    at,
                    count_arg: None,
                }
            }
            // Only mode 0 reserves and grows the file; the other modes keep
            // its size or punch holes, and go uncounted.
            Sysno::fallocate if arg(1) == 0 => Op::Allocate {
                path: fd_path()?,
                fd,
                end: arg(2).saturating_add(arg(3)),
            },
            Sysno::ftruncate => Op::Truncate {
                path: fd_path()?,
                fd: Some(fd),
                len: arg(1),
            },
            Sysno::truncate => Op::Truncate {
                path: named(AT_FDCWD, 0)?,
                fd: None,
                len: arg(1),
            },
            Sysno::open => Op::open(named(AT_FDCWD, 0)?, arg(1), 1),
            Sysno::openat => Op::open(named(arg(0) as i32, 1)?, arg(2), 2),
            Sysno::creat => Op::Open {
                path: named(AT_FDCWD, 0)?,
                truncate: true,
                create: Some(Create::Always),
            },
            Sysno::unlink => Op::Unlink {
                path: named(AT_FDCWD, 0)?,
            },
            Sysno::unlinkat if arg(2) & AT_REMOVEDIR == 0 => Op::Unlink {
                path: named(arg(0) as i32, 1)?,
            },
            Sysno::rename => Op::Rename {
                from: named(AT_FDCWD, 0)?,
                to: named(AT_FDCWD, 1)?,
            },
            Sysno::renameat => Op::Rename {
                from: named(arg(0) as i32, 1)?,
                to: named(arg(2) as i32, 3)?,
            },
            Sysno::renameat2 if arg(4) & RENAME_EXCHANGE == 0 => Op::Rename {
                from: named(arg(0) as i32, 1)?,
                to: named(arg(2) as i32, 3)?,
            },
            Sysno::statfs => Op::Statfs {
                path: named(AT_FDCWD, 0)?,
                addr: arg(1),
            },
            Sysno::fstatfs => Op::Statfs {
                path: fd_path()?,
                addr: arg(1),
            },
            _ => return None,
        })
    }

    /// An `open` of `path` with `flags` in register `flags_arg`.
    fn open(path: String, flags: u64, flags_arg: u8) -> Op {
        let create = match (flags & O_CREAT != 0, flags & O_EXCL != 0) {
            (false, _) => None,
            (true, true) => Some(Create::Always),
            (true, false) => Some(Create::Flags {
                arg: flags_arg,
                without: flags & !O_CREAT,
            }),
        };
        Op::Open {
            path,
            // O_TRUNC empties the file only if it is opened for writing.
            truncate: flags & O_TRUNC != 0 && flags & O_ACCMODE != 0,
            create,
        }
    }
}

/// Where a write to `path` through `fd` starts (`at`, or the file
/// position; the end for `O_APPEND`) and the file's size before it, as fi
/// reads them from the descriptor. Without a descriptor (`truncate` by
/// name), the size is the quota's own count of the bytes written there.
pub fn extent(
    call: &Call,
    quota: &Quota,
    path: &str,
    fd: Option<i32>,
    at: Option<u64>,
) -> (u64, u64) {
    match fd.and_then(|fd| call.fd_info(fd)) {
        Some(info) => {
            let position = if info.append {
                info.size
            } else {
                info.position
            };
            (at.unwrap_or(position), info.size)
        }
        None => {
            let size = quota.charged(path);
            (at.unwrap_or(size), size)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fi_sdk::testing::FakeCall;
    use fi_sdk::{FdInfo, FdKind};

    #[test]
    fn the_extent_comes_from_the_descriptor() {
        let mut info = FdInfo::new(FdKind::Regular);
        info.path = Some("/data/db".into());
        info.size = 1000;
        info.position = 200;
        let call = FakeCall::new(Sysno::write).fd_info(3, info.clone()).call();
        let mut quota = Quota::new(100);
        assert_eq!(
            extent(&call, &quota, "/data/db", Some(3), None),
            (200, 1000)
        );
        assert_eq!(
            extent(&call, &quota, "/data/db", Some(3), Some(4096)),
            (4096, 1000)
        );
        info.append = true;
        let append = FakeCall::new(Sysno::write).fd_info(3, info).call();
        assert_eq!(
            extent(&append, &quota, "/data/db", Some(3), None),
            (1000, 1000)
        );
        // truncate(2) by name: the quota's own count.
        quota.charge("/data/db", 30);
        assert_eq!(extent(&append, &quota, "/data/db", None, None), (30, 30));
    }

    #[test]
    fn opens_say_whether_they_truncate_and_create() {
        let call = FakeCall::new(Sysno::openat)
            .arg(0, AT_FDCWD as u64)
            .arg(1, 0x1000)
            .arg(2, 0o1 | O_CREAT | O_TRUNC)
            .cwd("/data")
            .memory(0x1000, b"log\0")
            .call();
        assert_eq!(
            Op::of(&call),
            Some(Op::Open {
                path: "/data/log".into(),
                truncate: true,
                create: Some(Create::Flags {
                    arg: 2,
                    without: 0o1 | O_TRUNC
                }),
            })
        );
        let read_only = FakeCall::new(Sysno::open)
            .arg(0, 0x1000)
            .arg(1, O_TRUNC)
            .memory(0x1000, b"/data/log\0")
            .call();
        assert!(matches!(
            Op::of(&read_only),
            Some(Op::Open {
                truncate: false,
                create: None,
                ..
            })
        ));
    }

    #[test]
    fn writes_read_their_count_and_offset() {
        let call = FakeCall::new(Sysno::pwrite64)
            .arg(0, 3)
            .arg(2, 100)
            .arg(3, 4096)
            .fd(3, "/data/db")
            .call();
        assert_eq!(
            Op::of(&call),
            Some(Op::Write {
                path: "/data/db".into(),
                fd: 3,
                count: 100,
                at: Some(4096),
                count_arg: Some(2),
            })
        );
        let iovecs: Vec<u8> = [0x2000u64, 10, 0x3000, 20]
            .iter()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let writev = FakeCall::new(Sysno::writev)
            .arg(0, 3)
            .arg(1, 0x1000)
            .arg(2, 2)
            .fd(3, "/data/db")
            .memory(0x1000, &iovecs)
            .call();
        assert!(matches!(
            Op::of(&writev),
            Some(Op::Write {
                count: 30,
                at: None,
                count_arg: None,
                ..
            })
        ));
        let closed = FakeCall::new(Sysno::write).arg(0, 9).call();
        assert_eq!(Op::of(&closed), None);
    }
}
