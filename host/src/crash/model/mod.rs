//! The durability model: from each call under the root, as it enters, what
//! it will change and what undoes it (read from the files before the call
//! runs); when it returns, whether it did, and what it made durable.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use syscalls::{Sysno, SysnoSet};

mod data;
mod entries;
mod mapping;

use super::fs::{Fs, FsSet};
use super::log::{Change, Entry, EntryChange, FileId, Log};
use super::store::Store;
use crate::model::Call;
use crate::tracee::Tracee;

/// The calls the model follows: those of the data ([`followed_data`]),
/// and those of mappings, names and closes.
pub(crate) fn followed() -> SysnoSet {
    use Sysno::*;
    followed_data().union(&SysnoSet::new(&[
        mmap,
        msync,
        munmap,
        open,
        openat,
        openat2,
        creat,
        mkdir,
        mkdirat,
        mknod,
        mknodat,
        symlink,
        symlinkat,
        link,
        linkat,
        unlink,
        unlinkat,
        rmdir,
        rename,
        renameat,
        renameat2,
        // Where a file is closed: the last close of a file truncated to
        // zero flushes it on ext4 (`release`).
        close,
        close_range,
        dup2,
        dup3,
        exit_group,
    ]))
}

/// The calls that change or sync a file's data, which a model of the data
/// alone ([`Model::for_files`]) follows.
pub(crate) fn followed_data() -> SysnoSet {
    use Sysno::*;
    SysnoSet::new(&[
        write,
        pwrite64,
        writev,
        pwritev,
        pwritev2,
        ftruncate,
        truncate,
        fallocate,
        copy_file_range,
        sendfile,
        splice,
        fsync,
        fdatasync,
        sync,
        syncfs,
    ])
}

/// Which files a model of the data alone follows.
pub(crate) type FileFilter = Box<dyn Fn(&Path) -> bool + Send>;

/// What a call will make durable once it returns successfully.
#[derive(Debug)]
enum Sync {
    /// A file's fsync (`true`) or fdatasync.
    File(FileId, bool),
    Dir(PathBuf),
    All,
}

/// What to do when a followed call returns.
#[derive(Debug)]
enum Pending {
    /// A data change logged at entry: trim it to what was written, or
    /// forget it if the call failed.
    Data { id: u64, requested: u64 },
    /// An entry change logged at entry: forget it if the call failed.
    Entry { id: u64 },
    /// A name that will exist if the call succeeds.
    Create {
        path: PathBuf,
        syscall: &'static str,
    },
    /// A sync.
    Sync(Sync),
    /// A shared writable mapping, whose snapshot is logged as change `id`.
    Map { id: u64, mapping: Mapping },
    /// A name that crosses the root's edge (a file moved in from outside, a
    /// directory moved out), which no crash undoes: noted if the call
    /// succeeds.
    Crossed { note: String },
}

/// An open file of the tracee's, seen through `/proc`.
struct FdFile {
    path: PathBuf,
    file: File,
    meta: fs::Metadata,
    flags: i32,
    pos: u64,
}

/// A shared, writable mapping of a file under the root: what the program
/// writes through it is invisible, so the mapped range is taken as
/// rewritten from its snapshot at the mapping (or the file's last sync) on.
#[derive(Debug)]
pub(super) struct Mapping {
    /// The file mapped.
    pub(super) file: FileId,
    /// Its path when mapped.
    pub(super) path: PathBuf,
    /// The mapped range's offset in the file.
    pub(super) offset: u64,
    /// The mapped range's length.
    pub(super) len: u64,
    /// Where it is mapped in the tracee (once `mmap` returned).
    pub(super) addr: u64,
}

/// The model of one run: the root it follows and the unsynced changes.
pub(crate) struct Model {
    root: PathBuf,
    /// The root's identity when the run started.
    root_id: Option<FileId>,
    scratch: PathBuf,
    pub(crate) store: Store,
    pub(crate) log: Log,
    pending: HashMap<i32, Pending>,
    /// Copies of removed files kept across file systems, by the identity of
    /// the file they copy.
    pub(crate) copies: HashMap<FileId, PathBuf>,
    /// Files and directories moved into the root from outside, by identity:
    /// the rewrite never removes them.
    pub(crate) moved_in: HashSet<FileId>,
    kept: u64,
    mappings: Vec<Mapping>,
    /// Files truncated to zero, by the id of that change: their last close
    /// ties the writes since to it (ext4's `auto_da_alloc`).
    truncated: HashMap<FileId, u64>,
    /// Things the model saw but could not follow, once each.
    pub(crate) notes: Vec<String>,
    /// For a model of the data alone: the files it follows, wherever they
    /// are (the root is then `/`, and directory entries, mappings and
    /// opens are not followed).
    files: Option<FileFilter>,
}

impl Model {
    /// A model of the files under `root` (absolute, resolved), keeping what
    /// it needs in `scratch`, at most `budget` bytes of it in memory.
    pub(crate) fn new(root: PathBuf, scratch: PathBuf, budget: u64) -> Model {
        Model {
            store: Store::new(budget, &scratch),
            root_id: fs::metadata(&root).ok().map(|meta| id_of(&meta)),
            root,
            scratch,
            log: Log::default(),
            pending: HashMap::new(),
            copies: HashMap::new(),
            moved_in: HashSet::new(),
            kept: 0,
            mappings: Vec::new(),
            truncated: HashMap::new(),
            notes: Vec::new(),
            files: None,
        }
    }

    /// A model of the data of the regular files `files` accepts, wherever
    /// they are: their writes, truncations and syncs
    /// ([`followed_data`]), not directory entries or mappings.
    pub(crate) fn for_files(files: FileFilter, scratch: PathBuf, budget: u64) -> Model {
        Model {
            files: Some(files),
            ..Model::new(PathBuf::from("/"), scratch, budget)
        }
    }

    /// The `len` bytes at `offset` of `file` (open as `current`) as they
    /// were before the last unsynced write to each: the bytes a write
    /// overwrote, zeros where the file was shorter, the current bytes
    /// where no unsynced write reached. `None` when none did.
    pub(crate) fn before(
        &self,
        file: FileId,
        current: &File,
        offset: u64,
        len: u64,
    ) -> io::Result<Option<Vec<u8>>> {
        use std::os::unix::fs::FileExt;
        let end = offset.saturating_add(len);
        let mut bytes = vec![0; len as usize];
        let mut known = vec![false; len as usize];
        let mut any = false;
        // The newest write covering a byte held the byte it overwrote.
        for change in self.log.changes().rev() {
            let Change::Data(d) = change else { continue };
            let (from, to) = (offset.max(d.offset), end.min(d.offset + d.len));
            if d.file != file || !d.content || from >= to {
                continue;
            }
            any = true;
            let saved_end = to.min(d.offset + d.old.len());
            let old = if from < saved_end {
                self.store
                    .chunk(&d.old, from - d.offset, (saved_end - from) as usize)?
            } else {
                Vec::new()
            };
            for at in from..to {
                let i = (at - offset) as usize;
                if !known[i] {
                    known[i] = true;
                    bytes[i] = old.get((at - from) as usize).copied().unwrap_or(0);
                }
            }
        }
        if !any {
            return Ok(None);
        }
        let mut now = vec![0; len as usize];
        let mut got = 0;
        while got < now.len() {
            match current.read_at(&mut now[got..], offset + got as u64)? {
                0 => break,
                n => got += n,
            }
        }
        for (i, byte) in now.into_iter().enumerate() {
            if !known[i] {
                bytes[i] = byte;
            }
        }
        Ok(Some(bytes))
    }

    /// The root.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Why the files under the root cannot be rewritten, if the root's path
    /// no longer leads to the directory the run started with (the program
    /// renamed it away, or put something else in its place): its files are
    /// then elsewhere, outside the root.
    pub(crate) fn root_replaced(&self) -> Option<String> {
        let now = fs::symlink_metadata(&self.root)
            .ok()
            .filter(fs::Metadata::is_dir)
            .map(|meta| id_of(&meta));
        (now.is_none() || now != self.root_id).then(|| {
            format!(
                "the root {} was renamed or replaced during the run: nothing was rewritten \
                 (give a --root above the directories the program renames)",
                self.root.display()
            )
        })
    }

    /// `call` enters: log what it will change. Whether it is a durability
    /// point (it writes, syncs or changes an entry under the root).
    pub(crate) fn enter(&mut self, call: &Call, tracee: &Tracee) -> bool {
        let pending = match self.classify(call, tracee) {
            Ok(pending) => pending,
            Err(e) => {
                self.note(format!("{}: {e}", call.name()));
                None
            }
        };
        // A mapping is followed, but mapping a file changes nothing yet.
        let durable = pending
            .as_ref()
            .is_some_and(|p| !matches!(p, Pending::Map { .. }));
        if let Some(pending) = pending {
            self.pending.insert(call.tid, pending);
        }
        durable
    }

    /// The call thread `tid` entered returned `result`.
    pub(crate) fn exit(&mut self, tid: i32, result: i64) {
        let Some(pending) = self.pending.remove(&tid) else {
            return;
        };
        let failed = result < 0;
        match pending {
            // A failed write may have been merged into earlier appends:
            // take back only its own bytes.
            Pending::Data { id, requested } if failed && requested > 0 => {
                self.trim(id, requested, 0)
            }
            Pending::Data { id, .. } | Pending::Entry { id } | Pending::Map { id, .. }
                if failed =>
            {
                self.log.remove(id, &mut self.store)
            }
            _ if failed => {}
            Pending::Data { id, requested } => self.trim(id, requested, result as u64),
            Pending::Entry { .. } => {}
            Pending::Create { path, syscall } => {
                let dirs = parent_of(&path).into_iter().collect();
                self.log.push(Change::Entry(EntryChange {
                    entry: Entry::Created { path },
                    syscall,
                    dirs,
                }));
            }
            Pending::Crossed { note } => self.note(note),
            Pending::Map { mut mapping, .. } => {
                mapping.addr = result as u64;
                self.mappings.push(mapping);
            }
            Pending::Sync(Sync::File(file, fsync)) => {
                // fdatasync commits metadata only if the data needs it.
                let resized = self.log.changes().any(
                    |c| matches!(c, Change::Data(d) if d.file == file && d.new_size != d.old_size),
                );
                if fsync || resized {
                    self.commit_journal();
                }
                self.log_names_of(file);
                self.log.sync_file(file, &mut self.store);
                self.snapshot_mappings(Some(file));
            }
            Pending::Sync(Sync::Dir(dir)) => {
                self.commit_journal();
                let logged = FsSet::of(Fs::fsync_logs_names);
                self.log.durable_on(
                    logged,
                    |c| matches!(c, Change::Entry(e) if e.dirs.contains(&dir)),
                );
                self.sync_dir(&dir);
            }
            Pending::Sync(Sync::All) => {
                self.log.sync_all(&mut self.store);
                self.snapshot_mappings(None);
            }
        }
    }

    /// An fsync on a file system with one metadata journal commits it:
    /// every entry and size change so far is durable there.
    fn commit_journal(&mut self) {
        self.log
            .durable_on(FsSet::of(Fs::journal_commits), |c| match c {
                Change::Entry(_) => true,
                Change::Data(d) => !d.content,
            });
    }

    /// A file's fsync on a file system that logs the file alone (btrfs)
    /// makes the entries that name it durable: its creation or the rename
    /// to its name, and the creation of the directories above it.
    fn log_names_of(&mut self, file: FileId) {
        let named = |c: &Change| match c {
            Change::Entry(EntryChange {
                entry: Entry::Created { path } | Entry::Renamed { to: path, .. },
                ..
            }) => Some(path.clone()),
            _ => None,
        };
        let names: Vec<PathBuf> = self
            .log
            .changes()
            .filter_map(named)
            .filter(|path| fs::symlink_metadata(path).is_ok_and(|m| id_of(&m) == file))
            .collect();
        if names.is_empty() {
            return;
        }
        self.log.durable_on(FsSet::of(Fs::fsync_logs_names), |c| {
            named(c).is_some_and(|path| names.iter().any(|name| name.starts_with(&path)))
        });
    }

    /// Thread `tid` is gone; a call it had entered never returned (it may
    /// have run: its change stays logged).
    pub(crate) fn thread_gone(&mut self, tid: i32) {
        self.pending.remove(&tid);
    }

    fn note(&mut self, note: String) {
        if self.notes.len() < 20 && !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// A write of `requested` bytes wrote `written`.
    fn trim(&mut self, id: u64, requested: u64, written: u64) {
        if written >= requested {
            return;
        }
        let Some(Change::Data(change)) = self.log.get_mut(id) else {
            return;
        };
        change.len = change.len.saturating_sub(requested - written);
        change.new_size = change.old_size.max(change.offset + change.len);
        let old_len = change
            .len
            .min(change.old_size.saturating_sub(change.offset));
        self.store.shorten(&mut change.old, old_len);
        if change.len == 0 {
            self.log.remove(id, &mut self.store);
        }
    }

    fn under_root(&self, path: &Path) -> bool {
        match &self.files {
            Some(files) => files(path),
            None => path.starts_with(&self.root),
        }
    }

    /// What `call` will do under the root, logging the changes it makes.
    fn classify(&mut self, call: &Call, tracee: &Tracee) -> io::Result<Option<Pending>> {
        use Sysno::*;
        let Some(sysno) = call.sysno() else {
            return Ok(None);
        };
        if self.files.is_some() && !followed_data().contains(sysno) {
            return Ok(None);
        }
        let a = call.args;
        let fd = |i: usize| a[i] as i32;
        let len_at = |i: usize| a[i];
        Ok(match sysno {
            write => self.write(tracee, call, fd(0), None, len_at(2), false)?,
            pwrite64 => self.write(tracee, call, fd(0), Some(a[3]), len_at(2), false)?,
            writev => {
                let len = iovec_len(tracee, a[1], a[2])?;
                self.write(tracee, call, fd(0), None, len, false)?
            }
            pwritev => {
                let len = iovec_len(tracee, a[1], a[2])?;
                self.write(tracee, call, fd(0), Some(a[3]), len, false)?
            }
            pwritev2 => {
                let len = iovec_len(tracee, a[1], a[2])?;
                let flags = a[5] as i32;
                let offset = (a[3] as i64 >= 0 && flags & libc::RWF_APPEND == 0).then_some(a[3]);
                let durable = flags & (libc::RWF_DSYNC | libc::RWF_SYNC) != 0;
                self.write(tracee, call, fd(0), offset, len, durable)?
            }
            copy_file_range | splice => {
                let offset = match a[3] {
                    0 => None,
                    ptr => Some(read_u64(tracee, ptr)?),
                };
                self.write(tracee, call, fd(2), offset, len_at(4), false)?
            }
            sendfile => self.write(tracee, call, fd(0), None, len_at(3), false)?,
            ftruncate => match self.fd_file(tracee, fd(0))? {
                Some(f) if f.meta.is_file() => self.resize(call, f, a[1])?,
                _ => None,
            },
            truncate => match self.path_arg(tracee, libc::AT_FDCWD, a[0]) {
                Some(path) => match open_file(&path) {
                    Some(f) => self.resize(call, f, a[1])?,
                    None => None,
                },
                None => None,
            },
            fallocate => self.fallocate(tracee, call)?,
            open | creat => {
                let flags = if sysno == creat {
                    libc::O_CREAT | libc::O_TRUNC
                } else {
                    a[1] as i32
                };
                self.open(tracee, call, libc::AT_FDCWD, a[0], flags)?
            }
            openat => self.open(tracee, call, fd(0), a[1], a[2] as i32)?,
            openat2 => {
                let flags = read_u64(tracee, a[2])? as i32;
                self.open(tracee, call, fd(0), a[1], flags)?
            }
            mkdir | mknod => self.create(tracee, call, libc::AT_FDCWD, a[0]),
            mkdirat | mknodat => self.create(tracee, call, fd(0), a[1]),
            symlink => self.create(tracee, call, libc::AT_FDCWD, a[1]),
            symlinkat => self.create(tracee, call, fd(1), a[2]),
            link => self.create(tracee, call, libc::AT_FDCWD, a[1]),
            linkat => self.create(tracee, call, fd(2), a[3]),
            unlink => self.remove(tracee, call, libc::AT_FDCWD, a[0], false)?,
            rmdir => self.remove(tracee, call, libc::AT_FDCWD, a[0], true)?,
            unlinkat => {
                let dir = a[2] as i32 & libc::AT_REMOVEDIR != 0;
                self.remove(tracee, call, fd(0), a[1], dir)?
            }
            rename => self.rename(
                tracee,
                call,
                [libc::AT_FDCWD, libc::AT_FDCWD],
                [a[0], a[1]],
                0,
            )?,
            renameat => self.rename(tracee, call, [fd(0), fd(2)], [a[1], a[3]], 0)?,
            renameat2 => self.rename(tracee, call, [fd(0), fd(2)], [a[1], a[3]], a[4] as u32)?,
            mmap => self.map(tracee, a)?,
            msync => self.msync(tracee, a[0], a[2] as i32),
            munmap => {
                // What was written stays dirty (and unsynced) in the page
                // cache; only later writes cannot come.
                self.mappings.retain(|m| m.addr != a[0]);
                None
            }
            fsync | fdatasync => match self.fd_file(tracee, fd(0))? {
                Some(f) if f.meta.is_dir() => Some(Pending::Sync(Sync::Dir(f.path))),
                Some(f) => Some(Pending::Sync(Sync::File(id_of(&f.meta), sysno == fsync))),
                None => None,
            },
            // Closing changes nothing yet, and is no durability point.
            close => {
                self.release(tracee, |fd| fd == a[0]);
                None
            }
            close_range if a[2] as u32 & libc::CLOSE_RANGE_CLOEXEC == 0 => {
                self.release(tracee, |fd| (a[0]..=a[1]).contains(&fd));
                None
            }
            // dup2(old, new) closes new, unless old is new.
            dup2 | dup3 if a[0] != a[1] => {
                self.release(tracee, |fd| fd == a[1]);
                None
            }
            exit_group => {
                self.release(tracee, |_| true);
                None
            }
            sync => Some(Pending::Sync(Sync::All)),
            syncfs => {
                let same_fs = match fs::metadata(format!("/proc/{}/fd/{}", tracee.tid, fd(0))) {
                    Ok(meta) => fs::metadata(&self.root).is_ok_and(|r| r.dev() == meta.dev()),
                    Err(_) => false,
                };
                same_fs.then_some(Pending::Sync(Sync::All))
            }
            _ => None,
        })
    }

    /// The file behind the tracee's `fd`, if it is under the root.
    fn fd_file(&self, tracee: &Tracee, fd: i32) -> io::Result<Option<FdFile>> {
        let Some(path) = tracee.fd_path(fd) else {
            return Ok(None);
        };
        if !self.under_root(&path) {
            return Ok(None);
        }
        let proc_path = format!("/proc/{}/fd/{fd}", tracee.tid);
        // Stat before opening: opening a FIFO to read would wait for a writer.
        let meta = fs::metadata(&proc_path)?;
        if !meta.is_file() && !meta.is_dir() {
            return Ok(None);
        }
        let file = File::open(&proc_path)?;
        let info = fs::read_to_string(format!("/proc/{}/fdinfo/{fd}", tracee.tid))?;
        let field = |name: &str| {
            info.lines()
                .find_map(|line| line.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        let pos = field("pos:").and_then(|v| v.parse().ok()).unwrap_or(0);
        let flags = field("flags:")
            .and_then(|v| i32::from_str_radix(&v, 8).ok())
            .unwrap_or(0);
        Ok(Some(FdFile {
            path,
            file,
            meta,
            flags,
            pos,
        }))
    }

    /// The path argument at `addr` (relative to `dirfd`), with its
    /// directory's symlinks resolved, if it names something inside the root
    /// (the root's own name is in its parent, outside).
    fn path_arg(&self, tracee: &Tracee, dirfd: i32, addr: u64) -> Option<PathBuf> {
        let path = resolved_path(tracee, dirfd, addr)?;
        (self.under_root(&path) && path != self.root).then_some(path)
    }
}

/// A file's identity.
pub(crate) fn id_of(meta: &fs::Metadata) -> FileId {
    (meta.dev(), meta.ino())
}

/// The path argument at `addr` (relative to `dirfd`), with its directory's
/// symlinks resolved, wherever it is.
fn resolved_path(tracee: &Tracee, dirfd: i32, addr: u64) -> Option<PathBuf> {
    let path = tracee.resolve_path(dirfd, addr)?;
    Some(match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => parent.canonicalize().map(|p| p.join(name)).unwrap_or(path),
        _ => path,
    })
}

fn parent_of(path: &Path) -> Option<PathBuf> {
    path.parent().map(Path::to_path_buf)
}

/// The regular file at `path`, opened to read, as an [`FdFile`].
fn open_file(path: &Path) -> Option<FdFile> {
    if !fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let file = OpenOptions::new().read(true).open(path).ok()?;
    let meta = file.metadata().ok()?;
    meta.is_file().then(|| FdFile {
        path: path.to_path_buf(),
        file,
        meta,
        flags: 0,
        pos: 0,
    })
}

fn syscall_name(call: &Call) -> &'static str {
    call.sysno().map_or("syscall", |s| s.name())
}

/// The total length of the `count` iovecs at `addr` in the tracee.
fn iovec_len(tracee: &Tracee, addr: u64, count: u64) -> io::Result<u64> {
    let count = count.min(1024) as usize;
    let raw = tracee.read_memory(addr, count * 16)?;
    Ok(raw
        .chunks_exact(16)
        .map(|iov| u64::from_ne_bytes(iov[8..16].try_into().expect("8 bytes")))
        .fold(0u64, u64::saturating_add))
}

fn read_u64(tracee: &Tracee, addr: u64) -> io::Result<u64> {
    let raw = tracee.read_memory(addr, 8)?;
    Ok(u64::from_ne_bytes(raw[..8].try_into().expect("8 bytes")))
}
