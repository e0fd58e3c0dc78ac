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

/// The audit architecture of x86_64, which seccomp filters check first.
pub const AUDIT_ARCH: u32 = 0xc000_003e;
