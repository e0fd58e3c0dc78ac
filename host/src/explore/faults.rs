//! The faults explore tries at a point: errnos the kernel can return from
//! that call (its man page's list), and short reads and writes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use syscalls::{Errno, Sysno};

use crate::crash::CrashMode;

/// One fault injected at one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// The call fails with this errno. It does not run, except `close`,
    /// which runs (the kernel frees the fd whatever it returns) and then
    /// reports the error.
    Errno(Errno),
    /// A read or write moves only half the bytes asked for (at least one).
    Short,
    /// Power is lost just after the call returns, the files left as this
    /// mode says (`explore --crash`).
    Crash(CrashMode),
    /// A read returns its bytes with one bit flipped
    /// (`--faults corrupt`, see [`super::corruption`]).
    Corrupt,
}

/// Which calls a fault family applies to, and its errnos: every errno the
/// man page lists that a storage or service program has to handle, and the
/// few of them tried by default.
struct Family {
    syscalls: &'static [Sysno],
    all: &'static [Errno],
    default: &'static [Errno],
    /// Whether a short transfer applies (calls with a byte count in arg 2).
    short: bool,
}

use Errno as E;
use Sysno as S;

/// The explored calls and their faults; the default explored set is the
/// union of the `syscalls` (network calls only with `--network`).
const FAMILIES: &[Family] = &[
    Family {
        syscalls: &[S::open, S::openat, S::openat2, S::creat],
        all: &[E::EACCES, E::EMFILE, E::ENOSPC, E::EDQUOT, E::EIO, E::EINTR],
        default: &[E::EACCES],
        short: false,
    },
    Family {
        syscalls: &[S::read, S::pread64],
        all: &[E::EIO, E::EINTR, E::EAGAIN],
        default: &[E::EIO],
        short: true,
    },
    Family {
        syscalls: &[S::readv, S::preadv, S::preadv2],
        all: &[E::EIO, E::EINTR, E::EAGAIN],
        default: &[E::EIO],
        short: false,
    },
    Family {
        syscalls: &[S::write, S::pwrite64],
        all: &[E::EIO, E::ENOSPC, E::EDQUOT, E::EFBIG, E::EINTR, E::EAGAIN],
        default: &[E::EIO, E::ENOSPC],
        short: true,
    },
    Family {
        syscalls: &[S::writev, S::pwritev, S::pwritev2],
        all: &[E::EIO, E::ENOSPC, E::EDQUOT, E::EFBIG, E::EINTR, E::EAGAIN],
        default: &[E::EIO, E::ENOSPC],
        short: false,
    },
    Family {
        // Copies inside the kernel (cp, install, Python's shutil): their
        // lengths are not the third argument, so no short transfer.
        syscalls: &[S::copy_file_range, S::sendfile, S::splice],
        all: &[E::EIO, E::ENOSPC, E::EDQUOT, E::EINTR],
        default: &[E::EIO, E::ENOSPC],
        short: false,
    },
    Family {
        syscalls: &[S::fsync, S::fdatasync, S::msync, S::sync_file_range],
        all: &[E::EIO, E::ENOSPC, E::EDQUOT],
        default: &[E::EIO],
        short: false,
    },
    Family {
        syscalls: &[S::close],
        all: &[E::EIO, E::ENOSPC, E::EDQUOT, E::EINTR],
        default: &[E::EIO],
        short: false,
    },
    Family {
        syscalls: &[
            S::rename,
            S::renameat,
            S::renameat2,
            S::link,
            S::linkat,
            S::symlink,
            S::symlinkat,
            S::mkdir,
            S::mkdirat,
        ],
        all: &[E::ENOSPC, E::EDQUOT, E::EACCES, E::EIO],
        default: &[E::ENOSPC],
        short: false,
    },
    Family {
        syscalls: &[S::unlink, S::unlinkat, S::rmdir],
        all: &[E::EIO, E::EACCES, E::EBUSY],
        default: &[E::EIO],
        short: false,
    },
    Family {
        syscalls: &[S::ftruncate, S::truncate],
        all: &[E::EIO, E::EFBIG, E::EINTR],
        default: &[E::EIO],
        short: false,
    },
    Family {
        syscalls: &[S::fallocate],
        all: &[E::ENOSPC, E::EIO, E::EFBIG, E::EINTR],
        default: &[E::ENOSPC],
        short: false,
    },
];

/// The network calls explored with `--network`.
const NETWORK: &[Family] = &[
    Family {
        syscalls: &[S::connect],
        all: &[E::ECONNREFUSED, E::ETIMEDOUT, E::ENETUNREACH, E::EINTR],
        default: &[E::ECONNREFUSED],
        short: false,
    },
    Family {
        syscalls: &[S::sendto, S::recvfrom],
        all: &[E::ECONNRESET, E::EPIPE, E::EINTR, E::EAGAIN],
        default: &[E::ECONNRESET],
        short: true,
    },
    Family {
        syscalls: &[S::sendmsg, S::recvmsg],
        all: &[E::ECONNRESET, E::EPIPE, E::EINTR, E::EAGAIN],
        default: &[E::ECONNRESET],
        short: false,
    },
    Family {
        syscalls: &[S::accept, S::accept4],
        all: &[E::EMFILE, E::ECONNABORTED, E::EINTR],
        default: &[E::EMFILE],
        short: false,
    },
];

fn family_of(sysno: Sysno) -> Option<&'static Family> {
    FAMILIES
        .iter()
        .chain(NETWORK)
        .find(|family| family.syscalls.contains(&sysno))
}

/// The default explored calls: storage calls, and with `network` the
/// socket calls (whose reads and writes through `read`/`write` are already
/// storage calls).
pub fn default_syscalls(network: bool) -> syscalls::SysnoSet {
    let mut set = syscalls::SysnoSet::empty();
    let families = FAMILIES.iter().chain(if network { NETWORK } else { &[] });
    for family in families {
        for &sysno in family.syscalls {
            set.insert(sysno);
        }
    }
    set
}

/// Which faults a campaign tries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultChoice {
    /// A few per call: the errnos most programs must handle, and short
    /// transfers.
    #[default]
    Default,
    /// Every errno the man page lists, and short transfers.
    All,
    /// Exactly these, where they apply.
    Only(Vec<Fault>),
}

impl FaultChoice {
    /// The faults to try at a call of `sysno` that moves `count` bytes
    /// (`None` for calls without a byte count).
    pub fn faults_for(&self, sysno: Sysno, count: Option<u64>) -> Vec<Fault> {
        let Some(family) = family_of(sysno) else {
            return match self {
                FaultChoice::Only(faults) => faults
                    .iter()
                    .copied()
                    .filter(|f| matches!(f, Fault::Errno(_)))
                    .collect(),
                _ => vec![Fault::Errno(E::EIO)],
            };
        };
        let short_applies = family.short && count.is_some_and(|n| n >= 2);
        let errnos = match self {
            FaultChoice::Default => family.default,
            FaultChoice::All => family.all,
            FaultChoice::Only(faults) => {
                return faults
                    .iter()
                    .copied()
                    .filter(|f| match f {
                        Fault::Short => short_applies,
                        Fault::Errno(errno) => family.all.contains(errno),
                        Fault::Crash(_) => false,
                        Fault::Corrupt => super::corruption::applies_to(sysno),
                    })
                    .collect();
            }
        };
        let mut faults: Vec<Fault> = errnos.iter().map(|&e| Fault::Errno(e)).collect();
        if short_applies {
            faults.push(Fault::Short);
        }
        faults
    }
}

impl Fault {
    /// Whether a correct program may absorb this fault and finish as if it
    /// had not happened (by retrying): an interrupted call, a full queue, a
    /// short transfer. Absorbing any other error is ignoring it.
    pub fn is_retryable(&self) -> bool {
        match self {
            Fault::Short => true,
            Fault::Errno(errno) => matches!(*errno, E::EINTR | E::EAGAIN),
            Fault::Crash(_) | Fault::Corrupt => false,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Short => f.write_str("short"),
            Fault::Errno(errno) => f.write_str(errno.name().unwrap_or("EUNKNOWN")),
            Fault::Crash(mode) => write!(f, "crash:{mode}"),
            Fault::Corrupt => f.write_str("corrupt"),
        }
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Fault, String> {
        if text == "short" {
            return Ok(Fault::Short);
        }
        if text == "corrupt" {
            return Ok(Fault::Corrupt);
        }
        if let Some(mode) = text.strip_prefix("crash:") {
            return mode.parse().map(Fault::Crash);
        }
        crate::rules::parse::errno_by_name(text)
            .map(Fault::Errno)
            .ok_or_else(|| {
                format!(
                    "unknown fault '{text}': expected an errno name (EIO), 'short' or 'corrupt'"
                )
            })
    }
}

impl Serialize for Fault {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Fault, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether a failure of `syscall` reports data lost on its way to the disk
/// (a sync, a close), which the files left behind cannot show: the pages
/// stay cached, as after a real write-back error.
pub(super) fn reports_lost_sync(syscall: &str) -> bool {
    matches!(
        syscall,
        "fsync" | "fdatasync" | "msync" | "sync_file_range" | "close"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_get_errors_and_a_short_write_when_they_move_two_bytes_or_more() {
        let choice = FaultChoice::Default;
        assert_eq!(
            choice.faults_for(S::write, Some(100)),
            vec![Fault::Errno(E::EIO), Fault::Errno(E::ENOSPC), Fault::Short]
        );
        assert_eq!(
            choice.faults_for(S::write, Some(1)),
            vec![Fault::Errno(E::EIO), Fault::Errno(E::ENOSPC)]
        );
        assert_eq!(
            choice.faults_for(S::fsync, None),
            vec![Fault::Errno(E::EIO)]
        );
    }

    #[test]
    fn a_chosen_fault_applies_only_where_the_kernel_can_return_it() {
        let only = FaultChoice::Only(vec![Fault::Errno(E::ENOSPC), Fault::Short]);
        assert_eq!(
            only.faults_for(S::fsync, None),
            vec![Fault::Errno(E::ENOSPC)]
        );
        assert_eq!(only.faults_for(S::read, Some(10)), vec![Fault::Short]);
        assert!(only.faults_for(S::unlink, None).is_empty());
        let corrupt = FaultChoice::Only(vec![Fault::Corrupt]);
        assert_eq!(
            corrupt.faults_for(S::pread64, Some(8)),
            vec![Fault::Corrupt]
        );
        assert_eq!(corrupt.faults_for(S::readv, None), vec![Fault::Corrupt]);
        assert!(corrupt.faults_for(S::write, Some(8)).is_empty());
        assert!(!FaultChoice::All
            .faults_for(S::read, Some(8))
            .contains(&Fault::Corrupt));
    }

    #[test]
    fn faults_read_back_as_written() {
        for text in [
            "EIO",
            "ENOSPC",
            "short",
            "corrupt",
            "crash:torn",
            "crash:reorder=3",
        ] {
            assert_eq!(text.parse::<Fault>().unwrap().to_string(), text);
        }
        assert!("EBOGUS".parse::<Fault>().unwrap_err().contains("EBOGUS"));
    }
}
