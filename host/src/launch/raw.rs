//! The system calls a child sharing fault's memory makes: raw `syscall`
//! instructions, which return `-errno` on failure and write no `errno` (the
//! child's TLS is the thread's that started it) and call no libc code.
//! x86_64 only, as fi is.

use std::ffi::CString;

/// A system call with up to six arguments; its raw result.
///
/// # Safety
/// The call and its arguments must be sound for the calling process.
unsafe fn syscall(nr: libc::c_long, args: [usize; 6]) -> isize {
    let result: isize;
    // SAFETY: the x86_64 system call convention: the number in rax, the
    // arguments in rdi, rsi, rdx, r10, r8, r9; the kernel clobbers rcx and
    // r11; the instruction touches no stack.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => result,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    result
}

/// The kernel's `struct sigaction` on x86_64 (not glibc's).
#[repr(C)]
#[derive(Default)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// The size of the kernel's signal set.
const SIGSET: usize = 8;

/// The handler of `signal` (`SIG_DFL`, `SIG_IGN` or a function's address),
/// or `None` if the kernel has none to tell.
///
/// # Safety
/// None beyond the system call's.
pub unsafe fn handler_of(signal: i32) -> Option<usize> {
    let mut old = KernelSigaction::default();
    // SAFETY: a query into a local of the kernel's layout.
    let result = unsafe {
        syscall(
            libc::SYS_rt_sigaction,
            [
                signal as usize,
                0,
                &mut old as *mut _ as usize,
                SIGSET,
                0,
                0,
            ],
        )
    };
    (result == 0).then_some(old.handler)
}

/// Set `signal` back to its default action.
///
/// # Safety
/// Changes the calling process's handler table.
pub unsafe fn default_action(signal: i32) -> isize {
    let action = KernelSigaction::default();
    // SAFETY: a valid action of the kernel's layout (SIG_DFL, no flags).
    unsafe {
        syscall(
            libc::SYS_rt_sigaction,
            [
                signal as usize,
                &action as *const _ as usize,
                0,
                SIGSET,
                0,
                0,
            ],
        )
    }
}

/// Unblock every signal of the calling thread.
///
/// # Safety
/// Handlers may run afterwards.
pub unsafe fn unblock_all_signals() -> isize {
    let empty = 0u64;
    // SAFETY: an empty set, no old set wanted.
    unsafe {
        syscall(
            libc::SYS_rt_sigprocmask,
            [
                libc::SIG_SETMASK as usize,
                &empty as *const u64 as usize,
                0,
                SIGSET,
                0,
                0,
            ],
        )
    }
}

/// Read one byte from `fd` into `byte`.
///
/// # Safety
/// `fd` must be the caller's.
pub unsafe fn read(fd: i32, byte: &mut u8) -> isize {
    // SAFETY: one byte into a valid location.
    unsafe {
        syscall(
            libc::SYS_read,
            [fd as usize, byte as *mut u8 as usize, 1, 0, 0, 0],
        )
    }
}

/// Close `fd`.
///
/// # Safety
/// `fd` must be the caller's, and no longer used.
pub unsafe fn close(fd: i32) -> isize {
    // SAFETY: an integer argument.
    unsafe { syscall(libc::SYS_close, [fd as usize, 0, 0, 0, 0, 0]) }
}

/// Make the calling process a process group's leader.
///
/// # Safety
/// Changes the calling process's group.
pub unsafe fn setpgid_self() -> isize {
    // SAFETY: integer arguments.
    unsafe { syscall(libc::SYS_setpgid, [0; 6]) }
}

/// Be killed with SIGKILL when the parent thread ends.
///
/// # Safety
/// Changes the calling process's parent-death signal.
pub unsafe fn die_with_parent() -> isize {
    let args = [
        libc::PR_SET_PDEATHSIG as usize,
        libc::SIGKILL as usize,
        0,
        0,
        0,
        0,
    ];
    // SAFETY: integer arguments.
    unsafe { syscall(libc::SYS_prctl, args) }
}

/// The parent's process id.
///
/// # Safety
/// None beyond the system call's.
pub unsafe fn getppid() -> isize {
    // SAFETY: no arguments.
    unsafe { syscall(libc::SYS_getppid, [0; 6]) }
}

/// Clear close-on-exec on `fd`.
///
/// # Safety
/// `fd` must be the caller's.
pub unsafe fn clear_cloexec(fd: i32) -> isize {
    // SAFETY: integer arguments.
    unsafe {
        syscall(
            libc::SYS_fcntl,
            [fd as usize, libc::F_SETFD as usize, 0, 0, 0, 0],
        )
    }
}

/// Duplicate `fd` onto `target`.
///
/// # Safety
/// Replaces whatever `target` was.
pub unsafe fn dup2(fd: i32, target: i32) -> isize {
    // SAFETY: integer arguments.
    unsafe { syscall(libc::SYS_dup2, [fd as usize, target as usize, 0, 0, 0, 0]) }
}

/// Change directory to `dir`.
///
/// # Safety
/// Changes the calling process's directory.
pub unsafe fn chdir(dir: &CString) -> isize {
    // SAFETY: a NUL-terminated path.
    unsafe { syscall(libc::SYS_chdir, [dir.as_ptr() as usize, 0, 0, 0, 0, 0]) }
}

/// Set no_new_privs.
///
/// # Safety
/// Changes the calling process for good.
pub unsafe fn no_new_privs() -> isize {
    let args = [libc::PR_SET_NO_NEW_PRIVS as usize, 1, 0, 0, 0, 0];
    // SAFETY: integer arguments.
    unsafe { syscall(libc::SYS_prctl, args) }
}

/// Install the seccomp filter `fprog` with `flags`; the listener's number
/// if one was asked for.
///
/// # Safety
/// `fprog` must point at a valid program.
pub unsafe fn seccomp_filter(flags: libc::c_ulong, fprog: &libc::sock_fprog) -> isize {
    let args = [
        libc::SECCOMP_SET_MODE_FILTER as usize,
        flags as usize,
        fprog as *const libc::sock_fprog as usize,
        0,
        0,
        0,
    ];
    // SAFETY: as the caller promises.
    unsafe { syscall(libc::SYS_seccomp, args) }
}

/// Yield the CPU.
///
/// # Safety
/// None beyond the system call's.
pub unsafe fn sched_yield() -> isize {
    // SAFETY: no arguments.
    unsafe { syscall(libc::SYS_sched_yield, [0; 6]) }
}

/// Exec `path`; returns only on failure.
///
/// # Safety
/// `argv` and `env` must be null-terminated arrays of C strings.
pub unsafe fn execve(
    path: &CString,
    argv: &[*const libc::c_char],
    env: &[*const libc::c_char],
) -> isize {
    let args = [
        path.as_ptr() as usize,
        argv.as_ptr() as usize,
        env.as_ptr() as usize,
        0,
        0,
        0,
    ];
    // SAFETY: as the caller promises.
    unsafe { syscall(libc::SYS_execve, args) }
}

/// End the calling process with `code`.
///
/// # Safety
/// Never returns.
pub unsafe fn exit(code: i32) -> ! {
    // SAFETY: integer arguments; the call does not return.
    unsafe {
        syscall(libc::SYS_exit_group, [code as usize, 0, 0, 0, 0, 0]);
    }
    loop {
        std::hint::spin_loop();
    }
}
