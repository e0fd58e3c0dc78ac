//! The quota's books: how many bytes each file under it was charged, and
//! how many are left.

use std::collections::HashMap;

/// Bytes charged per file against a quota of `size` bytes.
#[derive(Debug, Default)]
pub struct Quota {
    size: u64,
    used: u64,
    charged: HashMap<String, u64>,
}

impl Quota {
    /// An empty quota of `size` bytes.
    pub fn new(size: u64) -> Quota {
        Quota {
            size,
            ..Quota::default()
        }
    }

    /// The quota's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The bytes still free.
    pub fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.used)
    }

    /// The bytes charged to `path` so far.
    pub fn charged(&self, path: &str) -> u64 {
        self.charged.get(path).copied().unwrap_or(0)
    }

    /// Charge `bytes` more to `path`.
    pub fn charge(&mut self, path: &str, bytes: u64) {
        if bytes == 0 {
            return;
        }
        *self.charged.entry(path.to_owned()).or_default() += bytes;
        self.used += bytes;
    }

    /// Give back up to `bytes` of what `path` was charged.
    pub fn free(&mut self, path: &str, bytes: u64) {
        let Some(charged) = self.charged.get_mut(path) else {
            return;
        };
        let freed = bytes.min(*charged);
        *charged -= freed;
        self.used -= freed;
        if *charged == 0 {
            self.charged.remove(path);
        }
    }

    /// `path` is gone (deleted, or emptied): everything it was charged is
    /// free again.
    pub fn forget(&mut self, path: &str) {
        self.free(path, u64::MAX);
    }

    /// `from` was renamed to `to`, replacing what `to` was. Its charge goes
    /// with it if `to` is under the quota (`to_counts`), and is freed if not.
    pub fn rename(&mut self, from: &str, to: &str, to_counts: bool) {
        if from == to {
            return;
        }
        let moved = self.charged(from);
        self.forget(from);
        self.forget(to);
        if to_counts {
            self.charge(to, moved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_and_frees_per_file() {
        let mut quota = Quota::new(100);
        quota.charge("/d/a", 60);
        quota.charge("/d/b", 30);
        assert_eq!(quota.remaining(), 10);
        quota.free("/d/a", 20);
        assert_eq!((quota.charged("/d/a"), quota.remaining()), (40, 30));
        quota.free("/d/b", 1000);
        assert_eq!((quota.charged("/d/b"), quota.remaining()), (0, 60));
        quota.forget("/d/a");
        quota.forget("/d/never");
        assert_eq!(quota.remaining(), 100);
        quota.charge("/d/c", 150);
        assert_eq!(quota.remaining(), 0, "never below zero");
    }

    #[test]
    fn renames_move_or_free_the_charge() {
        let mut quota = Quota::new(100);
        quota.charge("/d/tmp", 40);
        quota.charge("/d/old", 25);
        quota.rename("/d/tmp", "/d/old", true);
        assert_eq!((quota.charged("/d/old"), quota.remaining()), (40, 60));
        quota.rename("/d/old", "/elsewhere/x", false);
        assert_eq!(quota.remaining(), 100);
    }
}
