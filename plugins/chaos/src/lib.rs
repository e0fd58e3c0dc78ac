//! `chaos`: random calls fail with an error the kernel could return there.
//!
//! Each chosen call fails without running, with an errno drawn (from fi's
//! seeded generator) from a small table of errors its man page lists, such
//! as `EIO`, `ENOSPC`, `EINTR` or `EAGAIN` for `write`, kept to those the
//! kernel could return for that call where it stands
//! ([`fi_sdk::kernel_may_return`]): no `EINTR` or `EAGAIN` for a regular
//! file, `EAGAIN` only on a non-blocking pipe, socket or device, `EINTR`
//! only on a blocking one in a process that handles a signal. A call none
//! of whose errors is possible there runs untouched. `syscalls=` takes only
//! calls from the table.
//!
//! `close` is the exception to failing without running: Linux releases the
//! descriptor whatever close reports (see close(2)), so the close runs and
//! its error is reported after.

use std::collections::HashMap;

use fi_sdk::{
    kernel_may_return, random, Call, Config, ConfigError, Description, Errno, ExitAction, Glob,
    Policy, Probability, Subscription, Sysno, Trigger, Verdict, When,
};

/// Errors of each call, from its man page; [`kernel_may_return`] keeps
/// those possible for the call at hand.
const ERRNOS: &[(&[&str], &[Errno])] = {
    use fi_sdk::Errno as E;
    &[
        (
            &["read", "pread64", "readv", "preadv"],
            &[E::EINTR, E::EIO, E::EAGAIN],
        ),
        (
            &["write", "pwrite64", "writev", "pwritev"],
            &[E::EIO, E::ENOSPC, E::EINTR, E::EAGAIN, E::EDQUOT, E::EFBIG],
        ),
        (
            &["open", "openat", "creat"],
            &[
                E::EACCES,
                E::ENOENT,
                E::EMFILE,
                E::ENFILE,
                E::ENOMEM,
                E::ENOSPC,
            ],
        ),
        (&["close"], &[E::EIO]),
        (&["fsync", "fdatasync"], &[E::EIO, E::ENOSPC, E::EDQUOT]),
        (&["ftruncate"], &[E::EIO, E::EFBIG]),
        (&["fallocate"], &[E::ENOSPC, E::EIO]),
        (
            &["stat", "lstat", "newfstatat", "statx"],
            &[E::EACCES, E::ENOENT, E::ENOMEM],
        ),
        (&["fstat"], &[E::ENOMEM, E::EIO]),
        (
            &["mkdir", "mkdirat"],
            &[E::EACCES, E::EEXIST, E::ENOSPC, E::EDQUOT],
        ),
        (
            &["unlink", "unlinkat"],
            &[E::EACCES, E::EBUSY, E::EIO, E::ENOENT],
        ),
        (
            &["rename", "renameat", "renameat2"],
            &[E::EACCES, E::EBUSY, E::ENOSPC, E::EDQUOT, E::EXDEV],
        ),
        (&["socket"], &[E::EMFILE, E::ENFILE, E::ENOBUFS, E::EACCES]),
        (
            &["connect"],
            &[E::ECONNREFUSED, E::ETIMEDOUT, E::ENETUNREACH, E::EINTR],
        ),
        (
            &["accept", "accept4"],
            &[E::EAGAIN, E::EINTR, E::EMFILE, E::ECONNABORTED],
        ),
        (
            &["sendto", "sendmsg"],
            &[E::EAGAIN, E::EINTR, E::ECONNRESET, E::ENOBUFS],
        ),
        (
            &["recvfrom", "recvmsg"],
            &[E::EAGAIN, E::EINTR, E::ECONNREFUSED],
        ),
        (&["mmap"], &[E::ENOMEM, E::EAGAIN]),
        (&["getrandom"], &[E::EINTR, E::EAGAIN]),
    ]
};

const DEFAULT_SYSCALLS: &str = "read,write,pread64,pwrite64,openat,fsync,fdatasync";

fn errnos_of(name: &str) -> Option<&'static [Errno]> {
    ERRNOS
        .iter()
        .find(|(names, _)| names.contains(&name))
        .map(|(_, errnos)| *errnos)
}

struct Chaos {
    trigger: Trigger,
    /// Per thread: the error its running `close` reports once it returns.
    closing: HashMap<i32, Errno>,
}

impl Policy for Chaos {
    fn describe() -> Description {
        Description::new(
            "chaos",
            "Fail random calls with errors the kernel could return there",
        )
        .key(
            "syscalls",
            format!("calls to fail, comma-separated; default {DEFAULT_SYSCALLS}"),
        )
        .key(
            "probability",
            "chance that a call fails (0.1 or 10%), seeded by --seed; default 0.1",
        )
        .key("path", Glob::HELP)
        .key("when", When::HELP)
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let syscalls = config
            .list("syscalls")?
            .unwrap_or(DEFAULT_SYSCALLS.split(',').collect());
        if let Some(unknown) = syscalls.iter().find(|name| errnos_of(name).is_none()) {
            let known: Vec<&str> = ERRNOS
                .iter()
                .flat_map(|(names, _)| *names)
                .copied()
                .collect();
            return Err(ConfigError::invalid(
                "syscalls",
                config.get("syscalls").unwrap_or_default(),
                format!(
                    "chaos has no errors for '{unknown}' (it knows {})",
                    known.join(", ")
                ),
            ));
        }
        let trigger = Trigger::from_config_or(config, Probability::new(0.1))?;
        // Decided at entry, but for close, which runs and fails after; a
        // call is failed or let run untouched.
        let at_entry: Vec<&str> = syscalls
            .iter()
            .copied()
            .filter(|&name| name != "close")
            .collect();
        let subscription = Subscription::syscalls(syscalls)
            .entry_only_for(at_entry)
            .passes_untouched();
        let chaos = Chaos {
            trigger,
            closing: HashMap::new(),
        };
        Ok((chaos, subscription))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        let Some(errnos) = call.sysno().name().and_then(errnos_of) else {
            return Verdict::pass();
        };
        if !self.trigger.fires(call) {
            return Verdict::pass();
        }
        let possible: Vec<Errno> = errnos
            .iter()
            .copied()
            .filter(|&errno| kernel_may_return(call, errno))
            .collect();
        let errno = match possible.len() {
            0 => return Verdict::pass(),
            n => possible[(random() % n as u64) as usize],
        };
        if call.sysno() == Sysno::close {
            self.closing.insert(call.tid(), errno);
            return Verdict::pass().want_exit();
        }
        Verdict::fail(errno)
    }

    fn on_exit(&mut self, call: &Call, result: i64) -> ExitAction {
        match self.closing.remove(&call.tid()) {
            Some(errno) if result == 0 => ExitAction::Fail(errno),
            _ => ExitAction::Keep,
        }
    }

    fn thread_exited(&mut self, tid: i32) {
        self.trigger.forget_thread(tid);
        self.closing.remove(&tid);
    }
}

fi_sdk::export_policy!(Chaos);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_call_has_errors() {
        for name in DEFAULT_SYSCALLS.split(',') {
            assert!(errnos_of(name).is_some(), "{name}");
        }
        assert_eq!(
            errnos_of("fdatasync"),
            Some(&[Errno::EIO, Errno::ENOSPC, Errno::EDQUOT][..])
        );
        assert_eq!(errnos_of("%file"), None);
    }
}
