//! Making the vDSO's calls enter the kernel, so that fi sees them.
//!
//! A program reads the time (`clock_gettime`, `gettimeofday`, `time`,
//! `clock_getres`), its CPU (`getcpu`) and random bytes (`getrandom`)
//! through the vDSO, code the kernel maps into every process that answers
//! without a system call: no seccomp filter and no ptrace stop ever sees
//! them. When a policy subscribes to one of these calls, [`patch`] rewrites
//! the vDSO's entry point of that call in the tracee (found among the
//! vDSO's dynamic symbols) into `mov eax, NR; syscall; ret`, so that every
//! call through it is a real system call (reverie's approach). Entries of
//! calls nobody subscribed to stay as they are, at full speed.
//!
//! The write goes through `/proc/PID/mem`, which copies the page on write
//! (the kernel's vDSO image and other processes are untouched). A kernel
//! built with `CONFIG_MSEAL_SYSTEM_MAPPINGS` seals the vDSO (`sl` in the
//! mapping's `VmFlags` in `/proc/PID/smaps`); sealing forbids changing the
//! mapping (mprotect, munmap, mremap), and Linux 6.18 still accepts the
//! write through `/proc/PID/mem` then. Should a kernel refuse it,
//! [`VdsoError::Refused`] says whether the mapping was sealed.
//!
//! `getrandom`'s entry takes two more arguments than the system call (an
//! opaque state and its length) and answers a query for the state's size
//! when the length is `~0` (glibc 2.41 and later ask once at start-up). The
//! patched entry fails that query with `ENOSYS`, so the C library sees no
//! usable vDSO `getrandom` and makes the system call itself; every other
//! call runs the system call, which ignores the extra arguments.

use std::fs;
use std::io;

use object::read::elf::ElfFile64;
use object::{Object, ObjectSegment, ObjectSymbol};
use syscalls::{Sysno, SysnoSet};

use super::Tracee;

/// The vDSO entry points fi can make enter the kernel, and their calls.
const ENTRIES: [(&str, Sysno); 6] = [
    ("__vdso_clock_gettime", Sysno::clock_gettime),
    ("__vdso_gettimeofday", Sysno::gettimeofday),
    ("__vdso_time", Sysno::time),
    ("__vdso_clock_getres", Sysno::clock_getres),
    ("__vdso_getcpu", Sysno::getcpu),
    ("__vdso_getrandom", Sysno::getrandom),
];

/// The instruction an entry may start with under indirect branch tracking
/// (`endbr64`); kept in front of the new code.
const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];

/// Why the vDSO of a process could not be patched.
#[derive(Debug, thiserror::Error)]
pub enum VdsoError {
    /// Its maps or its vDSO could not be read.
    #[error("reading the vDSO of process {0}: {1}")]
    Unreadable(i32, io::Error),
    /// The vDSO is not an ELF image fi can read.
    #[error("the vDSO of process {0} is not a 64-bit ELF image: {1}")]
    NotElf(i32, object::Error),
    /// The kernel refused the write.
    #[error(
        "cannot rewrite the vDSO of process {pid}{sealed}: {cause}; its {calls} calls \
         through the vDSO are not seen",
        sealed = sealed_note(.sealed)
    )]
    Refused {
        /// The process.
        pid: i32,
        /// The calls whose entries stay as they were.
        calls: String,
        /// Whether `/proc/PID/smaps` shows the mapping sealed.
        sealed: bool,
        /// The write's error.
        cause: io::Error,
    },
    /// An entry is too short for the code that replaces it.
    #[error("the vDSO entry {0} of process {1} is too short to rewrite")]
    TooShort(&'static str, i32),
}

/// What the refusal says of a sealed mapping.
fn sealed_note(sealed: &bool) -> &'static str {
    if *sealed {
        " (sealed with mseal: VmFlags sl)"
    } else {
        ""
    }
}

/// Whether any of `calls` has a vDSO entry: only then does [`patch`] touch
/// a process.
pub fn has_entries(calls: &SysnoSet) -> bool {
    ENTRIES.iter().any(|&(_, sysno)| calls.contains(sysno))
}

/// Rewrite the vDSO entries of `calls` in process `pid` (stopped, or at
/// least not inside these entries) so that they make the system call. Returns
/// the calls whose entries were rewritten; a process without a vDSO, or
/// `calls` without a vDSO entry, is left alone.
pub fn patch(pid: i32, calls: &SysnoSet) -> Result<Vec<Sysno>, VdsoError> {
    if !has_entries(calls) {
        return Ok(Vec::new());
    }
    let unreadable = |e| VdsoError::Unreadable(pid, e);
    let Some((start, end)) = vdso_range(pid).map_err(unreadable)? else {
        return Ok(Vec::new());
    };
    let tracee = Tracee { pid, tid: pid };
    let image = tracee
        .read_memory(start, (end - start) as usize)
        .map_err(unreadable)?;
    let elf = ElfFile64::<object::Endianness>::parse(image.as_slice())
        .map_err(|e| VdsoError::NotElf(pid, e))?;
    let base = elf.segments().map(|s| s.address()).min().unwrap_or(0);
    let mut patched = Vec::new();
    for symbol in elf.dynamic_symbols() {
        let Ok(name) = symbol.name() else { continue };
        let Some(&(name, sysno)) = ENTRIES
            .iter()
            .find(|&&(entry, sysno)| entry == name && calls.contains(sysno))
        else {
            continue;
        };
        let offset = (symbol.address() - base) as usize;
        let size = symbol.size() as usize;
        let entry = image.get(offset..offset + size).unwrap_or_default();
        let mut code = Vec::new();
        if entry.starts_with(&ENDBR64) {
            code.extend_from_slice(&ENDBR64);
        }
        code.extend(entry_code(sysno));
        if code.len() > entry.len() {
            return Err(VdsoError::TooShort(name, pid));
        }
        tracee
            .write_memory(start + offset as u64, &code)
            .map_err(|cause| VdsoError::Refused {
                pid,
                calls: sysno.name().to_string(),
                sealed: is_sealed(pid, start),
                cause,
            })?;
        patched.push(sysno);
    }
    Ok(patched)
}

/// The code that replaces the entry of `sysno`: the system call, with its
/// arguments where the caller left them (the vDSO entries take the system
/// call's arguments in the same registers, but for the 4th, which the
/// system calls concerned do not read).
fn entry_code(sysno: Sysno) -> Vec<u8> {
    // mov eax, NR; syscall; ret
    let mut call = vec![0xb8];
    call.extend((sysno.id() as u32).to_le_bytes());
    call.extend([0x0f, 0x05, 0xc3]);
    if sysno != Sysno::getrandom {
        return call;
    }
    // cmp r8, -1; jne CALL; mov rax, -ENOSYS; ret; CALL: ...
    let mut code = vec![0x49, 0x83, 0xf8, 0xff, 0x75, 0x08];
    code.extend([0x48, 0xc7, 0xc0]);
    code.extend((-libc::ENOSYS).to_le_bytes());
    code.push(0xc3);
    code.extend(call);
    code
}

/// The `[vdso]` mapping of process `pid`, if it has one.
fn vdso_range(pid: i32) -> io::Result<Option<(u64, u64)>> {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps"))?;
    Ok(maps
        .lines()
        .find(|line| line.ends_with("[vdso]"))
        .and_then(|line| parse_range(line.split_whitespace().next()?)))
}

fn parse_range(range: &str) -> Option<(u64, u64)> {
    let (start, end) = range.split_once('-')?;
    Some((
        u64::from_str_radix(start, 16).ok()?,
        u64::from_str_radix(end, 16).ok()?,
    ))
}

/// Whether `/proc/PID/smaps` shows the mapping at `start` sealed.
fn is_sealed(pid: i32, start: u64) -> bool {
    let Ok(smaps) = fs::read_to_string(format!("/proc/{pid}/smaps")) else {
        return false;
    };
    let header = format!("{start:x}-");
    smaps
        .split_inclusive('\n')
        .skip_while(|line| !line.starts_with(&header))
        .find_map(|line| line.strip_prefix("VmFlags:"))
        .is_some_and(|flags| flags.split_whitespace().any(|flag| flag == "sl"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_entries_become_the_system_call() {
        // mov eax, 228; syscall; ret
        assert_eq!(
            entry_code(Sysno::clock_gettime),
            [0xb8, 228, 0, 0, 0, 0x0f, 0x05, 0xc3]
        );
    }

    #[test]
    fn getrandom_refuses_the_state_query_and_calls_the_kernel_otherwise() {
        let code = entry_code(Sysno::getrandom);
        // The jump skips exactly the ENOSYS return.
        assert_eq!(code[4..6], [0x75, 8]);
        assert_eq!(
            code[6..14],
            [0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff, 0xc3]
        );
        assert_eq!(code[14..], [0xb8, 62, 1, 0, 0, 0x0f, 0x05, 0xc3]);
    }

    #[test]
    fn this_process_has_a_vdso_with_every_time_entry() {
        let pid = std::process::id() as i32;
        let (start, end) = vdso_range(pid).unwrap().expect("a [vdso] mapping");
        let image = Tracee { pid, tid: pid }
            .read_memory(start, (end - start) as usize)
            .unwrap();
        let elf = ElfFile64::<object::Endianness>::parse(image.as_slice()).unwrap();
        let names: Vec<&str> = elf
            .dynamic_symbols()
            .filter_map(|s| s.name().ok())
            .collect();
        for entry in ["__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time"] {
            assert!(names.contains(&entry), "{entry} missing from {names:?}");
        }
    }
}
