//! Changes to directory entries: creations, removals, renames, and the
//! files kept in the scratch directory to undo them.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{id_of, open_file, parent_of, resolved_path, syscall_name, Model, Pending};
use crate::crash::log::{Change, Entry, EntryChange};
use crate::model::Call;
use crate::tracee::Tracee;

/// Which way a rename across the root's edge moves names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    /// From outside into the root.
    In,
    /// From the root to outside.
    Out,
    /// Both (`RENAME_EXCHANGE`).
    Both,
}

impl Model {
    pub(super) fn open(
        &mut self,
        tracee: &Tracee,
        call: &Call,
        dirfd: i32,
        addr: u64,
        flags: i32,
    ) -> io::Result<Option<Pending>> {
        if flags & (libc::O_CREAT | libc::O_TRUNC) == 0 {
            return Ok(None);
        }
        let Some(path) = self.path_arg(tracee, dirfd, addr) else {
            return Ok(None);
        };
        match fs::symlink_metadata(&path) {
            Err(_) if flags & libc::O_CREAT != 0 => Ok(Some(Pending::Create {
                path,
                syscall: syscall_name(call),
            })),
            Ok(meta) if meta.is_file() && flags & libc::O_TRUNC != 0 && meta.len() > 0 => {
                match open_file(&path) {
                    Some(f) => self.resize(call, f, 0),
                    None => Ok(None),
                }
            }
            _ => Ok(None),
        }
    }

    pub(super) fn create(
        &mut self,
        tracee: &Tracee,
        call: &Call,
        dirfd: i32,
        addr: u64,
    ) -> Option<Pending> {
        let path = self.path_arg(tracee, dirfd, addr)?;
        fs::symlink_metadata(&path)
            .is_err()
            .then(|| Pending::Create {
                path,
                syscall: syscall_name(call),
            })
    }

    pub(super) fn remove(
        &mut self,
        tracee: &Tracee,
        call: &Call,
        dirfd: i32,
        addr: u64,
        dir: bool,
    ) -> io::Result<Option<Pending>> {
        let Some(path) = self.path_arg(tracee, dirfd, addr) else {
            return Ok(None);
        };
        let Ok(meta) = fs::symlink_metadata(&path) else {
            return Ok(None);
        };
        if meta.is_dir() != dir {
            return Ok(None);
        }
        let saved = if dir {
            None
        } else {
            Some(self.keep(&path, &meta)?)
        };
        let dirs = parent_of(&path).into_iter().collect();
        let id = self.log.push(Change::Entry(EntryChange {
            entry: Entry::Removed {
                path,
                saved,
                mode: meta.permissions().mode(),
            },
            syscall: syscall_name(call),
            dirs,
        }));
        Ok(Some(Pending::Entry { id }))
    }

    pub(super) fn rename(
        &mut self,
        tracee: &Tracee,
        call: &Call,
        dirfds: [i32; 2],
        addrs: [u64; 2],
        flags: u32,
    ) -> io::Result<Option<Pending>> {
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        let from = self.path_arg(tracee, dirfds[0], addrs[0]);
        let to = self.path_arg(tracee, dirfds[1], addrs[1]);
        let (from, to) = match (from, to) {
            (Some(from), Some(to)) => (from, to),
            (Some(from), None) => {
                let outside = resolved_path(tracee, dirfds[1], addrs[1]);
                let arg = (dirfds[0], addrs[0]);
                let way = if exchange { Way::Both } else { Way::Out };
                return self.cross(tracee, call, arg, from, outside, way);
            }
            (None, Some(to)) => {
                let outside = resolved_path(tracee, dirfds[0], addrs[0]);
                let arg = (dirfds[1], addrs[1]);
                let way = if exchange { Way::Both } else { Way::In };
                return self.cross(tracee, call, arg, to, outside, way);
            }
            (None, None) => return Ok(None),
        };
        let Ok(renamed) = fs::symlink_metadata(&from) else {
            return Ok(None);
        };
        let replaced = match fs::symlink_metadata(&to) {
            Ok(meta) if !exchange && !meta.is_dir() => Some(self.keep(&to, &meta)?),
            _ => None,
        };
        let mut dirs: Vec<PathBuf> = parent_of(&from).into_iter().collect();
        dirs.extend(parent_of(&to).filter(|d| !dirs.contains(d)));
        // Replace-by-rename: what flushes on it writes the data first.
        let replaces =
            renamed.is_file() && !exchange && fs::symlink_metadata(&to).is_ok_and(|m| m.is_file());
        let id = self.log.push(Change::Entry(EntryChange {
            entry: Entry::Renamed {
                from,
                to,
                replaced,
                exchange,
                file: (!renamed.is_dir()).then(|| id_of(&renamed)),
            },
            syscall: syscall_name(call),
            dirs,
        }));
        if replaces {
            self.log.order_after_data_of(id, id_of(&renamed));
        }
        Ok(Some(Pending::Entry { id }))
    }

    /// A rename across the root's edge, between `inside` (the argument at
    /// `inside_arg`: a directory fd and a path address) and `outside`;
    /// `way` says which way names move. What leaves the root is as if
    /// removed (a file is kept, to come back; a directory cannot, and is
    /// noted). What comes in stays whatever the crash, since undoing its move
    /// would write outside the root: it is remembered, so that the rewrite
    /// never removes it, and noted.
    fn cross(
        &mut self,
        tracee: &Tracee,
        call: &Call,
        inside_arg: (i32, u64),
        inside: PathBuf,
        outside: Option<PathBuf>,
        way: Way,
    ) -> io::Result<Option<Pending>> {
        let Some(outside) = outside else {
            return Ok(None);
        };
        let syscall = syscall_name(call);
        if way != Way::Out {
            let Ok(meta) = fs::symlink_metadata(&outside) else {
                return Ok(None);
            };
            self.moved_in.insert(id_of(&meta));
        }
        if way != Way::In {
            match fs::symlink_metadata(&inside) {
                Ok(meta) if !meta.is_dir() => {
                    return self.remove(tracee, call, inside_arg.0, inside_arg.1, false)
                }
                Ok(_) => {
                    return Ok(Some(Pending::Crossed {
                        note: format!(
                            "{syscall} moved the directory {} out of the root (to {}): a crash \
                             leaves it there (bringing it back would write outside the root)",
                            inside.display(),
                            outside.display()
                        ),
                    }))
                }
                Err(_) => return Ok(None),
            }
        }
        Ok(Some(Pending::Crossed {
            note: format!(
                "{syscall} moved {} into the root from outside (as {}): a crash leaves it there \
                 (undoing the move would write outside the root)",
                outside.display(),
                inside.display()
            ),
        }))
    }

    /// Directory `dir` was synced: its entries are durable. A rename into
    /// it from another directory is then durable at its new name (fsync(2)
    /// makes a directory's entries durable); until the source directory is
    /// synced too, the old name may still be there: the rename becomes the
    /// removal of the old name, which a crash may undo (the file under both
    /// names, never under neither). A renamed directory, which cannot have
    /// two names, or a file renamed again since, is durable at once.
    pub(super) fn sync_dir(&mut self, dir: &Path) {
        let mut landed = Vec::new();
        for (id, e) in self.log.entries_mut() {
            let Entry::Renamed {
                from,
                to,
                replaced,
                exchange: false,
                file,
            } = &mut e.entry
            else {
                continue;
            };
            let source = parent_of(from);
            let into_dir = parent_of(to).as_deref() == Some(dir) && source.as_deref() != Some(dir);
            if !into_dir || !e.dirs.iter().any(|d| Some(d) == source.as_ref()) {
                continue;
            }
            // What `to` replaced is gone for good.
            if let Some(replaced) = replaced.take() {
                let _ = fs::remove_file(replaced);
            }
            let still_there = fs::symlink_metadata(&*to)
                .ok()
                .filter(|meta| file.is_some() && Some(id_of(meta)) == *file);
            landed.push((id, from.clone(), to.clone(), still_there));
        }
        for (id, from, to, still_there) in landed {
            let saved = still_there.and_then(|meta| self.keep(&to, &meta).ok());
            let Some(Change::Entry(e)) = self.log.get_mut(id) else {
                continue;
            };
            match saved {
                Some(saved) => {
                    e.dirs = parent_of(&from).into_iter().collect();
                    e.entry = Entry::Removed {
                        path: from,
                        saved: Some(saved),
                        mode: 0,
                    };
                }
                None => e.dirs.clear(),
            }
        }
        self.log.sync_dir(dir, &mut self.store);
    }

    /// Keep what `path` names in the scratch directory: a hard link, or a
    /// copy across file systems.
    pub(super) fn keep(&mut self, path: &Path, meta: &fs::Metadata) -> io::Result<PathBuf> {
        self.kept += 1;
        let kept = self.scratch.join(format!("kept-{}", self.kept));
        if fs::hard_link(path, &kept).is_err() {
            if meta.file_type().is_symlink() {
                std::os::unix::fs::symlink(fs::read_link(path)?, &kept)?;
            } else {
                fs::copy(path, &kept)?;
                self.copies.insert(id_of(meta), kept.clone());
            }
        }
        Ok(kept)
    }
}
