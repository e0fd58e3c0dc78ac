//! The doorbell: lets the user-notification backend sleep in a blocking
//! `SECCOMP_IOCTL_NOTIF_RECV` instead of polling its listener, and still
//! hear everything else.
//!
//! Polling the listener costs each notified call a `ppoll` before its
//! `RECV`; a blocking `RECV` alone is about 2 µs a call cheaper (`git
//! status` under the bench's notification floor: 41 → 35 ms). But `RECV`
//! waits for nothing else: not `SIGCHLD` (a ptrace event), not a stop
//! signal, not the engine's next timer. So a second thread, the bell,
//! listens for those and interrupts the session thread's `RECV` with a
//! signal ([`kick_signal`]), whose handler does nothing; the `RECV` fails
//! with `EINTR` and the engine looks at what came.
//!
//! A kick sent just before the session thread enters `RECV` would be lost.
//! The two threads share two flags: the session sets `waiting` and then
//! reads `rung`; the bell sets `rung` and then reads `waiting`. One of them
//! sees the other's store: the session does not sleep, or the bell kicks,
//! and kicks again every [`KICK_AGAIN`] until the session has woken. The
//! bell also kicks a session that has waited [`LONGEST_WAIT`]: a stop
//! signal whose handler ran just before `RECV` is then heard at most that
//! late. In a process running several sessions, where one bell may read
//! another's `SIGCHLD`, that is [`LONGEST_WAIT_SHARED`].
//!
//! A held call's due time (a delay) is not the bell's to keep: woken by the
//! bell's timer and then by its kick, it would end late. While one is
//! pending the notification backend waits in its own timed `ppoll`, which
//! the bell interrupts only for `SIGCHLD` ([`Doorbell::wait`] with no due
//! time).
//!
//! The kick's handler is installed without `SA_RESTART`: the kernel would
//! restart an interrupted `RECV`. A kick that arrives just after the wait
//! ended interrupts whatever wait the session thread is in then, as a stop
//! signal does ([`crate::engine::stop_signals`]): its waits retry on `EINTR`
//! or end early.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::ptrace::sys::{drain, ppoll, tgkill};
use super::ExactWakeUps;

/// How often the bell kicks again a session that has not woken yet.
const KICK_AGAIN: Duration = Duration::from_micros(50);

/// The longest the session waits in `RECV` without being kicked.
const LONGEST_WAIT: Duration = Duration::from_millis(10);

/// The same, in a process with several doorbells (sessions in threads):
/// there one bell may read the `SIGCHLD` that another's session waits for,
/// and that session hears its ptrace event only when kicked anyway. The
/// ptrace backend's longest nap: what such a process had before.
const LONGEST_WAIT_SHARED: Duration = super::ptrace::LONGEST_NAP;

/// How many doorbells the process has.
static DOORBELLS: AtomicUsize = AtomicUsize::new(0);

/// The longest wait without a kick, for as many doorbells as there are now.
fn longest_wait() -> Duration {
    if DOORBELLS.load(Ordering::SeqCst) > 1 {
        LONGEST_WAIT_SHARED
    } else {
        LONGEST_WAIT
    }
}

/// The signal that interrupts the session thread's `RECV`: the realtime
/// signal `SIGRTMAX - 2`, which glibc leaves to programs. Its handler, set
/// process-wide by the first [`Doorbell::start`], does nothing.
pub fn kick_signal() -> i32 {
    libc::SIGRTMAX() - 2
}

extern "C" fn ignore_kick(_signal: i32) {}

fn install_kick_handler() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // SAFETY: a handler that does nothing; no SA_RESTART (see the module).
        unsafe {
            let mut action = std::mem::zeroed::<libc::sigaction>();
            action.sa_sigaction = ignore_kick as *const () as usize;
            action.sa_flags = 0;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(kick_signal(), &action, std::ptr::null_mut());
        }
    });
}

/// What the session thread and the bell share.
struct Shared {
    /// The session thread is in, or about to enter, its blocking wait.
    waiting: AtomicBool,
    /// Something came that the session has not looked at yet.
    rung: AtomicBool,
    /// When the session's wait must end at the latest, in nanoseconds after
    /// [`Shared::epoch`]; `u64::MAX` for no limit.
    due: AtomicU64,
    /// The instant `due` counts from.
    epoch: Instant,
    /// When the bell wakes next, as `due` counts; `u64::MAX` while it is
    /// awake (it looks at `due` before it sleeps again).
    wakes_at: AtomicU64,
    /// The doorbell was dropped: the bell's thread ends.
    quit: AtomicBool,
}

impl Shared {
    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }
}

/// The bell's thread, which rings for `SIGCHLD` and for the session's
/// due time; it ends when the doorbell is dropped.
pub struct Doorbell {
    shared: Arc<Shared>,
    /// An eventfd written to wake the bell: a wait with a due time began,
    /// or [`Shared::quit`] was set.
    nudge: OwnedFd,
    thread: Option<JoinHandle<()>>,
}

impl Doorbell {
    /// Start the bell for the calling thread, which will wait in
    /// [`Doorbell::wait`]. `child_signal` is a `signalfd` for `SIGCHLD`
    /// (blocked in every thread): the bell reads it from now on.
    pub fn start(child_signal: RawFd) -> io::Result<Doorbell> {
        install_kick_handler();
        // SAFETY: duplicates a descriptor the caller keeps open meanwhile.
        let signals = owned(unsafe { libc::fcntl(child_signal, libc::F_DUPFD_CLOEXEC, 0) })?;
        // SAFETY: a new eventfd.
        let nudge = owned(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        let nudged = nudge.try_clone()?;
        let shared = Arc::new(Shared {
            waiting: AtomicBool::new(false),
            rung: AtomicBool::new(false),
            due: AtomicU64::new(u64::MAX),
            epoch: Instant::now(),
            wakes_at: AtomicU64::new(u64::MAX),
            quit: AtomicBool::new(false),
        });
        // SAFETY: plain syscalls.
        let session = unsafe { (libc::getpid(), libc::gettid()) };
        let bell = Arc::clone(&shared);
        DOORBELLS.fetch_add(1, Ordering::SeqCst);
        let thread = std::thread::Builder::new()
            .name("fi-doorbell".into())
            .spawn(move || ring(&bell, session, &signals, &nudged))
            .inspect_err(|_| {
                DOORBELLS.fetch_sub(1, Ordering::SeqCst);
            })?;
        Ok(Doorbell {
            shared,
            nudge,
            thread: Some(thread),
        })
    }

    /// Run `blocking`, a wait that [`kick_signal`] interrupts, unless
    /// something came already; `None` then. `until` is when the wait must
    /// end at the latest. Whether or not it ran, [`Doorbell::take_ring`]
    /// says afterwards whether something came.
    pub fn wait<T>(&self, until: Option<Instant>, blocking: impl FnOnce() -> T) -> Option<T> {
        let due = until.map_or(u64::MAX, |at| self.shared.nanos(at));
        self.shared.due.store(due, Ordering::SeqCst);
        self.shared.waiting.store(true, Ordering::SeqCst);
        if due < self.shared.wakes_at.load(Ordering::SeqCst) {
            // The bell would sleep past the due time: it looks again. (A
            // wait with a far deadline, such as --timeout's, needs none.)
            self.nudge();
        }
        let result = (!self.shared.rung.load(Ordering::SeqCst)).then(blocking);
        self.shared.waiting.store(false, Ordering::SeqCst);
        self.shared.due.store(u64::MAX, Ordering::SeqCst);
        result
    }

    fn nudge(&self) {
        let one = 1u64;
        // SAFETY: writes 8 bytes to our eventfd.
        unsafe { libc::write(self.nudge.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Whether the bell rang since the last call: `SIGCHLD` came, or the
    /// due time passed.
    pub fn take_ring(&self) -> bool {
        self.shared.rung.swap(false, Ordering::SeqCst)
    }
}

impl Drop for Doorbell {
    fn drop(&mut self) {
        self.shared.quit.store(true, Ordering::SeqCst);
        self.nudge();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        DOORBELLS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The bell's loop: sleep until `SIGCHLD`, the due time, [`LONGEST_WAIT`]
/// or a nudge; ring; kick the session while it waits and has not woken.
fn ring(shared: &Shared, session: (i32, i32), signals: &OwnedFd, nudged: &OwnedFd) {
    // The session's due times are kept as exactly as its own waits.
    let _exact = ExactWakeUps::begin();
    let mut waited_since: Option<Instant> = None;
    loop {
        shared.wakes_at.store(u64::MAX, Ordering::SeqCst);
        let now = Instant::now();
        let due = shared.due.load(Ordering::SeqCst);
        let longest = longest_wait();
        let mut sleep = longest;
        if shared.waiting.load(Ordering::SeqCst) && due != u64::MAX {
            sleep = sleep.min(Duration::from_nanos(due.saturating_sub(shared.nanos(now))));
        }
        shared
            .wakes_at
            .store(shared.nanos(now + sleep), Ordering::SeqCst);
        let mut polled = [pollfd(signals), pollfd(nudged)];
        if ppoll(&mut polled, sleep).is_err() {
            continue; // EINTR
        }
        if polled[1].revents != 0 {
            drain::<u64>(nudged.as_raw_fd());
            if shared.quit.load(Ordering::SeqCst) {
                return;
            }
        }
        if polled[0].revents != 0 {
            drain::<libc::signalfd_siginfo>(signals.as_raw_fd());
            shared.rung.store(true, Ordering::SeqCst);
        }
        let now = Instant::now();
        let waiting = shared.waiting.load(Ordering::SeqCst);
        if waiting && shared.due.load(Ordering::SeqCst) <= shared.nanos(now) {
            shared.rung.store(true, Ordering::SeqCst);
        }
        // A session seen waiting for the longest wait is woken whatever came.
        waited_since = waiting.then(|| waited_since.unwrap_or(now));
        if waited_since.is_some_and(|since| now.duration_since(since) >= longest) {
            shared.rung.store(true, Ordering::SeqCst);
            waited_since = None;
        }
        while shared.rung.load(Ordering::SeqCst) && shared.waiting.load(Ordering::SeqCst) {
            if tgkill(session.0, session.1, kick_signal()).is_err() {
                return; // the session thread is gone
            }
            let _ = ppoll(&mut [], KICK_AGAIN);
        }
    }
}

fn pollfd(fd: &OwnedFd) -> libc::pollfd {
    libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }
}

fn owned(fd: i32) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor just opened and owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ptrace::child_signal::ChildSignal;

    /// A wait that only a signal ends early: what `RECV` is to the bell.
    fn sleep_long() -> io::Result<usize> {
        ppoll(&mut [], Duration::from_secs(5))
    }

    fn interrupted(slept: Option<io::Result<usize>>) -> bool {
        slept.is_some_and(|slept| slept.is_err_and(|e| e.raw_os_error() == Some(libc::EINTR)))
    }

    // One test: a second doorbell in the process shortens the longest wait.
    #[test]
    fn the_bell_cuts_a_blocking_wait_short() {
        let signal = ChildSignal::open().unwrap();
        let bell = Doorbell::start(signal.as_raw_fd()).unwrap();
        assert_eq!(longest_wait(), LONGEST_WAIT);

        let started = Instant::now();
        let slept = bell.wait(Some(started + Duration::from_millis(3)), sleep_long);
        let took = started.elapsed();
        assert!(interrupted(slept), "the due time interrupts the wait");
        assert!(bell.take_ring(), "the due time rings");
        assert!(took >= Duration::from_millis(3), "woken early: {took:?}");
        assert!(took < Duration::from_secs(1), "woken late: {took:?}");

        let started = Instant::now();
        assert!(
            interrupted(bell.wait(None, sleep_long)),
            "a wait with no due time is cut too"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "woken late: {:?}",
            started.elapsed()
        );

        bell.wait(Some(Instant::now() + Duration::from_millis(1)), sleep_long);
        assert!(
            bell.wait(None, sleep_long).is_none(),
            "slept through a ring"
        );
        assert!(bell.take_ring());
        assert!(!bell.take_ring(), "a ring is taken once");

        let second = Doorbell::start(signal.as_raw_fd()).unwrap();
        assert_eq!(longest_wait(), LONGEST_WAIT_SHARED);
        drop(second);
        assert_eq!(longest_wait(), LONGEST_WAIT);
    }
}
