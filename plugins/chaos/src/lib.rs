//! `chaos`: random calls fail with an error their man page lists.
//!
//! Each chosen call fails without running, with an errno drawn (from fi's
//! seeded generator) from a small table of errors the call really returns,
//! such as `EIO`, `ENOSPC`, `EINTR` or `EAGAIN` for `write`. `syscalls=`
//! takes only calls from that table.

use fi_sdk::{
    random, Call, Config, ConfigError, Description, Errno, Glob, Policy, Probability, Subscription,
    Trigger, Verdict, When,
};

/// Plausible errors of each call, from its man page.
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
                E::EINTR,
            ],
        ),
        (&["close"], &[E::EINTR, E::EIO]),
        (&["fsync", "fdatasync"], &[E::EIO, E::ENOSPC, E::EDQUOT]),
        (&["ftruncate"], &[E::EIO, E::EINTR, E::EFBIG]),
        (&["fallocate"], &[E::ENOSPC, E::EIO, E::EINTR]),
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
}

impl Policy for Chaos {
    fn describe() -> Description {
        Description::new(
            "chaos",
            "Fail random calls with errors their man pages list",
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
        Ok((Chaos { trigger }, Subscription::syscalls(syscalls)))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        let errnos = call.sysno().name().and_then(errnos_of);
        match errnos {
            Some(errnos) if self.trigger.fires(call) => {
                Verdict::fail(errnos[(random() % errnos.len() as u64) as usize])
            }
            _ => Verdict::pass(),
        }
    }

    fn thread_exited(&mut self, tid: i32) {
        self.trigger.forget_thread(tid);
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
