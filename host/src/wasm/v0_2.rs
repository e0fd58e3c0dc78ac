//! Bindings of `fi:policy@0.2.0` (`wit/since-0.2.0`), and the adapter that
//! runs a plugin built for it through the internal interface (the 0.3.0
//! types, see `plugin.rs`): its imports call the 0.3.0 ones, and its types
//! convert to and from 0.3.0's, which has the same records. A 0.2.0 plugin
//! cannot ask for `fd-info`, `signal-handled` or `monotonic-ns`.
//!
//! The 0.1.0 adapter (`v0_1.rs`) converts to this version's types, which
//! convert on to the newest here.

use wasmtime::component::{HasSelf, Linker};
use wasmtime::Store;

use super::host::PluginState;
use super::v0_3;

mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit/since-0.2.0",
    });
}

pub use bindings::exports::fi::policy::policy::Description;
pub use bindings::fi::policy::{host, tracee, types};
pub use bindings::{Plugin, PluginPre};

/// Add this version's imports to `linker`.
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    Plugin::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
}

calls_through!(v0_3);

impl From<v0_3::types::Syscall> for types::Syscall {
    fn from(call: v0_3::types::Syscall) -> types::Syscall {
        types::Syscall {
            nr: call.nr,
            args: call.args,
            pid: call.pid,
            tid: call.tid,
        }
    }
}

impl From<Description> for v0_3::Description {
    fn from(description: Description) -> v0_3::Description {
        v0_3::Description {
            name: description.name,
            summary: description.summary,
            config: description
                .config
                .into_iter()
                .map(|key| v0_3::types::ConfigKey {
                    name: key.name,
                    help: key.help,
                })
                .collect(),
        }
    }
}

impl From<types::Subscription> for v0_3::types::Subscription {
    fn from(subscription: types::Subscription) -> v0_3::types::Subscription {
        v0_3::types::Subscription {
            syscalls: subscription.syscalls,
            results: subscription.results,
        }
    }
}

impl From<types::Verdict> for v0_3::types::Verdict {
    fn from(verdict: types::Verdict) -> v0_3::types::Verdict {
        let action = match verdict.action {
            types::Action::Pass => v0_3::types::Action::Pass,
            types::Action::Fail(errno) => v0_3::types::Action::Fail(errno),
            types::Action::Return(value) => v0_3::types::Action::Return(value),
            types::Action::Rewrite(changes) => v0_3::types::Action::Rewrite(
                changes
                    .into_iter()
                    .map(|change| v0_3::types::ArgChange {
                        index: change.index,
                        value: change.value,
                    })
                    .collect(),
            ),
        };
        v0_3::types::Verdict {
            action,
            delay_enter_ns: verdict.delay_enter_ns,
            delay_exit_ns: verdict.delay_exit_ns,
            signal: verdict.signal,
            want_exit: verdict.want_exit,
            log_call: verdict.log_call,
        }
    }
}

impl From<types::ExitAction> for v0_3::types::ExitAction {
    fn from(action: types::ExitAction) -> v0_3::types::ExitAction {
        match action {
            types::ExitAction::Keep => v0_3::types::ExitAction::Keep,
            types::ExitAction::Fail(errno) => v0_3::types::ExitAction::Fail(errno),
            types::ExitAction::Return(value) => v0_3::types::ExitAction::Return(value),
        }
    }
}

impl types::Host for PluginState {}

impl tracee::Host for PluginState {
    fn read_memory(&mut self, addr: u64, len: u32) -> Result<Vec<u8>, String> {
        v0_3::tracee::Host::read_memory(self, addr, len)
    }

    fn write_memory(&mut self, addr: u64, data: Vec<u8>) -> Result<(), String> {
        v0_3::tracee::Host::write_memory(self, addr, data)
    }

    fn read_c_string(&mut self, addr: u64, max: u32) -> Result<String, String> {
        v0_3::tracee::Host::read_c_string(self, addr, max)
    }

    fn fd_path(&mut self, fd: i32) -> Option<String> {
        v0_3::tracee::Host::fd_path(self, fd)
    }

    fn resolve_path(&mut self, dirfd: i32, addr: u64) -> Option<String> {
        v0_3::tracee::Host::resolve_path(self, dirfd, addr)
    }

    fn call_paths(&mut self) -> Vec<String> {
        v0_3::tracee::Host::call_paths(self)
    }

    fn mapped_file(&mut self, addr: u64) -> Option<String> {
        v0_3::tracee::Host::mapped_file(self, addr)
    }
}

impl host::Host for PluginState {
    fn random(&mut self) -> u64 {
        v0_3::host::Host::random(self)
    }

    fn log(&mut self, message: String) {
        v0_3::host::Host::log(self, message)
    }
}
