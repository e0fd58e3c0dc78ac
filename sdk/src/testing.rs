//! Unit-testing a policy natively, without fi: made-up calls from a made-up
//! process (feature `testing`).
//!
//! Off wasm32 a [`Call`] cannot ask fi about the traced process, so a test
//! builds one with [`FakeCall`]: the call's registers, the paths it touches,
//! the paths of its file descriptors and the process's memory. On the build
//! machine [`log`](crate::log) then prints to stderr and
//! [`random`](crate::random) draws from a fixed-seed generator
//! ([`seed_random`]).
//!
//! ```toml
//! [dev-dependencies]
//! fi-sdk = { path = "fi-sdk", features = ["testing"] }
//! ```
//!
//! ```
//! use fi_sdk::testing::FakeCall;
//! use fi_sdk::{Errno, Sysno, Verdict};
//!
//! // fsync(3), where fd 3 is /data/db.log.
//! let call = FakeCall::new(Sysno::fsync)
//!     .arg(0, 3)
//!     .fd(3, "/data/db.log")
//!     .paths(["/data/db.log"])
//!     .call();
//! assert_eq!(call.fd_path(0).as_deref(), Some("/data/db.log"));
//! assert_eq!(call.path(), Some("/data/db.log"));
//!
//! // openat(AT_FDCWD, "db.log", ...) from /data, the name in memory.
//! let call = FakeCall::new(Sysno::openat)
//!     .arg(0, -100i64 as u64)
//!     .arg(1, 0x1000)
//!     .cwd("/data")
//!     .memory(0x1000, b"db.log\0")
//!     .call();
//! assert_eq!(call.resolve_path(-100, call.arg(1)).as_deref(), Some("/data/db.log"));
//! assert_eq!(call.read_c_string(0x1000, 64).unwrap(), "db.log");
//! call.write_memory(0x1000, b"DB").unwrap();
//! assert_eq!(call.read_memory(0x1000, 6).unwrap(), b"DB.log");
//! assert!(call.read_memory(0x5000, 1).is_err());
//! # let _ = (Errno::EIO, Verdict::pass());
//! ```

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use fi_grammar::names::AT_FDCWD;

use crate::{Call, Config, ConfigError, FdInfo, Policy, Subscription, Sysno};

/// Makes policy `P` from `pairs` as fi does for `--plugin NAME:key=value`:
/// unknown and repeated keys are refused first, then [`Policy::new`] runs.
///
/// ```
/// use fi_sdk::testing::init;
/// use fi_sdk::{Call, Config, ConfigError, Description, Policy, Subscription};
///
/// struct Quiet;
///
/// impl Policy for Quiet {
///     fn describe() -> Description {
///         Description::new("quiet", "does nothing").key("level", "how quiet")
///     }
///     fn new(_: &Config) -> Result<(Self, Subscription), ConfigError> {
///         Ok((Quiet, Subscription::syscalls(["write"])))
///     }
/// }
///
/// assert!(init::<Quiet>(&[("level", "3")]).is_ok());
/// let error = init::<Quiet>(&[("loud", "1")]).err().unwrap();
/// assert_eq!(error.to_string(), "unknown key 'loud' (known: level)");
/// ```
pub fn init<P: Policy>(pairs: &[(&str, &str)]) -> Result<(P, Subscription), ConfigError> {
    let pairs = pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    P::new(&Config::new(pairs, &P::describe())?)
}

/// Builds a [`Call`] for a unit test. Unset registers are 0, the pid is the
/// tid (1 by default), the process has no open files, no memory and `/` as
/// its working directory, and the call touches no path.
#[derive(Debug)]
#[must_use = "FakeCall::call makes the call"]
pub struct FakeCall {
    nr: u32,
    args: [u64; 6],
    pid: Option<i32>,
    tid: i32,
    paths: Vec<String>,
    tracee: FakeTracee,
}

impl FakeCall {
    /// A call to `sysno`.
    pub fn new(sysno: Sysno) -> FakeCall {
        FakeCall {
            nr: sysno.nr(),
            args: [0; 6],
            pid: None,
            tid: 1,
            paths: Vec::new(),
            tracee: FakeTracee::default(),
        }
    }

    /// Sets argument register `n` (0 to 5).
    ///
    /// # Panics
    ///
    /// If `n` is above 5.
    pub fn arg(mut self, n: usize, value: u64) -> FakeCall {
        self.args[n] = value;
        self
    }

    /// The calling thread (and, unless [`FakeCall::pid`] says otherwise, its
    /// process).
    pub fn tid(mut self, tid: i32) -> FakeCall {
        self.tid = tid;
        self
    }

    /// The calling process.
    pub fn pid(mut self, pid: i32) -> FakeCall {
        self.pid = Some(pid);
        self
    }

    /// What [`Call::paths`] answers: the paths the call touches, as fi
    /// would find them from its arguments.
    pub fn paths<S: Into<String>>(mut self, paths: impl IntoIterator<Item = S>) -> FakeCall {
        self.paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Makes `fd` an open file descriptor of the process, for `path`.
    pub fn fd(mut self, fd: i32, path: &str) -> FakeCall {
        self.tracee.fds.insert(fd, path.to_string());
        self
    }

    /// What [`Call::fd_info`] answers for `fd` (which also becomes an open
    /// descriptor, for `info.path` if it has one).
    pub fn fd_info(mut self, fd: i32, info: FdInfo) -> FakeCall {
        if let Some(path) = &info.path {
            self.tracee.fds.insert(fd, path.clone());
        }
        self.tracee.fd_infos.insert(fd, info);
        self
    }

    /// Installs a handler for `signal` in the process (for
    /// [`Call::signal_handled`]); by default it handles none.
    pub fn handles(mut self, signal: u8) -> FakeCall {
        self.tracee.handled.insert(signal);
        self
    }

    /// The process's working directory, for relative paths (default `/`).
    pub fn cwd(mut self, dir: &str) -> FakeCall {
        self.tracee.cwd = dir.to_string();
        self
    }

    /// Puts `bytes` in the process's memory at `addr`, writable.
    pub fn memory(mut self, addr: u64, bytes: &[u8]) -> FakeCall {
        self.tracee.memory.get_mut().push((addr, bytes.to_vec()));
        self
    }

    /// What [`Call::unsynced_before`] answers for `fd`: the file held
    /// `bytes` at `offset` before the unsynced writes (for the range they
    /// cover; `None` outside it).
    pub fn unsynced(mut self, fd: i32, offset: u64, bytes: &[u8]) -> FakeCall {
        self.tracee.unsynced.insert(fd, (offset, bytes.to_vec()));
        self
    }

    /// Maps `path` at `addr..addr + len` (for [`Call::mapped_file`]).
    pub fn mapped(mut self, addr: u64, len: u64, path: &str) -> FakeCall {
        self.tracee.mappings.push((addr, len, path.to_string()));
        self
    }

    /// The call.
    pub fn call(self) -> Call {
        let pid = self.pid.unwrap_or(self.tid);
        Call::fake(self.nr, self.args, pid, self.tid, self.paths, self.tracee)
    }
}

/// The made-up process behind a [`FakeCall`].
#[derive(Debug)]
pub(crate) struct FakeTracee {
    fds: HashMap<i32, String>,
    cwd: String,
    memory: RefCell<Vec<(u64, Vec<u8>)>>,
    mappings: Vec<(u64, u64, String)>,
    fd_infos: HashMap<i32, FdInfo>,
    handled: HashSet<u8>,
    unsynced: HashMap<i32, (u64, Vec<u8>)>,
}

impl Default for FakeTracee {
    fn default() -> FakeTracee {
        FakeTracee {
            fds: HashMap::new(),
            cwd: "/".to_string(),
            memory: RefCell::default(),
            mappings: Vec::new(),
            fd_infos: HashMap::new(),
            handled: HashSet::new(),
            unsynced: HashMap::new(),
        }
    }
}

impl FakeTracee {
    pub(crate) fn fd_path(&self, fd: i32) -> Option<String> {
        self.fds.get(&fd).cloned()
    }

    pub(crate) fn unsynced_before(&self, fd: i32, offset: u64, len: u32) -> Option<Vec<u8>> {
        let (at, bytes) = self.unsynced.get(&fd)?;
        let start = offset.checked_sub(*at)? as usize;
        let end = start + len as usize;
        bytes.get(start..end).map(<[u8]>::to_vec)
    }

    pub(crate) fn fd_info(&self, fd: i32) -> Option<FdInfo> {
        self.fd_infos.get(&fd).cloned()
    }

    pub(crate) fn signal_handled(&self, signal: u8) -> bool {
        self.handled.contains(&signal)
    }

    pub(crate) fn resolve_path(&self, dirfd: i32, addr: u64) -> Option<String> {
        let name = self.read_c_string(addr, 4096).ok()?;
        if name.starts_with('/') {
            return Some(name);
        }
        let dir = if dirfd == AT_FDCWD {
            self.cwd.clone()
        } else {
            self.fd_path(dirfd)?
        };
        Some(format!("{}/{name}", dir.trim_end_matches('/')))
    }

    pub(crate) fn mapped_file(&self, addr: u64) -> Option<String> {
        self.mappings
            .iter()
            .find(|(start, len, _)| (*start..start + len).contains(&addr))
            .map(|(_, _, path)| path.clone())
    }

    /// Runs `f` on the bytes at `addr..addr + len`, if one block holds them.
    fn with_bytes<R>(
        &self,
        addr: u64,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, String> {
        let mut memory = self.memory.borrow_mut();
        let block = memory.iter_mut().find_map(|(start, bytes)| {
            let offset = usize::try_from(addr.checked_sub(*start)?).ok()?;
            bytes.get_mut(offset..offset.checked_add(len)?)
        });
        block
            .map(f)
            .ok_or_else(|| format!("no memory at {addr:#x} ({len} bytes)"))
    }

    pub(crate) fn read_memory(&self, addr: u64, len: u32) -> Result<Vec<u8>, String> {
        self.with_bytes(addr, len as usize, |bytes| bytes.to_vec())
    }

    pub(crate) fn write_memory(&self, addr: u64, data: &[u8]) -> Result<(), String> {
        self.with_bytes(addr, data.len(), |bytes| bytes.copy_from_slice(data))
    }

    pub(crate) fn read_c_string(&self, addr: u64, max: u32) -> Result<String, String> {
        let mut text = Vec::new();
        for at in addr..addr + u64::from(max) {
            match self.with_bytes(at, 1, |byte| byte[0])? {
                0 => break,
                byte => text.push(byte),
            }
        }
        Ok(String::from_utf8_lossy(&text).into_owned())
    }
}

thread_local! {
    /// The state of the native stand-in for fi's generator.
    static RANDOM: Cell<u64> = const { Cell::new(0) };
    /// What the native stand-in for fi's clock reads.
    static CLOCK: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Sets what [`monotonic`](crate::monotonic) reads on this test thread (it
/// starts at zero and moves only when a test sets it).
pub fn set_monotonic(time: Duration) {
    CLOCK.set(time);
}

/// What the native stand-in for fi's clock reads.
pub(crate) fn monotonic() -> Duration {
    CLOCK.get()
}

/// Restarts this thread's stand-in for fi's generator: the same seed draws
/// the same numbers from [`random`](crate::random). Each test thread starts
/// from seed 0.
pub fn seed_random(seed: u64) {
    RANDOM.set(seed);
}

/// The next number of the stand-in generator (SplitMix64).
pub(crate) fn next_random() -> u64 {
    let state = RANDOM.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
    RANDOM.set(state);
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
