//! Symlinks in a copy of the work directory must not lead back to the
//! original. The copy (`copy.rs`, as `cp -a`) keeps a link as it is, so an absolute link in
//! `--workdir` that points into the work directory would make every run
//! write the original: in each copy such a link is retargeted to the same
//! place in the copy. Relative links are left as they are (inside the copy
//! they lead where they led inside the original). A link to a directory
//! that holds the work directory (`/`, its parent) cannot be retargeted:
//! the campaign is refused before anything runs.

use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::tracee::resolve_path_at;

/// Where a symlink leads, seen from the work directory.
enum Leads {
    /// To `rest` inside the work directory.
    Inside(PathBuf),
    /// To `target`, a directory that holds the work directory.
    Above(PathBuf),
    /// Somewhere else.
    Elsewhere,
}

/// An error naming the first symlink under `workdir` (absolute) that leads
/// to a directory holding it.
pub(super) fn check(workdir: &Path) -> Result<(), String> {
    let names = names_of(workdir).map_err(|e| format!("--workdir {}: {e}", workdir.display()))?;
    for link in symlinks_under(workdir) {
        if let Ok(Leads::Above(target)) = leads(&link, &names) {
            return Err(format!(
                "--workdir {}: the symlink {} leads to {}, which holds the work directory: a \
                 run could write the original through it",
                workdir.display(),
                link.display(),
                target.display()
            ));
        }
    }
    Ok(())
}

/// Retarget every symlink under `copy` (a copy of `workdir`, absolute)
/// that leads into `workdir` to the same place in `copy`.
pub(super) fn retarget(workdir: &Path, copy: &Path) -> io::Result<()> {
    let names = names_of(workdir)?;
    for link in symlinks_under(copy) {
        match leads(&link, &names)? {
            Leads::Inside(rest) => relink(&link, &copy.join(rest))?,
            Leads::Above(target) => {
                return Err(io::Error::other(format!(
                    "{} leads to {}, which holds the work directory",
                    link.display(),
                    target.display()
                )))
            }
            Leads::Elsewhere => {}
        }
    }
    Ok(())
}

/// The work directory's names: as given (absolute) and resolved.
fn names_of(workdir: &Path) -> io::Result<[PathBuf; 2]> {
    let absolute = std::path::absolute(workdir)?;
    Ok([
        resolve_path_at(Path::new("/"), &absolute),
        workdir.canonicalize()?,
    ])
}

/// Where the symlink `link` leads: its target taken lexically from the
/// link's directory and, for an absolute target, resolved too. Only an
/// absolute target can lead above the work directory: a relative one, in a
/// copy, leads to the copy's surroundings.
fn leads(link: &Path, workdir: &[PathBuf; 2]) -> io::Result<Leads> {
    let target = fs::read_link(link)?;
    let dir = link.parent().unwrap_or(Path::new("/"));
    let mut candidates = vec![resolve_path_at(dir, &target)];
    if target.is_absolute() {
        candidates.extend(resolved(&target));
    }
    for candidate in &candidates {
        for name in workdir {
            if let Ok(rest) = candidate.strip_prefix(name) {
                return Ok(Leads::Inside(rest.to_path_buf()));
            }
            if target.is_absolute() && name.starts_with(candidate) {
                return Ok(Leads::Above(candidate.clone()));
            }
        }
    }
    Ok(Leads::Elsewhere)
}

/// `path` with its symlinks resolved, as far as it exists.
fn resolved(path: &Path) -> Option<PathBuf> {
    path.canonicalize().ok().or_else(|| {
        let parent = path.parent()?.canonicalize().ok()?;
        Some(parent.join(path.file_name()?))
    })
}

/// Every symlink under `dir`, whose own symlinks are not followed.
fn symlinks_under(dir: &Path) -> Vec<PathBuf> {
    let mut links = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(kind) if kind.is_symlink() => links.push(entry.path()),
                Ok(kind) if kind.is_dir() => dirs.push(entry.path()),
                _ => {}
            }
        }
    }
    links
}

/// Make `link` a symlink to `target`, in one step.
fn relink(link: &Path, target: &Path) -> io::Result<()> {
    let mut tmp = link.as_os_str().to_owned();
    tmp.push(".fault-relink");
    let tmp = PathBuf::from(tmp);
    let _ = fs::remove_file(&tmp);
    symlink(target, &tmp)?;
    fs::rename(&tmp, link)
}
