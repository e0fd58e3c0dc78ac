//! Rewriting the files under the root to the state a crash leaves: every
//! change whose fate is not [`Fate::Kept`] is undone, data first (by file
//! identity, so names do not matter), then directory entries, newest first.
//!
//! Nothing outside the root is touched: a file that also has a name outside
//! the root is given its own copy before it is rewritten ([`Names`]), a
//! name is changed only while its directory is still under the root, and
//! what was moved in from outside is never removed. Only what was really
//! undone is reported lost.

use std::collections::{HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io;
use std::ops::Range;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::log::{Change, DataChange, Entry, FileId};
use super::model::{id_of, Model};
use super::names::{copy_over, Names};
use super::state::Fate;
use super::store::outside;
use super::Lost;

/// What the rewrite did.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    /// The changes undone, oldest first.
    pub(crate) lost: Vec<Lost>,
    /// Names under the root that were given their own copy of a file that
    /// also had a name outside the root, before it was rewritten.
    pub(crate) own_copies: Vec<PathBuf>,
    /// Steps that failed, or that were not taken because they would have
    /// reached outside the root.
    pub(crate) problems: Vec<String>,
}

/// Undo the changes of `model` as `fates` say.
pub(crate) fn apply(model: &Model, fates: &[Fate]) -> Restored {
    let mut done = Restored::default();
    if let Some(problem) = model.root_replaced() {
        done.problems.push(problem);
        return done;
    }
    let changes: Vec<&Change> = model.log.changes().collect();
    let undone = |i: usize| fates[i] != Fate::Kept;
    // The kept files that undone entry changes put back: the files the
    // program removed or replaced are rewritten only if they come back.
    let restoring: Vec<&Path> = changes
        .iter()
        .enumerate()
        .filter(|(i, _)| undone(*i))
        .filter_map(|(_, change)| match change {
            Change::Entry(e) => kept_of(&e.entry).map(PathBuf::as_path),
            Change::Data(_) => None,
        })
        .collect();
    let names = Names::gather(model.root(), &restoring);
    // Where a file's data is: one of its names, and its copy if it was
    // kept across file systems.
    let targets = |id: &FileId| -> Vec<&Path> {
        let copy = model.copies.get(id).map(PathBuf::as_path);
        let copy = copy.filter(|c| restoring.contains(c));
        names.get(id).into_iter().chain(copy).collect()
    };
    let untouchable = own_copies(&changes, fates, &names, &mut done);
    let mut lost: Vec<(usize, Lost)> = Vec::new();
    // Data, newest first, file by file.
    let mut sizes: HashMap<FileId, u64> = HashMap::new();
    for (i, change) in changes.iter().enumerate().rev() {
        let Change::Data(d) = change else { continue };
        let fate = fates[i];
        sizes.insert(d.file, d.old_size);
        let paths = targets(&d.file);
        if fate == Fate::Kept || untouchable.contains(&d.file) || paths.is_empty() {
            continue;
        }
        if d.syscall == "mmap" && unchanged(model, d, paths[0]) {
            // Nothing was written through the mapping.
            continue;
        }
        let later = changes[i + 1..].iter().zip(&fates[i + 1..]);
        let mut keep: Vec<Range<u64>> = later
            .filter_map(|(c, f)| match c {
                Change::Data(l) if l.file == d.file && l.content => kept_range(l, *f),
                _ => None,
            })
            .collect();
        keep.extend(kept_range(d, fate));
        let mut applied = false;
        for path in paths {
            match undo_data(model, d, path, &keep) {
                Ok(()) => applied = true,
                Err(e) => {
                    done.problems
                        .push(format!("undoing {} on {}: {e}", d.syscall, path.display()))
                }
            }
        }
        if applied {
            lost.extend(lost_data(d, fate).map(|l| (i, l)));
        }
    }
    let mut not_resized = HashSet::new();
    for (file, size) in final_sizes(&changes, fates, sizes) {
        if untouchable.contains(&file) {
            continue;
        }
        for path in targets(&file) {
            if let Err(e) = resize(path, size) {
                done.problems
                    .push(format!("resizing {}: {e}", path.display()));
                not_resized.insert(file);
            }
        }
    }
    lost.retain(|(i, l)| match (changes[*i], l) {
        (Change::Data(d), Lost::Size { .. }) => !not_resized.contains(&d.file),
        _ => true,
    });
    // Entries, newest first.
    let entries = Entries {
        root: model.root(),
        moved_in: &model.moved_in,
        names: &names,
    };
    let mut gone = HashSet::new();
    for (i, change) in changes.iter().enumerate().rev() {
        let Change::Entry(e) = change else { continue };
        if !undone(i) {
            continue;
        }
        let what = lost_entry(&e.entry);
        match entries.undo(&e.entry) {
            Ok(true) => lost.push((i, what)),
            Ok(false) => {}
            Err(NotUndone::Gone(dir)) if gone.insert(dir.clone()) => done.problems.push(format!(
                "changes under {} are not undone: it is no longer there (renamed, or moved out \
                 of the root)",
                dir.display()
            )),
            Err(NotUndone::Gone(_)) => {}
            Err(NotUndone::Why(why)) => done.problems.push(format!(
                "undoing {} ({}): {why}",
                e.syscall,
                what.describe(None)
            )),
        }
    }
    lost.sort_by_key(|(i, _)| *i);
    done.lost = merge(lost.into_iter().map(|(_, l)| l).collect());
    done
}

/// Give every file the rewrite will change that also has a name outside
/// the root its own copy under its names here (noted in `done`); the files
/// for which that failed, which are left as the program wrote them.
fn own_copies(
    changes: &[&Change],
    fates: &[Fate],
    names: &Names,
    done: &mut Restored,
) -> HashSet<FileId> {
    let mut seen = HashSet::new();
    let mut untouchable = HashSet::new();
    for (change, fate) in changes.iter().zip(fates) {
        if *fate == Fate::Kept {
            continue;
        }
        let (id, label) = match change {
            Change::Data(d) => (d.file, &d.path),
            Change::Entry(e) => {
                let Some(kept) = kept_of(&e.entry) else {
                    continue;
                };
                let Ok(meta) = fs::symlink_metadata(kept) else {
                    continue;
                };
                (id_of(&meta), destination(&e.entry))
            }
        };
        if !seen.insert(id) {
            continue;
        }
        if !names
            .get(&id)
            .is_some_and(|path| names.linked_outside(path))
        {
            continue;
        }
        match names.separate(&id) {
            Ok(()) => done.own_copies.push(label.clone()),
            Err(e) => {
                untouchable.insert(id);
                done.problems.push(format!(
                    "{}: left as the program wrote it, because it also has a name outside the \
                     root and giving it its own copy failed: {e}",
                    label.display()
                ));
            }
        }
    }
    untouchable
}

/// Set the size of the file at `path` to `size`, if it is not that already.
fn resize(path: &Path, size: u64) -> io::Result<()> {
    if fs::symlink_metadata(path)?.len() == size {
        return Ok(());
    }
    OpenOptions::new().write(true).open(path)?.set_len(size)
}

/// Whether the range of `d` holds what it held before `d`.
fn unchanged(model: &Model, d: &DataChange, path: &Path) -> bool {
    fs::File::open(path)
        .and_then(|file| model.store.same(&d.old, &file, d.offset))
        .unwrap_or(false)
}

/// The bytes of `d` that reached the disk, as file offsets.
fn kept_range(d: &DataChange, fate: Fate) -> Option<Range<u64>> {
    match fate {
        Fate::Kept => Some(d.offset..d.offset + d.len),
        Fate::Prefix(p) if p > 0 => Some(d.offset..d.offset + p),
        _ => None,
    }
}

/// What a lost (or torn) data change took with it.
fn lost_data(d: &DataChange, fate: Fate) -> Option<Lost> {
    let start = match fate {
        Fate::Prefix(p) => d.offset + p,
        _ => d.offset,
    };
    if d.content {
        (start < d.offset + d.len).then(|| Lost::Bytes {
            path: d.path.clone(),
            range: start..d.offset + d.len,
            syscall: d.syscall.to_string(),
        })
    } else {
        Some(Lost::Size {
            path: d.path.clone(),
            was: d.new_size,
            back_to: d.old_size,
        })
    }
}

/// Put back the bytes `d` overwrote, outside `keep`; bytes it wrote past
/// the file's old end become a hole again.
fn undo_data(model: &Model, d: &DataChange, path: &Path, keep: &[Range<u64>]) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    model.store.restore(&d.old, &file, d.offset, keep)?;
    let end = d.offset + d.len;
    if d.content && end > d.old_size {
        let past_end = d.offset.max(d.old_size)..end;
        for piece in outside(past_end, keep) {
            zero(&file, piece)?;
        }
    }
    Ok(())
}

fn zero(file: &fs::File, range: Range<u64>) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let mut at = range.start;
    let zeros = vec![0u8; (range.end - range.start).min(1 << 20) as usize];
    while at < range.end {
        let n = (range.end - at).min(zeros.len() as u64) as usize;
        file.write_all_at(&zeros[..n], at)?;
        at += n as u64;
    }
    Ok(())
}

/// Each file's size after the crash: its size before its first unsynced
/// change, then the surviving changes' effects in order.
fn final_sizes(
    changes: &[&Change],
    fates: &[Fate],
    mut sizes: HashMap<FileId, u64>,
) -> HashMap<FileId, u64> {
    for (change, fate) in changes.iter().zip(fates) {
        let Change::Data(d) = change else { continue };
        let size = sizes.entry(d.file).or_insert(d.old_size);
        *size = match (fate, d.content) {
            (Fate::Lost, _) => *size,
            (Fate::Kept, false) => d.new_size,
            (Fate::Kept, true) => (*size).max(d.offset + d.len),
            (Fate::Prefix(p), _) if *p == 0 => *size,
            (Fate::Prefix(p), _) => (*size).max(d.offset + p),
        };
    }
    sizes
}

fn kept_of(entry: &Entry) -> Option<&PathBuf> {
    match entry {
        Entry::Removed { saved, .. } => saved.as_ref(),
        Entry::Renamed { replaced, .. } => replaced.as_ref(),
        Entry::Created { .. } => None,
    }
}

/// The name a kept file of `entry` comes back as.
fn destination(entry: &Entry) -> &PathBuf {
    match entry {
        Entry::Removed { path, .. } | Entry::Created { path } => path,
        Entry::Renamed { to, .. } => to,
    }
}

/// What undoing `entry` loses.
fn lost_entry(entry: &Entry) -> Lost {
    match entry {
        Entry::Created { path } => Lost::Created { path: path.clone() },
        Entry::Removed { path, .. } => Lost::Removed { path: path.clone() },
        Entry::Renamed { from, to, .. } => Lost::Renamed {
            from: from.clone(),
            to: to.clone(),
        },
    }
}

/// Undoes directory entry changes without reaching outside the root.
struct Entries<'a> {
    root: &'a Path,
    moved_in: &'a HashSet<FileId>,
    names: &'a Names,
}

/// Why an entry change was not undone.
enum NotUndone {
    /// The directory it was made in is gone.
    Gone(PathBuf),
    /// Undoing it failed, or would have reached outside the root.
    Why(String),
}

impl From<String> for NotUndone {
    fn from(why: String) -> NotUndone {
        NotUndone::Why(why)
    }
}

impl Entries<'_> {
    /// Undo `entry`: whether there was something to undo, or why it was
    /// not undone.
    fn undo(&self, entry: &Entry) -> Result<bool, NotUndone> {
        let io = |e: io::Error| NotUndone::Why(e.to_string());
        match entry {
            Entry::Created { path } => {
                self.in_root(path)?;
                let Ok(meta) = fs::symlink_metadata(path) else {
                    return Ok(false);
                };
                self.nothing_moved_in(path)?;
                if meta.is_dir() {
                    fs::remove_dir_all(path).map_err(io)?;
                } else {
                    fs::remove_file(path).map_err(io)?;
                }
            }
            Entry::Removed { path, saved, mode } => {
                self.in_root(path)?;
                self.nothing_moved_in(path)?;
                match saved {
                    Some(kept) => self.put_back(kept, path).map_err(io)?,
                    None => fs::create_dir(path)
                        .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(*mode)))
                        .map_err(io)?,
                }
            }
            Entry::Renamed {
                from,
                to,
                replaced,
                exchange: true,
                ..
            } => {
                debug_assert!(replaced.is_none());
                self.in_root(from)?;
                self.in_root(to)?;
                nix::fcntl::renameat2(
                    nix::fcntl::AT_FDCWD,
                    to,
                    nix::fcntl::AT_FDCWD,
                    from,
                    nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                )
                .map_err(|e| NotUndone::Why(e.to_string()))?;
            }
            Entry::Renamed {
                from, to, replaced, ..
            } => {
                self.in_root(from)?;
                self.in_root(to)?;
                self.nothing_moved_in(from)?;
                fs::rename(to, from).map_err(io)?;
                if let Some(replaced) = replaced {
                    self.put_back(replaced, to).map_err(|e| {
                        NotUndone::Why(format!(
                            "the rename is undone, but {} is not back: {e}",
                            to.display()
                        ))
                    })?;
                }
            }
        }
        Ok(true)
    }

    /// An error unless the directory of `path` is still a directory under
    /// the root: [`NotUndone::Gone`] if it is gone.
    fn in_root(&self, path: &Path) -> Result<(), NotUndone> {
        let parent = path
            .parent()
            .filter(|_| path.starts_with(self.root) && path != self.root)
            .ok_or_else(|| format!("{} is not inside the root", path.display()))?;
        match parent.canonicalize() {
            Ok(dir) if dir.starts_with(self.root) && dir.is_dir() => Ok(()),
            Ok(dir) => Err(NotUndone::Why(format!(
                "{} now leads to {}, outside the root",
                parent.display(),
                dir.display()
            ))),
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ENOTDIR) =>
            {
                Err(NotUndone::Gone(parent.to_path_buf()))
            }
            Err(e) => Err(NotUndone::Why(format!("{}: {e}", parent.display()))),
        }
    }

    /// An error if `path` is, or holds, something moved into the root from
    /// outside, which the rewrite must not remove.
    fn nothing_moved_in(&self, path: &Path) -> Result<(), String> {
        let mut paths = vec![path.to_path_buf()];
        while let Some(path) = paths.pop() {
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if self.moved_in.contains(&id_of(&meta)) {
                return Err(format!(
                    "{} was moved into the root from outside, and would be lost",
                    path.display()
                ));
            }
            if meta.is_dir() {
                if let Ok(entries) = fs::read_dir(&path) {
                    paths.extend(entries.flatten().map(|entry| entry.path()));
                }
            }
        }
        Ok(())
    }

    /// Put a file kept in the scratch directory back at `path`: moved there,
    /// or copied if it is not on the same file system or still has a name
    /// outside the root (a name here must not share a file outside it).
    fn put_back(&self, kept: &Path, path: &Path) -> io::Result<()> {
        if !self.names.linked_outside(kept) && fs::rename(kept, path).is_ok() {
            return Ok(());
        }
        copy_over(kept, path)
    }
}

/// Adjacent lost byte ranges of one file and call, merged.
fn merge(lost: Vec<Lost>) -> Vec<Lost> {
    let mut out: Vec<Lost> = Vec::new();
    for item in lost {
        if let (
            Some(Lost::Bytes {
                path: p,
                range: r,
                syscall: s,
            }),
            Lost::Bytes {
                path,
                range,
                syscall,
            },
        ) = (out.last_mut(), &item)
        {
            if p == path && s == syscall && r.end == range.start {
                r.end = range.end;
                continue;
            }
        }
        out.push(item);
    }
    out
}
