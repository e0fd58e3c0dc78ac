//! Compiling and instantiating plugins: one engine and linker per run, one
//! store and instance per `--plugin` occurrence.

use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

use super::bindings::exports::fi::policy::policy::Description;
use super::bindings::Plugin;
use super::host::{PluginState, Sandbox, SplitMix64};
use super::policy::WasmPolicy;
use super::{builtins, cache, PluginSpec};
use crate::output::Log;
use crate::rules::syscall_set::syscalls_for_list;

/// How often the engine's epoch advances; plugin time limits count in these.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The limits every plugin of a run gets.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Longest time one plugin call may take.
    pub timeout: Duration,
    /// Most bytes of memory per plugin.
    pub memory_bytes: usize,
    /// Directories plugins may read.
    pub dirs: Vec<PathBuf>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            timeout: Duration::from_secs(1),
            memory_bytes: 64 << 20,
            dirs: Vec::new(),
        }
    }
}

/// Loads plugins for one run.
pub struct Loader {
    engine: Engine,
    linker: Linker<PluginState>,
    limits: Limits,
    seeds: SplitMix64,
    log: Log,
}

/// A plugin compiled and instantiated, not yet configured.
pub struct Instance {
    /// The plugin as the user named it.
    pub name: String,
    pub(super) store: Store<PluginState>,
    pub(super) plugin: Plugin,
    pub(super) limits: Limits,
}

impl Loader {
    /// A loader with explicit limits and seed.
    pub fn with_limits(limits: Limits, seed: u64, log: Log) -> Result<Loader> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        Ok(Loader {
            engine,
            linker,
            limits,
            seeds: SplitMix64(seed),
            log,
        })
    }

    /// Compile (or fetch from the cache) and instantiate `source`: a built-in
    /// name or a .wasm/.wat path.
    pub fn open(&mut self, source: &str, is_file: bool) -> Result<Instance> {
        let bytes = if is_file {
            std::fs::read(source).with_context(|| format!("reading {source}"))?
        } else {
            match builtins::find(source) {
                Some(bytes) => bytes.to_vec(),
                None => bail!(
                    "no built-in plugin named '{source}' (built-ins: {}; a file path needs a / or a .wasm/.wat ending)",
                    builtins::names().collect::<Vec<_>>().join(", ")
                ),
            }
        };
        let bytes = text_to_binary(bytes)?;
        check_is_component(&bytes)?;
        let component = cache::load(&self.engine, &bytes).context("not a valid component")?;
        let state = PluginState::new(&Sandbox {
            memory_bytes: self.limits.memory_bytes,
            dirs: &self.limits.dirs,
            seed: self.seeds.next(),
        })?;
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(ticks(self.limits.timeout));
        start_epoch_ticker(&self.engine);
        let plugin = Plugin::instantiate(&mut store, &component, &self.linker)
            .map_err(anyhow::Error::from)
            .context("does not implement the world fi:policy/plugin@0.1.0")?;
        Ok(Instance {
            name: source.to_string(),
            store,
            plugin,
            limits: self.limits.clone(),
        })
    }

    /// Open and configure the plugin `spec` names, ready to decide calls.
    pub fn load(&mut self, spec: &str) -> Result<WasmPolicy> {
        let spec = PluginSpec::parse(spec)?;
        let instance = self.open(&spec.source, spec.is_file())?;
        instance.configure(&spec.config, self.log.clone())
    }
}

impl Instance {
    /// What the plugin says about itself.
    pub fn describe(&mut self) -> Result<Description> {
        self.store.set_epoch_deadline(ticks(self.limits.timeout));
        self.plugin
            .fi_policy_policy()
            .call_describe(&mut self.store)
            .map_err(anyhow::Error::from)
            .context("describe failed")
    }

    /// Call `init` with `config`; the plugin's own error message on refusal.
    pub fn configure(mut self, config: &[(String, String)], log: Log) -> Result<WasmPolicy> {
        self.store.set_epoch_deadline(ticks(self.limits.timeout));
        let subscription = self
            .plugin
            .fi_policy_policy()
            .call_init(&mut self.store, config)
            .map_err(anyhow::Error::from)
            .context("init failed")?
            .map_err(|message| anyhow::anyhow!("{message}"))?;
        let syscalls =
            syscalls_for_list(&subscription.syscalls).context("its subscription is invalid")?;
        Ok(WasmPolicy::new(self, syscalls, log))
    }
}

/// A plugin written in the WebAssembly text format, assembled; binary
/// plugins (and files that are neither, for [`check_is_component`] to name)
/// as they are.
fn text_to_binary(bytes: Vec<u8>) -> Result<Vec<u8>> {
    if bytes.starts_with(b"\0asm") || std::str::from_utf8(&bytes).is_err() {
        return Ok(bytes);
    }
    match wat::parse_bytes(&bytes) {
        Ok(binary) => Ok(binary.into_owned()),
        // Text that does not even begin like WebAssembly is some other file.
        Err(_) if !looks_like_wat(&bytes) => Ok(bytes),
        Err(error) => Err(anyhow::Error::from(error).context("not valid WebAssembly text")),
    }
}

/// Whether text starts (after blanks and comments) with an s-expression.
fn looks_like_wat(text: &[u8]) -> bool {
    let text = String::from_utf8_lossy(text);
    text.lines()
        .map(str::trim_start)
        .find(|line| !line.is_empty() && !line.starts_with(";;"))
        .is_some_and(|line| line.starts_with('(') && !line.starts_with("(;"))
        || text.trim_start().starts_with("(;")
}

/// Recognise a core module (or anything else) before wasmtime does, to say
/// in plain words what the file is.
fn check_is_component(bytes: &[u8]) -> Result<()> {
    const MAGIC: &[u8] = b"\0asm";
    match bytes.get(..8) {
        Some(header) if header.starts_with(MAGIC) && header[4..] == [0x0d, 0x00, 0x01, 0x00] => Ok(()),
        Some(header) if header.starts_with(MAGIC) => bail!(
            "not a component: this is a core WebAssembly module; make it a component with `wasm-tools component new`"
        ),
        _ => bail!("not a component: not a WebAssembly file"),
    }
}

/// Epoch ticks in `timeout`, at least one.
pub(super) fn ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
}

/// Advance the engine's epoch in the background, so a plugin stuck in a loop
/// traps once its call has used up its ticks.
fn start_epoch_ticker(engine: &Engine) {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let engine = engine.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            engine.increment_epoch();
        });
    });
}

/// A seed for a run without `--seed`.
pub fn fresh_seed() -> u64 {
    let mut bytes = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_err()
    {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        bytes = (nanos ^ u64::from(std::process::id())).to_le_bytes();
    }
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_modules_and_other_files_are_named_for_what_they_are() {
        let core = b"\0asm\x01\0\0\0";
        assert!(check_is_component(core)
            .unwrap_err()
            .to_string()
            .contains("core WebAssembly module"));
        assert!(check_is_component(b"ELF....")
            .unwrap_err()
            .to_string()
            .contains("not a WebAssembly file"));
        assert!(check_is_component(b"\0asm\x0d\0\x01\0").is_ok());
        let text = text_to_binary(b" (component)".to_vec()).unwrap();
        assert!(check_is_component(&text).is_ok());
        let core = text_to_binary(b"(module)".to_vec()).unwrap();
        assert!(check_is_component(&core).is_err());
        let commented = text_to_binary(b";; a plugin\n(component)\n".to_vec()).unwrap();
        assert!(check_is_component(&commented).is_ok());
        let notes = text_to_binary(b"hello".to_vec()).unwrap();
        assert!(check_is_component(&notes)
            .unwrap_err()
            .to_string()
            .contains("not a WebAssembly file"));
    }
}
