//! Bindings of `fi:policy@0.4.0` (`wit/since-0.4.0`), and the adapter that
//! runs a plugin built for it through the internal interface (the 0.5.0
//! types, see `plugin.rs`): its imports call the 0.5.0 ones, and its types
//! convert to and from 0.5.0's. A 0.4.0 subscription cannot declare that
//! the plugin decides fd calls by their file (`fd-paths` is empty): every
//! fd call it subscribed to reaches it.
//!
//! The 0.3.0 adapter (`v0_3.rs`) converts to this version's types, which
//! convert on to the newest here.

use wasmtime::component::{HasSelf, Linker};
use wasmtime::Store;

use super::host::PluginState;
use super::v0_5;

mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit/since-0.4.0",
    });
}

pub use bindings::exports::fi::policy::policy::Description;
pub use bindings::fi::policy::{host, tracee, types};
pub use bindings::{Plugin, PluginPre};

/// Add this version's imports to `linker`.
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    Plugin::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
}

calls_through!(v0_5);

impl From<v0_5::types::Syscall> for types::Syscall {
    fn from(call: v0_5::types::Syscall) -> types::Syscall {
        types::Syscall {
            nr: call.nr,
            args: call.args,
            pid: call.pid,
            tid: call.tid,
        }
    }
}

impl From<Description> for v0_5::Description {
    fn from(description: Description) -> v0_5::Description {
        v0_5::Description {
            name: description.name,
            summary: description.summary,
            config: description
                .config
                .into_iter()
                .map(|key| v0_5::types::ConfigKey {
                    name: key.name,
                    help: key.help,
                })
                .collect(),
        }
    }
}

impl From<types::Subscription> for v0_5::types::Subscription {
    fn from(subscription: types::Subscription) -> v0_5::types::Subscription {
        v0_5::types::Subscription {
            syscalls: subscription.syscalls,
            results: subscription.results,
            changed_passes: subscription.changed_passes,
            fd_paths: Vec::new(),
        }
    }
}

impl From<types::Verdict> for v0_5::types::Verdict {
    fn from(verdict: types::Verdict) -> v0_5::types::Verdict {
        let action = match verdict.action {
            types::Action::Pass => v0_5::types::Action::Pass,
            types::Action::Fail(errno) => v0_5::types::Action::Fail(errno),
            types::Action::Return(value) => v0_5::types::Action::Return(value),
            types::Action::Rewrite(changes) => v0_5::types::Action::Rewrite(
                changes
                    .into_iter()
                    .map(|change| v0_5::types::ArgChange {
                        index: change.index,
                        value: change.value,
                    })
                    .collect(),
            ),
        };
        v0_5::types::Verdict {
            action,
            delay_enter_ns: verdict.delay_enter_ns,
            delay_exit_ns: verdict.delay_exit_ns,
            signal: verdict.signal,
            want_exit: verdict.want_exit,
            log_call: verdict.log_call,
        }
    }
}

impl From<types::ExitAction> for v0_5::types::ExitAction {
    fn from(action: types::ExitAction) -> v0_5::types::ExitAction {
        match action {
            types::ExitAction::Keep => v0_5::types::ExitAction::Keep,
            types::ExitAction::Fail(errno) => v0_5::types::ExitAction::Fail(errno),
            types::ExitAction::Return(value) => v0_5::types::ExitAction::Return(value),
        }
    }
}

impl From<v0_5::types::FdInfo> for types::FdInfo {
    fn from(info: v0_5::types::FdInfo) -> types::FdInfo {
        let kind = match info.kind {
            v0_5::types::FdKind::Regular => types::FdKind::Regular,
            v0_5::types::FdKind::Directory => types::FdKind::Directory,
            v0_5::types::FdKind::Pipe => types::FdKind::Pipe,
            v0_5::types::FdKind::Socket => types::FdKind::Socket,
            v0_5::types::FdKind::CharacterDevice => types::FdKind::CharacterDevice,
            v0_5::types::FdKind::BlockDevice => types::FdKind::BlockDevice,
            v0_5::types::FdKind::Anonymous => types::FdKind::Anonymous,
            v0_5::types::FdKind::Other => types::FdKind::Other,
        };
        types::FdInfo {
            kind,
            path: info.path,
            nonblocking: info.nonblocking,
            append: info.append,
            size: info.size,
            position: info.position,
        }
    }
}

impl types::Host for PluginState {}

impl tracee::Host for PluginState {
    fn read_memory(&mut self, addr: u64, len: u32) -> Result<Vec<u8>, String> {
        v0_5::tracee::Host::read_memory(self, addr, len)
    }

    fn write_memory(&mut self, addr: u64, data: Vec<u8>) -> Result<(), String> {
        v0_5::tracee::Host::write_memory(self, addr, data)
    }

    fn read_c_string(&mut self, addr: u64, max: u32) -> Result<String, String> {
        v0_5::tracee::Host::read_c_string(self, addr, max)
    }

    fn fd_path(&mut self, fd: i32) -> Option<String> {
        v0_5::tracee::Host::fd_path(self, fd)
    }

    fn resolve_path(&mut self, dirfd: i32, addr: u64) -> Option<String> {
        v0_5::tracee::Host::resolve_path(self, dirfd, addr)
    }

    fn call_paths(&mut self) -> Vec<String> {
        v0_5::tracee::Host::call_paths(self)
    }

    fn mapped_file(&mut self, addr: u64) -> Option<String> {
        v0_5::tracee::Host::mapped_file(self, addr)
    }

    fn fd_info(&mut self, fd: i32) -> Option<types::FdInfo> {
        v0_5::tracee::Host::fd_info(self, fd).map(Into::into)
    }

    fn signal_handled(&mut self, signal: u8) -> bool {
        v0_5::tracee::Host::signal_handled(self, signal)
    }
}

impl host::Host for PluginState {
    fn random(&mut self) -> u64 {
        v0_5::host::Host::random(self)
    }

    fn log(&mut self, message: String) {
        v0_5::host::Host::log(self, message)
    }

    fn monotonic_ns(&mut self) -> u64 {
        v0_5::host::Host::monotonic_ns(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 0.4.0 plugin cannot declare that it decides fd calls by their
    /// file: all of them reach it, as before 0.5.0.
    #[test]
    fn a_0_4_0_subscription_keeps_its_calls_and_declares_no_fd_paths() {
        let old = types::Subscription {
            syscalls: vec!["openat".to_string(), "write".to_string()],
            results: vec!["write".to_string()],
            changed_passes: vec!["openat".to_string()],
        };
        let new = v0_5::types::Subscription::from(old);
        assert_eq!(new.syscalls, ["openat", "write"]);
        assert_eq!(new.results, ["write"]);
        assert_eq!(new.changed_passes, ["openat"]);
        assert!(new.fd_paths.is_empty());
    }
}
