//! `fsync-eio`, written with fi's Rust SDK: `fsync` and `fdatasync` of the
//! files matching `path=` fail with `EIO`, from the `when=`-th call on.
//!
//! The same policy exists in C, Python, JavaScript and WAT beside this
//! folder; all of them accept the same keys and word their errors alike.
//!
//! - `path=GLOB` (required): `*` matches any run of characters, `/`
//!   included; every other character matches itself; the whole path must
//!   match. (The SDK's `fi_sdk::Glob` knows `?`, `[...]` and `\` too; this
//!   example keeps to `*` so that the five languages agree.)
//! - `when=N` (default 1): a thread's first N-1 calls to `fsync` on matching
//!   files pass, and every one from the N-th on fails. `fsync` and
//!   `fdatasync` are counted apart, per thread; calls on other files are
//!   neither failed nor counted.

use std::collections::HashMap;
use std::str::FromStr;

use fi_sdk::{Call, Config, ConfigError, Description, Errno, Policy, Subscription, Verdict};

struct FsyncEio {
    /// The `path=` pattern.
    pattern: String,
    /// The `when=` count: the first call to fail.
    when: u32,
    /// Calls on matching files so far, per (thread, syscall number).
    counts: HashMap<(i32, u32), u32>,
    /// Calls failed, for the summary.
    failed: u64,
}

/// A `when=` value: a whole number from 1.
struct Count(u32);

impl FromStr for Count {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Count, Self::Err> {
        const ERROR: &str = "expected a whole number from 1";
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ERROR);
        }
        match s.parse() {
            Ok(n) if n >= 1 => Ok(Count(n)),
            _ => Err(ERROR),
        }
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters
/// and everything else matches itself.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // After a `*`: the pattern position after it, and the text position its
    // run would end at next.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            p += 1;
            star = Some((p, t));
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((after, end)) = star {
            p = after;
            t = end + 1;
            star = Some((after, end + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

impl Policy for FsyncEio {
    fn describe() -> Description {
        Description::new(
            "fsync-eio",
            "fsync and fdatasync of matching files fail with EIO (written in Rust)",
        )
        .key(
            "path",
            "glob of the files whose syncs fail (* matches any characters, / too); required",
        )
        .key(
            "when",
            "the first call that fails, counted per thread and syscall; later ones fail too; default 1",
        )
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        // Unknown and repeated keys were rejected by the SDK already.
        let pattern: String = config.require("path")?;
        if pattern.is_empty() {
            return Err(ConfigError::invalid("path", "", "the pattern is empty"));
        }
        let Count(when) = config.parse("when")?.unwrap_or(Count(1));
        let policy = FsyncEio {
            pattern,
            when,
            counts: HashMap::new(),
            failed: 0,
        };
        // Decided at entry only, and a call let run is let run untouched:
        // fault answers these calls without a ptrace stop where it can.
        let subscription = Subscription::syscalls(["fsync", "fdatasync"])
            .entry_only()
            .passes_untouched();
        Ok((policy, subscription))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        let pattern = self.pattern.as_bytes();
        if !call
            .paths()
            .iter()
            .any(|p| glob_match(pattern, p.as_bytes()))
        {
            return Verdict::pass();
        }
        let count = self
            .counts
            .entry((call.tid(), call.sysno().nr()))
            .or_insert(0);
        *count = count.saturating_add(1);
        if *count < self.when {
            return Verdict::pass();
        }
        self.failed += 1;
        Verdict::fail(Errno::EIO)
    }

    fn finish(&mut self) {
        fi_sdk::log(&format!("fsync-eio: failed {} calls", self.failed));
    }
}

fi_sdk::export_policy!(FsyncEio);

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        let m = |p: &str, t: &str| glob_match(p.as_bytes(), t.as_bytes());
        assert!(m("/tmp/a*", "/tmp/a"));
        assert!(m("/tmp/a*", "/tmp/a/b/c"));
        assert!(!m("/tmp/a*", "/tmp/b"));
        assert!(m("*.log", "/var/x.log"));
        assert!(!m("*.log", "/var/x.log.1"));
        assert!(m("*a*b*c", "xxaxxbxxbxc"));
        assert!(!m("*a*b*c", "xxaxxbxxbx"));
        assert!(m("/x", "/x"));
        assert!(!m("/x", "/xy"));
        assert!(m("*", ""));
    }
}
