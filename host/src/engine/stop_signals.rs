//! SIGINT, SIGTERM and SIGHUP sent to fi, for a session that asked to hear
//! them (the command line does; a library caller keeps its own handlers).
//!
//! The command's `main` blocks them first thing, before any thread exists,
//! so that every thread inherits the mask ([`block_at_startup`]); the thread
//! running a session then unblocks them for itself alone and installs a
//! handler that merely records them, so its waits end with `EINTR`.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

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

fn mask(how: i32) {
    // SAFETY: sigemptyset/sigaddset fill a local set; the old mask is not needed.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        for signal in STOP_SIGNALS {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

/// Block the stop signals in the calling thread and every thread started
/// after it. Call once, first thing in `main`.
pub fn block_at_startup() {
    mask(libc::SIG_BLOCK);
}

/// The calling thread hears the stop signals (process-wide handlers, so one
/// session of a process at a time).
pub struct StopSignals(());

impl StopSignals {
    /// Install the handlers and unblock the signals in the calling thread.
    pub fn accept() -> StopSignals {
        for signal in STOP_SIGNALS {
            // SAFETY: installs a handler that only stores to atomics; no
            // SA_RESTART, so waits are interrupted.
            unsafe {
                let mut action = std::mem::zeroed::<libc::sigaction>();
                action.sa_sigaction = record as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
        mask(libc::SIG_UNBLOCK);
        StopSignals(())
    }

    /// The stop signal received since the last call, if any.
    pub fn take(&self) -> Option<StopRequest> {
        match RECEIVED.swap(0, Ordering::SeqCst) {
            0 => None,
            signal => Some(StopRequest {
                signal,
                from_terminal: FROM_KERNEL.load(Ordering::SeqCst),
            }),
        }
    }
}
