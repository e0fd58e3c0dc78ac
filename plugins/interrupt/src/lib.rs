//! `interrupt`: reads and writes come back short, or fail with `EINTR` or
//! `EAGAIN`, as the kernel may make them do: what a correct program retries.
//!
//! Subscribes the read side (`read`, `pread64`, `readv`, `preadv`,
//! `recvfrom`, `recvmsg`) and the write side (`write`, `pwrite64`,
//! `writev`, `pwritev`, `sendto`, `sendmsg`). A chosen call gets one of the
//! faults of `faults=` that the kernel could produce for its descriptor,
//! drawn from fi's seeded generator:
//!
//! - `short`: the byte count shrinks before the call runs, to a random
//!   count from 1 to one less than asked, so the kernel really moves only
//!   that much. For the vectored calls the `iovec` lengths are cut in the
//!   caller's memory and restored when the call returns.
//! - `eintr`: the call fails with `EINTR` without running, only on a
//!   blocking pipe, socket or device in a process that handles a signal.
//! - `eagain`: the call fails with `EAGAIN` without running, only on a
//!   non-blocking pipe, socket or device.
//!
//! Which errors are possible is [`fi_sdk::kernel_may_return`]'s rule, the
//! one `chaos` uses too.

use std::collections::HashMap;

use fi_sdk::{
    kernel_may_return, random, Call, Config, ConfigError, Description, Errno, ExitAction, FdKind,
    Policy, Probability, Subscription, Sysno, Trigger, Verdict,
};

/// The calls, and where their buffers are.
const CALLS: [(Sysno, Buffers); 12] = [
    (Sysno::read, Buffers::Count),
    (Sysno::pread64, Buffers::Count),
    (Sysno::readv, Buffers::IoVecs),
    (Sysno::preadv, Buffers::IoVecs),
    (Sysno::recvfrom, Buffers::Count),
    (Sysno::recvmsg, Buffers::MsgHdr),
    (Sysno::write, Buffers::Count),
    (Sysno::pwrite64, Buffers::Count),
    (Sysno::writev, Buffers::IoVecs),
    (Sysno::pwritev, Buffers::IoVecs),
    (Sysno::sendto, Buffers::Count),
    (Sysno::sendmsg, Buffers::MsgHdr),
];

/// Where a call's byte count is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Buffers {
    /// Argument 2 is the count (`read(fd, buf, count)`).
    Count,
    /// Arguments 1 and 2 are an `iovec` array and its length.
    IoVecs,
    /// Argument 1 is a `msghdr`, whose `msg_iov` holds the buffers.
    MsgHdr,
}

/// The size of a `struct iovec`: base and length, 8 bytes each.
const IOVEC_SIZE: u64 = 16;
/// The most buffers a vectored call takes (`IOV_MAX`).
const IOV_MAX: u64 = 1024;

/// The descriptor classes of `fds=`.
const CLASSES: [(&str, &[FdKind]); 4] = [
    ("pipe", &[FdKind::Pipe]),
    ("socket", &[FdKind::Socket]),
    ("device", &[FdKind::CharacterDevice, FdKind::BlockDevice]),
    ("file", &[FdKind::Regular]),
];

/// The classes acted on without `fds=`: those whose reads and writes the
/// kernel really cuts short. A regular file gives a short count only at its
/// end, and the dynamic loader reads libraries assuming full reads, so
/// `file` is asked for by name (best with `path=`).
const DEFAULT_CLASSES: [&str; 2] = ["pipe", "socket"];

/// One fault `faults=` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Short,
    Eintr,
    Eagain,
}

/// The faults of `faults=`, by name.
const FAULTS: [(&str, Fault); 3] = [
    ("short", Fault::Short),
    ("eintr", Fault::Eintr),
    ("eagain", Fault::Eagain),
];

/// The default chance that a call is chosen: under 1, so that a program
/// retrying `EINTR` makes progress.
const DEFAULT_PROBABILITY: Probability = Probability::new(0.5);

struct Interrupt {
    calls: Vec<(Sysno, Buffers)>,
    kinds: Vec<FdKind>,
    faults: Vec<Fault>,
    trigger: Trigger,
    /// Per thread: the `iovec` lengths cut on entry (address and original
    /// value), to restore on exit.
    cut: HashMap<i32, Vec<(u64, u64)>>,
}

impl Policy for Interrupt {
    fn describe() -> Description {
        Description::new(
            "interrupt",
            "Make reads and writes short, or fail them with EINTR or EAGAIN, where the kernel could",
        )
        .key(
            "syscalls",
            "calls to act on, comma-separated, among read, pread64, readv, preadv, recvfrom, \
             recvmsg, write, pwrite64, writev, pwritev, sendto, sendmsg; default all of them",
        )
        .key(
            "fds",
            "descriptors to act on, comma-separated: pipe, socket, device, file; default pipe,socket",
        )
        .key(
            "faults",
            "what a chosen call gets, one drawn among those possible for its descriptor: \
             short (fewer bytes), eintr, eagain; default short,eintr,eagain",
        )
        .key("path", fi_sdk::Glob::HELP)
        .key("when", fi_sdk::When::HELP)
        .key(
            "probability",
            "chance that a call is chosen (0.25 or 25%), seeded by --seed; default 0.5",
        )
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let calls = match config.list("syscalls")? {
            None => CALLS.to_vec(),
            Some(names) => names
                .into_iter()
                .map(|name| {
                    let found = CALLS.iter().find(|(known, _)| known.name() == Some(name));
                    found.copied().ok_or_else(|| {
                        let value = config.get("syscalls").unwrap_or_default();
                        ConfigError::invalid(
                            "syscalls",
                            value,
                            format!("interrupt does not act on '{name}'"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let kinds = named(config, "fds", &CLASSES, &DEFAULT_CLASSES)?
            .into_iter()
            .flatten()
            .copied();
        let policy = Interrupt {
            kinds: kinds.collect(),
            faults: named(config, "faults", &FAULTS, &["short", "eintr", "eagain"])?,
            trigger: Trigger::from_config_or(config, DEFAULT_PROBABILITY)?,
            cut: HashMap::new(),
            calls,
        };
        // Every call may be rewritten or have its buffers restored at exit.
        let names: Vec<String> = policy
            .calls
            .iter()
            .map(|(sysno, _)| sysno.to_string())
            .collect();
        Ok((policy, Subscription::syscalls(names)))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        let Some(&(_, buffers)) = self.calls.iter().find(|(sysno, _)| *sysno == call.sysno())
        else {
            return Verdict::pass();
        };
        let fd = call.fd_info(call.arg(0) as i32);
        if !fd.is_some_and(|fd| self.kinds.contains(&fd.kind)) || !self.trigger.fires(call) {
            return Verdict::pass();
        }
        let possible: Vec<Fault> = self
            .faults
            .iter()
            .copied()
            .filter(|fault| match fault {
                Fault::Short => true,
                Fault::Eintr => kernel_may_return(call, Errno::EINTR),
                Fault::Eagain => kernel_may_return(call, Errno::EAGAIN),
            })
            .collect();
        if possible.is_empty() {
            return Verdict::pass();
        }
        match possible[(random() % possible.len() as u64) as usize] {
            Fault::Eintr => Verdict::fail(Errno::EINTR),
            Fault::Eagain => Verdict::fail(Errno::EAGAIN),
            Fault::Short => self.shorten(call, buffers),
        }
    }

    fn on_exit(&mut self, call: &Call, _result: i64) -> ExitAction {
        for (addr, len) in self.cut.remove(&call.tid()).unwrap_or_default() {
            // The call has run: if this fails the process is gone or the
            // memory unmapped, and nobody will read the length.
            let _ = call.write_memory(addr, &len.to_le_bytes());
        }
        ExitAction::Keep
    }

    fn thread_exited(&mut self, tid: i32) {
        self.trigger.forget_thread(tid);
        self.cut.remove(&tid);
    }
}

impl Interrupt {
    /// Shrinks the call's byte count to a random count from 1 to one less
    /// than asked; a call of fewer than 2 bytes runs as it is.
    fn shorten(&mut self, call: &Call, buffers: Buffers) -> Verdict {
        match buffers {
            Buffers::Count => match call.arg(2) {
                count @ 2.. => Verdict::rewrite_arg(2, cut_to(count)),
                _ => Verdict::pass(),
            },
            Buffers::IoVecs => self.shorten_iovecs(call, call.arg(1), call.arg(2)),
            Buffers::MsgHdr => match call.read_msghdr(call.arg(1)) {
                Ok(msg) => self.shorten_iovecs(call, msg.iov, msg.iov_len),
                Err(_) => Verdict::pass(),
            },
        }
    }

    /// Cuts the `count` buffers at `iov` to a random share of their bytes,
    /// in the caller's memory: the buffer the cut falls in is shortened and
    /// those after it emptied, all restored on exit. Calls the kernel will
    /// reject are left to the kernel.
    fn shorten_iovecs(&mut self, call: &Call, iov: u64, count: u64) -> Verdict {
        if count == 0 || count > IOV_MAX {
            return Verdict::pass();
        }
        let Ok(iovecs) = call.read_iovecs(iov, count as u32) else {
            return Verdict::pass();
        };
        let total = iovecs
            .iter()
            .fold(0u64, |sum, iovec| sum.saturating_add(iovec.len));
        if total < 2 {
            return Verdict::pass();
        }
        let mut left = cut_to(total);
        let mut changed = Vec::new();
        for (i, iovec) in iovecs.iter().enumerate() {
            let kept = iovec.len.min(left);
            left -= kept;
            if kept == iovec.len {
                continue;
            }
            let len_addr = iov + i as u64 * IOVEC_SIZE + 8;
            if call.write_memory(len_addr, &kept.to_le_bytes()).is_err() {
                // Put back what was cut already, and let the call run whole.
                for (addr, len) in changed {
                    let _ = call.write_memory(addr, &u64::to_le_bytes(len));
                }
                return Verdict::pass();
            }
            changed.push((len_addr, iovec.len));
        }
        self.cut.insert(call.tid(), changed);
        Verdict::pass().want_exit()
    }
}

/// A random count from 1 to `count - 1`, for a `count` of at least 2.
fn cut_to(count: u64) -> u64 {
    1 + random() % (count - 1)
}

/// The values of the list `key` (`default` without it), each looked up in
/// `table`; an unknown one is named with the known ones.
fn named<T: Copy>(
    config: &Config,
    key: &str,
    table: &[(&str, T)],
    default: &[&str],
) -> Result<Vec<T>, ConfigError> {
    let names = config.list(key)?.unwrap_or_else(|| default.to_vec());
    names
        .into_iter()
        .map(|name| {
            table
                .iter()
                .find(|(known, _)| *known == name)
                .map(|&(_, value)| value)
                .ok_or_else(|| {
                    let known: Vec<&str> = table.iter().map(|(known, _)| *known).collect();
                    ConfigError::invalid(
                        key,
                        config.get(key).unwrap_or_default(),
                        format!("unknown '{name}' (known: {})", known.join(", ")),
                    )
                })
        })
        .collect()
}

fi_sdk::export_policy!(Interrupt);

#[cfg(test)]
mod tests {
    use super::*;
    use fi_sdk::testing::{init, FakeCall};
    use fi_sdk::FdInfo;

    fn interrupt(pairs: &[(&str, &str)]) -> Interrupt {
        init::<Interrupt>(pairs).map(|(policy, _)| policy).unwrap()
    }

    fn read_of(kind: FdKind, nonblocking: bool) -> FakeCall {
        let fd = FdInfo {
            nonblocking,
            ..FdInfo::new(kind)
        };
        FakeCall::new(Sysno::read)
            .arg(0, 3)
            .arg(2, 100)
            .fd_info(3, fd)
    }

    #[test]
    fn a_regular_file_gets_only_short_counts() {
        let mut policy = interrupt(&[("probability", "1"), ("fds", "file")]);
        for _ in 0..50 {
            let verdict = policy.on_enter(&read_of(FdKind::Regular, true).handles(2).call());
            assert!(
                (1..100).any(|kept| verdict == Verdict::rewrite_arg(2, kept)),
                "{verdict:?}"
            );
        }
    }

    #[test]
    fn errors_follow_the_descriptor() {
        let mut policy = interrupt(&[("probability", "1"), ("faults", "eintr,eagain")]);
        let blocking = read_of(FdKind::Pipe, false).handles(14).call();
        assert_eq!(policy.on_enter(&blocking), Verdict::fail(Errno::EINTR));
        let nonblocking = read_of(FdKind::Pipe, true).handles(14).call();
        assert_eq!(policy.on_enter(&nonblocking), Verdict::fail(Errno::EAGAIN));
        let unhandled = read_of(FdKind::Socket, false).call();
        assert_eq!(policy.on_enter(&unhandled), Verdict::pass());
    }

    #[test]
    fn only_the_chosen_classes_are_touched() {
        let mut policy = interrupt(&[("probability", "1")]);
        let file = read_of(FdKind::Regular, false).call();
        assert_eq!(policy.on_enter(&file), Verdict::pass());
        let closed = FakeCall::new(Sysno::read).arg(0, 7).arg(2, 100).call();
        assert_eq!(policy.on_enter(&closed), Verdict::pass());
    }

    #[test]
    fn bad_values_are_named() {
        let error = init::<Interrupt>(&[("fds", "pipe,disk")]).err().unwrap();
        assert_eq!(
            error.to_string(),
            "fds=pipe,disk: unknown 'disk' (known: pipe, socket, device, file)"
        );
        let error = init::<Interrupt>(&[("syscalls", "fsync")]).err().unwrap();
        assert!(
            error.to_string().contains("does not act on 'fsync'"),
            "{error}"
        );
    }
}
