//! `struct statfs` as the x86_64 kernel fills it in (`statfs`, `fstatfs`):
//! the block counts rewritten to the quota's size and free bytes, so that
//! `statvfs` and `df` report them.

use fi_sdk::{Call, TraceeError};

/// Where `f_bsize` is: a 64-bit block size after the 64-bit `f_type`.
const BSIZE: usize = 8;
/// Where `f_blocks`, `f_bfree` and `f_bavail` are, one after the other.
const BLOCKS: u64 = 16;
/// Where `f_frsize`, the fragment size the block counts are in, is.
const FRSIZE: usize = 72;
/// The bytes read: up to and including `f_frsize`.
const READ: u32 = 80;

/// Rewrites the `statfs` the call filled in at `addr`: a file system of
/// `size` bytes with `free` of them free (to everyone, root too), counted in
/// the block unit the kernel reported.
pub fn rewrite(call: &Call, addr: u64, size: u64, free: u64) -> Result<(), TraceeError> {
    let fields = call.read_memory(addr, READ)?;
    let field = |at: usize| u64::from_le_bytes(fields[at..at + 8].try_into().unwrap());
    // The counts are in f_frsize units; a kernel that leaves it 0 means
    // f_bsize, as glibc's statvfs reads it.
    let unit = match field(FRSIZE) {
        0 => field(BSIZE),
        frsize => frsize,
    }
    .max(1);
    let (blocks, free) = (size / unit, free / unit);
    let counts: Vec<u8> = [blocks, free, free]
        .iter()
        .flat_map(|count| count.to_le_bytes())
        .collect();
    call.write_memory(addr + BLOCKS, &counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fi_sdk::testing::FakeCall;
    use fi_sdk::Sysno;

    fn statfs(bsize: u64, frsize: u64) -> Vec<u8> {
        let mut fields = [0u64; 15];
        fields[0] = 0xef53;
        fields[1] = bsize;
        fields[2] = 1_000_000;
        fields[3] = 500_000;
        fields[4] = 400_000;
        fields[9] = frsize;
        fields.iter().flat_map(|f| f.to_le_bytes()).collect()
    }

    fn counts(call: &Call, addr: u64) -> [u64; 3] {
        let bytes = call.read_memory(addr + BLOCKS, 24).unwrap();
        [0, 8, 16].map(|at| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()))
    }

    #[test]
    fn block_counts_become_the_quota_in_the_kernels_unit() {
        let call = FakeCall::new(Sysno::statfs)
            .memory(0x1000, &statfs(4096, 4096))
            .memory(0x2000, &statfs(4096, 0))
            .call();
        rewrite(&call, 0x1000, 1 << 20, 300_000).unwrap();
        assert_eq!(counts(&call, 0x1000), [256, 73, 73]);
        rewrite(&call, 0x2000, 1 << 20, 1 << 20).unwrap();
        assert_eq!(counts(&call, 0x2000), [256, 256, 256]);
        let untouched = call.read_memory(0x1000, 16).unwrap();
        assert_eq!(untouched, statfs(4096, 4096)[..16]);
        assert!(rewrite(&call, 0x9000, 1, 1).is_err());
    }
}
