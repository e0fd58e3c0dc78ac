//! The user-notification backend: a [`PtraceBackend`] over a seccomp filter
//! whose entry-only calls wait on a seccomp user notification
//! (`SECCOMP_RET_USER_NOTIF`) instead of stopping the thread.
//!
//! The program stays under ptrace for fork, clone, exec and exit events and
//! for the calls routed to a ptrace stop; the backend watches both the
//! listener and `waitpid`. Where `SIGCHLD` is fi's alone (the `fault`
//! command blocks it in every thread), it waits in `RECV` itself and a
//! [`Doorbell`] thread interrupts that wait for `SIGCHLD` and timeouts;
//! otherwise it polls the listener and a `signalfd`. A notified call is answered with
//! `SECCOMP_USER_NOTIF_FLAG_CONTINUE` (run it), an errno or a value. When
//! the decision looked into the caller (its memory, its `/proc` files:
//! [`tracee::looks`]), `SECCOMP_IOCTL_NOTIF_ID_VALID` first confirms that
//! the caller still waits, so that what the policies saw was its own, as
//! the kernel's documentation asks; a decision that looked at nothing is
//! answered at once (one system call fewer per call).
//!
//! [`tracee::looks`]: crate::tracee::looks
//!
//! The filter carries `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`: once fi has
//! received a call, only a fatal signal ends the caller's wait. A signal a
//! verdict sends, or one from elsewhere, stays pending until fi answers, and
//! is delivered as the call returns, as after a ptrace stop; without the
//! flag the call would restart and be decided twice.

use foldhash::HashMap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use super::doorbell::Doorbell;
use super::filter::{self, FdCall};
use super::ptrace::child_signal::ChildSignal;
use super::ptrace::sys::{self, ppoll};
use super::ptrace::{PtraceBackend, LONGEST_NAP};
use super::{Backend, Capabilities, Event, Route, Waited};
use crate::{arch, tracee};

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (Linux 6.6): the supervisor and the
/// caller hand over on one CPU.
const FD_SYNC_WAKE_UP: u64 = 1;

/// How many filters stopping the fd calls on one descriptor a process gets
/// before one that stops all of them: each costs every call of the process
/// a run of its program, and the kernel bounds their total length.
const MOST_FD_FILTERS: u32 = 8;

/// The first wait before `waitpid` is asked again when no `SIGCHLD` woke
/// the backend, in a process where another thread may take the signal (see
/// [`ChildSignal`]). It doubles up to the ptrace backend's [`LONGEST_NAP`]:
/// ptrace events are seen at most that late. Where the signal was blocked
/// before fi opened its descriptor (the `fault` command blocks it in every
/// thread) the backend waits [`LONGEST_NAP`] at once: a wake-up every few
/// microseconds between a program's calls took its CPU from it, and made a
/// Python start-up under a `-P` rule slower than the ptrace backend's.
const SHORTEST_NAP: Duration = Duration::from_micros(20);

/// Whether this kernel has what the backend needs: user notification with
/// killable waits (Linux 5.19).
pub fn supported() -> bool {
    // SAFETY: uname fills the struct.
    let mut uts = unsafe { std::mem::zeroed::<libc::utsname>() };
    // SAFETY: a valid out pointer.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return false;
    }
    // SAFETY: uname NUL-terminates release.
    let release = unsafe { std::ffi::CStr::from_ptr(uts.release.as_ptr()) };
    let mut numbers = release
        .to_string_lossy()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse::<u32>().ok())
        .collect::<Vec<_>>()
        .into_iter();
    let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    version >= (5, 19)
}

/// A notified call waiting for its answer.
struct Held {
    /// The notification's id.
    id: u64,
    /// The result to answer with; `None` lets the call run.
    answer: Option<i64>,
    /// [`tracee::looks`] when the call came.
    looks: u64,
    /// The caller's process, whose fd calls the fd filter stops once this
    /// call has run ([`Backend::stop_fd_calls_after`]).
    then_stop_fd_calls: Option<i32>,
}

/// Calls reach the engine through user notifications and ptrace stops.
pub struct NotifyBackend {
    /// Wakes a wait in `RECV` for `SIGCHLD` and timeouts; `None` where
    /// another thread may take `SIGCHLD` (the backend then polls).
    doorbell: Option<Doorbell>,
    ptrace: PtraceBackend,
    /// The filter's listener; `None` once every filtered process is gone.
    listener: Option<OwnedFd>,
    /// Notified calls the engine is deciding, by thread.
    held: HashMap<i32, Held>,
    /// `waitpid` may have something: a `SIGCHLD` came, a nap ended, or the
    /// last ask found an event.
    ask_waitpid: bool,
    nap: Duration,
    /// The fd calls the spawn's filter lets run, which an fd filter stops
    /// on one descriptor.
    fd_calls: Vec<FdCall>,
    /// How many fd filters each process got.
    fd_filters: HashMap<i32, u32>,
    /// A process's fd calls could not be stopped: said once.
    fd_filter_warned: bool,
    /// Warnings not yet taken by [`Backend::take_warnings`].
    warnings: Vec<String>,
}

impl NotifyBackend {
    /// A backend over `ptrace` (in seccomp mode) and the filter's `listener`.
    pub fn new(ptrace: PtraceBackend, listener: OwnedFd) -> NotifyBackend {
        // Best effort: kernels before 6.6 wake across CPUs.
        // SAFETY: an ioctl on our listener with a flags word.
        unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                FD_SYNC_WAKE_UP,
            )
        };
        // Where SIGCHLD reaches our signalfd alone, a doorbell lets the
        // backend wait in RECV; without one it polls the listener.
        let doorbell = ptrace
            .child_signal()
            .filter(|signal| signal.blocked_before())
            .and_then(|signal| Doorbell::start(signal.as_raw_fd()).ok());
        NotifyBackend {
            doorbell,
            ptrace,
            listener: Some(listener),
            held: HashMap::default(),
            ask_waitpid: true,
            nap: SHORTEST_NAP,
            fd_calls: Vec::new(),
            fd_filters: HashMap::default(),
            fd_filter_warned: false,
            warnings: Vec::new(),
        }
    }

    /// Stop the fd calls of `calls` on a descriptor once a process holds one
    /// of a file they matter for ([`Backend::stop_fd_calls_after`]).
    pub fn stopping_fd_calls(mut self, calls: Vec<FdCall>) -> NotifyBackend {
        self.fd_calls = calls;
        self
    }

    /// Add to process `pid`, through its thread `tid` stopped after a call,
    /// a filter that stops the fd calls on `fd` with ptrace; for no `fd`, or
    /// past [`MOST_FD_FILTERS`], one that stops them all.
    fn add_fd_filter(&mut self, pid: i32, tid: i32, fd: Option<u32>) -> io::Result<()> {
        let count = self.fd_filters.entry(pid).or_insert(0);
        let program = match (*count, fd) {
            (n, Some(fd)) if n < MOST_FD_FILTERS => filter::fd_filter_for(&self.fd_calls, fd),
            (n, _) if n <= MOST_FD_FILTERS => {
                *count = MOST_FD_FILTERS;
                let routes: Vec<(u32, Route)> = self
                    .fd_calls
                    .iter()
                    .map(|call| (call.nr, Route::Trace))
                    .collect();
                filter::filter_for(&routes)
            }
            _ => return Ok(()),
        };
        *count += 1;
        self.ptrace.add_filter(pid, tid, &program)
    }

    /// Say once that the fd calls of process `pid` could not be stopped,
    /// unless it is gone (`ESRCH`).
    fn warn_of_unstopped_fd_calls(&mut self, pid: i32, error: &io::Error) {
        if error.raw_os_error() != Some(libc::ESRCH)
            && !std::mem::replace(&mut self.fd_filter_warned, true)
        {
            self.warnings.push(format!(
                "cannot stop the fd calls of process {pid}, which opened a file they matter \
                 for: {error}; they run undecided"
            ));
        }
    }

    /// Sleep at most `timeout` until a notification comes (returned) or a
    /// tracee changes state (`ask_waitpid` is set). The wait ends by itself
    /// at `timeout`, as a held call's due time needs; with a doorbell, the
    /// bell reads `SIGCHLD` and interrupts it.
    fn listen(&mut self, timeout: Duration) -> io::Result<Option<Event>> {
        let none = libc::pollfd {
            fd: -1,
            events: libc::POLLIN,
            revents: 0,
        };
        let child_signal = self
            .ptrace
            .child_signal()
            .filter(|_| self.doorbell.is_none());
        let mut polled = [
            self.listener
                .as_ref()
                .map_or(none, |listener| libc::pollfd {
                    fd: listener.as_raw_fd(),
                    ..none
                }),
            child_signal.map_or(none, ChildSignal::pollfd),
        ];
        let polled_now = match &self.doorbell {
            Some(bell) => {
                let polled_now = bell.wait(None, || ppoll(&mut polled, timeout));
                if bell.take_ring() {
                    self.ask_waitpid = true;
                }
                match polled_now {
                    Some(polled_now) => polled_now,
                    None => return Ok(None),
                }
            }
            None => ppoll(&mut polled, timeout),
        };
        let ready = match polled_now {
            Ok(ready) => ready,
            Err(e) => return Err(e).or_else(interrupted),
        };
        let [listener, signalled] = polled.map(|p| p.revents);
        if ready == 0 {
            self.nap = (self.nap * 2).min(LONGEST_NAP);
        }
        if ready == 0 || signalled != 0 {
            self.ask_waitpid = true;
        }
        if signalled != 0 {
            child_signal.inspect(|signal| signal.clear());
        }
        if listener == 0 {
            return Ok(None);
        }
        if listener & libc::POLLIN == 0 {
            // POLLHUP: no process runs under the filter any more.
            self.listener = None;
            return Ok(None);
        }
        self.receive()
    }

    /// Take the notification waiting on the listener.
    fn receive(&mut self) -> io::Result<Option<Event>> {
        let Some(listener) = &self.listener else {
            return Ok(None);
        };
        Ok(receive(listener.as_raw_fd()).map(|notif| self.hold(&notif)))
    }

    /// Wait for a notification in `RECV` itself, the doorbell waking the
    /// wait for anything else (`SIGCHLD`, the engine's `timeout`).
    fn wait_at_doorbell(&mut self, timeout: Option<Duration>) -> Option<Event> {
        let bell = self.doorbell.as_ref()?;
        let until = timeout.map(|t| Instant::now() + t);
        let notif = match &self.listener {
            Some(listener) => {
                let fd = listener.as_raw_fd();
                bell.wait(until, || receive(fd)).flatten()
            }
            // Every filtered process is gone: only ptrace events are left.
            None => bell
                .wait(until, || ppoll(&mut [], timeout.unwrap_or(LONGEST_NAP)))
                .and(None),
        };
        if bell.take_ring() {
            self.ask_waitpid = true;
        }
        notif.map(|notif| self.hold(&notif))
    }

    /// Hold the notified call `notif` for the engine to decide: its entry.
    fn hold(&mut self, notif: &libc::seccomp_notif) -> Event {
        let tid = notif.pid as i32;
        self.held.insert(
            tid,
            Held {
                id: notif.id,
                answer: None,
                looks: tracee::looks(),
                then_stop_fd_calls: None,
            },
        );
        Event::Entry {
            tid,
            nr: i64::from(notif.data.nr),
            args: notif.data.args,
            notified: true,
        }
    }

    /// Answer the notified call `held`: run it, or give it its result. A
    /// caller gone meanwhile (killed) is not answered: when the decision
    /// looked into it, it is asked first; otherwise the answer finds no
    /// caller.
    fn answer(&self, held: &Held) {
        let Some(listener) = &self.listener else {
            return;
        };
        let fd = listener.as_raw_fd();
        let looked = tracee::looks() != held.looks;
        // SAFETY: ID_VALID reads the id it is given.
        if looked && unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &held.id) } != 0 {
            return;
        }
        // SAFETY: plain data.
        let mut response = unsafe { std::mem::zeroed::<libc::seccomp_notif_resp>() };
        response.id = held.id;
        match held.answer {
            None => response.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
            Some(result) if (-4095..0).contains(&result) => response.error = result as i32,
            Some(result) => response.val = result,
        }
        // SAFETY: SEND reads the response it is given. ENOENT (the caller
        // was killed meanwhile) needs nothing more.
        unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SEND, &response) };
    }

    /// Let the notified call `held` of thread `tid` run; if it gave process
    /// `pid` a descriptor, add an fd filter for it. Every thread of the
    /// process is interrupted first, so that none runs more of its code
    /// (and uses the new descriptor) before the filter is there; the caller
    /// stops as the call returns.
    fn answer_then_stop_fd_calls(&mut self, held: &Held, pid: i32, tid: i32) {
        for thread in sys::threads_of(pid).unwrap_or_default() {
            let _ = sys::interrupt(thread);
        }
        self.answer(held);
        // A failed open gives no descriptor: no filter.
        let added = self.ptrace.stopped_after_call(tid).and_then(|result| {
            match u32::try_from(result) {
                Ok(fd) => self.add_fd_filter(pid, tid, Some(fd)),
                // Cut short (an open of a FIFO waiting for a writer), the
                // call is made again, and would be interrupted again: stop
                // every fd call of the process instead. It is decided again.
                Err(_) if arch::was_interrupted(result) => self.add_fd_filter(pid, tid, None),
                Err(_) => Ok(()),
            }
        });
        self.ptrace.let_go(tid);
        self.ask_waitpid = true;
        if let Err(error) = added {
            self.warn_of_unstopped_fd_calls(pid, &error);
        }
    }
}

/// The notification waiting on `listener`, or the next one to come; `None`
/// if the wait was interrupted (`EINTR`) or the caller was killed before fi
/// took its call (`ENOENT`).
fn receive(listener: RawFd) -> Option<libc::seccomp_notif> {
    // SAFETY: seccomp_notif is plain data; the kernel wants it zeroed.
    let mut notif = unsafe { std::mem::zeroed::<libc::seccomp_notif>() };
    // SAFETY: RECV fills the struct it is given.
    (unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notif) } == 0)
        .then_some(notif)
}

/// An interrupted wait is an empty one: the engine checks its stop
/// requests and asks again.
fn interrupted<T: Default>(error: io::Error) -> io::Result<T> {
    match error.raw_os_error() {
        Some(libc::EINTR) => Ok(T::default()),
        _ => Err(error),
    }
}

impl Backend for NotifyBackend {
    fn capabilities(&self) -> Capabilities {
        PtraceBackend::CAPABILITIES
    }

    fn wait(&mut self, timeout: Option<Duration>, held_due: bool) -> io::Result<Waited> {
        if self.ask_waitpid {
            match self.ptrace.take_ready() {
                Ok(Some(event)) => {
                    self.nap = SHORTEST_NAP;
                    return Ok(Waited::Event(event));
                }
                Ok(None) => self.ask_waitpid = false,
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => return Ok(Waited::NoneLeft),
                Err(e) => return Err(e),
            }
        }
        // A held call's due time is kept by this thread's own timed wait:
        // through the bell it would take two wake-ups, late.
        if self.doorbell.is_some() && !held_due {
            return Ok(match self.wait_at_doorbell(timeout) {
                Some(event) => Waited::Event(event),
                None => Waited::Nothing,
            });
        }
        let signal_is_ours = self
            .ptrace
            .child_signal()
            .is_some_and(ChildSignal::blocked_before);
        let nap = if signal_is_ours {
            LONGEST_NAP
        } else {
            self.nap
        };
        let nap = timeout.map_or(nap, |t| t.min(nap));
        match self.listen(nap)? {
            Some(event) => {
                self.nap = SHORTEST_NAP;
                Ok(Waited::Event(event))
            }
            None => Ok(Waited::Nothing),
        }
    }

    fn rewrite(&mut self, tid: i32, nr: i64, args: [u64; 6]) {
        if !self.held.contains_key(&tid) {
            self.ptrace.rewrite(tid, nr, args);
        }
    }

    fn skip(&mut self, tid: i32, result: i64) {
        match self.held.get_mut(&tid) {
            Some(held) => held.answer = Some(result),
            None => self.ptrace.skip(tid, result),
        }
    }

    fn set_result(&mut self, tid: i32, result: i64) {
        if !self.held.contains_key(&tid) {
            self.ptrace.set_result(tid, result);
        }
    }

    fn call_again(&mut self, pid: i32, tid: i32, nr: i64, args: [u64; 6]) {
        if !self.held.contains_key(&tid) {
            self.ptrace.call_again(pid, tid, nr, args);
        }
    }

    fn resume(&mut self, tid: i32, stop_at_exit: bool) {
        match self.held.remove(&tid) {
            Some(held) => match held.then_stop_fd_calls {
                Some(pid) if held.answer.is_none() => {
                    self.answer_then_stop_fd_calls(&held, pid, tid)
                }
                _ => self.answer(&held),
            },
            None => self.ptrace.resume(tid, stop_at_exit),
        }
    }

    fn stop_fd_calls_on(&mut self, pid: i32, tid: i32, fd: u32) {
        if let Err(error) = self.add_fd_filter(pid, tid, Some(fd)) {
            self.warn_of_unstopped_fd_calls(pid, &error);
        }
    }

    fn stop_fd_calls_after(&mut self, pid: i32, tid: i32) {
        let stops_all = self.fd_filters.get(&pid) > Some(&MOST_FD_FILTERS);
        if let Some(held) = self.held.get_mut(&tid).filter(|_| !stops_all) {
            held.then_stop_fd_calls = Some(pid);
        }
    }

    fn signal(&mut self, pid: i32, tid: i32, signal: i32) {
        self.ptrace.signal(pid, tid, signal);
    }

    fn kill_all(&mut self) {
        // The processes are all traced: a thread waiting on a notification
        // dies with them.
        self.ptrace.kill_all();
    }

    fn take_warnings(&mut self) -> Vec<String> {
        let mut warnings = self.ptrace.take_warnings();
        warnings.append(&mut self.warnings);
        warnings
    }

    fn detach_all(&mut self, held: &[i32]) {
        let stopped: Vec<i32> = held
            .iter()
            .copied()
            .filter(|tid| match self.held.remove(tid) {
                Some(call) => {
                    self.answer(&call);
                    false
                }
                None => true,
            })
            .collect();
        self.ptrace.detach_all(&stopped);
    }
}
