//! Loading plugins for one run: each `--plugin` occurrence gets a store and
//! instance of its own, made from the plugin the process has prepared once
//! (see [`shared`](super::shared)).

use std::io::ErrorKind;
use std::rc::Rc;

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::Store;

use super::builtins::{self, Builtin};
use super::contract::PluginPre;
use super::host::{PluginState, ProgramClock, Sandbox};
use super::instance::{ticks, Instance, Limits};
use super::paths::PathGlobs;
use super::policy::{Declared, WasmPolicy};
use super::seed::{Seed, SeedReport};
use super::{shared, world, PluginSpec};
use crate::crash::UnsyncedWrites;
use crate::output::Log;
use crate::policy::FdPaths;
use crate::rng::SplitMix64;
use crate::rules::syscall_set::syscalls_for_list;
use fi_grammar::DidYouMean;

/// Loads plugins for one run.
pub struct Loader {
    limits: Limits,
    seeds: SplitMix64,
    seed_report: Rc<SeedReport>,
    log: Log,
    clock: ProgramClock,
}

impl Loader {
    /// A loader giving every plugin `limits` and a generator seeded from
    /// `seed`; plugins log to `log`, and the seed is named there once the
    /// run ends if a plugin drew a random number. Fails only if the
    /// process's WebAssembly engine cannot be started.
    pub fn new(limits: Limits, seed: Seed, log: Log) -> Result<Loader> {
        shared::engine()?;
        Ok(Loader {
            limits,
            seeds: SplitMix64(seed.value),
            seed_report: Rc::new(SeedReport::new(seed, log.clone())),
            log,
            clock: ProgramClock::started_now(),
        })
    }

    /// Check `source` (a built-in name or a .wasm/.wat path) was built for
    /// the contract this build runs, prepare it (the first time in the
    /// process: compile or fetch from the cache, and link) and instantiate
    /// it in a store of its own.
    pub fn open(&mut self, source: &str, is_file: bool) -> Result<Instance> {
        let prepared = prepare(source, is_file)?;
        let state = PluginState::new(&Sandbox {
            memory_bytes: self.limits.memory_bytes,
            dirs: &self.limits.dirs,
            seed: self.seeds.next(),
            clock: &self.clock,
        })?;
        let mut store = Store::new(prepared.engine(), state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(ticks(self.limits.timeout));
        let plugin = prepared
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .context("instantiating failed")?;
        Ok(Instance {
            name: source.to_string(),
            store,
            plugin,
            limits: self.limits.clone(),
        })
    }

    /// Call `init` with `config`: the plugin, configured and subscribed
    /// (to its `syscalls`, with its promises read: `entry-only`,
    /// `passes-untouched` and `paths`), or the plugin's own error message
    /// on refusal. The plugins' clock (`host.monotonic-ns`) starts afresh
    /// once it is configured, so that it counts from the last plugin
    /// loaded, just before the program runs.
    pub fn configure(
        &self,
        mut instance: Instance,
        config: &[(String, String)],
    ) -> Result<WasmPolicy> {
        instance.arm_timeout();
        instance.store.data_mut().initializing = true;
        let subscription = instance
            .plugin
            .fi_policy_policy()
            .call_init(&mut instance.store, config);
        instance.store.data_mut().initializing = false;
        let subscription = subscription
            .map_err(anyhow::Error::from)
            .context("init failed")?
            .map_err(|message| anyhow!("{}", super::verdict::cut(&message)))?;
        let field = |list: &[String], name: &str| {
            syscalls_for_list(list)
                .with_context(|| format!("its subscription's {name} are invalid"))
        };
        let syscalls = syscalls_for_list(&subscription.syscalls)
            .context("its subscription's syscalls are invalid")?;
        let entry_only = field(&subscription.entry_only, "entry-only")?.intersection(&syscalls);
        let passes_untouched =
            field(&subscription.passes_untouched, "passes-untouched")?.intersection(&entry_only);
        let paths =
            PathGlobs::new(&subscription.paths).context("its subscription's paths are invalid")?;
        if instance.store.data().asked_unsynced {
            let files = paths.clone();
            let unsynced = UnsyncedWrites::new(move |path| {
                files.as_ref().is_none_or(|globs| globs.holds(path))
            })
            .context("keeping the bytes unsynced writes overwrite")?;
            instance.store.data_mut().unsynced = Some(unsynced);
        }
        self.clock.restart();
        let declared = Declared {
            subscription: syscalls,
            entry_only,
            passes_untouched,
            paths,
        };
        Ok(WasmPolicy::new(
            instance,
            declared,
            self.log.clone(),
            self.seed_report.clone(),
        ))
    }

    /// Open and configure the plugin `spec` names, ready to decide calls.
    pub fn load(&mut self, spec: &str) -> Result<WasmPolicy> {
        let spec = PluginSpec::parse(spec)?;
        let instance = self.open(&spec.source, spec.is_file())?;
        self.configure(instance, &spec.config)
    }
}

/// Prepare the plugin of `spec` for every session of the process (compile
/// or fetch from the cache, and link), ahead of the first that loads it.
pub fn prepare_plugin(spec: &str) -> Result<()> {
    let spec = PluginSpec::parse(spec)?;
    prepare(&spec.source, spec.is_file()).map(drop)
}

/// The plugin `source` (a built-in name or a .wasm/.wat path), checked to
/// be built for this build's contract, and prepared once per process. A
/// built-in was built from this tree for this contract (see its tests), and
/// is named by the digest taken when it was built.
fn prepare(source: &str, is_file: bool) -> Result<PluginPre<PluginState>> {
    if !is_file {
        let builtin = find_builtin(source)?;
        return shared::prepare(builtin.bytes, &builtin.digest, source);
    }
    let bytes = text_to_binary(read_file(source)?)?;
    check_is_component(&bytes)?;
    world::check(&bytes)?;
    shared::prepare(&bytes, &Sha256::digest(&bytes).into(), source)
}

/// The built-in `source` names, or an error naming the nearest one.
fn find_builtin(source: &str) -> Result<&'static Builtin> {
    if let Some(builtin) = builtins::find(source) {
        return Ok(builtin);
    }
    match DidYouMean::among(source, builtins::names()).name() {
        Some(name) => bail!("no built-in plugin named '{source}' (did you mean '{name}'?)"),
        None => bail!(
            "no built-in plugin named '{source}' (built-ins: {}; a file path needs a / or a .wasm/.wat ending)",
            builtins::names().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The bytes of the plugin file `source`; a missing file whose name is a
/// built-in's is named as such.
fn read_file(source: &str) -> Result<Vec<u8>> {
    std::fs::read(source).or_else(|error| match builtins::meant_by_file(source) {
        Some(builtin) if error.kind() == ErrorKind::NotFound => {
            bail!("no file {source}; the built-in is {builtin}")
        }
        _ => Err(anyhow::Error::from(error).context(format!("reading {source}"))),
    })
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
            "not a component: this is a core WebAssembly module, and plugins are components. \
             Build it for wasm32-wasip2 (`cargo build --target wasm32-wasip2`), or wrap it with \
             `wasm-tools component new MODULE.wasm --adapt wasi_snapshot_preview1.reactor.wasm -o PLUGIN.wasm` \
             (the preview1 adapter, published with every wasmtime release: \
             https://github.com/bytecodealliance/wasmtime/releases)"
        ),
        _ => bail!("not a component: not a WebAssembly file"),
    }
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
