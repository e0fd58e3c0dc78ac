//! fi's own signals: SIGCHLD for waking the event loop while threads are held
//! for a delay, and SIGINT/SIGTERM/SIGHUP asking fi to stop.
//!
//! [`block_at_startup`] runs first thing in `main`, before any thread exists,
//! so every thread fi ever starts inherits the mask; only the tracer thread
//! then accepts the stop signals, through a handler that merely records them.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

/// The signals that ask fi to stop.
const STOP_SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The last stop signal received, 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Whether that signal came from the kernel (a terminal's Ctrl-C) rather
/// than from a process (`kill`).
static FROM_KERNEL: AtomicBool = AtomicBool::new(false);

extern "C" fn record(signal: i32, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let code = unsafe { (*info).si_code };
    FROM_KERNEL.store(code == libc::SI_KERNEL, Ordering::SeqCst);
    RECEIVED.store(signal, Ordering::SeqCst);
}

/// A stop signal fi received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopRequest {
    /// The signal number.
    pub signal: i32,
    /// Sent by the kernel for a terminal (Ctrl-C), which delivered it to the
    /// whole foreground process group, the traced program included.
    pub from_terminal: bool,
}

fn set_of(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill a local set.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        for &signal in signals {
            libc::sigaddset(&mut set, signal);
        }
        set
    }
}

fn mask(how: i32, signals: &[i32]) {
    let set = set_of(signals);
    // SAFETY: a valid set; the old mask is not needed.
    unsafe { libc::pthread_sigmask(how, &set, std::ptr::null_mut()) };
}

/// Block SIGCHLD and the stop signals in the calling thread and every thread
/// started after it. Call once, first thing in `main`.
pub fn block_at_startup() {
    mask(libc::SIG_BLOCK, &[libc::SIGCHLD]);
    mask(libc::SIG_BLOCK, &STOP_SIGNALS);
}

/// Let the calling (tracer) thread receive the stop signals: a blocking
/// `waitpid` then returns `EINTR` and [`take_stop_request`] names the signal.
pub fn accept_stop_signals() {
    for signal in STOP_SIGNALS {
        // SAFETY: installs a handler that only stores to an atomic; no
        // SA_RESTART, so waits are interrupted.
        unsafe {
            let mut action = std::mem::zeroed::<libc::sigaction>();
            action.sa_sigaction = record as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    mask(libc::SIG_UNBLOCK, &STOP_SIGNALS);
}

/// The stop signal received since the last call, if any.
pub fn take_stop_request() -> Option<StopRequest> {
    match RECEIVED.swap(0, Ordering::SeqCst) {
        0 => None,
        signal => Some(StopRequest {
            signal,
            from_terminal: FROM_KERNEL.load(Ordering::SeqCst),
        }),
    }
}

/// Sleep until a SIGCHLD arrives, a stop signal interrupts, or `timeout` ends.
pub fn wait_for_child(timeout: Duration) {
    let set = set_of(&[libc::SIGCHLD]);
    let timeout = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: valid set and timeout; the siginfo is not needed.
    unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &timeout) };
}

/// Restore the default mask in a freshly forked child before it execs, so the
/// traced program starts with no signal blocked. Async-signal-safe.
pub fn unblock_all_in_child() {
    // SAFETY: an empty set; sigprocmask is async-signal-safe.
    unsafe {
        let mut empty = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}
