//! Thin wrappers over the ptrace requests and `waitpid` statuses fi uses.
//!
//! Raw signal numbers throughout: traced programs use real-time signals
//! (glibc's SIGCANCEL, the JVM's), which a closed enum cannot carry.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::time::Duration;

use libc::{c_long, c_void, pid_t, user_regs_struct};

/// The options every tracee gets: follow fork/vfork/clone/exec, tell syscall
/// stops apart from signals, and report seccomp `RET_TRACE` stops.
pub const FOLLOW_OPTIONS: c_long = (libc::PTRACE_O_TRACEFORK
    | libc::PTRACE_O_TRACEVFORK
    | libc::PTRACE_O_TRACECLONE
    | libc::PTRACE_O_TRACEEXEC
    | libc::PTRACE_O_TRACESYSGOOD
    | libc::PTRACE_O_TRACESECCOMP) as c_long;

/// For spawned programs: they die if fi dies.
pub const EXIT_KILL: c_long = libc::PTRACE_O_EXITKILL as c_long;

fn request(
    req: libc::c_uint,
    tid: pid_t,
    addr: *mut c_void,
    data: *mut c_void,
) -> io::Result<c_long> {
    // SAFETY: every caller passes addr/data valid for `req`.
    let ret = unsafe { libc::ptrace(req, tid, addr, data) };
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Attach to `tid` without stopping it (`PTRACE_SEIZE`).
pub fn seize(tid: pid_t, options: c_long) -> io::Result<()> {
    request(
        libc::PTRACE_SEIZE,
        tid,
        std::ptr::null_mut(),
        options as *mut c_void,
    )
    .map(drop)
}

/// Stop a seized tracee (`PTRACE_INTERRUPT`).
pub fn interrupt(tid: pid_t) -> io::Result<()> {
    request(
        libc::PTRACE_INTERRUPT,
        tid,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
    .map(drop)
}

/// Resume until the next stop, delivering `signal` (0 for none).
pub fn cont(tid: pid_t, signal: i32) -> io::Result<()> {
    request(
        libc::PTRACE_CONT,
        tid,
        std::ptr::null_mut(),
        signal as usize as *mut c_void,
    )
    .map(drop)
}

/// Resume until the next stop or syscall entry/exit, delivering `signal`.
pub fn syscall(tid: pid_t, signal: i32) -> io::Result<()> {
    request(
        libc::PTRACE_SYSCALL,
        tid,
        std::ptr::null_mut(),
        signal as usize as *mut c_void,
    )
    .map(drop)
}

/// Leave a group-stopped tracee stopped but let it report `SIGCONT`.
pub fn listen(tid: pid_t) -> io::Result<()> {
    request(
        libc::PTRACE_LISTEN,
        tid,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
    .map(drop)
}

/// Stop tracing `tid`, delivering `signal`.
pub fn detach(tid: pid_t, signal: i32) -> io::Result<()> {
    request(
        libc::PTRACE_DETACH,
        tid,
        std::ptr::null_mut(),
        signal as usize as *mut c_void,
    )
    .map(drop)
}

/// The event message of the last ptrace event (a new child's id, ...).
pub fn event_message(tid: pid_t) -> io::Result<u64> {
    let mut message: libc::c_ulong = 0;
    request(
        libc::PTRACE_GETEVENTMSG,
        tid,
        std::ptr::null_mut(),
        &mut message as *mut _ as *mut c_void,
    )?;
    Ok(message)
}

/// All general-purpose registers.
pub fn get_regs(tid: pid_t) -> io::Result<user_regs_struct> {
    let mut regs = MaybeUninit::<user_regs_struct>::uninit();
    request(
        libc::PTRACE_GETREGS,
        tid,
        std::ptr::null_mut(),
        regs.as_mut_ptr() as *mut c_void,
    )?;
    // SAFETY: PTRACE_GETREGS filled the struct.
    Ok(unsafe { regs.assume_init() })
}

/// Write all general-purpose registers.
pub fn set_regs(tid: pid_t, regs: &user_regs_struct) -> io::Result<()> {
    request(
        libc::PTRACE_SETREGS,
        tid,
        std::ptr::null_mut(),
        regs as *const _ as *mut c_void,
    )
    .map(drop)
}

/// Whether a syscall stop is an entry (`PTRACE_GET_SYSCALL_INFO`), and the
/// call's number.
pub fn syscall_stop_kind(tid: pid_t) -> io::Result<SyscallStop> {
    let mut info = MaybeUninit::<libc::ptrace_syscall_info>::zeroed();
    request(
        libc::PTRACE_GET_SYSCALL_INFO,
        tid,
        std::mem::size_of::<libc::ptrace_syscall_info>() as *mut c_void,
        info.as_mut_ptr() as *mut c_void,
    )?;
    // SAFETY: zero-initialised and filled by the kernel.
    let info = unsafe { info.assume_init() };
    Ok(match info.op {
        libc::PTRACE_SYSCALL_INFO_ENTRY => {
            // SAFETY: op says the entry member is the valid one.
            SyscallStop::Entry(unsafe { info.u.entry.nr } as i64)
        }
        libc::PTRACE_SYSCALL_INFO_EXIT => SyscallStop::Exit,
        _ => SyscallStop::Other,
    })
}

/// What a `PTRACE_SYSCALL` stop is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallStop {
    /// A call is entering; its number.
    Entry(i64),
    /// A call has returned.
    Exit,
    /// Neither (a seccomp stop reported as syscall stop).
    Other,
}

/// A ptrace event (`status >> 16`) fi acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PtraceEvent {
    /// A new process or thread: fork, vfork or clone.
    NewChild,
    /// The tracee called execve successfully.
    Exec,
    /// A seccomp filter returned `RET_TRACE`.
    Seccomp,
    /// `PTRACE_INTERRUPT`, a group-stop, or a new tracee's first stop.
    Stop,
    /// Any other event (vfork-done, exit).
    Other,
}

/// What `waitpid` reported for one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The thread exited with this code.
    Exited(pid_t, i32),
    /// The thread was killed by this signal.
    Killed(pid_t, i32),
    /// A syscall-entry or -exit stop (`PTRACE_SYSCALL`).
    SyscallStop(pid_t),
    /// A ptrace event stop, with the stop signal.
    Ptrace(pid_t, PtraceEvent, i32),
    /// A signal is about to be delivered.
    Signal(pid_t, i32),
}

/// Decode a `waitpid` status of `tid`.
pub fn decode_status(tid: pid_t, status: i32) -> Option<Event> {
    if libc::WIFEXITED(status) {
        return Some(Event::Exited(tid, libc::WEXITSTATUS(status)));
    }
    if libc::WIFSIGNALED(status) {
        return Some(Event::Killed(tid, libc::WTERMSIG(status)));
    }
    if !libc::WIFSTOPPED(status) {
        return None;
    }
    let signal = libc::WSTOPSIG(status);
    if signal == libc::SIGTRAP | 0x80 {
        return Some(Event::SyscallStop(tid));
    }
    let event = match status >> 16 {
        0 => return Some(Event::Signal(tid, signal)),
        libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
            PtraceEvent::NewChild
        }
        libc::PTRACE_EVENT_EXEC => PtraceEvent::Exec,
        libc::PTRACE_EVENT_SECCOMP => PtraceEvent::Seccomp,
        libc::PTRACE_EVENT_STOP => PtraceEvent::Stop,
        _ => PtraceEvent::Other,
    };
    Some(Event::Ptrace(tid, event, signal))
}

/// Wait for the next event of a tracee or child of the calling thread;
/// `Ok(None)` when `nohang` and nothing is ready.
///
/// `__WNOTHREAD` keeps the wait to this thread's own children and tracees:
/// other threads of the process (a test harness, the caller's own code) keep
/// theirs.
pub fn wait_any(nohang: bool) -> io::Result<Option<Event>> {
    let flags = libc::__WALL | libc::__WNOTHREAD | if nohang { libc::WNOHANG } else { 0 };
    wait(-1, flags)
}

/// `waitpid(pid, flags)` until it reports an event fi decodes; `Ok(None)`
/// when `WNOHANG` found nothing.
fn wait(pid: pid_t, flags: i32) -> io::Result<Option<Event>> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        match unsafe { libc::waitpid(pid, &mut status, flags) } {
            -1 => return Err(io::Error::last_os_error()),
            0 => return Ok(None),
            tid => {
                if let Some(event) = decode_status(tid, status) {
                    return Ok(Some(event));
                }
            }
        }
    }
}

/// The thread ids of process `pid`.
pub fn threads_of(pid: pid_t) -> io::Result<std::collections::BTreeSet<pid_t>> {
    std::fs::read_dir(format!("/proc/{pid}/task"))?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().parse().unwrap_or(0)))
        .filter(|tid| !matches!(tid, Ok(0)))
        .collect()
}

/// Wait for the next event of tracee `tid` alone.
pub fn wait_for(tid: pid_t) -> io::Result<Event> {
    loop {
        match wait(tid, libc::__WALL) {
            Ok(Some(event)) => return Ok(event),
            Err(e) if e.raw_os_error() != Some(libc::EINTR) => return Err(e),
            _ => {}
        }
    }
}

/// Sleep for `duration`; `Err(EINTR)` when a signal handler ran meanwhile.
pub fn nap(duration: Duration) -> io::Result<()> {
    let request = libc::timespec {
        tv_sec: duration.as_secs() as libc::time_t,
        tv_nsec: duration.subsec_nanos() as libc::c_long,
    };
    // SAFETY: a valid request; the remainder is not needed.
    match unsafe { libc::nanosleep(&request, std::ptr::null_mut()) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Sleep until one of `fds` is ready or `timeout` has passed; the number of
/// ready ones (0 on timeout). A negative fd is skipped; the signal mask stays.
pub fn ppoll(fds: &mut [libc::pollfd], timeout: Duration) -> io::Result<usize> {
    let wait = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: valid pollfds, as many as given, a valid timeout, no mask change.
    let ready = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            &wait,
            std::ptr::null(),
        )
    };
    usize::try_from(ready).map_err(|_| io::Error::last_os_error())
}

/// Send `signal` to thread `tid` of process `pid`.
pub fn tgkill(pid: pid_t, tid: pid_t, signal: i32) -> io::Result<()> {
    // SAFETY: plain syscall with integer arguments.
    let ret = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, signal) };
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// At a signal-delivery stop of `tid` for a signal fi sent it with
/// `tgkill`, make the signal read as one the kernel sent (`si_code`
/// `SI_KERNEL`, no sender), as a signal strace injects reads. Returns
/// whether it did; a signal from anyone else is left alone.
pub fn present_as_kernel_signal(tid: pid_t) -> io::Result<bool> {
    use nix::sys::ptrace;
    use nix::unistd::Pid;
    let mut info = ptrace::getsiginfo(Pid::from_raw(tid))?;
    // SAFETY: si_code SI_TKILL says the union holds the sender's pid.
    let from_fi =
        info.si_code == libc::SI_TKILL && unsafe { info.si_pid() } == std::process::id() as pid_t;
    if !from_fi {
        return Ok(false);
    }
    info.si_code = libc::SI_KERNEL;
    // The sender's pid and uid, which follow si_signo, si_errno, si_code
    // and the padding that aligns the union (x86_64), read 0 from the kernel.
    // SAFETY: siginfo_t is 128 bytes; bytes 16..24 are the union's start.
    unsafe {
        let bytes = (&mut info as *mut libc::siginfo_t).cast::<u8>();
        std::ptr::write_bytes(bytes.add(16), 0, 8);
    }
    ptrace::setsiginfo(Pid::from_raw(tid), &info)?;
    Ok(true)
}

/// Read every record of type `T` (a `signalfd_siginfo`, an eventfd's `u64`:
/// plain data) from the nonblocking descriptor `fd`, so that it is readable
/// again only for what comes next.
pub fn drain<T: Copy>(fd: RawFd) {
    // SAFETY: plain data the kernel fills.
    let mut record = unsafe { std::mem::zeroed::<T>() };
    let size = std::mem::size_of::<T>();
    // SAFETY: reads at most one record into `record`; a nonblocking
    // descriptor returns EAGAIN when nothing is left.
    while unsafe { libc::read(fd, (&mut record as *mut T).cast(), size) } == size as isize {}
}
