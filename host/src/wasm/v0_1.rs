//! Bindings of `fi:policy@0.1.0` (`wit/since-0.1.0`), and the adapter that
//! runs a plugin built for it through the internal interface (see
//! `plugin.rs`): its imports call the 0.2.0 ones, its verdicts and
//! subscriptions are converted to the 0.2.0 types, which `v0_2.rs` converts
//! on to the newest. Such a plugin subscribes to every call's
//! result (0.1.0 has no way to say it needs less) and is not told of ended
//! threads (0.1.0 has no `thread-exited`).

use wasmtime::component::{HasSelf, Linker};
use wasmtime::Store;

use super::host::PluginState;
use super::v0_2;

mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit/since-0.1.0",
    });
}

use bindings::fi::policy::{host, tracee, types};
pub use bindings::{Plugin, PluginPre};

/// Add this version's imports to `linker`.
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    Plugin::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
}

/// Call `describe`.
pub fn describe(
    plugin: &Plugin,
    store: &mut Store<PluginState>,
) -> wasmtime::Result<v0_2::Description> {
    let description = plugin.fi_policy_policy().call_describe(store)?;
    Ok(v0_2::Description {
        name: description.name,
        summary: description.summary,
        config: description
            .config
            .into_iter()
            .map(|key| v0_2::types::ConfigKey {
                name: key.name,
                help: key.help,
            })
            .collect(),
    })
}

/// Call `init`; the plugin wants the results of every call it subscribes to.
pub fn init(
    plugin: &Plugin,
    store: &mut Store<PluginState>,
    config: &[(String, String)],
) -> wasmtime::Result<Result<v0_2::types::Subscription, String>> {
    let subscription = plugin.fi_policy_policy().call_init(store, config)?;
    Ok(subscription.map(|subscription| v0_2::types::Subscription {
        results: subscription.syscalls.clone(),
        syscalls: subscription.syscalls,
    }))
}

/// Call `on-enter`; a signal of 0 is none.
pub fn on_enter(
    plugin: &Plugin,
    store: &mut Store<PluginState>,
    call: v0_2::types::Syscall,
) -> wasmtime::Result<v0_2::types::Verdict> {
    let verdict = plugin
        .fi_policy_policy()
        .call_on_enter(store, syscall(call))?;
    let action = match verdict.action {
        types::Action::Pass => v0_2::types::Action::Pass,
        types::Action::Fail(errno) => v0_2::types::Action::Fail(errno),
        types::Action::Return(value) => v0_2::types::Action::Return(value),
        types::Action::Rewrite(changes) => v0_2::types::Action::Rewrite(
            changes
                .into_iter()
                .map(|change| v0_2::types::ArgChange {
                    index: change.index,
                    value: change.value,
                })
                .collect(),
        ),
    };
    Ok(v0_2::types::Verdict {
        action,
        delay_enter_ns: verdict.delay_enter_ns,
        delay_exit_ns: verdict.delay_exit_ns,
        signal: (verdict.signal != 0).then_some(verdict.signal),
        want_exit: verdict.want_exit,
        log_call: false,
    })
}

/// Call `on-exit`.
pub fn on_exit(
    plugin: &Plugin,
    store: &mut Store<PluginState>,
    call: v0_2::types::Syscall,
    result: i64,
) -> wasmtime::Result<v0_2::types::ExitAction> {
    let action = plugin
        .fi_policy_policy()
        .call_on_exit(store, syscall(call), result)?;
    Ok(match action {
        types::ExitAction::Keep => v0_2::types::ExitAction::Keep,
        types::ExitAction::Fail(errno) => v0_2::types::ExitAction::Fail(errno),
        types::ExitAction::Return(value) => v0_2::types::ExitAction::Return(value),
    })
}

fn syscall(call: v0_2::types::Syscall) -> types::Syscall {
    types::Syscall {
        nr: call.nr,
        args: call.args,
        pid: call.pid,
        tid: call.tid,
    }
}

impl types::Host for PluginState {}

impl tracee::Host for PluginState {
    fn read_memory(&mut self, addr: u64, len: u32) -> Result<Vec<u8>, String> {
        v0_2::tracee::Host::read_memory(self, addr, len)
    }

    fn write_memory(&mut self, addr: u64, data: Vec<u8>) -> Result<(), String> {
        v0_2::tracee::Host::write_memory(self, addr, data)
    }

    fn read_c_string(&mut self, addr: u64, max: u32) -> Result<String, String> {
        v0_2::tracee::Host::read_c_string(self, addr, max)
    }

    fn fd_path(&mut self, fd: i32) -> Option<String> {
        v0_2::tracee::Host::fd_path(self, fd)
    }

    fn resolve_path(&mut self, dirfd: i32, addr: u64) -> Option<String> {
        v0_2::tracee::Host::resolve_path(self, dirfd, addr)
    }

    fn call_paths(&mut self) -> Vec<String> {
        v0_2::tracee::Host::call_paths(self)
    }

    fn mapped_file(&mut self, addr: u64) -> Option<String> {
        v0_2::tracee::Host::mapped_file(self, addr)
    }
}

impl host::Host for PluginState {
    fn random(&mut self) -> u64 {
        v0_2::host::Host::random(self)
    }

    fn log(&mut self, message: String) {
        v0_2::host::Host::log(self, message)
    }
}
