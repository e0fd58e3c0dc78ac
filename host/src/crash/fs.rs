//! Persistence profiles (`--fs`): what a file system keeps of the changes
//! a program did not sync, after ALICE's abstract persistence models
//! (Pillai et al., OSDI 2014) and the file systems' own documentation.
//! `docs/power-loss.md` gives each profile's rules and their sources.

use std::fmt;
use std::str::FromStr;

/// A file system's persistence profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fs {
    /// POSIX's promises only: a file's data is durable after its fsync, a
    /// directory's entries after the directory's fsync; nothing else.
    Posix,
    /// ext4 with `data=ordered` and `auto_da_alloc` (its defaults): a
    /// file's fsync or a directory's commits the journal, and with it every
    /// earlier entry and size change, in order; a rename over an existing
    /// file writes the renamed file's data first, and the last close of a
    /// file truncated to zero writes what was written since in the
    /// truncation's commit.
    Ext4,
    /// XFS: a file's fsync or a directory's forces the log, and with it
    /// every earlier entry and size change, in order; no flush on rename,
    /// and its write-back started at the close of a truncated file orders
    /// nothing.
    Xfs,
    /// btrfs: a file's fsync logs that file, with the names that reach it
    /// (its log tree), not other files' changes; a directory's fsync logs
    /// its entries. Its flush on replace-by-rename is no guarantee since
    /// Linux 3.17, nor is its write-back started at the close of a file
    /// truncated to zero.
    Btrfs,
}

impl Fs {
    /// Every profile, strictest first.
    pub const ALL: [Fs; 4] = [Fs::Posix, Fs::Ext4, Fs::Xfs, Fs::Btrfs];

    /// Whether any fsync commits one metadata journal (and so every earlier
    /// entry change, in the order they were made).
    pub(crate) fn journal_commits(self) -> bool {
        matches!(self, Fs::Ext4 | Fs::Xfs)
    }

    /// ext4's `auto_da_alloc`: whether a rename that replaces a file writes
    /// the renamed file's data before the rename can reach the disk, and the
    /// last close of a file truncated to zero writes the data written since
    /// in the same journal commit as the truncation (both or neither).
    pub(crate) fn allocates_on_replace(self) -> bool {
        self == Fs::Ext4
    }

    /// Whether a file's fsync makes the entries that name it durable, and
    /// those alone (btrfs's log tree).
    pub(crate) fn fsync_logs_names(self) -> bool {
        self == Fs::Btrfs
    }
}

impl FromStr for Fs {
    type Err = String;

    /// `posix`, `ext4`, `xfs` or `btrfs`.
    fn from_str(text: &str) -> Result<Fs, String> {
        Fs::ALL
            .into_iter()
            .find(|fs| fs.to_string() == text)
            .ok_or_else(|| {
                format!("unknown file system '{text}' (expected posix, ext4, xfs or btrfs)")
            })
    }
}

impl fmt::Display for Fs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fs::Posix => "posix",
            Fs::Ext4 => "ext4",
            Fs::Xfs => "xfs",
            Fs::Btrfs => "btrfs",
        })
    }
}

/// A set of profiles: those on which a change is already durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FsSet(u8);

impl FsSet {
    /// The profiles `keep` accepts.
    pub(crate) fn of(keep: impl Fn(Fs) -> bool) -> FsSet {
        FsSet(
            Fs::ALL
                .into_iter()
                .filter(|&fs| keep(fs))
                .fold(0, |bits, fs| bits | 1 << fs as u8),
        )
    }

    /// Whether `fs` is in the set.
    pub(crate) fn contains(self, fs: Fs) -> bool {
        self.0 & 1 << fs as u8 != 0
    }

    /// Both sets together.
    pub(crate) fn union(self, other: FsSet) -> FsSet {
        FsSet(self.0 | other.0)
    }
}

/// `fss` for a person: "ext4, xfs and btrfs".
pub(crate) fn listed(fss: &[Fs]) -> String {
    let names: Vec<String> = fss.iter().map(Fs::to_string).collect();
    match names.split_last() {
        None => "none".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_every_profile() {
        for fs in Fs::ALL {
            assert_eq!(fs.to_string().parse::<Fs>(), Ok(fs));
        }
        let e = "zfs".parse::<Fs>().unwrap_err();
        assert!(e.contains("unknown file system 'zfs'"), "{e}");
        let set = FsSet::of(Fs::journal_commits);
        assert!(set.contains(Fs::Ext4) && set.contains(Fs::Xfs));
        assert!(!set.contains(Fs::Posix) && !set.contains(Fs::Btrfs));
        assert_eq!(
            listed(&[Fs::Ext4, Fs::Xfs, Fs::Btrfs]),
            "ext4, xfs and btrfs"
        );
    }
}
