//! A run's copy of the work directory, made in this process: what `cp -a`
//! keeps (contents, modes, owners when fault may set them, access and
//! modification times to the nanosecond, symlinks as they are, hard links
//! as links, FIFOs and device nodes, extended attributes and with them
//! ACLs), without starting a process for each run. On a small work
//! directory `cp -a` costs a third of a short program's run: its start
//! and its loading, not its copying.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::{self, DirBuilder, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{lchown, symlink, DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::AT_FDCWD;
use nix::sys::stat::{mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;

/// Copy the directory `source` to `dest`, which must not exist yet.
pub(super) fn tree(source: &Path, dest: &Path) -> io::Result<()> {
    let mut copier = Copier {
        // SAFETY: geteuid has no preconditions and cannot fail.
        owners: unsafe { libc::geteuid() } == 0,
        linked: HashMap::new(),
    };
    copier.directory(
        source,
        dest,
        &fs::symlink_metadata(source).map_err(at(source))?,
    )
}

/// The state of one copy: which inodes were copied where, for hard links.
struct Copier {
    /// fault runs as root and keeps each file's owner, as `cp -a` does.
    owners: bool,
    /// Files with several links: the copy of each (device, inode) so far.
    linked: HashMap<(u64, u64), PathBuf>,
}

impl Copier {
    /// A directory and everything in it. It is made writable while it is
    /// filled, then given its mode and times.
    fn directory(&mut self, source: &Path, dest: &Path, meta: &Metadata) -> io::Result<()> {
        DirBuilder::new()
            .mode(0o700)
            .create(dest)
            .map_err(at(dest))?;
        for entry in fs::read_dir(source).map_err(at(source))? {
            let entry = entry.map_err(at(source))?;
            let from = entry.path();
            let to = dest.join(entry.file_name());
            let meta = fs::symlink_metadata(&from).map_err(at(&from))?;
            self.entry(&from, &to, &meta)?;
        }
        self.keep_metadata(source, dest, meta)
    }

    fn entry(&mut self, from: &Path, to: &Path, meta: &Metadata) -> io::Result<()> {
        let kind = meta.file_type();
        if kind.is_dir() {
            return self.directory(from, to, meta);
        }
        if !kind.is_symlink() && meta.nlink() > 1 {
            if let Some(first) = self.linked.get(&(meta.dev(), meta.ino())) {
                return fs::hard_link(first, to).map_err(at(to));
            }
            self.linked
                .insert((meta.dev(), meta.ino()), to.to_path_buf());
        }
        if kind.is_symlink() {
            symlink(fs::read_link(from).map_err(at(from))?, to).map_err(at(to))?;
        } else if kind.is_file() {
            fs::copy(from, to).map_err(at(from))?;
        } else {
            let kind = if kind.is_fifo() {
                SFlag::S_IFIFO
            } else if kind.is_char_device() {
                SFlag::S_IFCHR
            } else if kind.is_block_device() {
                SFlag::S_IFBLK
            } else {
                SFlag::S_IFSOCK
            };
            mknod(to, kind, Mode::from_bits_truncate(meta.mode()), meta.rdev())
                .map_err(|e| at(to)(e.into()))?;
        }
        self.keep_metadata(from, to, meta)
    }

    /// Owner (when fault may set it), then the mode (a new owner clears
    /// set-user-id bits), extended attributes, and last the times, which
    /// any change before would move.
    fn keep_metadata(&self, from: &Path, to: &Path, meta: &Metadata) -> io::Result<()> {
        if self.owners {
            lchown(to, Some(meta.uid()), Some(meta.gid())).map_err(at(to))?;
        }
        if !meta.file_type().is_symlink() {
            fs::set_permissions(to, fs::Permissions::from_mode(meta.mode() & 0o7777))
                .map_err(at(to))?;
        }
        copy_xattrs(from, to);
        let atime = TimeSpec::new(meta.atime(), meta.atime_nsec());
        let mtime = TimeSpec::new(meta.mtime(), meta.mtime_nsec());
        utimensat(
            AT_FDCWD,
            to,
            &atime,
            &mtime,
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(|e| at(to)(e.into()))
    }
}

/// Copy the extended attributes (ACLs among them) `from` has, where `to`'s
/// file system takes them; as `cp -a`, a file system that takes none, or an
/// attribute only the kernel may set, is no error.
fn copy_xattrs(from: &Path, to: &Path) {
    let (Ok(from), Ok(to)) = (
        CString::new(from.as_os_str().as_bytes()),
        CString::new(to.as_os_str().as_bytes()),
    ) else {
        return;
    };
    let names = xattr_bytes(|buf, len| {
        // SAFETY: `from` is a C string; `buf` holds `len` bytes (or is null
        // with 0, to ask for the size).
        unsafe { libc::llistxattr(from.as_ptr(), buf.cast(), len) }
    });
    for name in names.split(|&b| b == 0).filter(|name| !name.is_empty()) {
        let Ok(name) = CString::new(name) else {
            continue;
        };
        let value = xattr_bytes(|buf, len| {
            // SAFETY: as above, with `name` a C string.
            unsafe { libc::lgetxattr(from.as_ptr(), name.as_ptr(), buf.cast(), len) }
        });
        // SAFETY: C strings, and a buffer of `value.len()` bytes.
        unsafe {
            libc::lsetxattr(
                to.as_ptr(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
    }
}

/// The bytes a list/get-xattr call gives: asked for their size, then read
/// (empty on any error).
fn xattr_bytes(call: impl Fn(*mut u8, usize) -> isize) -> Vec<u8> {
    let size = call(std::ptr::null_mut(), 0);
    if size <= 0 {
        return Vec::new();
    }
    let mut buf = vec![0u8; size as usize];
    match call(buf.as_mut_ptr(), buf.len()) {
        n if n >= 0 => {
            buf.truncate(n as usize);
            buf
        }
        _ => Vec::new(),
    }
}

/// An error naming the path it happened at.
fn at(path: &Path) -> impl Fn(io::Error) -> io::Error + '_ {
    move |e| io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_copy_keeps_contents_modes_times_links_and_symlinks() {
        let scratch = std::env::temp_dir().join(format!("fault-copy-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&scratch);
        let source = scratch.join("source");
        fs::create_dir_all(source.join("sub/deeper")).unwrap();
        fs::write(source.join("data.txt"), b"some data").unwrap();
        fs::write(source.join("sub/deeper/ro.txt"), b"read only").unwrap();
        fs::set_permissions(
            source.join("sub/deeper/ro.txt"),
            fs::Permissions::from_mode(0o444),
        )
        .unwrap();
        fs::hard_link(source.join("data.txt"), source.join("sub/again.txt")).unwrap();
        symlink("../data.txt", source.join("sub/link")).unwrap();
        nix::unistd::mkfifo(&source.join("pipe"), Mode::from_bits_truncate(0o600)).unwrap();
        let old = TimeSpec::new(1_000_000_000, 123_456_789);
        utimensat(
            AT_FDCWD,
            &source.join("data.txt"),
            &old,
            &old,
            UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();
        fs::set_permissions(source.join("sub/deeper"), fs::Permissions::from_mode(0o555)).unwrap();
        utimensat(
            AT_FDCWD,
            &source.join("sub"),
            &old,
            &old,
            UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();

        let dest = scratch.join("dest");
        tree(&source, &dest).unwrap();

        assert_eq!(fs::read(dest.join("data.txt")).unwrap(), b"some data");
        assert_eq!(
            fs::read(dest.join("sub/deeper/ro.txt")).unwrap(),
            b"read only"
        );
        let meta = |p: &str| fs::symlink_metadata(dest.join(p)).unwrap();
        assert_eq!(meta("sub/deeper/ro.txt").mode() & 0o7777, 0o444);
        assert_eq!(meta("sub/deeper").mode() & 0o7777, 0o555);
        assert_eq!(
            (meta("data.txt").mtime(), meta("data.txt").mtime_nsec()),
            (1_000_000_000, 123_456_789)
        );
        assert_eq!(
            meta("sub").mtime(),
            1_000_000_000,
            "a directory's time outlives its filling"
        );
        assert_eq!(
            meta("data.txt").ino(),
            meta("sub/again.txt").ino(),
            "hard links stay links"
        );
        assert_eq!(
            fs::read_link(dest.join("sub/link")).unwrap(),
            Path::new("../data.txt")
        );
        assert!(meta("pipe").file_type().is_fifo());
        assert!(
            tree(&source, &dest).is_err(),
            "an existing destination is refused"
        );

        fs::set_permissions(source.join("sub/deeper"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(dest.join("sub/deeper"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::remove_dir_all(&scratch).unwrap();
    }
}
