//! The bytes a change overwrote, kept to undo it: in memory up to a budget,
//! beyond it in a spill file in the scratch directory, whose space is given
//! back (a punched hole) when the change is synced and the bytes are no
//! longer needed.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The most bytes copied through memory at once, saving or restoring.
const CHUNK: u64 = 1 << 20;

/// Where one change's old bytes are.
#[derive(Debug)]
pub(crate) enum Saved {
    /// Kept in memory.
    Memory(Vec<u8>),
    /// In the spill file, `len` bytes from `at`.
    Spilled {
        /// Offset in the spill file.
        at: u64,
        /// Length.
        len: u64,
    },
}

impl Saved {
    /// How many bytes are saved.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Saved::Memory(bytes) => bytes.len() as u64,
            Saved::Spilled { len, .. } => *len,
        }
    }
}

/// Old bytes of every unsynced change, bounded in memory.
pub(crate) struct Store {
    budget: u64,
    in_memory: u64,
    spill_path: PathBuf,
    spill: Option<File>,
    spill_end: u64,
    spilled_total: u64,
}

impl Store {
    /// A store keeping at most `budget` bytes in memory, spilling the rest
    /// to a file in `scratch`.
    pub(crate) fn new(budget: u64, scratch: &Path) -> Store {
        Store {
            budget,
            in_memory: 0,
            spill_path: scratch.join("spill"),
            spill: None,
            spill_end: 0,
            spilled_total: 0,
        }
    }

    /// How many bytes went to the spill file over the run.
    pub(crate) fn spilled_total(&self) -> u64 {
        self.spilled_total
    }

    /// Save `len` bytes of `file` from `offset`.
    pub(crate) fn save(&mut self, file: &File, offset: u64, len: u64) -> io::Result<Saved> {
        if self.in_memory + len <= self.budget {
            let mut bytes = vec![0; len as usize];
            file.read_exact_at(&mut bytes, offset)?;
            self.in_memory += len;
            return Ok(Saved::Memory(bytes));
        }
        if self.spill.is_none() {
            let spill = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&self.spill_path)?;
            self.spill = Some(spill);
        }
        let spill = self.spill.as_ref().expect("opened above");
        let at = self.spill_end;
        let mut buf = vec![0; CHUNK.min(len) as usize];
        let mut done = 0;
        while done < len {
            let n = CHUNK.min(len - done) as usize;
            file.read_exact_at(&mut buf[..n], offset + done)?;
            spill.write_all_at(&buf[..n], at + done)?;
            done += n as u64;
        }
        self.spill_end += len;
        self.spilled_total += len;
        Ok(Saved::Spilled { at, len })
    }

    /// Keep only the first `len` bytes of `saved`.
    pub(crate) fn shorten(&mut self, saved: &mut Saved, len: u64) {
        match saved {
            Saved::Memory(bytes) if (bytes.len() as u64) > len => {
                self.in_memory -= bytes.len() as u64 - len;
                bytes.truncate(len as usize);
            }
            Saved::Spilled { at, len: old } if *old > len => {
                self.punch(*at + len, *old - len);
                *old = len;
            }
            _ => {}
        }
    }

    /// The bytes of `saved` are no longer needed.
    pub(crate) fn free(&mut self, saved: Saved) {
        match saved {
            Saved::Memory(bytes) => self.in_memory -= bytes.len() as u64,
            Saved::Spilled { at, len } => self.punch(at, len),
        }
    }

    /// Write the bytes of `saved` back to `file` at `offset`, except in the
    /// `keep` ranges (of file offsets), whose current contents stay.
    pub(crate) fn restore(
        &self,
        saved: &Saved,
        file: &File,
        offset: u64,
        keep: &[Range<u64>],
    ) -> io::Result<()> {
        let mut done = 0;
        let len = saved.len();
        while done < len {
            let n = CHUNK.min(len - done);
            let chunk = self.chunk(saved, done, n as usize)?;
            let start = offset + done;
            for piece in outside(start..start + n, keep) {
                let from = (piece.start - start) as usize;
                let to = (piece.end - start) as usize;
                file.write_all_at(&chunk[from..to], piece.start)?;
            }
            done += n;
        }
        Ok(())
    }

    /// `len` bytes of `saved` from `from`, wherever they are kept.
    pub(crate) fn chunk(&self, saved: &Saved, from: u64, len: usize) -> io::Result<Vec<u8>> {
        match saved {
            Saved::Memory(bytes) => Ok(bytes[from as usize..from as usize + len].to_vec()),
            Saved::Spilled { at, .. } => {
                let mut buf = vec![0; len];
                let spill = self
                    .spill
                    .as_ref()
                    .expect("spilled bytes have a spill file");
                spill.read_exact_at(&mut buf, at + from)?;
                Ok(buf)
            }
        }
    }

    /// Whether `file` holds the bytes of `saved` at `offset`.
    pub(crate) fn same(&self, saved: &Saved, file: &File, offset: u64) -> io::Result<bool> {
        let len = saved.len();
        let mut done = 0;
        while done < len {
            let n = CHUNK.min(len - done) as usize;
            let mut now = vec![0; n];
            file.read_exact_at(&mut now, offset + done)?;
            let then = self.chunk(saved, done, n)?;
            if now != then {
                return Ok(false);
            }
            done += n as u64;
        }
        Ok(true)
    }

    /// Give the spill file's space for `len` bytes at `at` back.
    fn punch(&mut self, at: u64, len: u64) {
        if let Some(spill) = &self.spill {
            // SAFETY: fallocate on a file fi owns; a failure only keeps the
            // space in use.
            unsafe {
                libc::fallocate(
                    spill.as_raw_fd(),
                    libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                    at as libc::off_t,
                    len as libc::off_t,
                )
            };
        }
    }
}

/// The parts of `range` outside every range of `keep`.
pub(crate) fn outside(range: Range<u64>, keep: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut pieces = vec![range];
    for k in keep {
        pieces = pieces
            .into_iter()
            .flat_map(|p| {
                if k.end <= p.start || k.start >= p.end {
                    return vec![p];
                }
                let mut rest = Vec::new();
                if p.start < k.start {
                    rest.push(p.start..k.start);
                }
                if k.end < p.end {
                    rest.push(k.end..p.end);
                }
                rest
            })
            .collect();
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn outside_cuts_the_kept_ranges_out() {
        assert_eq!(outside(0..10, &[]), vec![0..10]);
        assert_eq!(outside(0..10, &[3..5]), vec![0..3, 5..10]);
        assert_eq!(outside(0..10, &[0..4, 8..20]), vec![4..8]);
        assert!(outside(2..4, &[0..10]).is_empty());
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn spilled_bytes_come_back_and_memory_stays_in_budget() {
        let dir = std::env::temp_dir().join(format!("fi-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        std::fs::write(&path, (0..=255u8).cycle().take(10_000).collect::<Vec<_>>()).unwrap();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let mut store = Store::new(100, &dir);
        let small = store.save(&file, 0, 50).unwrap();
        let big = store.save(&file, 100, 5000).unwrap();
        assert!(matches!(small, Saved::Memory(_)));
        assert!(matches!(big, Saved::Spilled { .. }));
        assert_eq!(store.spilled_total(), 5000);
        file.write_all_at(&[0; 10_000], 0).unwrap();
        store.restore(&big, &file, 100, &[200..300]).unwrap();
        let now = std::fs::read(&path).unwrap();
        assert_eq!(now[150], 150u8);
        assert_eq!(now[250], 0, "kept range untouched");
        assert_eq!(now[4000], (4000 % 256) as u8);
        store.free(big);
        store.free(small);
        assert_eq!(store.in_memory, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
