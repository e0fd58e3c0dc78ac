//! Bindings of the one contract this build runs, `fi:policy@VERSION`
//! (`wit/policy.wit`): the loader, the policy and `host.rs` (its imports)
//! use its types directly.
//!
//! Until fault's first release the contract is edited in place, and a
//! component built for an earlier version is refused (see `world.rs`).
//! After it, a released version gets a module of its own beside this one,
//! converting straight to this newest one and reusing its unchanged
//! interfaces through bindgen's `with:` (docs/writing-plugins.md, "Versions
//! of the contract").

mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit",
    });
}

pub use bindings::exports::fi::policy::policy::Description;
pub use bindings::fi::policy::{host, setup, tracee, types};
pub use bindings::{Plugin, PluginPre};

/// The version of the contract (`fi:policy@VERSION`) this build runs.
pub const VERSION: &str = "0.6.0";

/// The contract this build runs plugins for, as a package:
/// `fi:policy@0.6.0`.
pub fn package() -> String {
    format!("fi:policy@{VERSION}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_is_that_of_the_wit_package() {
        let wit = include_str!("../../../wit/policy.wit");
        let package = wit
            .lines()
            .find_map(|line| line.strip_prefix("package fi:policy@"))
            .unwrap();
        assert_eq!(package, format!("{};", super::VERSION));
    }
}
