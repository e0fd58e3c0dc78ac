//! The durability model's state: every change under the root since it was
//! last synced, in the order the calls ran, each with what undoes it.

use std::path::{Path, PathBuf};

use super::fs::{Fs, FsSet};
use super::store::{Saved, Store};

/// A file's identity: its device and inode numbers (its names change).
pub(crate) type FileId = (u64, u64);

/// A change to a file's data or size.
#[derive(Debug)]
pub(crate) struct DataChange {
    /// The file changed.
    pub file: FileId,
    /// Its path when the change was made (for the report).
    pub path: PathBuf,
    /// The call that made it.
    pub syscall: &'static str,
    /// Where the changed range starts.
    pub offset: u64,
    /// How long it is.
    pub len: u64,
    /// Whether the range was written with new contents (a write), rather
    /// than cut off or added by a size change.
    pub content: bool,
    /// The file's size before and after.
    pub old_size: u64,
    /// The file's size after the change.
    pub new_size: u64,
    /// The bytes the range held before (those below `old_size`).
    pub old: Saved,
}

/// A change to a directory's entries.
#[derive(Debug)]
pub(crate) enum Entry {
    /// A name was created (a file, a directory, a link, a symlink, a node).
    Created {
        /// The new name.
        path: PathBuf,
    },
    /// A name was removed; `saved` is a link to (or copy of) what it named.
    Removed {
        /// The name removed.
        path: PathBuf,
        /// What it named, kept in the scratch directory; `None` for a
        /// directory (recreated empty, with `mode`).
        saved: Option<PathBuf>,
        /// The permission bits of a removed directory.
        mode: u32,
    },
    /// `from` was renamed to `to`, replacing `replaced` (kept in the
    /// scratch directory), or exchanged with it.
    Renamed {
        /// The old name.
        from: PathBuf,
        /// The new name.
        to: PathBuf,
        /// What `to` named before, if anything.
        replaced: Option<PathBuf>,
        /// `RENAME_EXCHANGE`: the two names swapped.
        exchange: bool,
        /// What was renamed, unless a directory.
        file: Option<FileId>,
    },
}

/// A change to directory entries, and the directories that must be synced
/// before it is durable.
#[derive(Debug)]
pub(crate) struct EntryChange {
    /// What changed.
    pub entry: Entry,
    /// The call that made it.
    pub syscall: &'static str,
    /// The directories it changed that are not synced yet.
    pub dirs: Vec<PathBuf>,
}

/// One unsynced change.
#[derive(Debug)]
pub(crate) enum Change {
    /// File data or size.
    Data(DataChange),
    /// Directory entries.
    Entry(EntryChange),
}

/// One unsynced change, with the profiles on which it is durable already
/// (a change is in the log until POSIX's rules make it durable).
struct Logged {
    id: u64,
    change: Change,
    durable_on: FsSet,
    /// Changes that reach the disk no later than this one on the profiles
    /// with ext4's `auto_da_alloc`
    /// ([`Fs::allocates_on_replace`](super::fs::Fs::allocates_on_replace)):
    /// the renamed file's data for a replace-by-rename; for a truncation to
    /// zero and the writes before the file's last close, each other.
    needs: Vec<u64>,
}

/// The unsynced changes, oldest first, each with an id.
#[derive(Default)]
pub(crate) struct Log {
    changes: Vec<Logged>,
    next_id: u64,
}

impl Log {
    /// Add a change; its id.
    pub(crate) fn push(&mut self, change: Change) -> u64 {
        self.next_id += 1;
        self.changes.push(Logged {
            id: self.next_id,
            change,
            durable_on: FsSet::default(),
            needs: Vec::new(),
        });
        self.next_id
    }

    /// Add a data change, merged into the last change when it appends to it
    /// (a log written in many small writes is one change).
    pub(crate) fn push_data(&mut self, change: DataChange, store: &mut Store) -> u64 {
        if let Some(Logged {
            id,
            change: Change::Data(last),
            durable_on,
            needs,
        }) = self.changes.last_mut()
        {
            let appends = last.file == change.file
                && last.content
                && change.content
                && *durable_on == FsSet::default()
                && needs.is_empty()
                && last.offset + last.len == change.offset
                && last.old_size <= last.offset
                && change.old_size == last.new_size
                && change.old_size <= change.offset;
            if appends {
                last.len += change.len;
                last.new_size = change.new_size;
                store.free(change.old);
                return *id;
            }
        }
        self.push(Change::Data(change))
    }

    /// The change with id `id`, if it is still unsynced.
    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut Change> {
        self.changes
            .iter_mut()
            .find(|l| l.id == id)
            .map(|l| &mut l.change)
    }

    /// Change `id` reaches the disk only after the unsynced data changes of
    /// `file` so far, on the profiles whose replace-by-rename flushes.
    pub(crate) fn order_after_data_of(&mut self, id: u64, file: FileId) {
        let needs: Vec<u64> = self
            .changes
            .iter()
            .filter(|l| matches!(&l.change, Change::Data(d) if d.file == file))
            .map(|l| l.id)
            .collect();
        if let Some(logged) = self.changes.iter_mut().find(|l| l.id == id) {
            logged.needs = needs;
        }
    }

    /// The last close of `file`, whose truncation to zero is change
    /// `truncation`: on the profiles with ext4's `auto_da_alloc`, the writes
    /// to it since reach the disk in the journal commit that carries the
    /// truncation, both or neither, unless that commit is already made.
    pub(crate) fn tie_to_truncation(&mut self, truncation: u64, file: FileId) {
        let Some(at) = self.changes.iter().position(|l| l.id == truncation) else {
            return;
        };
        let committed = Fs::ALL
            .into_iter()
            .any(|fs| fs.allocates_on_replace() && self.changes[at].durable_on.contains(fs));
        if committed {
            return;
        }
        let writes: Vec<u64> = self.changes[at + 1..]
            .iter()
            .filter(|l| matches!(&l.change, Change::Data(d) if d.file == file && d.content))
            .map(|l| l.id)
            .collect();
        for logged in &mut self.changes[at + 1..] {
            if writes.contains(&logged.id) {
                logged.needs.push(truncation);
            }
        }
        self.changes[at].needs.extend(writes);
    }

    /// Forget the change `id` (it did not happen).
    pub(crate) fn remove(&mut self, id: u64, store: &mut Store) {
        if let Some(at) = self.changes.iter().position(|l| l.id == id) {
            let logged = self.changes.remove(at);
            drop_change(logged.change, store);
        }
    }

    /// `file`'s data is durable.
    pub(crate) fn sync_file(&mut self, file: FileId, store: &mut Store) {
        self.retain(
            store,
            |change| !matches!(change, Change::Data(d) if d.file == file),
        );
    }

    /// The unsynced entry changes with their ids, oldest first.
    pub(crate) fn entries_mut(&mut self) -> impl Iterator<Item = (u64, &mut EntryChange)> {
        self.changes.iter_mut().filter_map(|l| match &mut l.change {
            Change::Entry(e) => Some((l.id, e)),
            Change::Data(_) => None,
        })
    }

    /// The entries of directory `dir` are durable.
    pub(crate) fn sync_dir(&mut self, dir: &Path, store: &mut Store) {
        for logged in &mut self.changes {
            if let Change::Entry(e) = &mut logged.change {
                e.dirs.retain(|d| d != dir);
            }
        }
        self.retain(
            store,
            |change| !matches!(change, Change::Entry(e) if e.dirs.is_empty()),
        );
    }

    /// Everything is durable (`sync`, `syncfs`).
    pub(crate) fn sync_all(&mut self, store: &mut Store) {
        self.retain(store, |_| false);
    }

    /// The changes `durable` accepts are durable on the profiles `on`, and
    /// so are the data changes they need there.
    pub(crate) fn durable_on(&mut self, on: FsSet, durable: impl Fn(&Change) -> bool) {
        let mut needed = Vec::new();
        for logged in &mut self.changes {
            if durable(&logged.change) {
                logged.durable_on = logged.durable_on.union(on);
                needed.extend(logged.needs.iter().copied());
            }
        }
        let flushing = FsSet::of(|fs| on.contains(fs) && fs.allocates_on_replace());
        for logged in &mut self.changes {
            if needed.contains(&logged.id) {
                logged.durable_on = logged.durable_on.union(flushing);
            }
        }
    }

    /// The unsynced changes, oldest first.
    pub(crate) fn changes(&self) -> impl DoubleEndedIterator<Item = &Change> {
        self.changes.iter().map(|l| &l.change)
    }

    /// For each change, in order: the profiles on which it is durable, and
    /// the positions of the changes it needs.
    pub(crate) fn persistence(&self) -> Vec<(FsSet, Vec<usize>)> {
        self.changes
            .iter()
            .map(|l| {
                let needs = l
                    .needs
                    .iter()
                    .filter_map(|id| self.changes.iter().position(|c| c.id == *id))
                    .collect();
                (l.durable_on, needs)
            })
            .collect()
    }

    /// How many changes are unsynced.
    pub(crate) fn len(&self) -> usize {
        self.changes.len()
    }

    fn retain(&mut self, store: &mut Store, keep: impl Fn(&Change) -> bool) {
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut self.changes)
            .into_iter()
            .partition(|l| keep(&l.change));
        self.changes = kept;
        for logged in dropped {
            drop_change(logged.change, store);
        }
    }
}

/// Free what a change kept to be undone.
fn drop_change(change: Change, store: &mut Store) {
    match change {
        Change::Data(data) => store.free(data.old),
        Change::Entry(EntryChange { entry, .. }) => {
            let saved = match entry {
                Entry::Removed { saved, .. } => saved,
                Entry::Renamed { replaced, .. } => replaced,
                Entry::Created { .. } => None,
            };
            if let Some(saved) = saved {
                let _ = std::fs::remove_file(saved);
            }
        }
    }
}
