//! What fi gives a plugin: the `tracee` and `host` imports of the WIT world,
//! plus a sandboxed WASI context.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use super::contract::{host, setup, tracee, types, Plugin};
use super::output_cap;
use super::stdio::Captured;
use syscalls::Sysno;

use crate::crash::UnsyncedWrites;
use crate::model::Call;
use crate::output::count;
use crate::rng::SplitMix64;
use crate::rules::parse::errno_by_name;
use crate::tracee::{FdKind, Tracee};

/// The most bytes one `read-memory` may ask for.
const MAX_READ: u32 = 1 << 20;

/// Everything a plugin's store holds.
pub struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The memory limit.
    pub limits: StoreLimits,
    /// The call being decided; the `tracee` imports work only while it is set.
    pub current: Option<(Call, Tracee)>,
    /// Lines from `host.log`, waiting to go to fi's log (at most
    /// [`output_cap::LINES`] at once).
    pub messages: Vec<String>,
    /// Lines from `host.log` dropped for want of room, and their bytes.
    pub dropped_messages: (u64, u64),
    /// The plugin's stdout and stderr.
    pub output: Captured,
    /// Set by a successful `write-memory`; cleared by the caller before
    /// each call into the plugin.
    pub wrote_memory: bool,
    /// Set while `init` runs: `host.keep-unsynced` works only then.
    pub initializing: bool,
    /// Set when the plugin called `host.keep-unsynced`.
    pub asked_unsynced: bool,
    /// What the unsynced writes to the plugin's files overwrote, once the
    /// loader made it for a plugin that asked.
    pub unsynced: Option<UnsyncedWrites>,
    rng: SplitMix64,
    /// Set at the first random number the plugin draws, through WASI or
    /// `host.random` (WASI's generators run on other threads, hence atomic).
    drew: Arc<AtomicBool>,
    clock: ProgramClock,
}

/// The clock `host.monotonic-ns` reads, shared by the plugins of a run:
/// its zero is set when they have all been loaded, just before the traced
/// program starts.
#[derive(Clone, Debug)]
pub struct ProgramClock(Arc<Mutex<Instant>>);

impl ProgramClock {
    /// A clock whose zero is now.
    pub fn started_now() -> ProgramClock {
        ProgramClock(Arc::new(Mutex::new(Instant::now())))
    }

    /// Set the zero to now.
    pub fn restart(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    /// The time since the zero.
    pub fn elapsed(&self) -> Duration {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
    }
}

/// How a plugin is sandboxed.
pub struct Sandbox<'a> {
    /// Most bytes of linear memory.
    pub memory_bytes: usize,
    /// Directories the plugin may read, mounted at the same path.
    pub dirs: &'a [std::path::PathBuf],
    /// Seed of the plugin's random numbers (WASI random and `host.random`).
    pub seed: u64,
    /// The clock of `host.monotonic-ns`.
    pub clock: &'a ProgramClock,
}

impl PluginState {
    /// A fresh state: no files but the granted dirs, no network, no
    /// environment, a clock frozen at zero, seeded randomness.
    pub fn new(sandbox: &Sandbox) -> anyhow::Result<PluginState> {
        let output = Captured::default();
        let drew = Arc::new(AtomicBool::new(false));
        let mut wasi = WasiCtx::builder();
        // The insecure seed (hash map keys) is a fixed value given to the
        // plugin, not a draw that can be noticed: it does not count.
        wasi.stdout(output.clone())
            .stderr(output.clone())
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .secure_random(Noticed::new(sandbox.seed ^ 0x5eed, &drew))
            .insecure_random(Noticed::new(sandbox.seed ^ 0xfeed, &drew))
            .insecure_random_seed(u128::from(sandbox.seed));
        for dir in sandbox.dirs {
            let guest = dir.to_string_lossy();
            wasi.preopened_dir(dir, &guest, FsPerms::ReadOnly)
                .map_err(|e| anyhow::anyhow!("--plugin-dir {}: {e}", dir.display()))?;
        }
        Ok(PluginState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(sandbox.memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
            current: None,
            messages: Vec::new(),
            dropped_messages: (0, 0),
            output,
            wrote_memory: false,
            initializing: false,
            asked_unsynced: false,
            unsynced: None,
            rng: SplitMix64(sandbox.seed),
            drew,
            clock: sandbox.clock.clone(),
        })
    }

    /// Whether the plugin has drawn a random number so far.
    pub fn drew_random(&self) -> bool {
        self.drew.load(Ordering::Relaxed)
    }

    fn tracee(&self) -> Result<(Call, Tracee), String> {
        self.current.ok_or_else(|| {
            "no call is being decided: tracee access works only in on-enter and on-exit".into()
        })
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for PluginState {}

impl setup::Host for PluginState {}

impl tracee::Host for PluginState {
    fn read_memory(&mut self, addr: u64, len: u32) -> Result<Vec<u8>, String> {
        if len > MAX_READ {
            return Err(format!(
                "read of {len} bytes is over the limit of {MAX_READ}"
            ));
        }
        let (_, tracee) = self.tracee()?;
        tracee
            .read_memory(addr, len as usize)
            .map_err(|e| format!("reading {} at {addr:#x}: {e}", count(len as usize, "byte")))
    }

    fn write_memory(&mut self, addr: u64, data: Vec<u8>) -> Result<(), String> {
        let (_, tracee) = self.tracee()?;
        tracee
            .write_memory(addr, &data)
            .map_err(|e| format!("writing {} at {addr:#x}: {e}", count(data.len(), "byte")))?;
        self.wrote_memory = true;
        Ok(())
    }

    fn read_c_string(&mut self, addr: u64, max: u32) -> Result<String, String> {
        let (_, tracee) = self.tracee()?;
        let bytes = tracee
            .read_c_string(addr, max.min(MAX_READ) as usize)
            .map_err(|e| format!("reading a string at {addr:#x}: {e}"))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn fd_path(&mut self, fd: i32) -> Option<String> {
        let (_, tracee) = self.tracee().ok()?;
        tracee.fd_path(fd).map(|p| p.to_string_lossy().into_owned())
    }

    fn resolve_path(&mut self, dirfd: i32, addr: u64) -> Option<String> {
        let (_, tracee) = self.tracee().ok()?;
        tracee
            .resolve_path(dirfd, addr)
            .map(|p| p.to_string_lossy().into_owned())
    }

    fn call_paths(&mut self) -> Vec<String> {
        let Ok((call, tracee)) = self.tracee() else {
            return Vec::new();
        };
        tracee
            .call_paths(&call)
            .into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    }

    fn mapped_file(&mut self, addr: u64) -> Option<String> {
        let (_, tracee) = self.tracee().ok()?;
        tracee
            .mapped_file(addr)
            .map(|p| p.to_string_lossy().into_owned())
    }

    fn fd_info(&mut self, fd: i32) -> Option<tracee::OpenFile> {
        let (_, tracee) = self.tracee().ok()?;
        let info = tracee.fd_info(fd)?;
        Some(tracee::OpenFile {
            kind: match info.kind {
                FdKind::Regular => tracee::FileKind::Regular,
                FdKind::Directory => tracee::FileKind::Directory,
                FdKind::Pipe => tracee::FileKind::Pipe,
                FdKind::Socket => tracee::FileKind::Socket,
                FdKind::CharacterDevice => tracee::FileKind::CharacterDevice,
                FdKind::BlockDevice => tracee::FileKind::BlockDevice,
                FdKind::Anonymous => tracee::FileKind::Anonymous,
                FdKind::Other => tracee::FileKind::Other,
            },
            path: info.path,
            nonblocking: info.nonblocking,
            append: info.append,
            size: info.size,
            position: info.position,
        })
    }

    fn signal_handled(&mut self, signal: u8) -> bool {
        self.tracee()
            .is_ok_and(|(_, tracee)| tracee.signal_handled(signal))
    }

    fn unsynced_before(&mut self, fd: i32, offset: u64, len: u32) -> Option<Vec<u8>> {
        if len > MAX_READ {
            return None;
        }
        let (_, tracee) = self.tracee().ok()?;
        self.unsynced
            .as_ref()?
            .before(&tracee, fd, offset, u64::from(len))
    }
}

impl host::Host for PluginState {
    fn random(&mut self) -> u64 {
        self.drew.store(true, Ordering::Relaxed);
        self.rng.next()
    }

    fn log(&mut self, message: String) {
        if self.messages.len() < output_cap::LINES as usize {
            self.messages.push(message);
        } else {
            self.dropped_messages.0 += 1;
            self.dropped_messages.1 += message.len() as u64 + 1;
        }
    }

    fn monotonic_ns(&mut self) -> u64 {
        self.clock.elapsed().as_nanos() as u64
    }

    fn syscall_number(&mut self, name: String) -> Option<u32> {
        name.parse::<Sysno>().ok().map(|sysno| sysno.id() as u32)
    }

    fn syscall_name(&mut self, nr: u32) -> Option<String> {
        Sysno::new(nr as usize).map(|sysno| sysno.name().to_string())
    }

    fn errno_number(&mut self, name: String) -> Option<u16> {
        errno_by_name(&name).and_then(|errno| u16::try_from(errno.into_raw()).ok())
    }

    fn keep_unsynced(&mut self) -> Result<(), String> {
        if !self.initializing {
            return Err("keep-unsynced works only in init, before the program starts".into());
        }
        self.asked_unsynced = true;
        Ok(())
    }
}

/// A clock that always reads zero: plugins decide from what the program
/// does, not from when, so a run replays the same with the same seed.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// A WASI generator that notes that it was drawn from.
struct Noticed {
    rng: SplitMix64,
    drew: Arc<AtomicBool>,
}

impl Noticed {
    fn new(seed: u64, drew: &Arc<AtomicBool>) -> Noticed {
        Noticed {
            rng: SplitMix64(seed),
            drew: drew.clone(),
        }
    }

    fn draw(&mut self) -> &mut SplitMix64 {
        self.drew.store(true, Ordering::Relaxed);
        &mut self.rng
    }
}

impl rand::TryRng for Noticed {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        self.draw().try_next_u32()
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.draw().try_next_u64()
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.draw().try_fill_bytes(dst)
    }
}

/// Add the contract's imports, served by [`PluginState`], to `linker`.
pub(super) fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    Plugin::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
}
