//! The system call being decided, and access to the thread that made it.

use std::cell::OnceCell;
use std::fmt;

use crate::bindings::fi::policy::{tracee, types};
#[cfg(any(test, feature = "testing"))]
use crate::testing::FakeTracee;
use crate::{FdInfo, Sysno};

/// One system call as the traced thread made it.
///
/// Besides the registers, a `Call` reaches into the calling process: the
/// paths it touches, its memory and its open files. That works only while fi
/// is asking about this call, which is why these methods live here.
#[derive(Debug)]
pub struct Call {
    nr: u32,
    args: [u64; 6],
    pid: i32,
    tid: i32,
    paths: OnceCell<Vec<String>>,
    tracee: Tracee,
}

/// Who answers a call's questions about the traced process.
#[derive(Debug)]
enum Tracee {
    /// fi, through the `tracee` imports.
    Host,
    /// A process made up by a unit test ([`crate::testing`]).
    #[cfg(any(test, feature = "testing"))]
    Fake(Box<FakeTracee>),
}

/// A failed access to the traced process, such as unreadable memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceeError(String);

impl fmt::Display for TraceeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceeError {}

impl Call {
    pub(crate) fn new(raw: types::Syscall) -> Call {
        let (a, b, c, d, e, f) = raw.args;
        Call {
            nr: raw.nr,
            args: [a, b, c, d, e, f],
            pid: raw.pid,
            tid: raw.tid,
            paths: OnceCell::new(),
            tracee: Tracee::Host,
        }
    }

    /// A call made up by a unit test: `paths` is what [`Call::paths`]
    /// answers, `tracee` the rest.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn fake(
        nr: u32,
        args: [u64; 6],
        pid: i32,
        tid: i32,
        paths: Vec<String>,
        tracee: FakeTracee,
    ) -> Call {
        Call {
            nr,
            args,
            pid,
            tid,
            paths: OnceCell::from(paths),
            tracee: Tracee::Fake(Box::new(tracee)),
        }
    }

    /// Which call this is: compare with constants such as [`Sysno::fsync`].
    pub fn sysno(&self) -> Sysno {
        Sysno::new(self.nr)
    }

    /// The call's name (`fsync`), or `syscall_N` for an unknown number.
    pub fn name(&self) -> String {
        self.sysno().to_string()
    }

    /// The raw argument register `n` (0 to 5: rdi, rsi, rdx, r10, r8, r9).
    ///
    /// # Panics
    ///
    /// If `n` is above 5.
    pub fn arg(&self, n: usize) -> u64 {
        self.args[n]
    }

    /// The process (thread group) id of the caller.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The thread id of the caller.
    pub fn tid(&self) -> i32 {
        self.tid
    }

    /// Every path the call touches, in argument order: its path arguments
    /// (made absolute) and the paths of its file descriptor arguments.
    /// Empty for calls that touch no path. Asked of fi once, then kept.
    pub fn paths(&self) -> &[String] {
        self.paths.get_or_init(tracee::call_paths)
    }

    /// The first path the call touches (see [`Call::paths`]).
    pub fn path(&self) -> Option<&str> {
        self.paths().first().map(String::as_str)
    }

    /// The path of the file descriptor in argument `n` (`/data/db.log`,
    /// `pipe:[123]`), or `None` if it is not an open descriptor.
    pub fn fd_path(&self, n: usize) -> Option<String> {
        // File descriptors are C ints: the low half of the register.
        let fd = self.arg(n) as i32;
        match &self.tracee {
            Tracee::Host => tracee::fd_path(fd),
            #[cfg(any(test, feature = "testing"))]
            Tracee::Fake(fake) => fake.fd_path(fd),
        }
    }

    /// What the open descriptor `fd` of the caller is (its kind, flags,
    /// size and offset), or `None` if it is not open. Takes the descriptor
    /// itself: `call.fd_info(call.arg(0) as i32)`.
    pub fn fd_info(&self, fd: i32) -> Option<FdInfo> {
        match &self.tracee {
            Tracee::Host => tracee::fd_info(fd).map(FdInfo::from),
            #[cfg(any(test, feature = "testing"))]
            Tracee::Fake(fake) => fake.fd_info(fd),
        }
    }

    /// Whether the calling process has a handler installed for `signal`
    /// (`SIGINT` is 2): only a handled signal interrupts a blocking call
    /// with `EINTR`, so a policy injects `EINTR` only if some is.
    pub fn signal_handled(&self, signal: u8) -> bool {
        match &self.tracee {
            Tracee::Host => tracee::signal_handled(signal),
            #[cfg(any(test, feature = "testing"))]
            Tracee::Fake(fake) => fake.signal_handled(signal),
        }
    }

    /// The absolute path of the C string at `addr`, resolved against the
    /// directory `dirfd` refers to (`-100`, `AT_FDCWD`, for the working
    /// directory).
    pub fn resolve_path(&self, dirfd: i32, addr: u64) -> Option<String> {
        match &self.tracee {
            Tracee::Host => tracee::resolve_path(dirfd, addr),
            #[cfg(any(test, feature = "testing"))]
            Tracee::Fake(fake) => fake.resolve_path(dirfd, addr),
        }
    }

    /// The file mapped at `addr` in the caller's address space (the file an
    /// `msync` of `addr` flushes).
    pub fn mapped_file(&self, addr: u64) -> Option<String> {
        match &self.tracee {
            Tracee::Host => tracee::mapped_file(addr),
            #[cfg(any(test, feature = "testing"))]
            Tracee::Fake(fake) => fake.mapped_file(addr),
        }
    }

    /// The `len` bytes at `offset` of the regular file behind the caller's
    /// descriptor `fd` as they were before the program's last unsynced
    /// write to each of them (stale data): a byte no write changed since
    /// the file's last sync is its current one, a byte the file did not
    /// have before the write reads as zero. `None` when no unsynced write
    /// touched the range, and always unless the policy's subscription
    /// asked [`Subscription::keep_unsynced`](crate::Subscription::keep_unsynced).
    /// At most 1 MiB.
    pub fn unsynced_before(&self, fd: i32, offset: u64, len: u32) -> Option<Vec<u8>> {
        match &self.tracee {
            Tracee::Host => tracee::unsynced_before(fd, offset, len),
            #[cfg(any(test, feature = "testing"))]
            Tracee::Fake(fake) => fake.unsynced_before(fd, offset, len),
        }
    }

    /// `len` bytes of the caller's memory at `addr`.
    pub fn read_memory(&self, addr: u64, len: u32) -> Result<Vec<u8>, TraceeError> {
        match &self.tracee {
            Tracee::Host => tracee::read_memory(addr, len).map_err(TraceeError),
            #[cfg(any(test, feature = "testing"))]
            Tracee::Fake(fake) => fake.read_memory(addr, len).map_err(TraceeError),
        }
    }

    /// Write `data` into the caller's memory at `addr` (read-only pages too).
    pub fn write_memory(&self, addr: u64, data: &[u8]) -> Result<(), TraceeError> {
        match &self.tracee {
            Tracee::Host => tracee::write_memory(addr, data).map_err(TraceeError),
            #[cfg(any(test, feature = "testing"))]
            Tracee::Fake(fake) => fake.write_memory(addr, data).map_err(TraceeError),
        }
    }

    /// The NUL-terminated string at `addr`, at most `max` bytes; bytes that
    /// are not UTF-8 are replaced.
    pub fn read_c_string(&self, addr: u64, max: u32) -> Result<String, TraceeError> {
        match &self.tracee {
            Tracee::Host => tracee::read_c_string(addr, max).map_err(TraceeError),
            #[cfg(any(test, feature = "testing"))]
            Tracee::Fake(fake) => fake.read_c_string(addr, max).map_err(TraceeError),
        }
    }
}
