//! What every session of the process shares: one wasmtime engine, with the
//! one thread that advances its epoch (so every plugin's time limit holds,
//! in whichever session it runs), one linker, and every distinct plugin
//! compiled and linked once (a `PluginPre`), so that a second session
//! loading the same plugin only instantiates it in a store of its own.
//!
//! Prepared plugins are named by the SHA-256 of their bytes and kept for the
//! life of the process: one that loads many different plugins holds each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use anyhow::{anyhow, Context, Result};
use wasmtime::component::Linker;
use wasmtime::{Config, Engine};

use super::cache;
use super::contract::{self, PluginPre};
use super::host::{self, PluginState};
use super::instance::EPOCH_TICK;

/// The engine and linker of the process.
struct Shared {
    engine: Engine,
    linker: Linker<PluginState>,
}

/// A plugin's bytes as the process knows them: their SHA-256.
pub type Key = [u8; 32];

/// One plugin's place in the process: empty until it is prepared. Locked
/// while it is prepared, so sessions asking for the same plugin at once
/// wait for one compile, while other plugins compile meanwhile.
type Slot = Arc<Mutex<Option<PluginPre<PluginState>>>>;

/// The engine every plugin store of the process is made with; made (and its
/// epoch ticker started) on the first call.
pub fn engine() -> Result<&'static Engine> {
    shared().map(|shared| &shared.engine)
}

/// The plugin whose bytes are `bytes`, of SHA-256 `key` (named `name` in
/// messages), compiled (or read from the disk cache) and linked against the
/// contract's bindings on the first call of the process, and the same again
/// on every later call.
pub fn prepare(bytes: &[u8], key: &Key, name: &str) -> Result<PluginPre<PluginState>> {
    static PREPARED: OnceLock<Mutex<HashMap<Key, Slot>>> = OnceLock::new();
    let shared = shared()?;
    let slot = PREPARED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(*key)
        .or_default()
        .clone();
    let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(prepared) = &*slot {
        return Ok(prepared.clone());
    }
    let component =
        cache::load(&shared.engine, bytes, key, name).context("not a valid component")?;
    let prepared = shared
        .linker
        .instantiate_pre(&component)
        .and_then(PluginPre::new)
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!(
                "does not implement the world {}/plugin of this build (an earlier draft of \
                 it?); rebuild it against this build's contract: {}",
                contract::package(),
                super::world::REBUILD
            )
        })?;
    *slot = Some(prepared.clone());
    Ok(prepared)
}

fn shared() -> Result<&'static Shared> {
    static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| Shared::new().map_err(|error| format!("{error:#}")))
        .as_ref()
        .map_err(|error| anyhow!("starting the WebAssembly engine: {error}"))
}

impl Shared {
    fn new() -> Result<Shared> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        host::add_to_linker(&mut linker)?;
        start_epoch_ticker(&engine)?;
        Ok(Shared { engine, linker })
    }
}

/// Advance the engine's epoch in the background for the life of the
/// process, so a plugin stuck in a loop traps once its call has used up its
/// ticks.
fn start_epoch_ticker(engine: &Engine) -> Result<()> {
    let engine = engine.clone();
    std::thread::Builder::new()
        .name("fi-plugin-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            engine.increment_epoch();
        })
        .context("starting the plugin clock thread")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasm::builtins;

    /// Where a prepared plugin's compiled code lies in memory: a plugin
    /// compiled (or read from the disk cache) again would lie elsewhere.
    fn code_of(prepared: &PluginPre<PluginState>) -> *const u8 {
        prepared.instance_pre().component().image_range().start
    }

    #[test]
    fn a_plugin_is_compiled_once_per_process_and_shared_across_threads() {
        let path_errno = builtins::find("path-errno").unwrap();
        let prepare_path_errno = || prepare(path_errno.bytes, &path_errno.digest, "path-errno");
        let first = prepare_path_errno().unwrap();
        let others: Vec<usize> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| code_of(&prepare_path_errno().unwrap()) as usize))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(others.iter().all(|&code| code == code_of(&first) as usize));
        let fsync_fail = builtins::find("fsync-fail").unwrap();
        let other = prepare(fsync_fail.bytes, &fsync_fail.digest, "fsync-fail").unwrap();
        assert_ne!(code_of(&other), code_of(&first), "another plugin");
        assert!(Engine::same(first.engine(), engine().unwrap()));
    }
}
