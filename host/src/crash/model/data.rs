//! Changes to a file's data and size: the write family, truncation and
//! `fallocate`.

use std::fs;
use std::io;

use super::{id_of, syscall_name, FdFile, Model, Pending, Sync};
use crate::crash::log::{Change, DataChange, FileId};
use crate::model::Call;
use crate::tracee::Tracee;

impl Model {
    pub(super) fn write(
        &mut self,
        tracee: &Tracee,
        call: &Call,
        fd: i32,
        offset: Option<u64>,
        len: u64,
        sync: bool,
    ) -> io::Result<Option<Pending>> {
        let Some(f) = self.fd_file(tracee, fd)? else {
            return Ok(None);
        };
        if !f.meta.is_file() || len == 0 {
            return Ok(None);
        }
        let size = f.meta.len();
        if sync || f.flags & libc::O_DSYNC != 0 {
            // Written through to the disk before the call returns.
            let metadata = f.flags & libc::O_SYNC == libc::O_SYNC;
            return Ok(Some(Pending::Sync(Sync::File(id_of(&f.meta), metadata))));
        }
        let offset = match offset {
            Some(offset) => offset,
            None if f.flags & libc::O_APPEND != 0 => size,
            None => f.pos,
        };
        let old_len = len.min(size.saturating_sub(offset));
        let old = self.store.save(&f.file, offset, old_len)?;
        let id = self.log.push_data(
            DataChange {
                file: id_of(&f.meta),
                path: f.path,
                syscall: syscall_name(call),
                offset,
                len,
                content: true,
                old_size: size,
                new_size: size.max(offset + len),
                old,
            },
            &mut self.store,
        );
        Ok(Some(Pending::Data { id, requested: len }))
    }

    /// The file `f` is cut or extended to `new_size`.
    pub(super) fn resize(
        &mut self,
        call: &Call,
        f: FdFile,
        new_size: u64,
    ) -> io::Result<Option<Pending>> {
        let size = f.meta.len();
        if new_size == size {
            return Ok(None);
        }
        let (offset, len) = if new_size < size {
            (new_size, size - new_size)
        } else {
            (size, new_size - size)
        };
        let saved = if new_size < size { len } else { 0 };
        let old = self.store.save(&f.file, offset, saved)?;
        let file = id_of(&f.meta);
        let id = self.log.push(Change::Data(DataChange {
            file,
            path: f.path,
            syscall: syscall_name(call),
            offset,
            len,
            content: false,
            old_size: size,
            new_size,
            old,
        }));
        if new_size == 0 {
            self.truncated.insert(file, id);
        }
        Ok(Some(Pending::Data { id, requested: 0 }))
    }

    /// Thread `tracee` is about to close its fds that `closing` accepts. A
    /// file truncated to zero that no other fd of its process holds gets
    /// its last close: on ext4 the writes since stand or fall with the
    /// truncation ([`tie_to_truncation`]). A file the process shares with
    /// another (a forked child's inherited fd) counts as closed too: the
    /// other processes' fds are not looked at.
    ///
    /// [`tie_to_truncation`]: crate::crash::log::Log::tie_to_truncation
    pub(super) fn release(&mut self, tracee: &Tracee, closing: impl Fn(u64) -> bool) {
        if self.truncated.is_empty() {
            return;
        }
        let Ok(fds) = fs::read_dir(format!("/proc/{}/fd", tracee.tid)) else {
            return;
        };
        let open: Vec<(bool, FileId)> = fds
            .flatten()
            .filter_map(|entry| {
                let fd = entry.file_name().to_str()?.parse().ok()?;
                let meta = fs::metadata(entry.path()).ok()?;
                meta.is_file().then(|| (closing(fd), id_of(&meta)))
            })
            .collect();
        for &(closed, file) in &open {
            let still_open = open.iter().any(|&(c, f)| !c && f == file);
            if closed && !still_open {
                if let Some(truncation) = self.truncated.remove(&file) {
                    self.log.tie_to_truncation(truncation, file);
                }
            }
        }
    }

    pub(super) fn fallocate(
        &mut self,
        tracee: &Tracee,
        call: &Call,
    ) -> io::Result<Option<Pending>> {
        let (mode, offset, len) = (call.args[1] as i32, call.args[2], call.args[3]);
        let Some(f) = self.fd_file(tracee, call.args[0] as i32)? else {
            return Ok(None);
        };
        if !f.meta.is_file() {
            return Ok(None);
        }
        let size = f.meta.len();
        let keep_size = mode & libc::FALLOC_FL_KEEP_SIZE != 0;
        let zeroes = mode & (libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_ZERO_RANGE) != 0;
        let shifts = mode & (libc::FALLOC_FL_COLLAPSE_RANGE | libc::FALLOC_FL_INSERT_RANGE) != 0;
        if shifts {
            self.note(format!(
                "fallocate with COLLAPSE_RANGE or INSERT_RANGE on {} is not modelled",
                f.path.display()
            ));
            return Ok(None);
        }
        let new_size = if keep_size {
            size
        } else {
            size.max(offset + len)
        };
        if !zeroes {
            return if new_size > size {
                self.resize(call, f, new_size)
            } else {
                Ok(None)
            };
        }
        let old_len = len.min(size.saturating_sub(offset));
        let old = self.store.save(&f.file, offset, old_len)?;
        let id = self.log.push(Change::Data(DataChange {
            file: id_of(&f.meta),
            path: f.path,
            syscall: "fallocate",
            offset,
            len,
            content: true,
            old_size: size,
            new_size,
            old,
        }));
        Ok(Some(Pending::Data { id, requested: 0 }))
    }
}
