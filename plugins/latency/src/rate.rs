//! The throughput cap: `rate=` bytes per second per path or per fd; a call
//! waits until its bytes fit under it.

use std::collections::HashMap;
use std::time::Duration;

use fi_sdk::{Call, Config, ConfigError, Sysno};

/// The configuration keys this module reads, with their help.
pub const KEYS: [(&str, &str); 2] = [
    (
        "rate",
        "a throughput cap in bytes per second: 10MB/s (1000s), 512K/s (1024s); default none",
    ),
    (
        "rate-per",
        "path: one budget per file (default); fd: one per open descriptor",
    ),
];

/// What one budget is kept for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Budget {
    /// A file, by path.
    Path(String),
    /// A process's file descriptor.
    Fd { pid: i32, fd: i32 },
}

/// A cap of `bytes_per_second` on each path or each fd.
#[derive(Debug)]
pub struct Cap {
    bytes_per_second: u64,
    per_fd: bool,
    /// Per budget: when the bytes already let through have had their time.
    busy_until: HashMap<Budget, Duration>,
}

impl Cap {
    /// The cap `rate=` and `rate-per=` ask for; no `rate=` means none.
    pub fn from_config(config: &Config) -> Result<Option<Cap>, ConfigError> {
        let per_fd = match config.get("rate-per") {
            None | Some("path") => false,
            Some("fd") => true,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "rate-per",
                    other,
                    "expected path or fd",
                ))
            }
        };
        let Some(rate) = config.get("rate") else {
            if config.get("rate-per").is_some() {
                return Err(ConfigError::new("rate-per= needs rate="));
            }
            return Ok(None);
        };
        let bytes = rate.strip_suffix("/s").ok_or_else(|| {
            ConfigError::invalid("rate", rate, "expected bytes per second, such as 10MB/s")
        })?;
        let bytes_per_second =
            fi_grammar::parse_size(bytes).map_err(|e| ConfigError::invalid("rate", rate, e))?;
        if bytes_per_second == 0 {
            return Err(ConfigError::invalid("rate", rate, "must be above 0"));
        }
        Ok(Some(Cap {
            bytes_per_second,
            per_fd,
            busy_until: HashMap::new(),
        }))
    }

    /// How long `call`, about to start at `at` (since the program
    /// started), waits so that its bytes stay under the cap. Calls without
    /// a byte count, or without a file, do not wait.
    pub fn wait(&mut self, call: &Call, at: Duration) -> Duration {
        let bytes = bytes_of(call);
        if bytes == 0 {
            return Duration::ZERO;
        }
        let budget = if self.per_fd {
            Budget::Fd {
                pid: call.pid(),
                fd: call.arg(0) as i32,
            }
        } else {
            match call.path() {
                Some(path) => Budget::Path(path.to_owned()),
                None => return Duration::ZERO,
            }
        };
        self.take(budget, bytes, at)
    }

    /// Lets `bytes` through `budget` from `at` on: they take their time
    /// after the bytes before them; returns how long after `at` they are
    /// through.
    fn take(&mut self, budget: Budget, bytes: u64, at: Duration) -> Duration {
        let busy_until = self.busy_until.entry(budget).or_default();
        let needs = Duration::from_secs_f64(bytes as f64 / self.bytes_per_second as f64);
        *busy_until = (*busy_until).max(at) + needs;
        *busy_until - at
    }
}

/// The bytes `call` asks to move: its count, or the sum of its buffers.
fn bytes_of(call: &Call) -> u64 {
    match call.sysno() {
        Sysno::read | Sysno::write | Sysno::pread64 | Sysno::pwrite64 => call.arg(2),
        Sysno::sendto | Sysno::recvfrom => call.arg(2),
        Sysno::readv
        | Sysno::writev
        | Sysno::preadv
        | Sysno::pwritev
        | Sysno::preadv2
        | Sysno::pwritev2 => iovec_bytes(call, call.arg(1), call.arg(2)),
        Sysno::sendmsg | Sysno::recvmsg => match call.read_msghdr(call.arg(1)) {
            Ok(msg) => iovec_bytes(call, msg.iov, msg.iov_len),
            Err(_) => 0,
        },
        _ => 0,
    }
}

/// The bytes of the `count` buffers at `iov` (0 if unreadable).
fn iovec_bytes(call: &Call, iov: u64, count: u64) -> u64 {
    // IOV_MAX: the kernel refuses more.
    let Ok(count) = u32::try_from(count.min(1024)) else {
        return 0;
    };
    call.read_iovecs(iov, count)
        .map(|iovecs| {
            iovecs
                .iter()
                .fold(0u64, |sum, iovec| sum.saturating_add(iovec.len))
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_queue_behind_each_other_per_budget() {
        let mut cap = Cap {
            bytes_per_second: 1_000_000,
            per_fd: false,
            busy_until: HashMap::new(),
        };
        let ms = Duration::from_millis;
        let file = |name: &str| Budget::Path(name.into());
        // 10KB at 1MB/s take 10ms.
        assert_eq!(cap.take(file("/a"), 10_000, ms(0)), ms(10));
        // The next, 2ms later, waits for the first's 8ms left and its own 10.
        assert_eq!(cap.take(file("/a"), 10_000, ms(2)), ms(18));
        // Another file has a budget of its own.
        assert_eq!(cap.take(file("/b"), 10_000, ms(2)), ms(10));
        // After an idle spell no credit is saved up.
        assert_eq!(cap.take(file("/a"), 10_000, ms(100)), ms(10));
    }
}
