//! What fi knows about the machine: x86_64 registers (this module) and the
//! facts about syscalls that the `syscalls` crate does not carry
//! ([`classes`]: strace's classes and which arguments are paths or fds).

pub mod classes;

use libc::user_regs_struct;

/// The value of `orig_rax` that makes the kernel skip a syscall.
const SKIP_SYSCALL: u64 = u64::MAX;

/// The number and argument registers of the call a thread is making, read
/// at a syscall stop.
pub fn call_of(regs: &user_regs_struct) -> (i64, [u64; 6]) {
    (
        regs.orig_rax as i64,
        [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9],
    )
}

/// Write a (rewritten) call's number and arguments back into the registers.
pub fn store_call(regs: &mut user_regs_struct, nr: i64, args: [u64; 6]) {
    regs.orig_rax = nr as u64;
    [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9] = args;
}

/// Make the kernel skip the call at a syscall-entry stop.
pub fn skip_call(regs: &mut user_regs_struct) {
    regs.orig_rax = SKIP_SYSCALL;
}

/// The raw return value register (negative errno on failure).
pub fn result(regs: &user_regs_struct) -> i64 {
    regs.rax as i64
}

/// Set the raw return value the caller will see.
pub fn set_result(regs: &mut user_regs_struct, value: i64) {
    regs.rax = value as u64;
}

/// The address of the `syscall` instruction a thread stopped just after a
/// system call returned last ran (its two bytes end where it stopped).
pub fn last_syscall_insn(regs: &user_regs_struct) -> u64 {
    regs.rip - SYSCALL_INSN.len() as u64
}

/// x86_64's `syscall` instruction.
pub const SYSCALL_INSN: [u8; 2] = [0x0f, 0x05];

/// Make a stopped thread, resumed, run call `nr` with `args` through the
/// `syscall` instruction at `insn`, and not restart the call it was in.
pub fn run_call_at(regs: &mut user_regs_struct, insn: u64, nr: i64, args: [u64; 6]) {
    store_call(regs, nr, args);
    regs.rax = nr as u64;
    regs.orig_rax = SKIP_SYSCALL;
    regs.rip = insn;
}

/// At a stop after a call that an interruption cut short (it returned
/// `-ERESTARTSYS` and kin, which the kernel turns into a restart only on
/// its way to a signal handler or when no handler runs), set the registers
/// up to make the call again.
pub fn restart_if_interrupted(regs: &mut user_regs_struct) {
    let nr = match regs.rax as i64 {
        ERESTART_RESTARTBLOCK => libc::SYS_restart_syscall as u64,
        result if was_interrupted(result) => regs.orig_rax,
        _ => return,
    };
    regs.rax = nr;
    regs.rip = last_syscall_insn(regs);
}

/// Whether a call's raw `result`, seen at a stop after it, says that an
/// interruption cut it short and the kernel will make it again
/// (`-ERESTARTSYS`, `-ERESTARTNOINTR`, `-ERESTARTNOHAND`,
/// `-ERESTART_RESTARTBLOCK`).
pub fn was_interrupted(result: i64) -> bool {
    matches!(result, -514..=-512 | ERESTART_RESTARTBLOCK)
}

/// The kernel's `-ERESTART_RESTARTBLOCK`: the call goes on through
/// `restart_syscall`.
const ERESTART_RESTARTBLOCK: i64 = -516;

/// The audit architecture of x86_64, which seccomp filters check first.
pub const AUDIT_ARCH: u32 = 0xc000_003e;
