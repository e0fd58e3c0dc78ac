//! Shared writable mappings: what the program writes through them is
//! invisible, so a mapped range counts as rewritten from its snapshot on.

use std::fs;
use std::io;

use super::{id_of, open_file, FdFile, Mapping, Model, Pending, Sync};
use crate::crash::log::{Change, DataChange, FileId};
use crate::tracee::Tracee;

impl Model {
    /// After a sync of `file` (of everything for `None`), its mappings are
    /// taken as rewritten from now on: log a fresh snapshot of each.
    pub(super) fn snapshot_mappings(&mut self, file: Option<FileId>) {
        for i in 0..self.mappings.len() {
            let m = &self.mappings[i];
            if file.is_some_and(|f| f != m.file) {
                continue;
            }
            let (path, offset, len) = (m.path.clone(), m.offset, m.len);
            match open_file(&path) {
                Some(f) if id_of(&f.meta) == self.mappings[i].file => {
                    if let Err(e) = self.log_mapping(f, offset, len) {
                        self.note(format!("mmap of {}: {e}", path.display()));
                    }
                }
                _ => {}
            }
        }
    }

    /// Log the `len` bytes at `offset` of the mapped file `f` as rewritten.
    pub(super) fn log_mapping(&mut self, f: FdFile, offset: u64, len: u64) -> io::Result<u64> {
        let size = f.meta.len();
        let len = len.min(size.saturating_sub(offset));
        let old = self.store.save(&f.file, offset, len)?;
        Ok(self.log.push(Change::Data(DataChange {
            file: id_of(&f.meta),
            path: f.path,
            syscall: "mmap",
            offset,
            len,
            content: true,
            old_size: size,
            new_size: size,
            old,
        })))
    }

    /// `mmap(addr, len, prot, flags, fd, offset)`: a shared, writable
    /// mapping of a file under the root is followed.
    pub(super) fn map(&mut self, tracee: &Tracee, a: [u64; 6]) -> io::Result<Option<Pending>> {
        let (len, prot, flags) = (a[1], a[2] as i32, a[3] as i32);
        let shared = flags & libc::MAP_TYPE == libc::MAP_SHARED
            || flags & libc::MAP_TYPE == libc::MAP_SHARED_VALIDATE;
        if !shared || prot & libc::PROT_WRITE == 0 || flags & libc::MAP_ANONYMOUS != 0 {
            return Ok(None);
        }
        let Some(f) = self.fd_file(tracee, a[4] as i32)? else {
            return Ok(None);
        };
        if !f.meta.is_file() {
            return Ok(None);
        }
        let mapping = Mapping {
            file: id_of(&f.meta),
            path: f.path.clone(),
            offset: a[5],
            len,
            addr: 0,
        };
        let id = self.log_mapping(f, a[5], len)?;
        Ok(Some(Pending::Map { id, mapping }))
    }

    /// `msync(addr, len, MS_SYNC)` makes the mapped file's data durable.
    pub(super) fn msync(&mut self, tracee: &Tracee, addr: u64, flags: i32) -> Option<Pending> {
        if flags & libc::MS_SYNC == 0 {
            return None;
        }
        let path = tracee.mapped_file(addr)?;
        if !self.under_root(&path) {
            return None;
        }
        let meta = fs::metadata(&path).ok()?;
        Some(Pending::Sync(Sync::File(id_of(&meta), false)))
    }
}
