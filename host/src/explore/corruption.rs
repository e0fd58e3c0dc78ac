//! `--faults corrupt`: one bit flipped in the bytes a read returned.
//!
//! Which bit is fixed by the point's id (its SHA-256), so a replay of the
//! id flips the same bit of the same bytes. What the program then did is
//! judged by [`super::classify`].

use std::fmt;

use sha2::{Digest, Sha256};
use syscalls::Sysno;

use crate::model::Call;
use crate::tracee::Tracee;

/// The most `iovec`s of a vectored read looked at (`IOV_MAX`).
const IOV_MAX: u64 = 1024;

/// The calls whose returned bytes can be corrupted.
pub fn applies_to(sysno: Sysno) -> bool {
    matches!(
        sysno,
        Sysno::read | Sysno::pread64 | Sysno::readv | Sysno::preadv | Sysno::preadv2
    )
}

/// A read about to run, to corrupt once it returned.
#[derive(Clone, Debug)]
pub struct PendingRead {
    /// The caller's buffers: (address, length).
    buffers: Vec<(u64, u64)>,
    /// The file offset of the first byte read.
    offset: u64,
}

impl PendingRead {
    /// The read `call` is about to make, from its registers and its
    /// descriptor's offset; `None` if it is no read or its buffers cannot
    /// be read.
    pub fn of(call: &Call, tracee: &Tracee) -> Option<PendingRead> {
        let sysno = call.sysno()?;
        let buffers = match sysno {
            Sysno::read | Sysno::pread64 => vec![(call.args[1], call.args[2])],
            Sysno::readv | Sysno::preadv | Sysno::preadv2 => {
                let count = call.args[2].min(IOV_MAX) as usize;
                let raw = tracee.read_memory(call.args[1], count * 16).ok()?;
                raw.chunks_exact(16)
                    .map(|iov| {
                        let word = |at: usize| {
                            u64::from_le_bytes(iov[at..at + 8].try_into().expect("8 bytes"))
                        };
                        (word(0), word(8))
                    })
                    .collect()
            }
            _ => return None,
        };
        // preadv2 with offset -1 reads at the descriptor's offset, as read.
        let offset = match sysno {
            Sysno::pread64 | Sysno::preadv => call.args[3],
            Sysno::preadv2 if call.args[3] != u64::MAX => call.args[3],
            _ => tracee.fd_info(call.args[0] as i32)?.position,
        };
        Some(PendingRead { buffers, offset })
    }

    /// Flip the bit `id` chooses among the `returned` bytes, in the
    /// caller's memory; what changed, or `None` if nothing could be.
    pub fn corrupt(&self, tracee: &Tracee, returned: u64, id: &str) -> Option<Corruption> {
        if returned == 0 {
            return None;
        }
        let bit = chosen_bit(id, returned);
        let mut index = bit / 8;
        let address = self.buffers.iter().find_map(|&(base, len)| {
            if index < len {
                Some(base + index)
            } else {
                index -= len;
                None
            }
        })?;
        let old = *tracee.read_memory(address, 1).ok()?.first()?;
        let new = old ^ (1 << (bit % 8));
        tracee.write_memory(address, &[new]).ok()?;
        Some(Corruption {
            offset: self.offset + bit / 8,
            bit: (bit % 8) as u8,
            old,
            new,
        })
    }
}

/// The bit of `len` bytes that the point `id` flips.
fn chosen_bit(id: &str, len: u64) -> u64 {
    let digest = Sha256::digest(id.as_bytes());
    let seed = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
    seed % (len * 8)
}

/// The byte a corrupted read changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corruption {
    /// Its offset in the file.
    pub offset: u64,
    /// The flipped bit, 0 (lowest) to 7.
    pub bit: u8,
    /// What the file holds.
    pub old: u8,
    /// What the program was given.
    pub new: u8,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bit {} of the byte at offset {} flipped (0x{:02x} -> 0x{:02x})",
            self.bit, self.offset, self.old, self.new
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_fixes_the_bit() {
        let a = chosen_bit("read:store.db#1:corrupt", 100);
        assert_eq!(a, chosen_bit("read:store.db#1:corrupt", 100));
        assert!(a < 800);
        let others: Vec<u64> = (2..10)
            .map(|n| chosen_bit(&format!("read:store.db#{n}:corrupt"), 100))
            .collect();
        assert!(others.iter().any(|&b| b != a), "ids choose different bits");
    }

    #[test]
    fn corruptions_read_as_a_sentence() {
        let c = Corruption {
            offset: 4100,
            bit: 3,
            old: 0x41,
            new: 0x49,
        };
        assert_eq!(
            c.to_string(),
            "bit 3 of the byte at offset 4100 flipped (0x41 -> 0x49)"
        );
    }
}
