//! `short-write`: writes and sends reach the file or socket only in part.
//!
//! Subscribes `write`, `pwrite64`, `writev`, `pwritev`, `pwritev2` and
//! `sendto`, and shrinks the byte count before the call runs so that the
//! kernel really writes only `keep=` bytes (at least 1 of a non-empty write).
//!
//! - `mode=short` (default): the caller sees the short count, as the kernel
//!   may report for a full disk, a signal or a non-blocking descriptor.
//! - `mode=torn`: the shortened write runs, then the caller sees `EIO`: part
//!   of the data reached the file, and the caller cannot tell how much.
//!
//! For `write`, `pwrite64` and `sendto` the count is argument 2. For the
//! vectored calls argument 2 is the number of buffers: it shrinks to the
//! buffers that `keep` bytes reach, and the length of the last one is cut
//! in the caller's `iovec` array. That array belongs to the caller, who may
//! use it to resume after a short write, so its original length is written
//! back when the call exits.

use std::collections::HashMap;
use std::str::FromStr;

use fi_sdk::{
    Call, Config, ConfigError, Description, Errno, ExitAction, Policy, Subscription, Sysno,
    Trigger, Verdict,
};

/// How many bytes of a write to keep.
#[derive(Clone, Copy, Debug)]
enum Keep {
    Bytes(u64),
    Fraction(f64),
}

impl Keep {
    /// The bytes to keep of `count`: between 1 and `count`, or 0 of 0.
    fn of(self, count: u64) -> u64 {
        let kept = match self {
            Keep::Bytes(n) => n,
            Keep::Fraction(f) => (count as f64 * f) as u64,
        };
        match count {
            0 => 0,
            _ => kept.clamp(1, count),
        }
    }
}

impl FromStr for Keep {
    type Err = String;

    fn from_str(s: &str) -> Result<Keep, String> {
        let not_a_keep = || format!("'{s}' is not a byte count (100) or a fraction (0.5)");
        if !s.contains('.') {
            return s.parse().map(Keep::Bytes).map_err(|_| not_a_keep());
        }
        match s.parse::<f64>().map_err(|_| not_a_keep())? {
            f if (0.0..=1.0).contains(&f) => Ok(Keep::Fraction(f)),
            _ => Err(format!("the fraction {s} is not between 0 and 1")),
        }
    }
}

/// The most buffers a vectored write takes (`IOV_MAX`).
const IOV_MAX: u64 = 1024;
/// The size of a `struct iovec`: base and length, 8 bytes each.
const IOVEC_SIZE: u64 = 16;

struct ShortWrite {
    keep: Keep,
    torn: bool,
    trigger: Trigger,
    /// Per thread: the `iov_len` cut on enter (its address and original
    /// value), to restore on exit.
    cut_iovecs: HashMap<i32, (u64, u64)>,
}

impl Policy for ShortWrite {
    fn describe() -> Description {
        Description::new(
            "short-write",
            "Make writes and sends short (or torn: short, then EIO)",
        )
        .key(
            "mode",
            "short: the caller sees the short count (default); torn: it sees EIO",
        )
        .key(
            "keep",
            "bytes to keep: a count (100) or a fraction (0.25); default 0.5, at least 1",
        )
        .keys(Trigger::KEYS)
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let torn = match config.get("mode") {
            None | Some("short") => false,
            Some("torn") => true,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "mode",
                    other,
                    "expected short or torn",
                ))
            }
        };
        let policy = ShortWrite {
            keep: config.parse("keep")?.unwrap_or(Keep::Fraction(0.5)),
            torn,
            trigger: Trigger::from_config(config)?,
            cut_iovecs: HashMap::new(),
        };
        let calls = [
            "write", "pwrite64", "writev", "pwritev", "pwritev2", "sendto",
        ];
        Ok((policy, Subscription::syscalls(calls)))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        if !self.trigger.fires(call) {
            return Verdict::pass();
        }
        let verdict = match call.sysno() {
            Sysno::writev | Sysno::pwritev | Sysno::pwritev2 => self.shorten_iovecs(call),
            _ => match (call.arg(2), self.keep.of(call.arg(2))) {
                (count, kept) if kept < count => Verdict::rewrite_arg(2, kept),
                _ => Verdict::pass(),
            },
        };
        if self.torn {
            return verdict.want_exit();
        }
        verdict
    }

    fn on_exit(&mut self, call: &Call, result: i64) -> ExitAction {
        if let Some((addr, len)) = self.cut_iovecs.remove(&call.tid()) {
            // The call has run: if this fails the process is gone or the
            // memory unmapped, and nobody will read the length.
            let _ = call.write_memory(addr, &len.to_le_bytes());
        }
        if self.torn && result >= 0 {
            return ExitAction::Fail(Errno::EIO);
        }
        ExitAction::Keep
    }
}

impl ShortWrite {
    /// Shrinks a vectored write (`iov` in argument 1, `iovcnt` in 2) to the
    /// kept bytes. Leaves calls the kernel will reject to the kernel.
    fn shorten_iovecs(&mut self, call: &Call) -> Verdict {
        let (iov, count) = (call.arg(1), call.arg(2));
        if count == 0 || count > IOV_MAX {
            return Verdict::pass();
        }
        let Ok(bytes) = call.read_memory(iov, (count * IOVEC_SIZE) as u32) else {
            return Verdict::pass();
        };
        let lens: Vec<u64> = bytes
            .chunks_exact(IOVEC_SIZE as usize)
            .map(|iovec| u64::from_le_bytes(iovec[8..].try_into().unwrap()))
            .collect();
        let total = lens.iter().fold(0u64, |sum, len| sum.saturating_add(*len));
        let kept = self.keep.of(total);
        if kept == total {
            return Verdict::pass();
        }
        // The first buffer that reaches the kept bytes becomes the last one,
        // cut to what is left of them.
        let mut left = kept;
        let (last, cut) = lens
            .iter()
            .enumerate()
            .find_map(|(i, &len)| {
                if left <= len {
                    return Some((i, left));
                }
                left -= len;
                None
            })
            .expect("the kept bytes are fewer than the total");
        let verdict = Verdict::rewrite_arg(2, last as u64 + 1);
        if cut == lens[last] {
            return verdict;
        }
        let len_addr = iov + last as u64 * IOVEC_SIZE + 8;
        if call.write_memory(len_addr, &cut.to_le_bytes()).is_err() {
            return Verdict::pass();
        }
        self.cut_iovecs.insert(call.tid(), (len_addr, lens[last]));
        verdict.want_exit()
    }
}

fi_sdk::export_policy!(ShortWrite);

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(s: &str) -> Keep {
        s.parse().unwrap()
    }

    #[test]
    fn keeps_at_least_one_byte_of_a_nonempty_write() {
        assert_eq!(keep("0.5").of(10), 5);
        assert_eq!(keep("0.5").of(1), 1);
        assert_eq!(keep("0.0").of(10), 1);
        assert_eq!(keep("1.0").of(10), 10);
        assert_eq!(keep("0").of(10), 1);
        assert_eq!(keep("3").of(10), 3);
        assert_eq!(keep("30").of(10), 10);
        assert_eq!(keep("3").of(0), 0);
        assert_eq!(keep("0.5").of(0), 0);
    }

    #[test]
    fn keep_errors() {
        assert!("1.5"
            .parse::<Keep>()
            .unwrap_err()
            .contains("not between 0 and 1"));
        assert!("half"
            .parse::<Keep>()
            .unwrap_err()
            .contains("not a byte count"));
        assert!("-1".parse::<Keep>().is_err());
    }
}
