//! The least a seccomp user-notification supervisor can cost: a bench
//! reference, not part of fault.
//!
//! `notify_floor CMD [ARGS...]` runs CMD (and its children) under one filter
//! that sends every call of strace's `%file` class to this process. For each
//! call it does what any supervisor deciding by path must: receive the
//! notification, read the call's first path from the caller's memory, check
//! that the notification is still valid (`SECCOMP_IOCTL_NOTIF_ID_VALID`, as
//! the kernel's documentation requires after a read) and let the call run.
//! It keeps no state, decides nothing and follows no process with ptrace.
//!
//! `bench/run` times it beside `fault` on the real programs of section 3: a
//! target below this row cannot be met by any supervisor that reads paths.
//! The set of calls comes from fi's own class table, so the two cannot drift.
//!
//! Build: `cargo build --release -p fi --example notify_floor`.

use std::ffi::CString;
use std::io::{Error, Result};
use std::os::unix::ffi::OsStrExt;

use fi::arch::classes::{class_by_name, path_args, syscalls_in};
use fi::backend::filter::{filter_for, fprog, BpfProgram};
use fi::backend::Route;

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (Linux 6.6): wake the pair on one CPU.
const FD_SYNC_WAKE_UP: u64 = 1;
/// Where the child leaves its listener for the parent to take.
const LISTENER_FD: i32 = 100;

fn main() {
    let args: Vec<CString> = std::env::args_os()
        .skip(1)
        .map(|a| CString::new(a.as_bytes()).expect("an argument holds a NUL byte"))
        .collect();
    if args.is_empty() {
        eprintln!("usage: notify_floor CMD [ARGS...]");
        std::process::exit(2);
    }
    let Err(e) = run(&args);
    eprintln!("notify_floor: {e}");
    std::process::exit(1);
}

/// Each `%file` call's number and the index of its first path argument.
fn file_calls() -> Vec<(u32, usize)> {
    let file = class_by_name("file").expect("strace has a %file class");
    syscalls_in(file)
        .iter()
        .map(|sysno| {
            let arg = path_args(sysno)
                .first()
                .map_or(usize::MAX, |arg| arg.path());
            (sysno.id() as u32, arg)
        })
        .collect()
}

/// fault's own filter, routing every call of `calls` to a notification:
/// the floor's filter costs each call what fault's does.
fn filter(calls: &[(u32, usize)]) -> BpfProgram {
    let routes: Vec<(u32, Route)> = calls.iter().map(|&(nr, _)| (nr, Route::Notify)).collect();
    filter_for(&routes)
}

fn run(args: &[CString]) -> Result<std::convert::Infallible> {
    let calls = file_calls();
    let prog = filter(&calls);
    let mut go = [0; 2];
    check(unsafe { libc::pipe(go.as_mut_ptr()) })?;
    let pid = check(unsafe { libc::fork() })?;
    if pid == 0 {
        child(&prog, go, args);
    }
    unsafe { libc::close(go[0]) };
    let pidfd = check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32)?;
    let listener = loop {
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, LISTENER_FD, 0) } as i32;
        if fd >= 0 {
            break fd;
        }
        std::thread::yield_now();
    };
    unsafe { libc::close(go[1]) };
    if unsafe {
        libc::ioctl(
            listener,
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
            FD_SYNC_WAKE_UP,
        )
    } < 0
    {
        // A kernel before 6.6: the floor there has cross-CPU wake-ups.
        eprintln!(
            "notify_floor: no synchronous wake-ups: {}",
            Error::last_os_error()
        );
    }
    // RECV blocks even once no process is left under the filter: the
    // program's end is heard here, and ends this process.
    std::thread::spawn(move || {
        let mut status = 0;
        if unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
            std::process::exit(1);
        }
        std::process::exit(if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        })
    });
    supervise(listener, &calls)
}

/// The child: install the filter, hand over the listener, wait, exec.
fn child(prog: &BpfProgram, go: [i32; 2], args: &[CString]) -> ! {
    unsafe {
        libc::close(go[1]);
        let fprog = fprog(prog);
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        let fd = libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &fprog,
        ) as i32;
        if fd < 0 || libc::dup2(fd, LISTENER_FD) < 0 {
            libc::_exit(120);
        }
        // The parent closes its end once it holds the listener.
        let mut byte = 0u8;
        libc::read(go[0], (&mut byte as *mut u8).cast(), 1);
        libc::close(LISTENER_FD);
        libc::close(fd);
        let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        libc::execvp(argv[0], argv.as_ptr());
        libc::_exit(127);
    }
}

/// Receive (blocking in RECV itself, the cheapest wait), read the path,
/// check the id, let the call run; until the program's end ends the process.
fn supervise(listener: i32, calls: &[(u32, usize)]) -> ! {
    let mut path = [0u8; 4096];
    loop {
        let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notif) } < 0 {
            continue; // the caller was killed meanwhile, or EINTR
        }
        let arg = calls
            .iter()
            .find(|&&(nr, _)| nr as i32 == notif.data.nr)
            .map_or(usize::MAX, |&(_, arg)| arg);
        if arg < 6 {
            let addr = notif.data.args[arg] as usize;
            let to_page_end = 4096 - addr % 4096;
            let local = libc::iovec {
                iov_base: path.as_mut_ptr().cast(),
                iov_len: to_page_end,
            };
            let remote = libc::iovec {
                iov_base: addr as *mut _,
                iov_len: to_page_end,
            };
            unsafe { libc::process_vm_readv(notif.pid as i32, &local, 1, &remote, 1, 0) };
        }
        if unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &notif.id) } < 0 {
            continue;
        }
        let response = libc::seccomp_notif_resp {
            id: notif.id,
            val: 0,
            error: 0,
            flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
        };
        unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_SEND, &response) };
    }
}

fn check(ret: i32) -> Result<i32> {
    if ret < 0 {
        Err(Error::last_os_error())
    } else {
        Ok(ret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscalls::Sysno;

    #[test]
    fn every_file_call_with_a_path_is_notified() {
        let calls = file_calls();
        assert!(calls
            .iter()
            .any(|&(nr, arg)| nr == Sysno::openat.id() as u32 && arg == 1));
        assert!(calls
            .iter()
            .any(|&(nr, arg)| nr == Sysno::stat.id() as u32 && arg == 0));
        assert!(!calls.iter().any(|&(nr, _)| nr == Sysno::read.id() as u32));
    }
}
