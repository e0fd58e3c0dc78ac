//! Which way the calls of each subscribed syscall reach the engine: the
//! cheapest [`Route`] that loses nothing the policies need or the log keeps.
//!
//! - [`Route::Errno`]: the one stage subscribed answers every call with the
//!   same errno ([`Need::Constant`]) and no per-call log line or record is
//!   kept: the filter answers in the kernel, at native speed. The stage's
//!   report says so, since fi then sees none of these calls.
//! - [`Route::Notify`]: every stage decides at entry ([`Need::Entry`]), and
//!   no kept line needs the real result of a call a stage changed but let
//!   run; the kernel has user notification ([`notify::supported`]).
//! - [`Route::Trace`]: everything else, and everything with
//!   [`Kind::Ptrace`].

use syscalls::{Sysno, SysnoSet};

use super::fd_scope;
use crate::arch::classes::path_args;
use crate::backend::{notify, Kind, Route};
use crate::model::{Action, Need};
use crate::output::Log;
use crate::policy::chain::Chain;
use crate::tracee::cwd;

/// The calls the engine always looks at, though no stage subscribes to
/// them: it warns of what it will not see (a ring set up by
/// `io_uring_setup`).
pub const WATCHED: &[Sysno] = &[Sysno::io_uring_setup];

/// Whether the engine keeps working directories between calls
/// ([`cwd::Following`]) for a chain subscribed to `subscription`: when a
/// subscribed call takes a path, which a relative path resolves against.
pub fn follows_cwd(subscription: &SysnoSet) -> bool {
    subscription
        .iter()
        .any(|sysno| !path_args(sysno).is_empty())
}

/// The calls the engine looks at for its own sake with `subscription`: the
/// [`WATCHED`] ones, and those that change a working directory
/// ([`cwd::CHANGES`]) while it keeps directories ([`follows_cwd`]). The
/// latter always take a ptrace stop, at entry and exit.
pub fn watched(subscription: &SysnoSet) -> SysnoSet {
    let mut watched = SysnoSet::new(WATCHED);
    if follows_cwd(subscription) {
        watched = watched.union(&SysnoSet::new(cwd::CHANGES));
    }
    watched
}

/// The route of every syscall `chain` subscribes to, of the calls `stopped`
/// (which always take a ptrace stop: the launch's `execve`, calls stopped to
/// be logged), and of the [`watched`] calls, by number, but for the
/// `unstopped` fd calls ([`unstopped_fd_calls`]), whose opens are watched
/// instead. Marks in the chain the stages whose calls the kernel answers.
pub fn routes(
    chain: &mut Chain,
    log: &Log,
    kind: Kind,
    stopped: &SysnoSet,
    unstopped: &SysnoSet,
) -> Vec<(u32, Route)> {
    let router = Router::new(chain, log, kind, stopped);
    let mut calls = router
        .subscribed
        .clone()
        .union(stopped)
        .union(&router.watched);
    if !unstopped.is_empty() {
        calls = calls.union(&SysnoSet::new(fd_scope::OPENS));
    }
    calls
        .iter()
        .filter(|&sysno| !unstopped.contains(sysno))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|sysno| {
            let route = router.route(chain, sysno);
            if let Route::Errno(_) = route {
                chain.decided_in_kernel(sysno);
            }
            (sysno.id() as u32, route)
        })
        .collect()
}

/// The subscribed calls on file descriptors that the filter may let run
/// unstopped until their process opens a file a stage decides them for
/// ([`fd_scope`]): those every stage subscribed to decides by the fd's file
/// alone. The `-c` summary counts what it sees: calls not stopped are not
/// in it. None when a logged call would be lost (every call is logged with
/// `--trace`), when user notification is not used, or
/// when an open would take a ptrace stop, or a call that copies a
/// descriptor, or `mmap`, `munmap` or `seccomp` (what adding a filter runs
/// in the process), would wait on a notification.
pub fn unstopped_fd_calls(chain: &Chain, log: &Log, kind: Kind, stopped: &SysnoSet) -> SysnoSet {
    let router = Router::new(chain, log, kind, stopped);
    if !router.notify || log.traces_all() {
        return SysnoSet::empty();
    }
    let unstopped: Vec<Sysno> = router
        .subscribed
        .iter()
        .filter(|&sysno| {
            fd_scope::is_fd_call(sysno) && !stopped.contains(sysno) && chain.fd_scoped(sysno)
        })
        .collect();
    let seen_by_notification = |sysno: &Sysno| router.route(chain, *sysno) == Route::Notify;
    let never_notified = |sysno: &Sysno| {
        unstopped.contains(sysno)
            || !router.subscribed.contains(*sysno)
            || router.route(chain, *sysno) != Route::Notify
    };
    if unstopped.is_empty()
        || !fd_scope::OPENS.iter().all(seen_by_notification)
        || !fd_scope::FILTER_INSTALL
            .iter()
            .chain(fd_scope::COPIES)
            .all(never_notified)
    {
        return SysnoSet::empty();
    }
    SysnoSet::new(&unstopped)
}

/// What the route of one call depends on.
struct Router<'a> {
    log: &'a Log,
    kind: Kind,
    stopped: &'a SysnoSet,
    notify: bool,
    subscribed: SysnoSet,
    watched: SysnoSet,
    follows_cwd: bool,
}

impl<'a> Router<'a> {
    fn new(chain: &Chain, log: &'a Log, kind: Kind, stopped: &'a SysnoSet) -> Router<'a> {
        let subscribed = chain.subscription();
        Router {
            log,
            kind,
            stopped,
            notify: kind == Kind::Auto && notify::supported(),
            watched: watched(&subscribed),
            follows_cwd: follows_cwd(&subscribed),
            subscribed,
        }
    }

    /// The route of `sysno`'s calls.
    fn route(&self, chain: &Chain, sysno: Sysno) -> Route {
        match self.kind {
            _ if self.stopped.contains(sysno) => Route::Trace,
            // The engine must see a directory change's exit too.
            _ if self.follows_cwd && cwd::CHANGES.contains(&sysno) => Route::Trace,
            Kind::Ptrace => Route::Trace,
            // An open watched while fd calls run unstopped: as frequent as
            // they are, and decided at entry.
            Kind::Auto if !self.subscribed.contains(sysno) && fd_scope::OPENS.contains(&sysno) => {
                Route::Notify
            }
            // Watched only: a rare call, stopped with ptrace so that it
            // alone never makes a run open a notification listener.
            Kind::Auto if !self.subscribed.contains(sysno) => Route::Trace,
            Kind::Auto => route_for(&chain.needs_at(sysno), self.log, self.notify),
        }
    }
}

/// The route for calls whose stages need `needs`, in chain order.
fn route_for(needs: &[Need], log: &Log, notify: bool) -> Route {
    if let [Need::Constant(Action::Fail(errno))] = needs {
        if !log.keeps_lines() {
            return Route::Errno(errno.into_raw() as u16);
        }
    }
    let entry_only = needs.iter().all(|need| match need {
        Need::Stop => false,
        Need::Constant(_) => true,
        Need::Entry { passes_changed } => !(*passes_changed && log.keeps_lines()),
    });
    if notify && entry_only && !log.traces_all() {
        Route::Notify
    } else {
        Route::Trace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Keep, LogFormat, LogOptions};
    use syscalls::Errno;

    fn log(lines: bool) -> Log {
        Log::new(LogOptions {
            out: lines.then(|| Box::new(std::io::sink()) as Box<dyn std::io::Write + Send>),
            format: LogFormat::Text,
            trace_all: false,
            summary: true,
            keep: Keep::Nothing,
            end_to_stderr: false,
        })
    }

    const EIO: Need = Need::Constant(Action::Fail(Errno::EIO));
    const ENTRY: Need = Need::Entry {
        passes_changed: false,
    };
    const DELAYS: Need = Need::Entry {
        passes_changed: true,
    };

    #[test]
    fn a_lone_constant_errno_goes_to_the_kernel_only_when_nothing_is_logged() {
        assert_eq!(route_for(&[EIO], &log(false), true), Route::Errno(5));
        assert_eq!(route_for(&[EIO], &log(false), false), Route::Errno(5));
        assert_eq!(route_for(&[EIO], &log(true), true), Route::Notify);
        assert_eq!(route_for(&[EIO, ENTRY], &log(false), true), Route::Notify);
    }

    #[test]
    fn any_stop_or_a_logged_result_needs_ptrace() {
        assert_eq!(
            route_for(&[ENTRY, Need::Stop], &log(false), true),
            Route::Trace
        );
        assert_eq!(route_for(&[DELAYS], &log(true), true), Route::Trace);
        assert_eq!(route_for(&[DELAYS], &log(false), true), Route::Notify);
        assert_eq!(route_for(&[ENTRY], &log(true), false), Route::Trace);
    }
}
