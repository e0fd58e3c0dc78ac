//! The bytes a read or write call moves: the caller's buffers, where in the
//! file they go, and changing them in the caller's memory.

use fi_sdk::{Call, FdKind, IoVec, Sysno};

/// The most `iovec`s a vectored call may pass (`IOV_MAX`).
const IOV_MAX: u64 = 1024;

/// What a read or write call on a regular file moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// The file's path.
    pub path: String,
    /// The file offset of the first byte.
    pub offset: u64,
    /// The caller's buffers, in order.
    pub buffers: Vec<IoVec>,
    /// The call names its offset (`pread64`, `pwritev`): it leaves the
    /// descriptor's offset alone.
    pub positioned: bool,
    /// The descriptor was opened with `O_APPEND`.
    pub append: bool,
}

impl Transfer {
    /// What `call` moves, if it reads or writes a regular file. Ask before
    /// the call runs: the offset of a `read` or `write` is the descriptor's
    /// one then.
    pub fn of(call: &Call) -> Option<Transfer> {
        let sysno = call.sysno();
        let vectored = matches!(
            sysno,
            Sysno::readv
                | Sysno::preadv
                | Sysno::preadv2
                | Sysno::writev
                | Sysno::pwritev
                | Sysno::pwritev2
        );
        let positioned = matches!(
            sysno,
            Sysno::pread64
                | Sysno::preadv
                | Sysno::preadv2
                | Sysno::pwrite64
                | Sysno::pwritev
                | Sysno::pwritev2
        );
        let info = call.fd_info(call.arg(0) as i32)?;
        if info.kind != FdKind::Regular {
            return None;
        }
        let buffers = if vectored {
            call.read_iovecs(call.arg(1), call.arg(2).min(IOV_MAX) as u32)
                .ok()?
        } else {
            vec![IoVec {
                base: call.arg(1),
                len: call.arg(2),
            }]
        };
        let is_write = matches!(
            sysno,
            Sysno::write | Sysno::pwrite64 | Sysno::writev | Sysno::pwritev | Sysno::pwritev2
        );
        let offset = if positioned {
            call.arg(3)
        } else if is_write && info.append {
            info.size
        } else {
            info.position
        };
        Some(Transfer {
            path: info.path.unwrap_or_default(),
            offset,
            buffers,
            positioned,
            append: info.append,
        })
    }

    /// The bytes the call asks to move.
    pub fn len(&self) -> u64 {
        self.buffers
            .iter()
            .fold(0u64, |sum, buffer| sum.saturating_add(buffer.len))
    }

    /// The caller's address of byte `index` of the transfer.
    pub fn address(&self, mut index: u64) -> Option<u64> {
        for buffer in &self.buffers {
            if index < buffer.len {
                return Some(buffer.base + index);
            }
            index -= buffer.len;
        }
        None
    }

    /// The (address, length) pieces of the buffers that hold bytes `first`
    /// to `first + len` of the transfer.
    pub fn pieces(&self, first: u64, len: u64) -> Vec<(u64, u64)> {
        IoVec::pieces(&self.buffers, first, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer(lens: &[u64]) -> Transfer {
        let mut base = 0x1000;
        let buffers = lens
            .iter()
            .map(|&len| {
                let buffer = IoVec { base, len };
                base += 0x1000;
                buffer
            })
            .collect();
        Transfer {
            path: "/f".into(),
            offset: 0,
            buffers,
            positioned: false,
            append: false,
        }
    }

    #[test]
    fn bytes_map_to_the_buffers_in_order() {
        let t = transfer(&[4, 0, 6]);
        assert_eq!(t.len(), 10);
        assert_eq!(t.address(0), Some(0x1000));
        assert_eq!(t.address(5), Some(0x3001));
        assert_eq!(t.address(10), None);
        assert_eq!(t.pieces(2, 5), vec![(0x1002, 2), (0x3000, 3)]);
        assert_eq!(t.pieces(4, 6), vec![(0x3000, 6)]);
    }
}
