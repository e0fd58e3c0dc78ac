//! WebAssembly policy plugins: components implementing `fi:policy/plugin`
//! (see `wit/since-VERSION/policy.wit`), run by wasmtime as the second
//! implementation of the [`Policy`](crate::policy::Policy) seam.
//!
//! Every supported version of the contract has a module of its own
//! (`v0_1.rs` to `v0_5.rs`) with its bindings and, for each older one, an
//! adapter to one internal plugin interface (`plugin.rs`), written against
//! the newest version's types, so the loader and the policy are written
//! once.
//!
//! Each `--plugin` occurrence is one long-lived instance with its own store,
//! so a plugin keeps its state across every thread and process of the run.
//! Every session of a process shares one engine, and compiles and links each
//! distinct plugin once (see `shared.rs`).
//! Plugins are sandboxed: no files (unless `--plugin-dir`), no network, no
//! environment, frozen WASI clocks (0.3.0's explicit `host.monotonic-ns`
//! reads a real one), and random numbers from the run's seed.

/// The calls of an older version's adapter module (`describe`, `init`,
/// `on-enter`, `on-exit`): each converts what it is given from the types of
/// `$next`, the version after it, and what the plugin returns to them. The
/// module's `From` impls do the converting, field by field.
macro_rules! calls_through {
    ($next:ident) => {
        /// Call `describe`.
        pub fn describe(
            plugin: &Plugin,
            store: &mut Store<PluginState>,
        ) -> wasmtime::Result<$next::Description> {
            Ok(plugin.fi_policy_policy().call_describe(store)?.into())
        }

        /// Call `init`.
        pub fn init(
            plugin: &Plugin,
            store: &mut Store<PluginState>,
            config: &[(String, String)],
        ) -> wasmtime::Result<Result<$next::types::Subscription, String>> {
            let subscription = plugin.fi_policy_policy().call_init(store, config)?;
            Ok(subscription.map(Into::into))
        }

        /// Call `on-enter`.
        pub fn on_enter(
            plugin: &Plugin,
            store: &mut Store<PluginState>,
            call: $next::types::Syscall,
        ) -> wasmtime::Result<$next::types::Verdict> {
            let verdict = plugin
                .fi_policy_policy()
                .call_on_enter(store, call.into())?;
            Ok(verdict.into())
        }

        /// Call `on-exit`.
        pub fn on_exit(
            plugin: &Plugin,
            store: &mut Store<PluginState>,
            call: $next::types::Syscall,
            result: i64,
        ) -> wasmtime::Result<$next::types::ExitAction> {
            let action = plugin
                .fi_policy_policy()
                .call_on_exit(store, call.into(), result)?;
            Ok(action.into())
        }
    };
}

pub mod builtins;
mod cache;
mod host;
mod instance;
mod loader;
mod notice;
mod output_cap;
mod plugin;
mod policy;
mod seed;
mod shared;
mod spec;
mod stdio;
mod v0_1;
mod v0_2;
mod v0_3;
mod v0_4;
mod v0_5;
mod verdict;
mod world;

pub use instance::{Instance, Limits};
pub use loader::Loader;
pub use policy::WasmPolicy;
pub use seed::Seed;
pub use spec::PluginSpec;

/// The versions of the WIT contract (`fi:policy@VERSION`, in
/// `wit/since-VERSION/`) this build runs plugins for, oldest first. A plugin
/// built for another version is refused before it is compiled.
pub const WIT_VERSIONS: &[&str] = &["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0"];

/// The newest supported WIT version, the one new plugins should target.
pub fn newest_wit_version() -> &'static str {
    WIT_VERSIONS[WIT_VERSIONS.len() - 1]
}

/// The supported versions as packages: `fi:policy@0.1.0, fi:policy@0.2.0, ...`.
pub fn wit_packages() -> String {
    WIT_VERSIONS
        .iter()
        .map(|version| format!("fi:policy@{version}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1 syscall`, `2 syscalls`: a count with its noun in the right number.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
