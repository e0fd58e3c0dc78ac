//! Flag, mode and constant arguments by name, as strace prints them:
//! `O_WRONLY|O_CREAT|O_TRUNC`, `0644`, `PROT_READ|PROT_WRITE`, `SEEK_END`,
//! `AF_INET`, `SIGUSR1`. The values come from the `libc` crate.

use syscalls::Sysno;

/// Named values of one flag family, in the order strace prints them.
type Names = &'static [(&'static str, u64)];

/// `(name, value)` pairs for libc constants, by the constants' names.
macro_rules! names {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), libc::$name as u64)),*]
    };
}

/// `open` access modes (the `O_ACCMODE` bits).
const OPEN_ACCESS: Names = names![O_RDONLY, O_WRONLY, O_RDWR];
/// The other `open` flags; combined flags (`O_SYNC`, `O_TMPFILE`) come
/// before the flags they contain.
const OPEN_FLAGS: Names = names![
    O_CREAT,
    O_EXCL,
    O_NOCTTY,
    O_TRUNC,
    O_APPEND,
    O_NONBLOCK,
    O_SYNC,
    O_DSYNC,
    O_ASYNC,
    O_DIRECT,
    O_LARGEFILE,
    O_NOFOLLOW,
    O_NOATIME,
    O_CLOEXEC,
    O_TMPFILE,
    O_DIRECTORY,
    O_PATH,
];
const PROT: Names = names![
    PROT_READ,
    PROT_WRITE,
    PROT_EXEC,
    PROT_GROWSDOWN,
    PROT_GROWSUP
];
/// `mmap` mapping types (the low four bits of the flags).
const MAP_TYPE: Names = names![MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE];
const MAP_TYPE_MASK: u64 = 0xf;
const MAP_FLAGS: Names = names![
    MAP_FIXED,
    MAP_ANONYMOUS,
    MAP_32BIT,
    MAP_GROWSDOWN,
    MAP_DENYWRITE,
    MAP_EXECUTABLE,
    MAP_LOCKED,
    MAP_NORESERVE,
    MAP_POPULATE,
    MAP_NONBLOCK,
    MAP_STACK,
    MAP_HUGETLB,
    MAP_SYNC,
    MAP_FIXED_NOREPLACE,
];
const MSYNC: Names = names![MS_ASYNC, MS_INVALIDATE, MS_SYNC];
const SYNC_FILE_RANGE: Names = names![
    SYNC_FILE_RANGE_WAIT_BEFORE,
    SYNC_FILE_RANGE_WRITE,
    SYNC_FILE_RANGE_WAIT_AFTER,
];
const RENAME: Names = names![RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT];
const AT: Names = names![
    AT_SYMLINK_NOFOLLOW,
    AT_REMOVEDIR,
    AT_SYMLINK_FOLLOW,
    AT_NO_AUTOMOUNT,
    AT_EMPTY_PATH,
    AT_STATX_FORCE_SYNC,
    AT_STATX_DONT_SYNC,
];
/// `faccessat2` reads `AT_REMOVEDIR`'s bit as `AT_EACCESS`.
const AT_ACCESS: Names = names![AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH];
const ACCESS: Names = names![R_OK, W_OK, X_OK];
const WHENCE: Names = names![SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE];
const DOMAIN: Names =
    names![AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNSPEC, AF_VSOCK, AF_ALG,];
const SOCK_KIND: Names = names![SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_RDM, SOCK_SEQPACKET];
const SOCK_KIND_MASK: u64 = 0xf;
const SOCK_FLAGS: Names = names![SOCK_CLOEXEC, SOCK_NONBLOCK];
const IP_PROTOCOL: Names = names![
    IPPROTO_IP,
    IPPROTO_ICMP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    IPPROTO_IPV6,
    IPPROTO_ICMPV6,
    IPPROTO_SCTP,
    IPPROTO_RAW,
];

/// How one argument is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    OpenFlags,
    Mode,
    Prot,
    MapFlags,
    Msync,
    SyncFileRange,
    Rename,
    At,
    AtAccess,
    Access,
    Whence,
    Domain,
    SocketType,
    Protocol,
    Signal,
    /// A size strace prints in decimal however large.
    Size,
    /// An address or offset: `NULL` or hex for addresses, hex offsets.
    Address,
    Offset,
}

fn kind(sysno: Sysno, index: usize) -> Option<Kind> {
    use Kind::*;
    use Sysno as S;
    Some(match (sysno, index) {
        (S::open, 1) | (S::openat, 2) => OpenFlags,
        (S::open, 2) | (S::openat, 3) | (S::creat, 1) => Mode,
        (S::mkdir | S::chmod | S::fchmod, 1) | (S::mkdirat | S::fchmodat | S::mknodat, 2) => Mode,
        (S::mknod, 1) => Mode,
        (S::mmap, 0) | (S::munmap | S::mprotect | S::msync, 0) => Address,
        (S::mmap | S::munmap | S::mprotect | S::msync, 1) => Size,
        (S::mmap | S::mprotect, 2) => Prot,
        (S::mmap, 3) => MapFlags,
        (S::mmap, 5) => Offset,
        (S::msync, 2) => Msync,
        (S::sync_file_range, 3) => SyncFileRange,
        (S::renameat2, 4) => Rename,
        (S::unlinkat | S::statx, 2) => At,
        (S::newfstatat | S::utimensat | S::fchmodat2, 3) => At,
        (S::linkat | S::fchownat | S::execveat | S::name_to_handle_at, 4) => At,
        (S::faccessat2, 3) => AtAccess,
        (S::access, 1) | (S::faccessat | S::faccessat2, 2) => Access,
        (S::lseek, 2) => Whence,
        (S::socket | S::socketpair, 0) => Domain,
        (S::socket | S::socketpair, 1) => SocketType,
        (S::socket | S::socketpair, 2) => Protocol,
        (S::kill | S::tkill | S::pidfd_send_signal | S::rt_sigqueueinfo, 1) => Signal,
        (S::tgkill | S::rt_tgsigqueueinfo, 2) | (S::rt_sigaction, 0) => Signal,
        _ => return None,
    })
}

/// How many arguments strace shows for this call, when fewer than the
/// syscall takes: `open` and `openat` show a mode only when they create.
pub fn shown_count(sysno: Sysno, args: &[u64; 6]) -> Option<usize> {
    let flags_at = match sysno {
        Sysno::open => 1,
        Sysno::openat => 2,
        _ => return None,
    };
    let flags = args[flags_at];
    let tmpfile = libc::O_TMPFILE as u64;
    let creates = flags & libc::O_CREAT as u64 != 0 || flags & tmpfile == tmpfile;
    (!creates).then_some(flags_at + 1)
}

/// Argument `index` of a call to `sysno` by name, for the arguments
/// strace decodes.
pub fn argument(sysno: Sysno, index: usize, args: &[u64; 6]) -> Option<String> {
    let value = args[index];
    let int = value as u32 as u64;
    Some(match kind(sysno, index)? {
        Kind::OpenFlags => {
            let access = value & libc::O_ACCMODE as u64;
            let rest = value & !(libc::O_ACCMODE as u64) & 0xffff_ffff;
            let mut text = one_of(access, OPEN_ACCESS);
            if rest != 0 {
                text.push('|');
                text.push_str(&flags(rest, OPEN_FLAGS));
            }
            text
        }
        Kind::Mode => format!("0{int:02o}"),
        Kind::Prot if int == 0 => "PROT_NONE".to_string(),
        Kind::Prot => flags(int, PROT),
        Kind::MapFlags => {
            let mut text = one_of(int & MAP_TYPE_MASK, MAP_TYPE);
            if int & !MAP_TYPE_MASK != 0 {
                text.push('|');
                text.push_str(&flags(int & !MAP_TYPE_MASK, MAP_FLAGS));
            }
            text
        }
        Kind::Msync => flags(int, MSYNC),
        Kind::SyncFileRange => flags(int, SYNC_FILE_RANGE),
        Kind::Rename => flags(int, RENAME),
        Kind::At => flags(int, AT),
        Kind::AtAccess => flags(int, AT_ACCESS),
        Kind::Access if int == 0 => "F_OK".to_string(),
        Kind::Access => flags(int, ACCESS),
        Kind::Whence => one_of(int, WHENCE),
        Kind::Domain => one_of(int, DOMAIN),
        Kind::SocketType => {
            let mut text = one_of(int & SOCK_KIND_MASK, SOCK_KIND);
            if int & !SOCK_KIND_MASK != 0 {
                text.push('|');
                text.push_str(&flags(int & !SOCK_KIND_MASK, SOCK_FLAGS));
            }
            text
        }
        Kind::Protocol => {
            let domain = args[0] as i32;
            if domain == libc::AF_INET || domain == libc::AF_INET6 {
                one_of(int, IP_PROTOCOL)
            } else {
                int.to_string()
            }
        }
        Kind::Signal => signal(int as i32),
        Kind::Size => value.to_string(),
        Kind::Address if value == 0 => "NULL".to_string(),
        Kind::Address => format!("{value:#x}"),
        Kind::Offset if value == 0 => "0".to_string(),
        Kind::Offset => format!("{value:#x}"),
    })
}

/// `SIGUSR1`, or the number for 0 and unknown signals.
pub fn signal(number: i32) -> String {
    nix::sys::signal::Signal::try_from(number)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| number.to_string())
}

/// The name of `value` among `names`, or its number.
fn one_of(value: u64, names: Names) -> String {
    names
        .iter()
        .find(|&&(_, v)| v == value)
        .map_or_else(|| value.to_string(), |&(name, _)| name.to_string())
}

/// `A|B|0x40`: the names whose bits are all set in `value`, in table
/// order, and any bits left over in hex; `0` for none.
fn flags(value: u64, names: Names) -> String {
    let mut left = value;
    let mut parts = Vec::new();
    for &(name, bits) in names {
        if bits != 0 && left & bits == bits {
            parts.push(name.to_string());
            left &= !bits;
        }
    }
    if left != 0 {
        parts.push(format!("{left:#x}"));
    } else if parts.is_empty() {
        parts.push("0".to_string());
    }
    parts.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(sysno: Sysno, args: [u64; 6]) -> Vec<String> {
        let count =
            shown_count(sysno, &args).unwrap_or_else(|| crate::arch::classes::arg_count(sysno));
        (0..count)
            .map(|i| argument(sysno, i, &args).unwrap_or_else(|| args[i].to_string()))
            .collect()
    }

    // The expected strings are what strace 6 printed for the same calls.
    #[test]
    fn open_flags_and_mode_read_like_strace() {
        let creat =
            (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND | libc::O_CLOEXEC)
                as u64;
        let args = [0, 0, creat, 0o644, 0, 0];
        assert_eq!(
            shown(Sysno::openat, args)[2..],
            ["O_WRONLY|O_CREAT|O_TRUNC|O_APPEND|O_CLOEXEC", "0644"]
        );
        let dir = (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_DIRECTORY) as u64;
        let shown_dir = shown(Sysno::openat, [0, 0, dir, 0, 0, 0]);
        assert_eq!(shown_dir.len(), 3, "no mode without O_CREAT");
        assert_eq!(shown_dir[2], "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY");
        let tmp = (libc::O_RDWR | libc::O_TMPFILE) as u64;
        assert_eq!(
            shown(Sysno::open, [0, tmp, 0o600, 0, 0, 0])[1..],
            ["O_RDWR|O_TMPFILE", "0600"]
        );
    }

    #[test]
    fn mmap_reads_like_strace() {
        let prot = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let map = (libc::MAP_SHARED | libc::MAP_ANONYMOUS) as u64;
        let args = [0, 100000, prot, map, u64::MAX, 0];
        let text = shown(Sysno::mmap, args);
        assert_eq!(
            text[..4],
            [
                "NULL",
                "100000",
                "PROT_READ|PROT_WRITE",
                "MAP_SHARED|MAP_ANONYMOUS"
            ]
        );
        assert_eq!(text[5], "0");
        let map = (libc::MAP_PRIVATE | libc::MAP_FIXED | libc::MAP_DENYWRITE) as u64;
        let args = [
            0x7f74_27ee_2000,
            28672,
            libc::PROT_READ as u64,
            map,
            3,
            0x4000,
        ];
        let text = shown(Sysno::mmap, args);
        assert_eq!(text[0], "0x7f7427ee2000");
        assert_eq!(text[3], "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE");
        assert_eq!(text[5], "0x4000");
        assert_eq!(argument(Sysno::mprotect, 2, &[0; 6]).unwrap(), "PROT_NONE");
    }

    #[test]
    fn constants_read_like_strace() {
        let arg = |sysno, index, args: [u64; 6]| argument(sysno, index, &args).unwrap();
        assert_eq!(arg(Sysno::lseek, 2, [3, 0, 2, 0, 0, 0]), "SEEK_END");
        let stream = (libc::SOCK_STREAM | libc::SOCK_CLOEXEC) as u64;
        let inet = [libc::AF_INET as u64, stream, 0, 0, 0, 0];
        assert_eq!(
            shown(Sysno::socket, inet)[..3],
            ["AF_INET", "SOCK_STREAM|SOCK_CLOEXEC", "IPPROTO_IP"]
        );
        let unix = [libc::AF_UNIX as u64, libc::SOCK_DGRAM as u64, 0, 0, 0, 0];
        assert_eq!(
            shown(Sysno::socket, unix)[..3],
            ["AF_UNIX", "SOCK_DGRAM", "0"]
        );
        assert_eq!(
            arg(Sysno::kill, 1, [1, libc::SIGUSR1 as u64, 0, 0, 0, 0]),
            "SIGUSR1"
        );
        assert_eq!(arg(Sysno::kill, 1, [1, 0, 0, 0, 0, 0]), "0");
        assert_eq!(
            arg(Sysno::rt_sigaction, 0, [libc::SIGINT as u64, 0, 0, 0, 0, 0]),
            "SIGINT"
        );
        let nofollow = libc::AT_SYMLINK_NOFOLLOW as u64;
        assert_eq!(
            arg(Sysno::newfstatat, 3, [0, 0, 0, nofollow, 0, 0]),
            "AT_SYMLINK_NOFOLLOW"
        );
        assert_eq!(arg(Sysno::newfstatat, 3, [0; 6]), "0");
        let removedir = libc::AT_REMOVEDIR as u64;
        assert_eq!(
            arg(Sysno::unlinkat, 2, [0, 0, removedir, 0, 0, 0]),
            "AT_REMOVEDIR"
        );
        assert_eq!(
            arg(Sysno::faccessat2, 3, [0, 0, 0, removedir, 0, 0]),
            "AT_EACCESS"
        );
        assert_eq!(
            arg(Sysno::access, 1, [0, libc::R_OK as u64, 0, 0, 0, 0]),
            "R_OK"
        );
        let exchange = libc::RENAME_EXCHANGE as u64;
        assert_eq!(
            arg(Sysno::renameat2, 4, [0, 0, 0, 0, exchange, 0]),
            "RENAME_EXCHANGE"
        );
        assert_eq!(
            arg(Sysno::msync, 2, [0, 0, libc::MS_SYNC as u64, 0, 0, 0]),
            "MS_SYNC"
        );
        let write = (libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE) as u64;
        assert_eq!(
            arg(Sysno::sync_file_range, 3, [0, 0, 0, write, 0, 0]),
            "SYNC_FILE_RANGE_WAIT_BEFORE|SYNC_FILE_RANGE_WRITE"
        );
    }

    #[test]
    fn unknown_bits_stay_visible_in_hex() {
        let value = libc::MS_SYNC as u64 | 0x100;
        assert_eq!(
            argument(Sysno::msync, 2, &[0, 0, value, 0, 0, 0]).unwrap(),
            "MS_SYNC|0x100"
        );
    }
}
