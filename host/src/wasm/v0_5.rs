//! Bindings of `fi:policy@0.5.0` (`wit/since-0.5.0`), the newest version:
//! its types are the internal plugin interface's (see `plugin.rs`), and
//! `host.rs` implements its imports.

use wasmtime::component::{HasSelf, Linker};

use super::host::PluginState;

mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit/since-0.5.0",
    });
}

pub use bindings::exports::fi::policy::policy::Description;
pub use bindings::fi::policy::{host, tracee, types};
pub use bindings::{Plugin, PluginPre};

/// Add this version's imports to `linker`.
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    Plugin::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
}
