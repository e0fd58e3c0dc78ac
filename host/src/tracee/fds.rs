//! What kind of file a tracee's descriptor is, with its flags, size and
//! offset, and which signals the tracee handles: what a policy needs to
//! know which errors the kernel could really return for a call.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use super::Tracee;

/// The kind of file a descriptor refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdKind {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A pipe or FIFO.
    Pipe,
    /// A socket.
    Socket,
    /// A character device.
    CharacterDevice,
    /// A block device.
    BlockDevice,
    /// An anonymous inode (eventfd, timerfd, signalfd, epoll, ...).
    Anonymous,
    /// Anything else (a symlink opened with `O_PATH`, ...).
    Other,
}

/// One open descriptor of a tracee, from `/proc/PID/fd/N` and
/// `/proc/PID/fdinfo/N`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdInfo {
    /// The kind of file.
    pub kind: FdKind,
    /// The link's text (`/data/db.log`, `pipe:[123]`), if readable.
    pub path: Option<String>,
    /// `O_NONBLOCK` is set.
    pub nonblocking: bool,
    /// `O_APPEND` is set.
    pub append: bool,
    /// The file's size in bytes, as `fstat` gives it.
    pub size: u64,
    /// The descriptor's file offset.
    pub position: u64,
}

impl Tracee {
    /// The open descriptor `fd` of the thread; `None` if it is not open.
    pub fn fd_info(&self, fd: i32) -> Option<FdInfo> {
        if fd < 0 {
            return None;
        }
        let link = self.proc_file(format_args!("fd/{fd}"));
        let fdinfo = fs::read_to_string(self.proc_file(format_args!("fdinfo/{fd}"))).ok()?;
        let (flags, position) = parse_fdinfo(&fdinfo)?;
        let path = self
            .fd_path(fd)
            .map(|path| path.to_string_lossy().into_owned());
        // stat through the magic link reaches the open file itself: a pipe
        // or a socket too, and a file deleted since it was opened.
        let metadata = fs::metadata(&link).ok();
        let kind = match (&path, &metadata) {
            (Some(path), _) if path.starts_with("anon_inode:") => FdKind::Anonymous,
            (_, Some(metadata)) => kind_of(metadata.file_type()),
            (_, None) => FdKind::Other,
        };
        Some(FdInfo {
            kind,
            path,
            nonblocking: flags & libc::O_NONBLOCK as u32 != 0,
            append: flags & libc::O_APPEND as u32 != 0,
            size: metadata.map_or(0, |metadata| metadata.size()),
            position,
        })
    }

    /// Whether the thread's process has a handler installed for `signal`
    /// (its bit in `SigCgt` of `/proc/PID/status`).
    pub fn signal_handled(&self, signal: u8) -> bool {
        let Ok(status) = fs::read_to_string(self.proc_file("status")) else {
            return false;
        };
        caught_signals(&status).is_some_and(|mask| handles(mask, signal))
    }
}

fn kind_of(file_type: fs::FileType) -> FdKind {
    if file_type.is_file() {
        FdKind::Regular
    } else if file_type.is_dir() {
        FdKind::Directory
    } else if file_type.is_fifo() {
        FdKind::Pipe
    } else if file_type.is_socket() {
        FdKind::Socket
    } else if file_type.is_char_device() {
        FdKind::CharacterDevice
    } else if file_type.is_block_device() {
        FdKind::BlockDevice
    } else {
        FdKind::Other
    }
}

/// The `flags:` (octal) and `pos:` (decimal) of a `/proc/PID/fdinfo/N`.
fn parse_fdinfo(text: &str) -> Option<(u32, u64)> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    let flags = u32::from_str_radix(field("flags")?, 8).ok()?;
    let position = field("pos")?.parse().ok()?;
    Some((flags, position))
}

/// The `SigCgt:` mask (hexadecimal) of a `/proc/PID/status`.
fn caught_signals(status: &str) -> Option<u64> {
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("SigCgt:"))?;
    u64::from_str_radix(mask.trim(), 16).ok()
}

/// Whether `signal` (1 to 64) is set in a signal mask, where bit 0 is
/// signal 1.
fn handles(mask: u64, signal: u8) -> bool {
    (1..=64).contains(&signal) && mask & (1 << (signal - 1)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom, Write};
    use std::os::fd::AsRawFd;

    fn me() -> Tracee {
        let pid = std::process::id() as i32;
        Tracee { pid, tid: pid }
    }

    #[test]
    fn fdinfo_gives_the_flags_and_the_offset() {
        let text = "pos:\t4096\nflags:\t02004002\nmnt_id:\t29\nino:\t1234\n";
        let (flags, pos) = parse_fdinfo(text).unwrap();
        assert_eq!(pos, 4096);
        assert_ne!(flags & libc::O_NONBLOCK as u32, 0);
        assert_eq!(flags & libc::O_APPEND as u32, 0);
        assert_eq!(parse_fdinfo("pos:\t1\n"), None);
    }

    #[test]
    fn sigcgt_bit_zero_is_signal_one() {
        let status = "Name:\tx\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000004002\n";
        let mask = caught_signals(status).unwrap();
        assert!(handles(mask, libc::SIGINT as u8));
        assert!(handles(mask, libc::SIGTERM as u8));
        assert!(!handles(mask, libc::SIGPIPE as u8));
        assert!(!handles(mask, 0));
        assert!(!handles(mask, 65));
    }

    #[test]
    fn a_real_file_pipe_and_socket_are_told_apart() {
        let dir = std::env::temp_dir().join(format!("fi-fds-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data");
        let mut file = fs::OpenOptions::new()
            .create_new(true)
            .read(true)
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"hello world").unwrap();
        file.seek(SeekFrom::Start(5)).unwrap();
        let info = me().fd_info(file.as_raw_fd()).unwrap();
        assert_eq!(info.kind, FdKind::Regular);
        assert_eq!(info.path.as_deref(), Some(path.to_str().unwrap()));
        assert!(info.append && !info.nonblocking);
        assert_eq!((info.size, info.position), (11, 5));

        let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_NONBLOCK).unwrap();
        let info = me().fd_info(reader.as_raw_fd()).unwrap();
        assert_eq!(info.kind, FdKind::Pipe);
        assert!(info.nonblocking && !info.append);
        drop(writer);

        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(me().fd_info(a.as_raw_fd()).unwrap().kind, FdKind::Socket);
        let null = fs::File::open("/dev/null").unwrap();
        let kind = me().fd_info(null.as_raw_fd()).unwrap().kind;
        assert_eq!(kind, FdKind::CharacterDevice);

        let closed = file.as_raw_fd();
        drop(file);
        assert_eq!(me().fd_info(closed), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}
