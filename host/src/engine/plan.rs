//! How a spawned program is traced, planned before it starts ([`SpawnPlan`]):
//! the seccomp filter and which way the calls of each subscribed syscall
//! reach the engine through it, the calls the backend stops, and whether the
//! engine waits for the launch. Each call gets the cheapest [`Route`] that
//! loses nothing the policies need or the log keeps:
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
use crate::arch::classes::{fd_when_path_null, path_args};
use crate::backend::filter::{filter_allowing_null_paths, BpfProgram, FdCall};
use crate::backend::ptrace::{Filter, Mode};
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

/// What a plan needs to know of the machine and of fi's own process: the
/// only inputs of [`SpawnPlan::new`] that are not values.
pub struct Host<'a> {
    /// The kernel has user notification with killable waits
    /// ([`notify::supported`]).
    pub user_notification: bool,
    /// Whether fi holds a descriptor of a file whose fd calls a stage of the
    /// chain decides ([`fd_scope::inherited_may_matter`]); asked only when
    /// fd calls could run unstopped.
    pub inherits_matching_fd: &'a dyn Fn(&Chain) -> bool,
}

impl Host<'static> {
    /// This machine and this process.
    pub fn this_one() -> Host<'static> {
        Host {
            user_notification: notify::supported(),
            inherits_matching_fd: &fd_scope::inherited_may_matter,
        }
    }
}

/// How a spawned program is traced, decided before it starts.
#[derive(Debug)]
pub struct SpawnPlan {
    /// Seccomp (a filter stops the subscribed calls) or `PTRACE_SYSCALL`
    /// (every call stops; `--no-seccomp`).
    pub mode: Mode,
    /// The filter's route of each call it sends on, by number (none without
    /// the filter).
    pub routes: Vec<(u32, Route)>,
    /// The compiled filter (empty without it).
    pub program: BpfProgram,
    /// The calls the backend stops.
    pub subscription: SysnoSet,
    /// The engine tampers with nothing before the command's own `execve`
    /// succeeded (as in strace), and it sees that `execve`.
    pub await_launch: bool,
    /// The subscribed fd calls the filter lets run unstopped until their
    /// process opens a file a stage decides them for ([`fd_scope`]); among
    /// them, a call on a descriptor when its path is NULL
    /// ([`fd_when_path_null`]) runs unstopped only then.
    pub unstopped: SysnoSet,
}

impl SpawnPlan {
    /// The plan for running the stages of `chain` over a spawned program in
    /// `mode` on a `kind` backend, with `logged_only` the calls logged though
    /// no stage subscribes to them (`--trace` with `-e trace=`).
    pub fn new(
        chain: &Chain,
        log: &Log,
        kind: Kind,
        mode: Mode,
        logged_only: &SysnoSet,
        host: &Host,
    ) -> SpawnPlan {
        // Nothing is tampered with or counted before the command's own
        // execve succeeded (as in strace): the engine must see the launch
        // if it could see anything before it. Under the filter only the
        // launch's execve can be stopped (a ptrace stop, whatever the
        // stages would allow), and only if a stage subscribes to execve
        // (not merely execveat, as %desc does: the launch is an execve);
        // without the filter every call stops.
        let launch = SysnoSet::new(&[Sysno::execve]);
        let execs = launch.clone().union(&SysnoSet::new(&[Sysno::execveat]));
        let subscription = chain.subscription();
        let await_launch = match mode {
            Mode::Seccomp => subscription.contains(Sysno::execve),
            Mode::Syscall => true,
        };
        let always_stopped = logged_only
            .clone()
            .union(&subscription.intersection(&launch));
        let notify = host.user_notification;
        let unstopped = match mode {
            Mode::Seccomp => unstopped_fd_calls(chain, log, kind, &always_stopped, notify),
            Mode::Syscall => SysnoSet::empty(),
        };
        // A descriptor of a matching file fi was started with keeps every fd
        // call stopped; fi's descriptors are read only when that could matter.
        let unstopped = if !unstopped.is_empty() && (host.inherits_matching_fd)(chain) {
            SysnoSet::empty()
        } else {
            unstopped
        };
        let routes = match mode {
            Mode::Syscall => Vec::new(),
            Mode::Seccomp => routes(chain, log, kind, &always_stopped, &unstopped, notify),
        };
        let subscription = match mode {
            Mode::Seccomp => stopped_calls(chain, logged_only),
            Mode::Syscall => stopped_calls(chain, logged_only).union(&execs),
        };
        let allowed_when_null: Vec<(u32, usize)> = unstopped
            .iter()
            .filter_map(|sysno| Some((sysno.id() as u32, fd_when_path_null(sysno)?.1)))
            .collect();
        SpawnPlan {
            mode,
            program: filter_allowing_null_paths(&routes, &allowed_when_null),
            routes,
            subscription,
            await_launch,
            unstopped,
        }
    }

    /// The seccomp filter the program starts under, if any.
    pub fn filter(&self) -> Option<Filter<'_>> {
        (self.mode == Mode::Seccomp).then(|| Filter {
            program: &self.program,
            listener: self.routes.iter().any(|&(_, route)| route == Route::Notify),
            may_yield: !self
                .routes
                .iter()
                .any(|&(nr, _)| nr == Sysno::sched_yield.id() as u32),
        })
    }

    /// The calls the filter answers in the kernel: fi sees none of them, and
    /// the stages' reports say so ([`Chain::decided_in_kernel`]).
    pub fn answered_in_kernel(&self) -> impl Iterator<Item = Sysno> + '_ {
        self.routes.iter().filter_map(|&(nr, route)| match route {
            Route::Errno(_) => Sysno::new(nr as usize),
            _ => None,
        })
    }

    /// The calls an fd filter stops on a descriptor once a process holds
    /// one of a file they matter for; none when every fd call stops.
    pub fn fd_filter_calls(&self) -> Option<Vec<FdCall>> {
        (!self.unstopped.is_empty()).then(|| fd_scope::fd_filter_calls(&self.unstopped))
    }
}

/// The calls to stop: those some stage subscribed to, with `--trace` those
/// of `-e trace=` (`logged_only`, to be logged), and those the engine
/// watches ([`watched`]).
pub fn stopped_calls(chain: &Chain, logged_only: &SysnoSet) -> SysnoSet {
    let subscription = chain.subscription();
    let watched = watched(&subscription);
    subscription.union(logged_only).union(&watched)
}

/// The route of every syscall `chain` subscribes to, of the calls `stopped`
/// (which always take a ptrace stop: the launch's `execve`, calls stopped to
/// be logged), and of the [`watched`] calls, by number, but for the
/// `unstopped` fd calls ([`unstopped_fd_calls`]), whose opens are watched
/// instead; `notify` says whether the kernel has user notification.
pub fn routes(
    chain: &Chain,
    log: &Log,
    kind: Kind,
    stopped: &SysnoSet,
    unstopped: &SysnoSet,
    notify: bool,
) -> Vec<(u32, Route)> {
    let router = Router::new(chain, log, kind, stopped, notify);
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
        .filter(|&sysno| !unstopped.contains(sysno) || fd_when_path_null(sysno).is_some())
        .collect::<Vec<_>>()
        .into_iter()
        .map(|sysno| (sysno.id() as u32, router.route(chain, sysno)))
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
/// in the process), would wait on a notification. `notify` says whether
/// the kernel has user notification.
pub fn unstopped_fd_calls(
    chain: &Chain,
    log: &Log,
    kind: Kind,
    stopped: &SysnoSet,
    notify: bool,
) -> SysnoSet {
    let router = Router::new(chain, log, kind, stopped, notify);
    if !router.notify || log.traces_all() {
        return SysnoSet::empty();
    }
    // A call on a descriptor when its path is NULL (`futimens`) is left
    // unstopped in that case alone: its other calls keep their route.
    let unstopped: Vec<Sysno> = router
        .subscribed
        .iter()
        .filter(|&sysno| {
            let on_fd = fd_scope::is_fd_call(sysno)
                || (fd_when_path_null(sysno).is_some()
                    && router.route(chain, sysno) == Route::Notify);
            on_fd && !stopped.contains(sysno) && chain.fd_scoped(sysno)
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
    fn new(
        chain: &Chain,
        log: &'a Log,
        kind: Kind,
        stopped: &'a SysnoSet,
        notify: bool,
    ) -> Router<'a> {
        let subscribed = chain.subscription();
        Router {
            log,
            kind,
            stopped,
            notify: kind == Kind::Auto && notify,
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
    use crate::backend::filter::run;
    use crate::output::{Keep, LogFormat, LogOptions};
    use crate::policy::chain::OnPolicyError;
    use crate::policy::Policy;
    use crate::rules::parse::{parse_qualified, Expr};
    use crate::rules::{PathFilter, RulePolicy};
    use std::path::PathBuf;
    use std::sync::Arc;
    use syscalls::Errno;

    /// The chain of the `-e` rules `exprs`.
    fn chain(exprs: &[&str]) -> Chain {
        let policies = exprs
            .iter()
            .map(|expr| match parse_qualified(expr).unwrap() {
                Expr::Rule(rule) => Box::new(RulePolicy::new(rule, None)) as Box<dyn Policy>,
                Expr::Trace(_) => panic!("{expr} is no rule"),
            })
            .collect();
        Chain::new(policies, OnPolicyError::Abort)
    }

    fn no_inherited_fd(_: &Chain) -> bool {
        false
    }

    /// A machine with or without user notification.
    fn host(user_notification: bool) -> Host<'static> {
        Host {
            user_notification,
            inherits_matching_fd: &no_inherited_fd,
        }
    }

    fn plan(exprs: &[&str], lines: bool, kind: Kind, mode: Mode, notify: bool) -> SpawnPlan {
        let logged_only = SysnoSet::empty();
        SpawnPlan::new(
            &chain(exprs),
            &log(lines),
            kind,
            mode,
            &logged_only,
            &host(notify),
        )
    }

    fn route_of(plan: &SpawnPlan, sysno: Sysno) -> Option<Route> {
        plan.routes
            .iter()
            .find(|&&(nr, _)| nr == sysno.id() as u32)
            .map(|&(_, route)| route)
    }

    #[test]
    fn a_futimens_runs_unstopped_for_its_null_path_alone_until_its_file_matters() {
        let filter = Arc::new(PathFilter::new(&[PathBuf::from("/data/db")]).unwrap());
        let plan_of = |rule: &str| {
            let rule = match parse_qualified(rule).unwrap() {
                Expr::Rule(rule) => rule,
                Expr::Trace(_) => panic!("{rule} is no rule"),
            };
            let policy = RulePolicy::new(rule, Some(Arc::clone(&filter)));
            let chain = Chain::new(vec![Box::new(policy)], OnPolicyError::Abort);
            let logged_only = SysnoSet::empty();
            SpawnPlan::new(
                &chain,
                &log(false),
                Kind::Auto,
                Mode::Seccomp,
                &logged_only,
                &host(true),
            )
        };
        let utimensat = Sysno::utimensat.id() as u32;
        let (null, path) = ([3, 0, 0, 0, 0, 0], [3, 0x7ffd_0000_0000, 0, 0, 0, 0]);
        let notify = libc::SECCOMP_RET_USER_NOTIF;

        // With an fd call beside it, and alone: NULL runs, a path notifies.
        let allow = libc::SECCOMP_RET_ALLOW;
        for rule in [
            "fault=read,utimensat:error=EIO",
            "fault=utimensat:error=EIO",
        ] {
            let plan = plan_of(rule);
            assert!(plan.unstopped.contains(Sysno::utimensat), "{rule}");
            assert_eq!(run(&plan.program, utimensat, null), allow, "{rule}");
            assert_eq!(run(&plan.program, utimensat, path), notify, "{rule}");
            let fd_calls = plan.fd_filter_calls().unwrap();
            let stopped_on_fd = fd_calls.iter().find(|call| call.nr == utimensat);
            assert_eq!(
                stopped_on_fd.map(|call| call.fd_args),
                Some(&[0][..]),
                "{rule}"
            );
        }
    }

    #[test]
    fn a_constant_errno_nothing_logs_is_answered_by_the_filter() {
        let plan = plan(
            &["fault=fsync:error=EIO"],
            false,
            Kind::Auto,
            Mode::Seccomp,
            true,
        );
        assert_eq!(route_of(&plan, Sysno::fsync), Some(Route::Errno(5)));
        assert_eq!(
            plan.answered_in_kernel().collect::<Vec<_>>(),
            [Sysno::fsync]
        );
        let filter = plan.filter().expect("a seccomp plan has a filter");
        assert!(!filter.listener, "no call is notified: {:?}", plan.routes);
        assert!(filter.may_yield);
        assert!(!plan.await_launch);
        assert!(plan.subscription.contains(Sysno::fsync));
    }

    #[test]
    fn the_ptrace_backend_stops_every_decided_call() {
        let plan = plan(
            &["fault=fsync:error=EIO"],
            false,
            Kind::Ptrace,
            Mode::Seccomp,
            true,
        );
        assert_eq!(route_of(&plan, Sysno::fsync), Some(Route::Trace));
        assert_eq!(plan.answered_in_kernel().count(), 0);
        assert!(!plan.filter().unwrap().listener);
    }

    #[test]
    fn entry_decisions_are_notified_only_where_the_kernel_can() {
        let rules = ["fault=fsync:error=EIO:when=2"];
        let with = plan(&rules, true, Kind::Auto, Mode::Seccomp, true);
        assert_eq!(route_of(&with, Sysno::fsync), Some(Route::Notify));
        assert!(with.filter().unwrap().listener);
        let without = plan(&rules, true, Kind::Auto, Mode::Seccomp, false);
        assert_eq!(route_of(&without, Sysno::fsync), Some(Route::Trace));
        assert!(!without.filter().unwrap().listener);
    }

    #[test]
    fn the_launch_is_awaited_and_stopped_when_a_stage_decides_execve() {
        let plan = plan(
            &["fault=execve:error=EACCES:when=2"],
            true,
            Kind::Auto,
            Mode::Seccomp,
            true,
        );
        assert!(plan.await_launch);
        assert_eq!(route_of(&plan, Sysno::execve), Some(Route::Trace));
    }

    #[test]
    fn without_the_filter_every_call_stops_and_the_launch_is_awaited() {
        let plan = plan(
            &["fault=fsync:error=EIO"],
            false,
            Kind::Auto,
            Mode::Syscall,
            true,
        );
        assert!(plan.routes.is_empty());
        assert!(plan.filter().is_none());
        assert!(plan.await_launch);
        for sysno in [Sysno::fsync, Sysno::execve, Sysno::execveat] {
            assert!(plan.subscription.contains(sysno), "{sysno} not stopped");
        }
        assert_eq!(plan.answered_in_kernel().count(), 0);
    }

    #[test]
    fn calls_logged_without_a_stage_take_a_ptrace_stop() {
        let logged_only = SysnoSet::new(&[Sysno::write]);
        let plan = SpawnPlan::new(
            &chain(&["fault=fsync:error=EIO"]),
            &log(true),
            Kind::Auto,
            Mode::Seccomp,
            &logged_only,
            &host(true),
        );
        assert_eq!(route_of(&plan, Sysno::write), Some(Route::Trace));
        assert!(plan.subscription.contains(Sysno::write));
    }

    #[test]
    fn a_subscribed_sched_yield_is_routed_not_let_through() {
        let plan = plan(
            &["fault=sched_yield:error=EIO"],
            true,
            Kind::Auto,
            Mode::Seccomp,
            true,
        );
        assert!(!plan.filter().unwrap().may_yield);
    }

    fn log(lines: bool) -> Log {
        Log::new(LogOptions {
            out: lines.then(|| Box::new(std::io::sink()) as Box<dyn std::io::Write + Send>),
            format: LogFormat::Text,
            trace_all: false,
            summary: true,
            timed: false,
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
