//! Rewriting the files under the root to the state a crash leaves: every
//! change whose fate is not [`Fate::Kept`] is undone, data first (by file
//! identity, so names do not matter), then directory entries, newest first.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io;
use std::ops::Range;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::log::{Change, DataChange, Entry, FileId};
use super::model::{id_of, Model};
use super::state::Fate;
use super::store::outside;
use super::Lost;

/// Undo the changes of `model` as `fates` say; what was lost, and the steps
/// that failed.
pub(crate) fn apply(model: &Model, fates: &[Fate]) -> (Vec<Lost>, Vec<String>) {
    let changes: Vec<&Change> = model.log.changes().collect();
    let mut lost = Vec::new();
    let mut errors = Vec::new();
    let mut files = files_under(model.root());
    files.extend(model.copies.iter().map(|(id, path)| (*id, path.clone())));
    // Kept files in the scratch directory are hard links: same identity.
    for change in &changes {
        if let Change::Entry(e) = change {
            if let Some(kept) = kept_of(&e.entry) {
                if let Ok(meta) = fs::symlink_metadata(kept) {
                    files.entry(id_of(&meta)).or_insert_with(|| kept.clone());
                }
            }
        }
    }
    // Data, newest first, file by file.
    let mut sizes: HashMap<FileId, u64> = HashMap::new();
    for (i, change) in changes.iter().enumerate().rev() {
        let Change::Data(d) = change else { continue };
        let fate = fates[i];
        sizes.insert(d.file, d.old_size);
        if fate == Fate::Kept {
            continue;
        }
        let Some(path) = files.get(&d.file) else {
            lost.extend(lost_data(d, fate).map(|l| (i, l)));
            continue;
        };
        if d.syscall == "mmap" && unchanged(model, d, path) {
            // Nothing was written through the mapping.
            continue;
        }
        lost.extend(lost_data(d, fate).map(|l| (i, l)));
        let later = changes[i + 1..].iter().zip(&fates[i + 1..]);
        let mut keep: Vec<Range<u64>> = later
            .filter_map(|(c, f)| match c {
                Change::Data(l) if l.file == d.file && l.content => kept_range(l, *f),
                _ => None,
            })
            .collect();
        keep.extend(kept_range(d, fate));
        if let Err(e) = undo_data(model, d, path, &keep) {
            errors.push(format!("undoing {} on {}: {e}", d.syscall, path.display()));
        }
    }
    for (file, size) in final_sizes(&changes, fates, sizes) {
        if let Some(path) = files.get(&file) {
            let resized = OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(size));
            if let Err(e) = resized {
                errors.push(format!("resizing {}: {e}", path.display()));
            }
        }
    }
    // Entries, newest first.
    for (i, change) in changes.iter().enumerate().rev() {
        let Change::Entry(e) = change else { continue };
        if fates[i] == Fate::Kept {
            continue;
        }
        let (what, result) = undo_entry(&e.entry);
        if let Err(err) = result {
            errors.push(format!(
                "undoing {} ({}): {err}",
                e.syscall,
                what.describe(None)
            ));
        }
        lost.push((i, what));
    }
    lost.sort_by_key(|(i, _)| *i);
    (merge(lost.into_iter().map(|(_, l)| l).collect()), errors)
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

/// Undo one entry change; what was lost.
fn undo_entry(entry: &Entry) -> (Lost, io::Result<()>) {
    match entry {
        Entry::Created { path } => {
            let result = match fs::symlink_metadata(path) {
                Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
                Ok(_) => fs::remove_file(path),
                Err(_) => Ok(()),
            };
            (Lost::Created { path: path.clone() }, result)
        }
        Entry::Removed { path, saved, mode } => {
            let result = match saved {
                Some(saved) => move_back(saved, path),
                None => fs::create_dir(path)
                    .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(*mode))),
            };
            (Lost::Removed { path: path.clone() }, result)
        }
        Entry::Renamed {
            from,
            to,
            replaced,
            exchange,
            ..
        } => {
            let result = if *exchange {
                nix::fcntl::renameat2(
                    nix::fcntl::AT_FDCWD,
                    to,
                    nix::fcntl::AT_FDCWD,
                    from,
                    nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                )
                .map_err(io::Error::from)
            } else {
                fs::rename(to, from).and_then(|()| match replaced {
                    Some(replaced) => move_back(replaced, to),
                    None => Ok(()),
                })
            };
            let lost = Lost::Renamed {
                from: from.clone(),
                to: to.clone(),
            };
            (lost, result)
        }
    }
}

/// Put a file kept in the scratch directory back at `path`.
fn move_back(kept: &Path, path: &Path) -> io::Result<()> {
    fs::rename(kept, path).or_else(|_| fs::copy(kept, path).map(|_| ()))
}

/// Every file under `root` by identity (symlinks not followed).
fn files_under(root: &Path) -> HashMap<FileId, PathBuf> {
    let mut files = HashMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                dirs.push(path);
            } else if meta.is_file() {
                files.entry(id_of(&meta)).or_insert(path);
            }
        }
    }
    files
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
