//! WebAssembly policy plugins: components implementing `fi:policy/plugin`
//! (see `wit/policy.wit`), run by wasmtime as the second implementation of
//! the [`Policy`](crate::policy::Policy) seam.
//!
//! One version of the contract is supported (`contract.rs`, its bindings,
//! used directly by the loader, the policy and the imports in `host.rs`); a
//! component built for another is refused before it is compiled
//! (`world.rs`).
//!
//! Each `--plugin` occurrence is one long-lived instance with its own store,
//! so a plugin keeps its state across every thread and process of the run.
//! Every session of a process shares one engine, and compiles and links each
//! distinct plugin once (see `shared.rs`).
//! Plugins are sandboxed: no files (unless `--plugin-dir`), no network, no
//! environment, frozen WASI clocks (`host.monotonic-ns` reads a real one),
//! and random numbers from the run's seed.

pub mod builtins;
mod cache;
mod contract;
mod host;
mod instance;
mod loader;
mod notice;
mod output_cap;
mod paths;
mod policy;
mod seed;
mod shared;
mod spec;
mod stdio;
mod verdict;
mod world;

pub use instance::{Instance, Limits};
pub use loader::{prepare_plugin, Loader};
pub use policy::WasmPolicy;
pub use seed::Seed;
pub use spec::PluginSpec;

pub use contract::{package as contract_package, VERSION as CONTRACT_VERSION};
