//! Typed readers for the structs system calls pass by pointer, as the
//! x86_64 kernel lays them out in the traced process (not as they are laid
//! out in the plugin, which is wasm32): `iovec` (`readv`, `writev`),
//! `msghdr` (`sendmsg`, `recvmsg`), `sockaddr` (`connect`, `bind`,
//! `sendto`), `timespec` (`nanosleep`, `clock_nanosleep`, `futex`) and
//! `stat` (`fstat`, `newfstatat`, after the call ran). They read through
//! [`Call::read_memory`], so they work only while fi asks about the call.

use crate::{Call, TraceeError};

/// One `struct iovec`: a buffer of the caller's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoVec {
    /// Where the buffer starts in the caller's memory.
    pub base: u64,
    /// Its length in bytes.
    pub len: u64,
}

impl IoVec {
    /// The (address, length) pieces of `buffers` that hold bytes `first` to
    /// `first + len` of what they hold together (a vectored call's bytes
    /// `first..first + len`).
    pub fn pieces(buffers: &[IoVec], mut first: u64, mut len: u64) -> Vec<(u64, u64)> {
        let mut pieces = Vec::new();
        for buffer in buffers {
            if len == 0 {
                break;
            }
            if first >= buffer.len {
                first -= buffer.len;
                continue;
            }
            let take = (buffer.len - first).min(len);
            pieces.push((buffer.base + first, take));
            len -= take;
            first = 0;
        }
        pieces
    }
}

/// A `struct msghdr`, without what its pointers point to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgHdr {
    /// The address of the peer's `sockaddr` (0 for none).
    pub name: u64,
    /// Its length in bytes.
    pub name_len: u32,
    /// The address of the `iovec` array ([`Call::read_iovecs`]).
    pub iov: u64,
    /// How many `iovec`s it holds.
    pub iov_len: u64,
    /// The address of the ancillary data.
    pub control: u64,
    /// Its length in bytes.
    pub control_len: u64,
    /// The `MSG_*` flags.
    pub flags: i32,
}

/// A socket address, by family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SockAddr {
    /// `AF_UNIX`: a path, or an abstract name (shown with a leading `@`, as
    /// `ss` does).
    Unix(String),
    /// `AF_INET`: an IPv4 address and port.
    Inet(std::net::SocketAddrV4),
    /// `AF_INET6`: an IPv6 address and port.
    Inet6(std::net::SocketAddrV6),
    /// Another family, by number, and the bytes after it.
    Other(u16, Vec<u8>),
}

/// A `struct timespec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timespec {
    /// Whole seconds.
    pub sec: i64,
    /// Nanoseconds, 0 to 999 999 999 in a valid one.
    pub nsec: i64,
}

/// The fields of a `struct stat` policies look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// The device the file is on.
    pub dev: u64,
    /// Its inode number.
    pub ino: u64,
    /// Its number of hard links.
    pub nlink: u64,
    /// Its type and permission bits (`S_IFMT`, `0o777`).
    pub mode: u32,
    /// Its owner.
    pub uid: u32,
    /// Its group.
    pub gid: u32,
    /// Its size in bytes.
    pub size: i64,
    /// The time of its last modification.
    pub mtime: Timespec,
}

/// The most bytes of a `sockaddr` read: `sizeof(struct sockaddr_storage)`.
const SOCKADDR_MAX: u32 = 128;

/// Little-endian fields of a struct read from the caller.
struct Fields(Vec<u8>);

impl Fields {
    fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes(self.0[at..at + 2].try_into().unwrap())
    }
    fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.0[at..at + 4].try_into().unwrap())
    }
    fn u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.0[at..at + 8].try_into().unwrap())
    }
    fn i64(&self, at: usize) -> i64 {
        self.u64(at) as i64
    }
    fn timespec(&self, at: usize) -> Timespec {
        Timespec {
            sec: self.i64(at),
            nsec: self.i64(at + 8),
        }
    }
}

impl Call {
    fn fields(&self, addr: u64, len: u32) -> Result<Fields, TraceeError> {
        self.read_memory(addr, len).map(Fields)
    }

    /// The `count` `iovec`s at `addr` (the 2nd and 3rd arguments of
    /// `writev`).
    pub fn read_iovecs(&self, addr: u64, count: u32) -> Result<Vec<IoVec>, TraceeError> {
        let fields = self.fields(addr, count.saturating_mul(16))?;
        Ok((0..count as usize)
            .map(|i| IoVec {
                base: fields.u64(i * 16),
                len: fields.u64(i * 16 + 8),
            })
            .collect())
    }

    /// The `msghdr` at `addr` (the 2nd argument of `sendmsg`).
    pub fn read_msghdr(&self, addr: u64) -> Result<MsgHdr, TraceeError> {
        let f = self.fields(addr, 56)?;
        Ok(MsgHdr {
            name: f.u64(0),
            name_len: f.u32(8),
            iov: f.u64(16),
            iov_len: f.u64(24),
            control: f.u64(32),
            control_len: f.u64(40),
            flags: f.u32(48) as i32,
        })
    }

    /// The `sockaddr` of `len` bytes at `addr` (the 2nd and 3rd arguments
    /// of `connect`); at most 128 bytes are read.
    pub fn read_sockaddr(&self, addr: u64, len: u32) -> Result<SockAddr, TraceeError> {
        let bytes = self.read_memory(addr, len.clamp(2, SOCKADDR_MAX))?;
        let f = Fields(bytes);
        let family = f.u16(0);
        let body = &f.0[2..];
        let port = |f: &Fields| u16::from_be_bytes([f.0[2], f.0[3]]);
        Ok(match (i32::from(family), f.0.len()) {
            (1, _) => {
                let (abstract_name, name) = match body.split_first() {
                    Some((0, rest)) => (true, rest),
                    _ => (false, body),
                };
                let end = if abstract_name {
                    name.len()
                } else {
                    name.iter().position(|&b| b == 0).unwrap_or(name.len())
                };
                let name = String::from_utf8_lossy(&name[..end]);
                SockAddr::Unix(if abstract_name {
                    format!("@{name}")
                } else {
                    name.into_owned()
                })
            }
            (2, 8..) => SockAddr::Inet(std::net::SocketAddrV4::new(
                std::net::Ipv4Addr::new(f.0[4], f.0[5], f.0[6], f.0[7]),
                port(&f),
            )),
            (10, 28..) => {
                let ip: [u8; 16] = f.0[8..24].try_into().unwrap();
                SockAddr::Inet6(std::net::SocketAddrV6::new(
                    ip.into(),
                    port(&f),
                    u32::from_be_bytes(f.0[4..8].try_into().unwrap()),
                    f.u32(24),
                ))
            }
            _ => SockAddr::Other(family, body.to_vec()),
        })
    }

    /// The `timespec` at `addr` (the 1st argument of `nanosleep`).
    pub fn read_timespec(&self, addr: u64) -> Result<Timespec, TraceeError> {
        Ok(self.fields(addr, 16)?.timespec(0))
    }

    /// The `stat` at `addr` (the 2nd argument of `fstat`, filled in once the
    /// call ran: read it in `on_exit`).
    pub fn read_stat(&self, addr: u64) -> Result<Stat, TraceeError> {
        let f = self.fields(addr, 144)?;
        Ok(Stat {
            dev: f.u64(0),
            ino: f.u64(8),
            nlink: f.u64(16),
            mode: f.u32(24),
            uid: f.u32(28),
            gid: f.u32(32),
            size: f.i64(48),
            mtime: f.timespec(88),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeCall;
    use crate::Sysno;

    #[test]
    fn pieces_follow_the_buffers() {
        let buffers = [IoVec { base: 100, len: 4 }, IoVec { base: 200, len: 6 }];
        assert_eq!(IoVec::pieces(&buffers, 2, 5), vec![(102, 2), (200, 3)]);
        assert_eq!(IoVec::pieces(&buffers, 4, 10), vec![(200, 6)]);
    }

    fn le(fields: &[u64]) -> Vec<u8> {
        fields.iter().flat_map(|f| f.to_le_bytes()).collect()
    }

    #[test]
    fn iovecs_msghdr_and_timespec_are_read_field_by_field() {
        let call = FakeCall::new(Sysno::sendmsg)
            .memory(0x1000, &le(&[0x2000, 5, 0x3000, 7]))
            .memory(0x4000, &le(&[0x5000, 16, 0x1000, 2, 0, 0, 0x40]))
            .memory(0x6000, &le(&[3, 500_000_000]))
            .call();
        let iovecs = call.read_iovecs(0x1000, 2).unwrap();
        assert_eq!(
            iovecs,
            [
                IoVec {
                    base: 0x2000,
                    len: 5
                },
                IoVec {
                    base: 0x3000,
                    len: 7
                }
            ]
        );
        let msg = call.read_msghdr(0x4000).unwrap();
        assert_eq!(
            (msg.name, msg.name_len, msg.iov, msg.iov_len),
            (0x5000, 16, 0x1000, 2)
        );
        assert_eq!(msg.flags, 0x40);
        assert_eq!(
            call.read_timespec(0x6000).unwrap(),
            Timespec {
                sec: 3,
                nsec: 500_000_000
            }
        );
        assert!(call.read_timespec(0x9000).is_err(), "unmapped memory");
    }

    #[test]
    fn sockaddrs_are_read_by_family() {
        let inet = [2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut inet6 = vec![10, 0, 0, 80, 0, 0, 0, 0];
        inet6.extend(std::net::Ipv6Addr::LOCALHOST.octets());
        inet6.extend(0u32.to_le_bytes());
        let unix = b"\x01\x00/run/db.sock\x00";
        let abstract_unix = b"\x01\x00\x00name";
        let call = FakeCall::new(Sysno::connect)
            .memory(0x1000, &inet)
            .memory(0x2000, &inet6)
            .memory(0x3000, unix)
            .memory(0x4000, abstract_unix)
            .call();
        assert_eq!(
            call.read_sockaddr(0x1000, 16).unwrap(),
            SockAddr::Inet("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(
            call.read_sockaddr(0x2000, 28).unwrap(),
            SockAddr::Inet6("[::1]:80".parse().unwrap())
        );
        assert_eq!(
            call.read_sockaddr(0x3000, unix.len() as u32).unwrap(),
            SockAddr::Unix("/run/db.sock".into())
        );
        assert_eq!(
            call.read_sockaddr(0x4000, abstract_unix.len() as u32)
                .unwrap(),
            SockAddr::Unix("@name".into())
        );
    }

    #[test]
    fn stat_fields_are_at_the_x86_64_offsets() {
        let mut stat = le(&[7, 42, 1]);
        stat.extend(0o100644u32.to_le_bytes());
        stat.extend(1000u32.to_le_bytes());
        stat.extend(100u32.to_le_bytes());
        stat.extend([0; 4]);
        stat.extend(le(&[
            0,
            4096,
            4096,
            8,
            1,
            0,
            1_700_000_000,
            5,
            0,
            0,
            0,
            0,
            0,
        ]));
        assert_eq!(stat.len(), 144);
        let call = FakeCall::new(Sysno::fstat).memory(0x1000, &stat).call();
        let read = call.read_stat(0x1000).unwrap();
        assert_eq!((read.dev, read.ino, read.nlink), (7, 42, 1));
        assert_eq!((read.mode, read.uid, read.gid), (0o100644, 1000, 100));
        assert_eq!(read.size, 4096);
        assert_eq!(
            read.mtime,
            Timespec {
                sec: 1_700_000_000,
                nsec: 5
            }
        );
    }
}
