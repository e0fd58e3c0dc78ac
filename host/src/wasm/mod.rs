//! WebAssembly policy plugins: components implementing `fi:policy/plugin`
//! (see `wit/policy.wit`), run by wasmtime as the second implementation of
//! the [`Policy`](crate::policy::Policy) seam.
//!
//! Each `--plugin` occurrence is one long-lived instance with its own store,
//! so a plugin keeps its state across every thread and process of the run.
//! Plugins are sandboxed: no files (unless `--plugin-dir`), no network, no
//! environment, a frozen clock, and random numbers from the run's seed.

mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit",
    });
}

pub mod builtins;
mod cache;
pub mod commands;
mod host;
mod loader;
mod policy;
pub mod scaffold;
mod spec;
mod stdio;

pub use loader::{Instance, Loader};
pub use policy::WasmPolicy;
pub use spec::PluginSpec;
