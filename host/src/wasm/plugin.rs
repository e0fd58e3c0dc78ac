//! The one interface the loader and the policy call a plugin through,
//! whichever version of the contract it was built for: the newest version's
//! types, and an enum over each version's bindings whose adapters
//! (`v0_1.rs` to `v0_4.rs`) convert to and from them.

use anyhow::{bail, Result};
use wasmtime::component::Linker;
use wasmtime::Store;

use super::host::PluginState;
pub use super::v0_5::types::{self, ExitAction, Subscription, Syscall, Verdict};
pub use super::v0_5::Description;
use super::{v0_1, v0_2, v0_3, v0_4, v0_5};

/// A plugin compiled and linked against the bindings of its version, ready
/// to be instantiated in any store of the process.
#[derive(Clone)]
pub enum PluginPre {
    /// Built for `fi:policy@0.1.0`.
    V0_1(v0_1::PluginPre<PluginState>),
    /// Built for `fi:policy@0.2.0`.
    V0_2(v0_2::PluginPre<PluginState>),
    /// Built for `fi:policy@0.3.0`.
    V0_3(v0_3::PluginPre<PluginState>),
    /// Built for `fi:policy@0.4.0`.
    V0_4(v0_4::PluginPre<PluginState>),
    /// Built for `fi:policy@0.5.0`.
    V0_5(v0_5::PluginPre<PluginState>),
}

/// An instantiated plugin of either version.
pub enum Plugin {
    /// Built for `fi:policy@0.1.0`.
    V0_1(v0_1::Plugin),
    /// Built for `fi:policy@0.2.0`.
    V0_2(v0_2::Plugin),
    /// Built for `fi:policy@0.3.0`.
    V0_3(v0_3::Plugin),
    /// Built for `fi:policy@0.4.0`.
    V0_4(v0_4::Plugin),
    /// Built for `fi:policy@0.5.0`.
    V0_5(v0_5::Plugin),
}

/// Add the imports of every supported version to `linker`.
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> Result<()> {
    v0_1::add_to_linker(linker)?;
    v0_2::add_to_linker(linker)?;
    v0_3::add_to_linker(linker)?;
    v0_4::add_to_linker(linker)?;
    v0_5::add_to_linker(linker)?;
    Ok(())
}

impl PluginPre {
    /// Link `component`, built for the contract `version` (as
    /// [`world::check`](super::world::check) found it), against that
    /// version's bindings.
    pub fn new(
        linker: &Linker<PluginState>,
        component: &wasmtime::component::Component,
        version: &str,
    ) -> Result<PluginPre> {
        let pre = linker.instantiate_pre(component)?;
        Ok(match version {
            "0.1.0" => PluginPre::V0_1(v0_1::PluginPre::new(pre)?),
            "0.2.0" => PluginPre::V0_2(v0_2::PluginPre::new(pre)?),
            "0.3.0" => PluginPre::V0_3(v0_3::PluginPre::new(pre)?),
            "0.4.0" => PluginPre::V0_4(v0_4::PluginPre::new(pre)?),
            "0.5.0" => PluginPre::V0_5(v0_5::PluginPre::new(pre)?),
            other => bail!("no bindings for fi:policy@{other}"),
        })
    }

    /// The engine the plugin was compiled with.
    pub fn engine(&self) -> &wasmtime::Engine {
        match self {
            PluginPre::V0_1(pre) => pre.engine(),
            PluginPre::V0_2(pre) => pre.engine(),
            PluginPre::V0_3(pre) => pre.engine(),
            PluginPre::V0_4(pre) => pre.engine(),
            PluginPre::V0_5(pre) => pre.engine(),
        }
    }

    /// Instantiate the plugin in `store`.
    pub fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<Plugin> {
        Ok(match self {
            PluginPre::V0_1(pre) => Plugin::V0_1(pre.instantiate(&mut *store)?),
            PluginPre::V0_2(pre) => Plugin::V0_2(pre.instantiate(&mut *store)?),
            PluginPre::V0_3(pre) => Plugin::V0_3(pre.instantiate(&mut *store)?),
            PluginPre::V0_4(pre) => Plugin::V0_4(pre.instantiate(&mut *store)?),
            PluginPre::V0_5(pre) => Plugin::V0_5(pre.instantiate(&mut *store)?),
        })
    }

    /// Where the plugin's compiled code lies in memory.
    #[cfg(test)]
    pub fn code(&self) -> *const u8 {
        match self {
            PluginPre::V0_1(pre) => pre.instance_pre().component().image_range().start,
            PluginPre::V0_2(pre) => pre.instance_pre().component().image_range().start,
            PluginPre::V0_3(pre) => pre.instance_pre().component().image_range().start,
            PluginPre::V0_4(pre) => pre.instance_pre().component().image_range().start,
            PluginPre::V0_5(pre) => pre.instance_pre().component().image_range().start,
        }
    }
}

impl Plugin {
    /// The version of the contract the plugin was built for.
    pub fn version(&self) -> &'static str {
        match self {
            Plugin::V0_1(_) => "0.1.0",
            Plugin::V0_2(_) => "0.2.0",
            Plugin::V0_3(_) => "0.3.0",
            Plugin::V0_4(_) => "0.4.0",
            Plugin::V0_5(_) => "0.5.0",
        }
    }

    /// Call `describe`.
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<Description> {
        match self {
            Plugin::V0_1(plugin) => {
                let old = v0_3::Description::from(v0_1::describe(plugin, store)?);
                Ok(v0_4::Description::from(old).into())
            }
            Plugin::V0_2(plugin) => {
                Ok(v0_4::Description::from(v0_2::describe(plugin, store)?).into())
            }
            Plugin::V0_3(plugin) => Ok(v0_3::describe(plugin, store)?.into()),
            Plugin::V0_4(plugin) => v0_4::describe(plugin, store),
            Plugin::V0_5(plugin) => plugin.fi_policy_policy().call_describe(store),
        }
    }

    /// Call `init`.
    pub fn init(
        &self,
        store: &mut Store<PluginState>,
        config: &[(String, String)],
    ) -> wasmtime::Result<Result<Subscription, String>> {
        match self {
            Plugin::V0_1(plugin) => Ok(v0_1::init(plugin, store, config)?.map(|subscription| {
                let old = v0_3::types::Subscription::from(subscription);
                v0_4::types::Subscription::from(old).into()
            })),
            Plugin::V0_2(plugin) => Ok(v0_2::init(plugin, store, config)?
                .map(|subscription| v0_4::types::Subscription::from(subscription).into())),
            Plugin::V0_3(plugin) => Ok(v0_3::init(plugin, store, config)?.map(Into::into)),
            Plugin::V0_4(plugin) => v0_4::init(plugin, store, config),
            Plugin::V0_5(plugin) => plugin.fi_policy_policy().call_init(store, config),
        }
    }

    /// Call `on-enter`.
    pub fn on_enter(
        &self,
        store: &mut Store<PluginState>,
        call: Syscall,
    ) -> wasmtime::Result<Verdict> {
        match self {
            Plugin::V0_1(plugin) => {
                let call = v0_3::types::Syscall::from(v0_4::types::Syscall::from(call)).into();
                let verdict = v0_3::types::Verdict::from(v0_1::on_enter(plugin, store, call)?);
                Ok(v0_4::types::Verdict::from(verdict).into())
            }
            Plugin::V0_2(plugin) => {
                let call = v0_4::types::Syscall::from(call).into();
                Ok(v0_4::types::Verdict::from(v0_2::on_enter(plugin, store, call)?).into())
            }
            Plugin::V0_3(plugin) => Ok(v0_3::on_enter(plugin, store, call.into())?.into()),
            Plugin::V0_4(plugin) => v0_4::on_enter(plugin, store, call),
            Plugin::V0_5(plugin) => plugin.fi_policy_policy().call_on_enter(store, call),
        }
    }

    /// Call `on-exit`.
    pub fn on_exit(
        &self,
        store: &mut Store<PluginState>,
        call: Syscall,
        result: i64,
    ) -> wasmtime::Result<ExitAction> {
        match self {
            Plugin::V0_1(plugin) => {
                let call = v0_3::types::Syscall::from(v0_4::types::Syscall::from(call)).into();
                let action =
                    v0_3::types::ExitAction::from(v0_1::on_exit(plugin, store, call, result)?);
                Ok(v0_4::types::ExitAction::from(action).into())
            }
            Plugin::V0_2(plugin) => {
                let call = v0_4::types::Syscall::from(call).into();
                let action = v0_2::on_exit(plugin, store, call, result)?;
                Ok(v0_4::types::ExitAction::from(action).into())
            }
            Plugin::V0_3(plugin) => Ok(v0_3::on_exit(plugin, store, call.into(), result)?.into()),
            Plugin::V0_4(plugin) => v0_4::on_exit(plugin, store, call, result),
            Plugin::V0_5(plugin) => plugin.fi_policy_policy().call_on_exit(store, call, result),
        }
    }

    /// Call `thread-exited` (a 0.1.0 plugin has no such export: nothing).
    pub fn thread_exited(&self, store: &mut Store<PluginState>, tid: i32) -> wasmtime::Result<()> {
        match self {
            Plugin::V0_1(_) => Ok(()),
            Plugin::V0_2(plugin) => plugin.fi_policy_policy().call_thread_exited(store, tid),
            Plugin::V0_3(plugin) => plugin.fi_policy_policy().call_thread_exited(store, tid),
            Plugin::V0_4(plugin) => plugin.fi_policy_policy().call_thread_exited(store, tid),
            Plugin::V0_5(plugin) => plugin.fi_policy_policy().call_thread_exited(store, tid),
        }
    }

    /// Call `finish`.
    pub fn finish(&self, store: &mut Store<PluginState>) -> wasmtime::Result<()> {
        match self {
            Plugin::V0_1(plugin) => plugin.fi_policy_policy().call_finish(store),
            Plugin::V0_2(plugin) => plugin.fi_policy_policy().call_finish(store),
            Plugin::V0_3(plugin) => plugin.fi_policy_policy().call_finish(store),
            Plugin::V0_4(plugin) => plugin.fi_policy_policy().call_finish(store),
            Plugin::V0_5(plugin) => plugin.fi_policy_policy().call_finish(store),
        }
    }
}
