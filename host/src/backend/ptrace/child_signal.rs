//! A file descriptor that becomes readable when a tracee changes state, so
//! that a backend can sleep on it beside other descriptors (the
//! user-notification listener) instead of polling `waitpid`.
//!
//! The kernel tells a tracer of every ptrace stop, exit and fork of its
//! tracees with `SIGCHLD`. [`ChildSignal`] blocks that signal in the calling
//! thread (the session's own thread) and reads it from a `signalfd`. It is a
//! hint, never the truth: the backend still asks `waitpid`, and still wakes
//! now and then by itself, because `SIGCHLD` is sent to the whole process and
//! another thread that does not block it may take it first. The `fault`
//! command blocks it in every thread from the start ([`block_in_process`]),
//! so there it is taken by the tracer alone (or by a second session's
//! tracer, in a process running several).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// `SIGCHLD` as a set.
fn sigchld() -> libc::sigset_t {
    // SAFETY: sigemptyset and sigaddset fill a local set.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        set
    }
}

/// Block `SIGCHLD` in the calling thread and every thread it starts later.
/// Call first thing in `main`, before any thread exists. Programs fi starts
/// begin with an empty signal mask whatever fi's is.
pub fn block_in_process() {
    let set = sigchld();
    // SAFETY: changes the calling thread's mask; the old one is not needed.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
}

/// `SIGCHLD`, blocked in the calling thread and readable from a descriptor.
pub struct ChildSignal {
    fd: OwnedFd,
    /// The thread's mask had `SIGCHLD` blocked already.
    was_blocked: bool,
}

impl ChildSignal {
    /// Block `SIGCHLD` in the calling thread and open a `signalfd` for it.
    pub fn open() -> io::Result<ChildSignal> {
        let set = sigchld();
        // SAFETY: plain data, filled by pthread_sigmask.
        let mut old = unsafe { std::mem::zeroed::<libc::sigset_t>() };
        // SAFETY: valid sets; changes the calling thread's mask only.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) };
        // SAFETY: reads the set just filled.
        let was_blocked = unsafe { libc::sigismember(&old, libc::SIGCHLD) } == 1;
        // SAFETY: a new descriptor for a valid set.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        if fd < 0 {
            let error = io::Error::last_os_error();
            if !was_blocked {
                // SAFETY: undoes the change above.
                unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
            }
            return Err(error);
        }
        Ok(ChildSignal {
            // SAFETY: a descriptor just opened and owned by nothing else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            was_blocked,
        })
    }

    /// Sleep until a `SIGCHLD` is pending or `timeout` has passed, whichever
    /// comes first; true if one is pending. The wake-up comes when asked:
    /// `ppoll` sleeps to the nanosecond, with the thread's timer slack.
    pub fn wait(&self, timeout: Duration) -> io::Result<bool> {
        let mut polled = [self.pollfd()];
        let ready = super::sys::ppoll(&mut polled, timeout)?;
        Ok(ready > 0)
    }

    /// Whether the thread had `SIGCHLD` blocked before [`ChildSignal::open`]:
    /// so does a process that blocks it in every thread from the start
    /// ([`block_in_process`]), where the signal reaches this descriptor.
    pub fn blocked_before(&self) -> bool {
        self.was_blocked
    }

    /// The descriptor itself, for a [`crate::backend::doorbell::Doorbell`]
    /// that reads it from another thread.
    pub fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// This descriptor, to be polled for input beside others.
    pub fn pollfd(&self) -> libc::pollfd {
        libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }
    }

    /// Take the pending `SIGCHLD`, if any, so that the descriptor is
    /// readable again only for the next one.
    pub fn clear(&self) {
        super::sys::drain::<libc::signalfd_siginfo>(self.fd.as_raw_fd());
    }
}

impl Drop for ChildSignal {
    fn drop(&mut self) {
        if !self.was_blocked {
            let set = sigchld();
            // SAFETY: gives the thread back the mask it had.
            unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
        }
    }
}
