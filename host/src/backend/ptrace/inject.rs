//! Adding a seccomp filter to a process that already runs: the process
//! itself must call `seccomp()`, so fi makes a stopped thread of it run
//! `mmap` (a page for the program), `seccomp` with
//! `SECCOMP_FILTER_FLAG_TSYNC` (every thread of the process gets the
//! filter) and `munmap`, through the `syscall` instruction it last ran, then
//! gives it back its registers.

use std::io;

use libc::pid_t;

use super::sys::{self, Event, SyscallStop};
use crate::arch;
use crate::backend::filter::BpfProgram;
use crate::tracee::Tracee;

/// The page the program is written to.
const PAGE: u64 = 4096;
/// Where the program starts in the page, after its `struct sock_fprog`.
const PROGRAM_OFFSET: u64 = 16;

/// Add `program` to the filters of every thread of process `pid`, through
/// its thread `tid`, stopped just after a system call returned; `tid` stays
/// stopped, with its registers as they were. Events of `tid` met on the
/// way that fi must still act on (its end) are put in `deferred`; signals
/// that came meanwhile are sent again.
pub fn add_filter(
    pid: pid_t,
    tid: pid_t,
    program: &BpfProgram,
    deferred: &mut Vec<Event>,
) -> io::Result<()> {
    let saved = sys::get_regs(tid)?;
    let insn = arch::last_syscall_insn(&saved);
    let tracee = Tracee { pid, tid };
    if tracee.read_memory(insn, arch::SYSCALL_INSN.len())? != arch::SYSCALL_INSN {
        return Err(io::Error::other(
            "the thread did not stop after a system call",
        ));
    }
    let mut signals = Vec::new();
    let added = install(&tracee, &saved, insn, program, &mut signals, deferred);
    // A call the interruption cut short (an open of a FIFO) runs again, as
    // the kernel would have restarted it; it is decided again.
    let mut back = saved;
    arch::restart_if_interrupted(&mut back);
    let restored = sys::set_regs(tid, &back);
    for signal in signals {
        let _ = sys::tgkill(pid, tid, signal);
    }
    added.and(restored)
}

/// Run `mmap`, `seccomp` and `munmap` in `tracee`'s thread (registers
/// `saved`, last `syscall` instruction at `insn`) to add `program`.
fn install(
    tracee: &Tracee,
    saved: &libc::user_regs_struct,
    insn: u64,
    program: &BpfProgram,
    signals: &mut Vec<i32>,
    deferred: &mut Vec<Event>,
) -> io::Result<()> {
    let tid = tracee.tid;
    let mut call = |nr: i64, args: [u64; 6]| -> io::Result<i64> {
        let mut regs = *saved;
        arch::run_call_at(&mut regs, insn, nr, args);
        sys::set_regs(tid, &regs)?;
        run_to_exit(tid, signals, deferred)
    };
    let page = call(
        libc::SYS_mmap,
        [
            0,
            PAGE,
            (libc::PROT_READ | libc::PROT_WRITE) as u64,
            (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64,
            u64::MAX,
            0,
        ],
    )?;
    if (-4095..0).contains(&page) {
        return Err(io::Error::from_raw_os_error(-page as i32));
    }
    let page = page as u64;
    let installed = write_program(tracee, page, program).and_then(|()| {
        call(
            libc::SYS_seccomp,
            [
                u64::from(libc::SECCOMP_SET_MODE_FILTER),
                libc::SECCOMP_FILTER_FLAG_TSYNC,
                page,
                0,
                0,
                0,
            ],
        )
    });
    let unmapped = call(libc::SYS_munmap, [page, PAGE, 0, 0, 0, 0]);
    match installed? {
        0 => unmapped.map(drop),
        // TSYNC names a thread whose filters differ (one added its own).
        other if other > 0 => Err(io::Error::other(format!(
            "thread {other} has filters of its own"
        ))),
        errno => Err(io::Error::from_raw_os_error(-errno as i32)),
    }
}

/// Write `program` and the `struct sock_fprog` pointing at it into `page`.
fn write_program(tracee: &Tracee, page: u64, program: &BpfProgram) -> io::Result<()> {
    let mut fprog = Vec::with_capacity(PROGRAM_OFFSET as usize);
    fprog.extend_from_slice(&(program.len() as u16).to_ne_bytes());
    fprog.extend_from_slice(&[0; 6]);
    fprog.extend_from_slice(&(page + PROGRAM_OFFSET).to_ne_bytes());
    let mut code = Vec::with_capacity(program.len() * 8);
    for insn in program {
        code.extend_from_slice(&insn.code.to_ne_bytes());
        code.extend_from_slice(&[insn.jt, insn.jf]);
        code.extend_from_slice(&insn.k.to_ne_bytes());
    }
    if PROGRAM_OFFSET + code.len() as u64 > PAGE {
        return Err(io::Error::other("the filter does not fit in a page"));
    }
    tracee.write_memory(page, &fprog)?;
    tracee.write_memory(page + PROGRAM_OFFSET, &code)
}

/// Resume `tid` (its registers set up for a call) until that call returns;
/// its result. A filter's `RET_TRACE` stop on the way is passed; a signal is
/// held back in `signals`; the thread's end goes to `deferred`.
fn run_to_exit(tid: pid_t, signals: &mut Vec<i32>, deferred: &mut Vec<Event>) -> io::Result<i64> {
    sys::syscall(tid, 0)?;
    loop {
        match sys::wait_for(tid)? {
            Event::SyscallStop(_) if sys::syscall_stop_kind(tid)? == SyscallStop::Exit => {
                return Ok(arch::result(&sys::get_regs(tid)?));
            }
            event @ (Event::Exited(..) | Event::Killed(..)) => {
                deferred.push(event);
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Event::Signal(_, signal) => {
                signals.push(signal);
                sys::syscall(tid, 0)?;
            }
            // Its entry stop, or a filter's RET_TRACE stop of it.
            Event::SyscallStop(_) | Event::Ptrace(..) => sys::syscall(tid, 0)?,
        }
    }
}
