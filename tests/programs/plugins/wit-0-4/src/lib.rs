//! A policy written against `fi:policy@0.4.0` with wit-bindgen alone, as a
//! plugin built before 0.5.0 was. It fails with `EACCES` every `openat` of a
//! path that ends with the configured `suffix` (its paths from
//! `call-paths`), and swallows every `write` to a regular file or a pipe
//! whose data starts with `drop:` (`fd-info`, `read-memory`): the call
//! returns its length and nothing is written. Each decision is logged.

use std::cell::RefCell;

wit_bindgen::generate!({
    path: "../../../../wit/since-0.4.0",
    world: "plugin",
});

use exports::fi::policy::policy::Guest;
use fi::policy::types::{Action, Description, ExitAction, FdKind, Subscription, Syscall, Verdict};
use fi::policy::{host, tracee};

const EACCES: u16 = 13;
const OPENAT: u32 = 257;
const WRITE: u32 = 1;

thread_local! {
    static SUFFIX: RefCell<String> = const { RefCell::new(String::new()) };
}

struct Wit04;

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

impl Guest for Wit04 {
    fn describe() -> Description {
        Description {
            name: "wit-0-4".to_string(),
            summary: "A test plugin built against fi:policy@0.4.0".to_string(),
            config: Vec::new(),
        }
    }

    fn init(config: Vec<(String, String)>) -> Result<Subscription, String> {
        for (key, value) in config {
            match key.as_str() {
                "suffix" => SUFFIX.set(value),
                other => return Err(format!("unknown key {other:?}")),
            }
        }
        Ok(Subscription {
            syscalls: vec!["openat".to_string(), "write".to_string()],
            results: Vec::new(),
            changed_passes: Vec::new(),
        })
    }

    fn on_enter(call: Syscall) -> Verdict {
        match call.nr {
            OPENAT => {
                let suffix = SUFFIX.with_borrow(Clone::clone);
                let paths = tracee::call_paths();
                match paths.iter().find(|path| path.ends_with(&suffix)) {
                    Some(path) => {
                        host::log(&format!("failing the open of {path}"));
                        verdict(Action::Fail(EACCES))
                    }
                    None => verdict(Action::Pass),
                }
            }
            WRITE => {
                let (fd, buf, len) = (call.args.0 as i32, call.args.1, call.args.2);
                let Some(info) = tracee::fd_info(fd) else {
                    return verdict(Action::Pass);
                };
                if !matches!(info.kind, FdKind::Regular | FdKind::Pipe) {
                    return verdict(Action::Pass);
                }
                match tracee::read_memory(buf, len.min(5) as u32) {
                    Ok(data) if data == b"drop:" => {
                        host::log(&format!("dropping {len} bytes written to fd {fd}"));
                        verdict(Action::Return(len as i64))
                    }
                    _ => verdict(Action::Pass),
                }
            }
            _ => verdict(Action::Pass),
        }
    }

    fn on_exit(_call: Syscall, _result: i64) -> ExitAction {
        ExitAction::Keep
    }

    fn thread_exited(_tid: i32) {}

    fn finish() {}
}

export!(Wit04);
