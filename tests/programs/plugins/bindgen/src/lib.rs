//! A policy written against `fi:policy` (`wit/policy.wit`) with wit-bindgen
//! alone, as any language's bindings meet the contract. It fails with
//! `EACCES` every `openat` of a path that ends with the configured `suffix`
//! (its paths from `call-paths`), and swallows every `write` to a regular
//! file or a pipe whose data starts with `drop:` (`fd-info`,
//! `read-memory`): the call returns its length and nothing is written. Each
//! decision is logged. Syscall and errno numbers come from the host by name.
//!
//! `paths=GLOB` declares the files it acts on (`subscription.paths`);
//! `trace=yes` logs every call it is asked about, with its paths, and a
//! count at the end.

use std::cell::RefCell;

wit_bindgen::generate!({
    path: "../../../../wit",
    world: "plugin",
});

use exports::fi::policy::policy::Guest;
use fi::policy::setup::{Description, Subscription};
use fi::policy::tracee::FileKind;
use fi::policy::types::{Action, ExitAction, Syscall, Verdict};
use fi::policy::{host, tracee};

/// What `init` read.
#[derive(Default)]
struct State {
    suffix: String,
    paths: Vec<String>,
    trace: bool,
    asked: u64,
    openat: u32,
    write: u32,
    eacces: u16,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

struct Bindgen;

fn verdict(action: Action) -> Verdict {
    Verdict {
        action,
        delay_enter_ns: 0,
        delay_exit_ns: 0,
        signal: None,
        want_exit: false,
        log_call: false,
    }
}

fn number(name: &str) -> u32 {
    host::syscall_number(name).unwrap_or_else(|| panic!("fault knows no syscall {name}"))
}

impl Guest for Bindgen {
    fn describe() -> Description {
        Description {
            name: "bindgen".to_string(),
            summary: "A test plugin built against fi:policy with wit-bindgen alone".to_string(),
            config: Vec::new(),
        }
    }

    fn init(config: Vec<(String, String)>) -> Result<Subscription, String> {
        STATE.with_borrow_mut(|state| {
            for (key, value) in config {
                match key.as_str() {
                    "suffix" => state.suffix = value,
                    "paths" => state.paths.push(value),
                    "trace" => state.trace = value == "yes",
                    other => return Err(format!("unknown key {other:?}")),
                }
            }
            state.openat = number("openat");
            state.write = number("write");
            state.eacces = host::errno_number("EACCES").ok_or("fault knows no EACCES")?;
            Ok(Subscription {
                syscalls: vec!["openat".to_string(), "write".to_string()],
                entry_only: vec!["all".to_string()],
                passes_untouched: vec!["all".to_string()],
                paths: state.paths.clone(),
            })
        })
    }

    fn on_enter(call: Syscall) -> Verdict {
        STATE.with_borrow_mut(|state| {
            state.asked += 1;
            if state.trace {
                let name = host::syscall_name(call.nr).unwrap_or_default();
                host::log(&format!("asked about {name} {}", tracee::call_paths().join(" ")));
            }
            if call.nr == state.openat {
                let paths = tracee::call_paths();
                return match paths.iter().find(|path| path.ends_with(&state.suffix)) {
                    Some(path) if !state.suffix.is_empty() => {
                        host::log(&format!("failing the open of {path}"));
                        verdict(Action::Fail(state.eacces))
                    }
                    _ => verdict(Action::Pass),
                };
            }
            if call.nr == state.write {
                let (fd, buf, len) = (call.args.0 as i32, call.args.1, call.args.2);
                let Some(info) = tracee::fd_info(fd) else {
                    return verdict(Action::Pass);
                };
                if !matches!(info.kind, FileKind::Regular | FileKind::Pipe) {
                    return verdict(Action::Pass);
                }
                return match tracee::read_memory(buf, len.min(5) as u32) {
                    Ok(data) if data == b"drop:" => {
                        host::log(&format!("dropping {len} bytes written to fd {fd}"));
                        verdict(Action::Return(len as i64))
                    }
                    _ => verdict(Action::Pass),
                };
            }
            verdict(Action::Pass)
        })
    }

    fn on_exit(_call: Syscall, _result: i64) -> ExitAction {
        ExitAction::Keep
    }

    fn thread_exited(_tid: i32) {}

    fn finish() {
        STATE.with_borrow(|state| {
            if state.trace {
                host::log(&format!("asked {} times", state.asked));
            }
        });
    }
}

export!(Bindgen);
