//! A plugin compiled and instantiated in its own store, and the limits it
//! runs under.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use wasmtime::Store;

use super::contract::{Description, Plugin};
use super::host::PluginState;

/// How often the engine's epoch advances; plugin time limits count in these.
pub(super) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The limits every plugin of a run gets.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Longest time one plugin call may take.
    pub timeout: Duration,
    /// Most bytes of memory per plugin.
    pub memory_bytes: usize,
    /// Directories plugins may read.
    pub dirs: Vec<PathBuf>,
    /// The longest delay a verdict may ask for (`--max-delay`); a longer
    /// one is the plugin's error.
    pub max_delay: Duration,
    /// Show the WebAssembly backtrace of a plugin's trap (`--verbose`).
    pub backtrace: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            timeout: Duration::from_secs(1),
            memory_bytes: 64 << 20,
            dirs: Vec::new(),
            max_delay: super::verdict::DEFAULT_MAX_DELAY,
            backtrace: false,
        }
    }
}

/// A plugin compiled and instantiated, not yet configured.
pub struct Instance {
    /// The plugin as the user named it.
    pub name: String,
    pub(super) store: Store<PluginState>,
    pub(super) plugin: Plugin,
    pub(super) limits: Limits,
}

impl Instance {
    /// What the plugin says about itself.
    pub fn describe(&mut self) -> Result<Description> {
        self.arm_timeout();
        self.plugin
            .fi_policy_policy()
            .call_describe(&mut self.store)
            .map_err(anyhow::Error::from)
            .context("describe failed")
    }

    /// Give the next call into the plugin its full time limit.
    pub(super) fn arm_timeout(&mut self) {
        self.store.set_epoch_deadline(ticks(self.limits.timeout));
    }
}

/// Epoch ticks in `timeout`, at least one.
pub(super) fn ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
}
