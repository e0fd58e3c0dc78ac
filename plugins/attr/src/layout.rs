//! Where the lied-about fields are in the structs the kernel fills, as
//! x86_64 lays them out: `struct stat` (`stat`, `lstat`, `fstat`,
//! `newfstatat`), `struct statx` and `struct statfs` (`statfs`, `fstatfs`).

use fi_sdk::{Call, Sysno, TraceeError};

/// The struct a call fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Stat,
    Statx,
    Statfs,
}

/// A field a lie replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Size,
    Blocks,
    Mtime,
    Mode,
    Nlink,
    Free,
}

/// The file type bits of a mode (`S_IFMT`), which a mode lie keeps.
const S_IFMT: u64 = 0o170000;

impl Layout {
    /// The buffer `call` fills and its layout; `None` for another call.
    pub fn of(call: &Call) -> Option<(u64, Layout)> {
        match call.sysno() {
            Sysno::stat | Sysno::lstat | Sysno::fstat => Some((call.arg(1), Layout::Stat)),
            Sysno::newfstatat => Some((call.arg(2), Layout::Stat)),
            Sysno::statx => Some((call.arg(4), Layout::Statx)),
            Sysno::statfs | Sysno::fstatfs => Some((call.arg(1), Layout::Statfs)),
            _ => None,
        }
    }

    /// (offset, size in bytes) of `field`; `None` if this struct has none.
    fn place(self, field: Field) -> Option<(u64, u32)> {
        match (self, field) {
            // struct stat: st_nlink at 16, st_mode at 24, st_size at 48,
            // st_blocks at 64, st_mtim at 88.
            (Layout::Stat, Field::Nlink) => Some((16, 8)),
            (Layout::Stat, Field::Mode) => Some((24, 4)),
            (Layout::Stat, Field::Size) => Some((48, 8)),
            (Layout::Stat, Field::Blocks) => Some((64, 8)),
            (Layout::Stat, Field::Mtime) => Some((88, 8)),
            // struct statx: stx_nlink at 16, stx_mode at 28, stx_size at
            // 40, stx_blocks at 48, stx_mtime at 112.
            (Layout::Statx, Field::Nlink) => Some((16, 4)),
            (Layout::Statx, Field::Mode) => Some((28, 2)),
            (Layout::Statx, Field::Size) => Some((40, 8)),
            (Layout::Statx, Field::Blocks) => Some((48, 8)),
            (Layout::Statx, Field::Mtime) => Some((112, 8)),
            _ => None,
        }
    }

    /// Write `value` as `field` into the struct at `buffer` in the caller's
    /// memory; false if this struct has no such field.
    pub fn write(
        self,
        call: &Call,
        buffer: u64,
        field: Field,
        value: u64,
    ) -> Result<bool, TraceeError> {
        if self == Layout::Statfs {
            return if field == Field::Free {
                write_free(call, buffer, value).map(|()| true)
            } else {
                Ok(false)
            };
        }
        let Some((offset, size)) = self.place(field) else {
            return Ok(false);
        };
        let value = if field == Field::Mode {
            (read(call, buffer + offset, size)? & S_IFMT) | value
        } else {
            value
        };
        call.write_memory(buffer + offset, &value.to_le_bytes()[..size as usize])?;
        if field == Field::Mtime {
            // The nanoseconds after the seconds: zero, for a whole second.
            let nanos = match self {
                Layout::Stat => 8,
                _ => 4,
            };
            call.write_memory(buffer + offset + 8, &vec![0; nanos])?;
        }
        Ok(true)
    }
}

/// Set a `struct statfs`'s free and available blocks (at 24 and 32) to
/// `bytes`, in its fragment size (at 72; its block size, at 8, if that is
/// zero).
fn write_free(call: &Call, buffer: u64, bytes: u64) -> Result<(), TraceeError> {
    let fragment = read(call, buffer + 72, 8)?;
    let unit = if fragment > 0 {
        fragment
    } else {
        read(call, buffer + 8, 8)?.max(1)
    };
    let blocks = (bytes / unit).to_le_bytes();
    call.write_memory(buffer + 24, &blocks)?;
    call.write_memory(buffer + 32, &blocks)
}

/// The little-endian number of `size` bytes at `addr`.
fn read(call: &Call, addr: u64, size: u32) -> Result<u64, TraceeError> {
    let bytes = call.read_memory(addr, size)?;
    let mut wide = [0u8; 8];
    wide[..bytes.len()].copy_from_slice(&bytes);
    Ok(u64::from_le_bytes(wide))
}
