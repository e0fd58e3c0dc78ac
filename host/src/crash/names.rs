//! The files a crash's rewrite may change, by identity, with their names:
//! every name under the root (symlinks not followed) and the kept files in
//! the scratch directory that undone changes put back. A file with more
//! links than these names also has a name outside the root; before the
//! rewrite changes it, its names here are given their own copy of it, so
//! that the name outside keeps what the program left there.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::log::FileId;
use super::model::id_of;

/// The names of the regular files under the root and of kept files, by
/// identity.
pub(crate) struct Names {
    by_id: HashMap<FileId, Vec<PathBuf>>,
}

impl Names {
    /// Every regular file under `root`, and the regular files among `kept`.
    pub(crate) fn gather(root: &Path, kept: &[&Path]) -> Names {
        let mut names = Names {
            by_id: HashMap::new(),
        };
        let mut dirs = vec![root.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                match fs::symlink_metadata(&path) {
                    Ok(meta) if meta.is_dir() => dirs.push(path),
                    Ok(meta) if meta.is_file() => names.add(path, &meta),
                    _ => {}
                }
            }
        }
        for path in kept {
            if let Ok(meta) = fs::symlink_metadata(path) {
                if meta.is_file() {
                    names.add(path.to_path_buf(), &meta);
                }
            }
        }
        names
    }

    fn add(&mut self, path: PathBuf, meta: &fs::Metadata) {
        let names = self.by_id.entry(id_of(meta)).or_default();
        if !names.contains(&path) {
            names.push(path);
        }
    }

    /// A name of file `id`, if it has one here.
    pub(crate) fn get(&self, id: &FileId) -> Option<&Path> {
        self.by_id
            .get(id)
            .and_then(|names| names.first())
            .map(PathBuf::as_path)
    }

    /// Whether the file at `path` (one of these names, or any file) has a
    /// name outside the root: more links than it has names here.
    pub(crate) fn linked_outside(&self, path: &Path) -> bool {
        let Ok(meta) = fs::symlink_metadata(path) else {
            return false;
        };
        let here = self.by_id.get(&id_of(&meta)).map_or(1, Vec::len);
        meta.is_file() && meta.nlink() > here as u64
    }

    /// Give the names here of file `id` their own copy of it (its contents
    /// and permission bits, one new file linked under each of them), so
    /// that its names outside the root keep the file as it is.
    pub(crate) fn separate(&self, id: &FileId) -> io::Result<()> {
        let Some((first, others)) = self.by_id.get(id).and_then(|names| names.split_first()) else {
            return Ok(());
        };
        copy_over(first, first)?;
        for name in others {
            replace(name, |tmp| fs::hard_link(first, tmp))?;
        }
        Ok(())
    }
}

/// Put a copy of the file at `from` (its contents and permission bits) at
/// `path`, in place of what `path` names (a symlink there is not followed).
pub(crate) fn copy_over(from: &Path, path: &Path) -> io::Result<()> {
    replace(path, |tmp| fs::copy(from, tmp).map(drop))
}

/// Replace `path` with the file `make` creates at a free name beside it.
fn replace(path: &Path, make: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
    let tmp = free_name_beside(path)?;
    make(&tmp)
        .and_then(|()| fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
}

/// A name that does not exist yet, in the directory of `path`.
fn free_name_beside(path: &Path) -> io::Result<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    (0..1000u32)
        .map(|n| dir.join(format!(".fi-own-copy-{}-{n}", std::process::id())))
        .find(|tmp| fs::symlink_metadata(tmp).is_err())
        .ok_or_else(|| io::Error::other("no free name for a copy"))
}
