//! Which files a tracee's call touches: fds, path arguments and mappings.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use super::Tracee;
use crate::arch::classes::{fd_args, fd_when_path_null, mapping_args, path_args, PathArg};
use crate::model::Call;

/// The longest path the kernel accepts, NUL included.
const PATH_MAX: usize = 4096;

/// What one thread's path arguments and descriptors resolved to, kept
/// while one event is handled: the stages of a chain and the engine ask for
/// the same paths of the same call, and each answer costs a look into the
/// tracee (`process_vm_readv`, a `readlink` in `/proc`).
#[derive(Default)]
struct Resolved {
    tid: i32,
    /// The C string at an address, as read (a rule's name check and the
    /// full resolution read the same one).
    strings: Answers<u64, Rc<[u8]>>,
    /// `(dirfd, addr)` of a path argument, and its absolute path.
    paths: Answers<(i32, u64)>,
    /// A descriptor and its path.
    fds: Answers<i32>,
}

/// Answers (paths, unless `V` says otherwise) for keys of type `K`.
type Answers<K, V = PathBuf> = Vec<(K, Option<V>)>;

thread_local! {
    static RESOLVED: RefCell<Resolved> = RefCell::default();
}

/// Forget the paths resolved so far: the engine calls it as each event
/// comes (the tracee ran since), and a write to a tracee's memory does.
pub fn forget_resolved() {
    RESOLVED.with_borrow_mut(|resolved| {
        resolved.strings.clear();
        resolved.paths.clear();
        resolved.fds.clear();
    });
}

/// `resolve()`'s answer for `key` of thread `tid`, kept in the list `field`
/// picks until [`forget_resolved`].
fn remembered<K: PartialEq + Copy, V: Clone>(
    tid: i32,
    key: K,
    field: fn(&mut Resolved) -> &mut Answers<K, V>,
    resolve: impl FnOnce() -> Option<V>,
) -> Option<V> {
    let known = RESOLVED.with_borrow_mut(|resolved| {
        if resolved.tid != tid {
            *resolved = Resolved {
                tid,
                ..Resolved::default()
            };
        }
        field(resolved)
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, path)| path.clone())
    });
    if let Some(path) = known {
        return path;
    }
    let path = resolve();
    RESOLVED.with_borrow_mut(|resolved| {
        if resolved.tid == tid {
            field(resolved).push((key, path.clone()));
        }
    });
    path
}

impl Tracee {
    /// The path an open file descriptor refers to, as `/proc/PID/fd` shows it
    /// (`/data/db.log`, `pipe:[123]`, `socket:[456]`).
    pub fn fd_path(&self, fd: i32) -> Option<PathBuf> {
        if fd < 0 {
            return None;
        }
        remembered(
            self.tid,
            fd,
            |resolved| &mut resolved.fds,
            || fs::read_link(self.proc_file(format_args!("fd/{fd}"))).ok(),
        )
    }

    /// The absolute path of the C string at `addr`, resolved against the
    /// directory `dirfd` refers to (`AT_FDCWD`: the working directory).
    pub fn resolve_path(&self, dirfd: i32, addr: u64) -> Option<PathBuf> {
        remembered(
            self.tid,
            (dirfd, addr),
            |resolved| &mut resolved.paths,
            || self.read_path(dirfd, addr),
        )
    }

    /// The path at `addr`, as the call passes it: read once per event.
    fn path_string(&self, addr: u64) -> Option<Rc<[u8]>> {
        remembered(
            self.tid,
            addr,
            |resolved| &mut resolved.strings,
            || self.read_c_string_as(addr, PATH_MAX).ok(),
        )
    }

    fn read_path(&self, dirfd: i32, addr: u64) -> Option<PathBuf> {
        let raw = self.path_string(addr)?;
        let path = Path::new(OsStr::from_bytes(&raw));
        if path.is_absolute() {
            return Some(normalize(path));
        }
        let base = if dirfd == libc::AT_FDCWD {
            super::cwd::of(self)?
        } else {
            self.fd_path(dirfd)?
        };
        Some(resolve_path_at(&base, path))
    }

    /// Whether `call` can only touch files whose last names `wanted`
    /// refuses: it names files by path arguments alone (not by fd or by
    /// address, which only resolving tells), and the last component of each
    /// argument, read without resolving its directory (no `readlink` of a
    /// dirfd), is the last component of the path it resolves to. `false`
    /// when an argument has no last name (`..`, an empty path) or cannot be
    /// read.
    pub fn path_arg_names_refused(&self, call: &Call, wanted: impl Fn(&OsStr) -> bool) -> bool {
        let Some(sysno) = call.sysno() else {
            return false;
        };
        if !fd_args(sysno).is_empty() || !mapping_args(sysno).is_empty() {
            return false;
        }
        path_args(sysno).iter().all(|arg| {
            self.path_string(call.args[arg.path()])
                .is_some_and(|raw| last_name(&raw).is_some_and(|name| !wanted(name)))
        })
    }

    /// Every path `call` touches: its path arguments (made absolute), the
    /// paths of its fd arguments, and the files mapped at its address
    /// arguments (`msync`'s), in that order.
    pub fn call_paths(&self, call: &Call) -> Vec<PathBuf> {
        let Some(sysno) = call.sysno() else {
            return Vec::new();
        };
        let mut paths = Vec::new();
        for arg in path_args(sysno) {
            paths.extend(self.path_arg(call, *arg));
        }
        for &i in fd_args(sysno) {
            paths.extend(self.fd_path(call.args[i] as i32));
        }
        for &i in mapping_args(sysno) {
            paths.extend(self.mapped_file(call.args[i]));
        }
        paths
    }

    /// The path argument `arg` of `call`, made absolute. `utimensat` and
    /// `futimesat` with a NULL path (`futimens`, `futimes`) change the file
    /// of their descriptor: that file's path.
    pub fn path_arg(&self, call: &Call, arg: PathArg) -> Option<PathBuf> {
        match arg {
            PathArg::Path(i) => self.resolve_path(libc::AT_FDCWD, call.args[i]),
            PathArg::At { dirfd, path } => {
                let dirfd = call.args[dirfd] as i32;
                match call.args[path] {
                    0 if call.sysno().and_then(fd_when_path_null).is_some() => self.fd_path(dirfd),
                    addr => self.resolve_path(dirfd, addr),
                }
            }
        }
    }

    /// The file mapped at `addr`, from `/proc/PID/maps` (what `msync` on
    /// that address flushes). `None` for anonymous memory.
    pub fn mapped_file(&self, addr: u64) -> Option<PathBuf> {
        let maps = fs::read_to_string(self.proc_file("maps")).ok()?;
        maps.lines().find_map(|line| mapping_at(line, addr))
    }
}

/// The file of one `/proc/PID/maps` line if its range holds `addr`.
fn mapping_at(line: &str, addr: u64) -> Option<PathBuf> {
    let mut fields = line.splitn(6, ' ');
    let (start, end) = fields.next()?.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    if !(start..end).contains(&addr) {
        return None;
    }
    let path = fields.nth(4)?.trim_start();
    path.starts_with('/').then(|| PathBuf::from(path))
}

/// Join a relative `path` onto the absolute `base` and fold `.` and `..`
/// lexically, as the kernel would if no component were a symlink.
pub fn resolve_path_at(base: &Path, path: &Path) -> PathBuf {
    let joined = base.join(path);
    if is_normal(joined.as_os_str().as_bytes()) {
        return joined;
    }
    normalize(&joined)
}

/// Whether `path` is `dir` or under it, both absolute with nothing to fold
/// (as [`resolve_path_at`] and `readlink` give them): `Path::starts_with`,
/// on the bytes.
pub fn is_within(path: &Path, dir: &Path) -> bool {
    let dir = dir.as_os_str().as_bytes();
    path.as_os_str()
        .as_bytes()
        .strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest[0] == b'/' || dir.ends_with(b"/"))
}

/// The directory and the name of the absolute `path`, which has nothing to
/// fold: `(path.parent(), path.file_name())`, on the bytes. `None` for `/`.
pub fn split_name(path: &Path) -> Option<(&Path, &OsStr)> {
    let bytes = path.as_os_str().as_bytes();
    let slash = bytes.iter().rposition(|&b| b == b'/')?;
    let name = &bytes[slash + 1..];
    let dir = if slash == 0 {
        &bytes[..1]
    } else {
        &bytes[..slash]
    };
    (!name.is_empty()).then(|| (Path::new(OsStr::from_bytes(dir)), OsStr::from_bytes(name)))
}

/// `Path::file_name` of the path whose bytes are `path`: its last
/// component, `None` for `/`, `..` or an empty path. Read from the bytes
/// after the last `/` when they are a plain name (most paths).
fn last_name(path: &[u8]) -> Option<&OsStr> {
    match path.rsplit(|&b| b == b'/').next()? {
        b"" | b"." | b".." => Path::new(OsStr::from_bytes(path)).file_name(),
        name => Some(OsStr::from_bytes(name)),
    }
}

fn normalize(path: &Path) -> PathBuf {
    if is_normal(path.as_os_str().as_bytes()) {
        return path.to_path_buf();
    }
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Whether `path` is absolute with nothing to fold: no empty, `.` or `..`
/// component and no trailing slash (most paths a program names).
fn is_normal(path: &[u8]) -> bool {
    path.first() == Some(&b'/')
        && (path.len() == 1
            || path[1..]
                .split(|&b| b == b'/')
                .all(|name| !matches!(name, b"" | b"." | b"..")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_base() {
        let base = Path::new("/srv/data");
        assert_eq!(
            resolve_path_at(base, Path::new("a.log")),
            Path::new("/srv/data/a.log")
        );
        assert_eq!(
            resolve_path_at(base, Path::new("../x/./y")),
            Path::new("/srv/x/y")
        );
        assert_eq!(
            resolve_path_at(base, Path::new("/etc//hostname")),
            Path::new("/etc/hostname")
        );
    }

    #[test]
    fn a_path_is_within_itself_and_its_directories_alone() {
        for (path, dir, within) in [
            ("/data/db", "/data", true),
            ("/data", "/data", true),
            ("/data/db", "/", true),
            ("/", "/", true),
            ("/database", "/data", false),
            ("/data", "/data/db", false),
            ("/etc/data", "/data", false),
        ] {
            let (path, dir) = (Path::new(path), Path::new(dir));
            assert_eq!(is_within(path, dir), within, "{path:?} in {dir:?}");
            assert_eq!(path.starts_with(dir), within, "{path:?} in {dir:?}");
        }
    }

    #[test]
    fn a_path_splits_into_its_directory_and_name_as_std_splits_it() {
        for path in ["/", "/etc", "/etc/hostname", "/a/b/c.d"] {
            let path = Path::new(path);
            let std = path.parent().zip(path.file_name());
            assert_eq!(split_name(path), std, "{path:?}");
        }
    }

    #[test]
    fn a_written_path_ends_in_the_name_std_gives_it() {
        let paths = [
            "", "/", "a", "/a", "a/b", "a/b/", "a//b//", "a/.", "a/./", "./a", ".", "..", "a/..",
            "/..", "a/.b", "a/..b", "a/...", "//",
        ];
        for path in paths {
            let std = Path::new(path).file_name();
            assert_eq!(last_name(path.as_bytes()), std, "{path:?}");
        }
    }

    #[test]
    fn only_paths_with_nothing_to_fold_are_kept_as_they_are() {
        for path in ["/", "/etc/hostname", "/a/.b/c..d/...", "/srv/data/x.log"] {
            assert!(is_normal(path.as_bytes()), "{path}");
            assert_eq!(normalize(Path::new(path)), Path::new(path));
        }
        for (path, folded) in [
            ("/etc/", "/etc"),
            ("//etc", "/etc"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/a/b/..", "/a"),
            ("/a/.", "/a"),
            ("/..", "/"),
        ] {
            assert!(!is_normal(path.as_bytes()), "{path}");
            assert_eq!(normalize(Path::new(path)), Path::new(folded), "{path}");
        }
        assert!(!is_normal(b"relative/path"));
    }

    #[test]
    fn a_path_is_resolved_once_per_event_and_thread() {
        let resolutions = std::cell::Cell::new(0);
        let resolve = || {
            resolutions.set(resolutions.get() + 1);
            Some(PathBuf::from("/data/a"))
        };
        let fd_of = |tid, fd| remembered(tid, fd, |resolved| &mut resolved.fds, resolve);
        forget_resolved();
        assert_eq!(fd_of(7, 3), Some(PathBuf::from("/data/a")));
        assert_eq!(fd_of(7, 3), Some(PathBuf::from("/data/a")));
        assert_eq!(resolutions.get(), 1, "asked again within one event");
        fd_of(7, 4);
        fd_of(8, 3);
        assert_eq!(
            resolutions.get(),
            3,
            "another fd or thread is another question"
        );
        fd_of(7, 3);
        assert_eq!(
            resolutions.get(),
            4,
            "the other thread's answers replaced these"
        );
        forget_resolved();
        fd_of(7, 3);
        assert_eq!(resolutions.get(), 5, "a new event asks anew");
    }

    #[test]
    fn maps_lines_name_the_file_holding_an_address() {
        let line = "7f0000000000-7f0000002000 rw-s 00000000 fd:01 1234     /data/db.map";
        assert_eq!(
            mapping_at(line, 0x7f0000001000),
            Some(PathBuf::from("/data/db.map"))
        );
        assert_eq!(mapping_at(line, 0x7f0000002000), None);
        let anon = "7f0000000000-7f0000002000 rw-p 00000000 00:00 0 ";
        assert_eq!(mapping_at(anon, 0x7f0000000000), None);
    }
}
