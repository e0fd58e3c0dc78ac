//! WebAssembly policy plugins: components implementing `fi:policy/plugin`
//! (see `wit/policy.wit`), run by wasmtime as the second implementation of
//! the [`Policy`](crate::policy::Policy) seam.
//!
//! Each `--plugin` occurrence is one long-lived instance with its own store,
//! so a plugin keeps its state across every thread and process of the run.
//! Every session of a process shares one engine, and compiles and links each
//! distinct plugin once (see `shared.rs`).
//! Plugins are sandboxed: no files (unless `--plugin-dir`), no network, no
//! environment, a frozen clock, and random numbers from the run's seed.

mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit",
    });
}

/// The WIT package the bindings above are generated from, as
/// `wit/policy.wit` declares it (`fi:policy@0.1.0`); set by build.rs.
pub const WIT_PACKAGE: &str = env!("FI_WIT_PACKAGE");

pub mod builtins;
mod cache;
pub mod commands;
mod host;
mod instance;
mod loader;
mod notice;
mod policy;
pub mod scaffold;
mod seed;
mod shared;
mod spec;
mod stdio;
mod world;

pub use instance::{Instance, Limits};
pub use loader::Loader;
pub use policy::WasmPolicy;
pub use seed::Seed;
pub use spec::PluginSpec;

/// The versions of the WIT contract (`fi:policy@VERSION`) this build runs
/// plugins for, oldest first; the last is the one `wit/` holds. A plugin
/// built for another version is refused before it is compiled.
pub const SUPPORTED_WIT_VERSIONS: &[&str] = &["0.1.0"];

/// The newest supported WIT version, the one new plugins should target.
pub fn newest_wit_version() -> &'static str {
    SUPPORTED_WIT_VERSIONS[SUPPORTED_WIT_VERSIONS.len() - 1]
}

/// `1 syscall`, `2 syscalls`: a count with its noun in the right number.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
