//! Asking every run in progress to end: an [`Interrupt`] that sessions
//! watch ([`crate::session::Session::interrupt`]) and that `fault explore`
//! raises when it receives SIGINT, SIGTERM or SIGHUP.
//!
//! A raised interrupt ends a session as its time limit would: fi kills every
//! traced process (threads held in a delay are let go first) and the run
//! ends with [`crate::session::Status::TimedOut`]; the caller, which raised
//! or watched the interrupt, knows that the run is not to be judged.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The stop signals a campaign hears.
const STOP_SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The longest an engine watching an interrupt waits before looking at it
/// again: how late at most a run ends once the interrupt is raised.
pub const POLL: Duration = Duration::from_millis(20);

/// A request, shared by the runs of a campaign, to end them all.
#[derive(Debug, Default)]
pub struct Interrupt {
    /// The signal that raised it, 0 while it is not raised.
    signal: AtomicI32,
}

impl Interrupt {
    /// An interrupt not yet raised.
    pub fn new() -> Arc<Interrupt> {
        Arc::default()
    }

    /// Raise it, naming the signal that asked (kept if one came first).
    pub fn raise(&self, signal: i32) {
        let _ = self
            .signal
            .compare_exchange(0, signal.max(1), Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The signal that raised it, if it is raised.
    pub fn signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    /// Whether it is raised.
    pub fn is_raised(&self) -> bool {
        self.signal().is_some()
    }

    /// Raise it when this process receives SIGINT, SIGTERM or SIGHUP: a
    /// thread waits for them with `sigwait`. The signals must be blocked in
    /// every thread ([`crate::engine::stop_signals::block_at_startup`]), so
    /// that none of them is delivered elsewhere.
    pub fn on_stop_signals(self: &Arc<Interrupt>) -> std::io::Result<()> {
        let interrupt = Arc::clone(self);
        std::thread::Builder::new()
            .name("fi-stop-signals".into())
            .spawn(move || loop {
                // SAFETY: sigemptyset/sigaddset fill a local set; sigwait
                // writes the signal to a local.
                let signal = unsafe {
                    let mut set = std::mem::zeroed::<libc::sigset_t>();
                    libc::sigemptyset(&mut set);
                    for signal in STOP_SIGNALS {
                        libc::sigaddset(&mut set, signal);
                    }
                    let mut signal = 0;
                    if libc::sigwait(&set, &mut signal) != 0 {
                        return;
                    }
                    signal
                };
                interrupt.raise(signal);
            })
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_is_kept() {
        let interrupt = Interrupt::new();
        assert!(!interrupt.is_raised());
        interrupt.raise(libc::SIGTERM);
        interrupt.raise(libc::SIGINT);
        assert_eq!(interrupt.signal(), Some(libc::SIGTERM));
    }
}
