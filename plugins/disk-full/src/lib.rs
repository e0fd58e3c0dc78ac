//! `disk-full`: a quota of `size=` bytes under `path=`, as a full disk.
//!
//! The plugin keeps the books of what the program adds under the path:
//! bytes written, `fallocate`d and `ftruncate`d beyond a file's end count;
//! deleting a file, truncating it or opening it with `O_TRUNC` gives its
//! bytes back. A write that would go past the quota writes the bytes that
//! fit (its count is cut: a real short write), and the next one fails with
//! `ENOSPC` (or `errno=`), as on a full disk. Once the quota is used up, a
//! new file cannot be created there either. `statfs` and `fstatfs` of the
//! files there (and of the directories whose contents the glob covers)
//! report the quota's size and free bytes, so `df` shows them.

mod calls;
mod quota;
mod statfs;

use std::collections::HashMap;

use calls::Op;
use fi_sdk::{
    Call, Config, ConfigError, Description, Errno, ExitAction, Glob, Policy, Subscription, Verdict,
};
use quota::Quota;

/// What a call that was let run does to the books once it returned.
#[derive(Debug)]
enum Pending {
    /// Bytes from `start` written to `path`, whose size was `size`.
    Write { path: String, start: u64, size: u64 },
    /// `path`, of `size` bytes, set to `len` bytes.
    Truncate { path: String, size: u64, len: u64 },
    /// `path`, of `size` bytes, reserved up to `end`.
    Allocate { path: String, end: u64, size: u64 },
    /// `path` is opened; `truncate` if with `O_TRUNC`, `refuse_new` if the
    /// quota is full and `O_CREAT` was taken away.
    Open {
        path: String,
        truncate: bool,
        refuse_new: bool,
    },
    /// `path` is deleted.
    Unlink { path: String },
    /// `from` is renamed to `to`.
    Rename { from: String, to: String },
    /// The `statfs` at `addr` is to be rewritten.
    Statfs { addr: u64 },
}

struct DiskFull {
    path: Glob,
    errno: Errno,
    quota: Quota,
    /// Per thread: what its running call will do to the books.
    pending: HashMap<i32, Pending>,
}

impl Policy for DiskFull {
    fn describe() -> Description {
        Description::new(
            "disk-full",
            "A quota of size= bytes under path=: writes past it fail with ENOSPC, df shows it",
        )
        .key(
            "path",
            "glob of the files the quota covers (/data/*); required",
        )
        .key(
            "size",
            "the quota in bytes: 4096, 64K, 1M, 2G (1024s), 10MB (1000s); required",
        )
        .key(
            "errno",
            "the error of a write past the quota (EDQUOT, or a number); default ENOSPC",
        )
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let size = config
            .get("size")
            .ok_or_else(|| ConfigError::missing("size"))?;
        let size =
            fi_grammar::parse_size(size).map_err(|e| ConfigError::invalid("size", size, e))?;
        let policy = DiskFull {
            path: config.require("path")?,
            errno: config.parse("errno")?.unwrap_or(Errno::ENOSPC),
            quota: Quota::new(size),
            pending: HashMap::new(),
        };
        Ok((policy, Subscription::syscalls(calls::SYSCALLS)))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        let Some(op) = Op::of(call) else {
            return Verdict::pass();
        };
        let (verdict, pending) = self.decide(call, op);
        match pending {
            Some(pending) => {
                self.pending.insert(call.tid(), pending);
                verdict.want_exit()
            }
            None => verdict,
        }
    }

    fn on_exit(&mut self, call: &Call, result: i64) -> ExitAction {
        let Some(pending) = self.pending.remove(&call.tid()) else {
            return ExitAction::Keep;
        };
        if result < 0 {
            let new_file_refused = matches!(
                pending,
                Pending::Open {
                    refuse_new: true,
                    ..
                }
            ) && Errno::from_result(result) == Some(Errno::ENOENT);
            if new_file_refused {
                return ExitAction::Fail(self.errno);
            }
            return ExitAction::Keep;
        }
        self.account(call, pending, result as u64);
        ExitAction::Keep
    }

    fn thread_exited(&mut self, tid: i32) {
        self.pending.remove(&tid);
    }
}

impl DiskFull {
    /// Whether `path` is under the quota.
    fn covers(&self, path: &str) -> bool {
        self.path.matches(path)
    }

    /// The verdict on `op`, and what to do once it ran.
    fn decide(&self, call: &Call, op: Op) -> (Verdict, Option<Pending>) {
        let remaining = self.quota.remaining();
        match op {
            Op::Write {
                path,
                fd,
                count,
                at,
                count_arg,
            } if self.covers(&path) => {
                let (start, size) = calls::extent(call, &self.quota, &path, Some(fd), at);
                let growth = (start + count).saturating_sub(size);
                let pending = Pending::Write { path, start, size };
                if growth <= remaining {
                    return (Verdict::pass(), Some(pending));
                }
                // Only the bytes that fit are written: the count shrinks by
                // the growth the quota cannot take.
                let fits = count - (growth - remaining).min(count);
                match count_arg {
                    Some(arg) if fits > 0 => (Verdict::rewrite_arg(arg, fits), Some(pending)),
                    _ => (Verdict::fail(self.errno), None),
                }
            }
            Op::Allocate { path, fd, end } if self.covers(&path) => {
                let (_, size) = calls::extent(call, &self.quota, &path, Some(fd), None);
                if end.saturating_sub(size) > remaining {
                    return (Verdict::fail(self.errno), None);
                }
                (Verdict::pass(), Some(Pending::Allocate { path, end, size }))
            }
            Op::Truncate { path, fd, len } if self.covers(&path) => {
                let (_, size) = calls::extent(call, &self.quota, &path, fd, None);
                if len.saturating_sub(size) > remaining {
                    return (Verdict::fail(self.errno), None);
                }
                (Verdict::pass(), Some(Pending::Truncate { path, size, len }))
            }
            Op::Open {
                path,
                truncate,
                create,
            } if self.covers(&path) => {
                let full = remaining == 0 && create.is_some();
                let pending = |refuse_new| Pending::Open {
                    path: path.clone(),
                    truncate,
                    refuse_new,
                };
                match create {
                    // The kernel opens the file if it exists; if it does not,
                    // ENOENT on exit becomes the quota's error.
                    Some(calls::Create::Flags { arg, without }) if full => {
                        (Verdict::rewrite_arg(arg, without), Some(pending(true)))
                    }
                    Some(_) if full => (Verdict::fail(self.errno), None),
                    _ if truncate => (Verdict::pass(), Some(pending(false))),
                    _ => (Verdict::pass(), None),
                }
            }
            Op::Unlink { path } if self.quota.charged(&path) > 0 => {
                (Verdict::pass(), Some(Pending::Unlink { path }))
            }
            Op::Rename { from, to } if self.quota.charged(&from) + self.quota.charged(&to) > 0 => {
                (Verdict::pass(), Some(Pending::Rename { from, to }))
            }
            Op::Statfs { path, addr } if self.covers(&path) || self.covers(&format!("{path}/")) => {
                (Verdict::pass(), Some(Pending::Statfs { addr }))
            }
            _ => (Verdict::pass(), None),
        }
    }

    /// Brings the books up to date after a call that returned `result`.
    fn account(&mut self, call: &Call, pending: Pending, result: u64) {
        match pending {
            Pending::Write { path, start, size } => {
                self.quota
                    .charge(&path, (start + result).saturating_sub(size));
            }
            Pending::Allocate { path, end, size } => {
                self.quota.charge(&path, end.saturating_sub(size));
            }
            Pending::Truncate { path, size, len } if len >= size => {
                self.quota.charge(&path, len - size);
            }
            Pending::Truncate { path, size, len } => self.quota.free(&path, size - len),
            Pending::Open {
                path,
                truncate: true,
                ..
            } => self.quota.forget(&path),
            Pending::Open { .. } => {}
            Pending::Unlink { path } => self.quota.forget(&path),
            Pending::Rename { from, to } => {
                let to_counts = self.covers(&to);
                self.quota.rename(&from, &to, to_counts);
            }
            Pending::Statfs { addr } => {
                // The call has run: if this fails the buffer is unmapped,
                // and the program reads nothing there.
                let _ = statfs::rewrite(call, addr, self.quota.size(), self.quota.remaining());
            }
        }
    }
}

fi_sdk::export_policy!(DiskFull);
