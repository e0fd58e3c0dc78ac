//! The durability model's state: every change under the root since it was
//! last synced, in the order the calls ran, each with what undoes it.

use std::path::{Path, PathBuf};

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

/// The unsynced changes, oldest first, each with an id.
#[derive(Default)]
pub(crate) struct Log {
    changes: Vec<(u64, Change)>,
    next_id: u64,
}

impl Log {
    /// Add a change; its id.
    pub(crate) fn push(&mut self, change: Change) -> u64 {
        self.next_id += 1;
        self.changes.push((self.next_id, change));
        self.next_id
    }

    /// Add a data change, merged into the last change when it appends to it
    /// (a log written in many small writes is one change).
    pub(crate) fn push_data(&mut self, change: DataChange, store: &mut Store) -> u64 {
        if let Some((id, Change::Data(last))) = self.changes.last_mut() {
            let appends = last.file == change.file
                && last.content
                && change.content
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
            .find(|(i, _)| *i == id)
            .map(|(_, change)| change)
    }

    /// Forget the change `id` (it did not happen).
    pub(crate) fn remove(&mut self, id: u64, store: &mut Store) {
        if let Some(at) = self.changes.iter().position(|(i, _)| *i == id) {
            let (_, change) = self.changes.remove(at);
            drop_change(change, store);
        }
    }

    /// `file`'s data is durable.
    pub(crate) fn sync_file(&mut self, file: FileId, store: &mut Store) {
        self.retain(
            store,
            |change| !matches!(change, Change::Data(d) if d.file == file),
        );
    }

    /// The entries of directory `dir` are durable.
    pub(crate) fn sync_dir(&mut self, dir: &Path, store: &mut Store) {
        for (_, change) in &mut self.changes {
            if let Change::Entry(e) = change {
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

    /// The unsynced changes, oldest first.
    pub(crate) fn changes(&self) -> impl DoubleEndedIterator<Item = &Change> {
        self.changes.iter().map(|(_, change)| change)
    }

    /// How many changes are unsynced.
    pub(crate) fn len(&self) -> usize {
        self.changes.len()
    }

    fn retain(&mut self, store: &mut Store, keep: impl Fn(&Change) -> bool) {
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut self.changes)
            .into_iter()
            .partition(|(_, c)| keep(c));
        self.changes = kept;
        for (_, change) in dropped {
            drop_change(change, store);
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
