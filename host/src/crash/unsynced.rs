//! The bytes unsynced writes overwrote, kept for a plugin that returns
//! stale data (`tracee.unsynced-before`): the durability model of the
//! data of some files alone, wherever they are, without a crash.

use std::fs::File;
use std::path::{Path, PathBuf};

use syscalls::SysnoSet;

use super::model::{followed_data, id_of, FileFilter, Model};
use super::policy::new_scratch_dir;
use super::DEFAULT_MEMORY;
use crate::model::Call;
use crate::tracee::Tracee;

/// What the unsynced writes to some files overwrote, kept from the calls
/// the program makes.
pub(crate) struct UnsyncedWrites {
    model: Model,
    scratch: PathBuf,
}

impl UnsyncedWrites {
    /// Keep what writes to the regular files `files` accepts overwrite,
    /// in memory up to 16 MiB and beyond it in a spill file in a new
    /// directory of the system's temporary directory.
    pub(crate) fn new(
        files: impl Fn(&Path) -> bool + Send + 'static,
    ) -> std::io::Result<UnsyncedWrites> {
        let scratch = new_scratch_dir(&std::env::temp_dir())?;
        Ok(UnsyncedWrites {
            model: Model::for_files(
                Box::new(files) as FileFilter,
                scratch.clone(),
                DEFAULT_MEMORY,
            ),
            scratch,
        })
    }

    /// The calls to follow: the write family, truncations and syncs.
    pub(crate) fn calls() -> SysnoSet {
        followed_data()
    }

    /// `call` of [`UnsyncedWrites::calls`] is about to run (as it stands
    /// now): keep what it will overwrite. Whether its result is needed
    /// ([`UnsyncedWrites::exit`]).
    pub(crate) fn enter(&mut self, call: &Call, tracee: &Tracee) -> bool {
        self.model.enter(call, tracee)
    }

    /// The call thread `tid` entered returned `result`.
    pub(crate) fn exit(&mut self, tid: i32, result: i64) {
        self.model.exit(tid, result);
    }

    /// Thread `tid` is gone.
    pub(crate) fn thread_gone(&mut self, tid: i32) {
        self.model.thread_gone(tid);
    }

    /// The `len` bytes at `offset` of the file behind `tracee`'s `fd` as
    /// they were before the last unsynced write to each; `None` if no
    /// unsynced write reached them, or `fd` is not a regular file.
    pub(crate) fn before(
        &self,
        tracee: &Tracee,
        fd: i32,
        offset: u64,
        len: u64,
    ) -> Option<Vec<u8>> {
        let file = File::open(format!("/proc/{}/fd/{fd}", tracee.tid)).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        self.model
            .before(id_of(&meta), &file, offset, len)
            .ok()
            .flatten()
    }
}

impl Drop for UnsyncedWrites {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}
