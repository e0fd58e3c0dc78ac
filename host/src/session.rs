//! A run of a program under fi, as a library: a [`Session`] is built up
//! (the program or the processes to attach, rules, plugins, native Rust
//! policies, limits, the log) and [`Session::run`] traces it to the end and
//! returns its [`Outcome`].
//!
//! ```
//! use std::process::Command;
//! use fi::session::{Session, Status};
//!
//! // The built-in `path-errno` plugin fails every call touching the path.
//! let mut cat = Command::new("cat");
//! cat.arg("/etc/hostname");
//! let outcome = Session::command(&cat)
//!     .plugin("path-errno:path=/etc/hostname:errno=EACCES")
//!     .run()?;
//! assert_eq!(outcome.status, Status::Exited(1), "cat saw the error");
//! assert!(outcome.fired("path-errno"));
//! let failed = outcome.calls.iter().find(|c| c.errno().is_some()).unwrap();
//! assert_eq!(failed.policies, ["path-errno"]);
//! # Ok::<(), fi::session::SessionError>(())
//! ```
//!
//! # Threads and children
//! `run` traces from a thread of its own, which spawns (or attaches) the
//! program and waits only for its own children and tracees
//! (`__WNOTHREAD`). So several sessions may run at once in one process, and
//! beside code that spawns and waits for its own children. It changes no
//! signal disposition or mask of the caller's, unless asked to handle
//! SIGINT/SIGTERM/SIGHUP ([`Session::handle_stop_signals`], which the
//! command line does). One limit remains: a thread of the caller's that
//! calls `waitpid(-1, ...)` (rather than for its own child's pid, as
//! `std::process::Child::wait` does) could take the traced program's
//! events.

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::notify::NotifyBackend;
use crate::backend::ptrace::{self, Mode, Program, PtraceBackend, SpawnError, StartError};
use crate::backend::{Backend, Kind, Termination};
use crate::crash::{Crash, CrashPolicy, CrashReport};
use crate::engine::plan::{self, Host, SpawnPlan};
use crate::engine::{Ending, Engine, EngineError, OnStopSignal};
use crate::interrupt::Interrupt;
use crate::model::{Capabilities, Record};
use crate::output::{Keep, Log, LogFormat, LogOptions, Summary};
pub use crate::policy::chain::StageReport;
use crate::policy::chain::{Chain, OnPolicyError};
use crate::policy::Policy;
use crate::rules::{self, parse, PathFilter, RulePolicy};
use crate::wasm::{self, Limits, Loader};
use syscalls::SysnoSet;

/// Why a session could not run, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The session asks for something impossible (a bad rule, plugin or
    /// option): nothing was started.
    #[error("{0}")]
    Invalid(String),
    /// The program does not exist: nothing was started.
    #[error("{0}: command not found")]
    NotFound(String),
    /// The program exists but cannot be run (permission denied, not an
    /// executable, a directory, a missing interpreter).
    #[error("cannot run {program}: {cause}")]
    CannotRun {
        /// The program as given.
        program: String,
        /// Why exec refused it.
        cause: std::io::Error,
    },
    /// fault itself failed before the program ran (a failed system call
    /// of fi's, a directory or stream the program could not be given).
    #[error("{0}")]
    Failed(String),
    /// fault stopped the program it had started or attached to: a policy
    /// failed under `OnPolicyError::Abort` (a plugin's trap, limit or
    /// invalid verdict), or tracing failed. The started program was killed.
    #[error("{0}")]
    Stopped(String),
}

fn invalid(message: impl ToString) -> SessionError {
    SessionError::Invalid(message.to_string())
}

/// How a traced program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Killed(i32),
    /// fi let the attached processes go on this signal (they run on).
    Detached(i32),
    /// Every traced process is gone but fi never saw the main one end (an
    /// attached process that was not a child).
    Unknown,
    /// The run's time limit ([`Session::time_limit`]) passed and fi killed
    /// every traced process.
    TimedOut,
}

impl Status {
    /// The exit code, if the program exited.
    pub fn code(&self) -> Option<i32> {
        match *self {
            Status::Exited(code) => Some(code),
            _ => None,
        }
    }

    /// The status as a shell reports it: the code, or 128 + the signal.
    pub fn shell_code(&self) -> i32 {
        match *self {
            Status::Exited(code) => code,
            Status::Killed(signal) => 128 + signal,
            Status::Detached(_) | Status::Unknown => 0,
            // As timeout(1) reports it.
            Status::TimedOut => 124,
        }
    }
}

/// What a run gave.
#[derive(Debug)]
pub struct Outcome {
    /// How the program ended.
    pub status: Status,
    /// The decided calls kept, in the order they finished: every tampered
    /// call by default, every stopped call with [`Session::keep_all_calls`].
    pub calls: Vec<Record>,
    /// Per syscall: calls stopped, tampered with, failed.
    pub summary: Summary,
    /// Every stage of the chain in order, with what it changed.
    pub stages: Vec<StageReport>,
    /// With [`Session::crash`]: where the crash came and what it lost.
    pub crash: Option<CrashReport>,
}

impl Outcome {
    /// Whether the stage named `name` changed at least one call.
    pub fn fired(&self, name: &str) -> bool {
        self.stages.iter().any(|s| s.name == name && s.changed > 0)
    }

    /// The kept calls of the syscall named `syscall`.
    pub fn calls_of<'a>(&'a self, syscall: &'a str) -> impl Iterator<Item = &'a Record> + 'a {
        self.calls
            .iter()
            .filter(move |record| record.original.name() == syscall)
    }
}

/// What to trace.
enum Target {
    Spawn(Program),
    Attach(Vec<i32>),
}

/// A stage as given to the builder, made into a policy when the run starts.
enum StageSource {
    Rule(String),
    Plugin(String),
    Native(Box<dyn Policy + Send>),
}

/// A run to be: build it up, then [`Session::run`].
pub struct Session {
    target: Result<Target, SessionError>,
    stages: Vec<StageSource>,
    paths: Vec<PathBuf>,
    seed: Option<u64>,
    limits: Limits,
    on_policy_error: OnPolicyError,
    log_out: Option<Box<dyn Write + Send>>,
    log_format: LogFormat,
    trace_all: bool,
    keep: Keep,
    print_summary: bool,
    mode: Option<Mode>,
    backend: Kind,
    stop_signals: bool,
    end_to_stderr: bool,
    time_limit: Option<Duration>,
    leftovers_for: Option<Duration>,
    interrupt: Option<Arc<Interrupt>>,
    stdio: [Option<OwnedFd>; 3],
    crash: Option<Crash>,
    /// `-e trace=SET` with `--trace`: calls stopped to be logged, though no
    /// stage subscribed to them.
    logged_only: SysnoSet,
}

/// Prepare the plugin of `spec` (`NAME:KEY=VALUE...`, a built-in or a
/// file) for every session of this process: compiled or fetched from the
/// cache, and linked, ahead of the first session that loads it, which then
/// only instantiates it. A process that knows it will load a plugin can pay
/// for it on another thread meanwhile.
pub fn prepare_plugin(spec: &str) -> Result<(), SessionError> {
    wasm::prepare_plugin(spec).map_err(|e| SessionError::Invalid(format!("--plugin {spec}: {e:#}")))
}

impl Session {
    fn with_target(target: Result<Target, SessionError>) -> Session {
        Session {
            target,
            stages: Vec::new(),
            paths: Vec::new(),
            seed: None,
            limits: Limits::default(),
            on_policy_error: OnPolicyError::Abort,
            log_out: None,
            log_format: LogFormat::Text,
            trace_all: false,
            keep: Keep::Tampered,
            print_summary: false,
            mode: None,
            backend: Kind::from_env(),
            stop_signals: false,
            end_to_stderr: false,
            time_limit: None,
            leftovers_for: None,
            interrupt: None,
            stdio: [None, None, None],
            crash: None,
            logged_only: SysnoSet::empty(),
        }
    }

    /// A session that runs `command`: its program, arguments, environment
    /// changes and directory. (Its stdio settings are not visible through
    /// `Command`: the program inherits the caller's standard streams.)
    pub fn command(command: &Command) -> Session {
        Session::with_target(program_of(command).map(Target::Spawn))
    }

    /// A session that attaches to the running processes `pids` and all their
    /// threads, traced with `PTRACE_SYSCALL`.
    pub fn attach(pids: &[i32]) -> Session {
        let target = if pids.is_empty() {
            Err(invalid("no process to attach to"))
        } else {
            Ok(Target::Attach(pids.to_vec()))
        };
        Session::with_target(target)
    }

    /// Add an strace-style rule (`inject=...` or `fault=...`, as after `-e`)
    /// at the end of the chain, or set the traced calls (`trace=SET`). As in
    /// strace, a later rule takes the syscalls it names from earlier ones,
    /// and rules tamper only with traced calls.
    pub fn rule(mut self, expr: &str) -> Session {
        self.stages.push(StageSource::Rule(expr.to_string()));
        self
    }

    /// Add a plugin at the end of the chain: a built-in name or a
    /// `.wasm`/`.wat` path, then `:key=value` pairs (as after `--plugin`).
    pub fn plugin(mut self, spec: &str) -> Session {
        self.stages.push(StageSource::Plugin(spec.to_string()));
        self
    }

    /// Add a native Rust policy at the end of the chain.
    pub fn policy(mut self, policy: impl Policy + Send + 'static) -> Session {
        self.stages.push(StageSource::Native(Box::new(policy)));
        self
    }

    /// Simulate a power loss ([`crate::crash`]): model the files under the
    /// crash's root, kill the traced tree just after the crash point and
    /// rewrite those files to a state a power cut may leave. The crash
    /// stage runs last in the chain; [`Outcome::crash`] says what was lost.
    pub fn crash(mut self, crash: Crash) -> Session {
        self.crash = Some(crash);
        self
    }

    /// Limit the rules to calls that touch `path` (as `-P`; repeatable).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Session {
        self.paths.push(path.into());
        self
    }

    /// Seed the plugins' random numbers (a fresh seed otherwise).
    pub fn seed(mut self, seed: u64) -> Session {
        self.seed = Some(seed);
        self
    }

    /// The longest time one plugin call may run (default 1 s).
    pub fn plugin_timeout(mut self, timeout: Duration) -> Session {
        self.limits.timeout = timeout;
        self
    }

    /// The longest delay a plugin's verdict may ask for (default 10 min); a
    /// longer one is the plugin's error.
    pub fn plugin_max_delay(mut self, max: Duration) -> Session {
        self.limits.max_delay = max;
        self
    }

    /// Show the WebAssembly backtrace of a plugin's trap, not only its
    /// cause.
    pub fn plugin_backtraces(mut self, shown: bool) -> Session {
        self.limits.backtrace = shown;
        self
    }

    /// The most memory one plugin may use, in bytes (default 64 MiB).
    pub fn plugin_memory(mut self, bytes: usize) -> Session {
        self.limits.memory_bytes = bytes;
        self
    }

    /// Let plugins read the files under `dir` (repeatable).
    pub fn plugin_dir(mut self, dir: impl Into<PathBuf>) -> Session {
        self.limits.dirs.push(dir.into());
        self
    }

    /// What a failing policy does: end the run (default) or let calls pass.
    pub fn on_policy_error(mut self, on_error: OnPolicyError) -> Session {
        self.on_policy_error = on_error;
        self
    }

    /// Write log lines to `out` in `format` (no lines by default).
    pub fn log_to(mut self, out: Box<dyn Write + Send>, format: LogFormat) -> Session {
        self.log_out = Some(out);
        self.log_format = format;
        self
    }

    /// With no log sink, write the end of the log (warnings about stages
    /// that changed nothing, the `-c` tables) to standard error anyway.
    pub fn end_of_log_to_stderr(mut self) -> Session {
        self.end_to_stderr = true;
        self
    }

    /// Log every stopped call, not only the tampered ones.
    pub fn trace_all(mut self, all: bool) -> Session {
        self.trace_all = all;
        self
    }

    /// Keep every stopped call in the outcome, not only the tampered ones.
    pub fn keep_all_calls(mut self) -> Session {
        self.keep = Keep::All;
        self
    }

    /// Keep no call in the outcome (a long run that only logs).
    pub fn keep_no_calls(mut self) -> Session {
        self.keep = Keep::Nothing;
        self
    }

    /// Print the per-syscall table on the log at the end (`-c`): every
    /// traced call (`-e trace=`, all by default) is then stopped at its
    /// entry and its return, to be counted and timed, as strace's `-c` does.
    pub fn print_summary(mut self, print: bool) -> Session {
        self.print_summary = print;
        self
    }

    /// Stop every call with `PTRACE_SYSCALL` instead of a seccomp filter
    /// (slow; attached processes always are).
    pub fn without_seccomp(mut self) -> Session {
        self.mode = Some(Mode::Syscall);
        self
    }

    /// Run on this backend ([`Kind::Auto`] by default, or as the
    /// `FI_BACKEND` environment variable says: `auto`, `ptrace`).
    pub fn backend(mut self, kind: Kind) -> Session {
        self.backend = kind;
        self
    }

    /// Handle SIGINT/SIGTERM/SIGHUP sent to this process: forward them to a
    /// spawned program, or detach from attached ones. Installs process-wide
    /// handlers, so for one session of a process at a time (the command
    /// line's). The caller must have blocked these signals in its other
    /// threads ([`crate::engine::stop_signals::block_at_startup`]).
    pub fn handle_stop_signals(mut self) -> Session {
        self.stop_signals = true;
        self
    }

    /// Kill the processes the program leaves running (a daemon it started,
    /// a background job) once `grace` has passed after it ended; the run
    /// ends with the program's status. Without it the run lasts until every
    /// process of the tree ended, as `strace -f` does.
    pub fn leftovers_for(mut self, grace: Duration) -> Session {
        self.leftovers_for = Some(grace);
        self
    }

    /// Kill every traced process once `limit` has passed; the run then ends
    /// with [`Status::TimedOut`].
    pub fn time_limit(mut self, limit: Duration) -> Session {
        self.time_limit = Some(limit);
        self
    }

    /// End the run once `interrupt` is raised, as [`Session::time_limit`]
    /// would: every traced process killed, [`Status::TimedOut`].
    pub fn interrupt(mut self, interrupt: Arc<Interrupt>) -> Session {
        self.interrupt = Some(interrupt);
        self
    }

    /// The started program's standard input (instead of the caller's).
    pub fn stdin(mut self, fd: impl Into<OwnedFd>) -> Session {
        self.stdio[0] = Some(fd.into());
        self
    }

    /// The started program's standard output (instead of the caller's).
    pub fn stdout(mut self, fd: impl Into<OwnedFd>) -> Session {
        self.stdio[1] = Some(fd.into());
        self
    }

    /// The started program's standard error (instead of the caller's).
    pub fn stderr(mut self, fd: impl Into<OwnedFd>) -> Session {
        self.stdio[2] = Some(fd.into());
        self
    }

    /// Check everything, start or attach the program, trace it to the end.
    /// Nothing is started when an error names a bad part of the session.
    pub fn run(self) -> Result<Outcome, SessionError> {
        std::thread::Builder::new()
            .name("fi-session".into())
            .spawn(move || self.run_here())
            .map_err(|e| SessionError::Failed(format!("starting the session's thread: {e}")))?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    /// The session on the calling thread, which becomes the tracer.
    fn run_here(mut self) -> Result<Outcome, SessionError> {
        let target = std::mem::replace(&mut self.target, Err(invalid("")))?;
        let log = Log::new(LogOptions {
            out: self.log_out.take(),
            format: self.log_format,
            trace_all: self.trace_all,
            summary: true,
            timed: self.print_summary,
            keep: self.keep,
            end_to_stderr: self.end_to_stderr,
        });
        let mut policies = self.build_policies(&log)?;
        let crash_slot = match self.crash.take() {
            Some(mut crash) => {
                // A relative root is the program's, inside its directory.
                if let Target::Spawn(Program { cwd: Some(cwd), .. }) = &target {
                    if crash.root.is_relative() {
                        crash.root = cwd.join(&crash.root);
                    }
                }
                let slot = Arc::default();
                let policy = CrashPolicy::new(crash, Arc::clone(&slot)).map_err(invalid)?;
                policies.push(Box::new(policy));
                Some(slot)
            }
            None => None,
        };
        let mut chain = Chain::new(policies, self.on_policy_error);
        let ending = match target {
            Target::Spawn(program) => self.run_spawned(&program, &mut chain, log.clone()),
            Target::Attach(pids) => self.run_attached(&pids, &mut chain, log.clone()),
        };
        chain.finish();
        let stages = chain.stages();
        // A run that could not start or failed on the way says only why.
        let reported = if ending.is_ok() { &stages[..] } else { &[] };
        let gathered = log.finish(reported, self.print_summary);
        let status = match ending? {
            Ending::Exited(Some(Termination::Signal(signal))) => Status::Killed(signal),
            Ending::Exited(Some(Termination::Exit(code))) => Status::Exited(code),
            Ending::Exited(None) => Status::Unknown,
            Ending::Detached(signal) => Status::Detached(signal),
            Ending::TimedOut => Status::TimedOut,
        };
        let crash = crash_slot.and_then(|slot: crate::crash::ReportSlot| {
            slot.lock().unwrap_or_else(|e| e.into_inner()).take()
        });
        Ok(Outcome {
            status,
            calls: gathered.records,
            summary: gathered.summary.unwrap_or_default(),
            stages,
            crash,
        })
    }

    fn build_policies(&mut self, log: &Log) -> Result<Vec<Box<dyn Policy>>, SessionError> {
        let paths = if self.paths.is_empty() {
            None
        } else {
            let filter = PathFilter::new(&self.paths).map_err(|e| invalid(format!("-P: {e}")))?;
            Some(Arc::new(filter))
        };
        let has_rule = self
            .stages
            .iter()
            .any(|s| matches!(s, StageSource::Rule(_)));
        if paths.is_some() && !has_rule {
            return Err(invalid("-P limits -e rules, but no -e rule was given"));
        }
        let mut rules = self.resolved_rules(log)?.into_iter();
        let mut loader: Option<Loader> = None;
        let mut policies: Vec<Box<dyn Policy>> = Vec::new();
        for stage in std::mem::take(&mut self.stages) {
            match stage {
                StageSource::Rule(_) => {
                    // `none` (as strace has it) and `-e trace=` are no stage.
                    let rule = rules.next().flatten();
                    if let Some((rule, named)) = rule.filter(|(_, named)| !named.is_empty()) {
                        let policy = RulePolicy::new(rule, paths.clone())
                            .resolved(named)
                            .report_to(log.clone());
                        policies.push(Box::new(policy));
                    }
                }
                StageSource::Plugin(spec) => {
                    if loader.is_none() {
                        let always_logged = self.log_format == LogFormat::Json;
                        let seed = wasm::Seed::given_or_fresh(self.seed, always_logged);
                        let new = Loader::new(self.limits.clone(), seed, log.clone())
                            .map_err(|e| invalid(format!("{e:#}")))?;
                        loader = Some(new);
                    }
                    let plugin = loader
                        .as_mut()
                        .expect("the loader was made above")
                        .load(&spec)
                        .map_err(|e| invalid(format!("--plugin {spec}: {e:#}")))?;
                    policies.push(Box::new(plugin));
                }
                StageSource::Native(policy) => policies.push(policy),
            }
        }
        Ok(policies)
    }

    /// The `-e` expressions parsed, in order, given strace's meaning among
    /// themselves ([`rules::trace`]): for each, its rule with the set it
    /// still decides and the set it was written with, or `None` for
    /// `-e trace=` (the last one counts, as in strace; `--trace` then logs
    /// only its calls). strace's warnings go to the log.
    #[allow(clippy::type_complexity)]
    fn resolved_rules(
        &mut self,
        log: &Log,
    ) -> Result<Vec<Option<(parse::Rule, SysnoSet)>>, SessionError> {
        let texts = self.stages.iter().filter_map(|stage| match stage {
            StageSource::Rule(text) => Some(text.as_str()),
            _ => None,
        });
        let resolved = rules::trace::resolve_exprs(texts).map_err(invalid)?;
        for warning in &resolved.warnings {
            log.note(crate::COMMAND, warning);
        }
        if self.print_summary {
            // `-c` counts every traced call, as strace's does.
            self.logged_only = resolved.traced.clone().unwrap_or_else(SysnoSet::all);
        }
        if let Some(set) = resolved.traced {
            if self.trace_all {
                self.logged_only = set.clone();
            }
            log.trace_only(set);
        }
        Ok(resolved.rules)
    }

    fn run_spawned(
        &self,
        program: &Program,
        chain: &mut Chain,
        log: Log,
    ) -> Result<Ending, SessionError> {
        let mode = self.mode.unwrap_or(Mode::Seccomp);
        check_capabilities(PtraceBackend::CAPABILITIES, "ptrace", chain)?;
        let plan = SpawnPlan::new(
            chain,
            &log,
            self.backend,
            mode,
            &self.logged_only,
            &Host::this_one(),
        );
        for sysno in plan.answered_in_kernel() {
            chain.decided_in_kernel(sysno);
        }
        let mut program = program.clone();
        program.stdio = std::array::from_fn(|i| self.stdio[i].as_ref().map(|fd| fd.as_raw_fd()));
        let program = &program;
        let mut spawned = ptrace::spawn(program, plan.filter().as_ref())
            .map_err(|e| SessionError::Failed(e.to_string()))?;
        let pid = spawned.pid;
        let backend = PtraceBackend::new(mode, plan.subscription.clone(), &[pid]);
        let on_stop = if self.stop_signals {
            OnStopSignal::Forward
        } else {
            OnStopSignal::Ignore
        };
        let run = Drive {
            pid,
            on_stop,
            limit: self.time_limit,
            leftovers_for: self.leftovers_for,
            interrupt: self.interrupt.clone(),
            await_launch: plan.await_launch,
            logged: self.logged_only.clone(),
            fd_calls_unstopped: !plan.unstopped.is_empty(),
        };
        let ended = match spawned.listener.take() {
            Some(listener) => {
                let mut backend = NotifyBackend::new(backend, listener);
                if let Some(calls) = plan.fd_filter_calls() {
                    backend = backend.stopping_fd_calls(calls);
                }
                run.over(backend, chain, log)
            }
            None => run.over(backend, chain, log),
        };
        let ending = ended.map_err(|e| {
            // PTRACE_O_EXITKILL kills every tracee when fi exits; a
            // library caller goes on, so kill the program now.
            // SAFETY: plain kill of the session's own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            SessionError::Stopped(e.to_string())
        })?;
        let shown = || program.path.display().to_string();
        match (ending, spawned.start_error()) {
            (Ending::Exited(Some(Termination::Exit(127))), Some(StartError::Exec(cause))) => {
                Err(SessionError::CannotRun {
                    program: shown(),
                    cause,
                })
            }
            (Ending::Exited(Some(Termination::Exit(127))), Some(StartError::Directory(cause))) => {
                Err(SessionError::Failed(format!(
                    "cannot start {} in its directory: {cause}",
                    shown()
                )))
            }
            (Ending::Exited(Some(Termination::Exit(127))), Some(StartError::Stdio(cause))) => {
                Err(SessionError::Failed(format!(
                    "cannot give {} its standard streams: {cause}",
                    shown()
                )))
            }
            (Ending::Exited(Some(Termination::Exit(127))), Some(StartError::Seccomp(cause))) => {
                Err(SessionError::Failed(format!(
                    "cannot install the seccomp filter in {}: {cause}",
                    shown()
                )))
            }
            _ => Ok(ending),
        }
    }

    fn run_attached(
        &self,
        pids: &[i32],
        chain: &mut Chain,
        log: Log,
    ) -> Result<Ending, SessionError> {
        check_capabilities(PtraceBackend::CAPABILITIES, "ptrace", chain)?;
        let mut threads = Vec::new();
        for &pid in pids {
            let tids = ptrace::attach(pid).map_err(invalid)?;
            threads.extend(tids.into_iter().map(|tid| (pid, tid)));
        }
        let tids: Vec<i32> = threads.iter().map(|&(_, tid)| tid).collect();
        let subscription = plan::stopped_calls(chain, &self.logged_only);
        let mut backend = PtraceBackend::new(Mode::Syscall, subscription, &tids);
        backend.patch_vdso_of(pids);
        let on_stop = if self.stop_signals {
            OnStopSignal::Detach
        } else {
            OnStopSignal::Ignore
        };
        let ending = Engine::new(&mut backend, chain, log.clone(), pids[0], &threads, on_stop)
            .logging(&self.logged_only)
            .run()
            .map_err(|e| SessionError::Stopped(e.to_string()))?;
        if let Ending::Detached(signal) = ending {
            log.note("fi", &format!("detached from {pids:?} on signal {signal}"));
        }
        Ok(ending)
    }
}

/// How the engine runs over a spawned program.
struct Drive {
    pid: i32,
    on_stop: OnStopSignal,
    limit: Option<Duration>,
    leftovers_for: Option<Duration>,
    interrupt: Option<Arc<Interrupt>>,
    await_launch: bool,
    /// The calls logged though no stage subscribes to them.
    logged: SysnoSet,
    /// The filter lets some fd calls run unstopped
    /// ([`plan::unstopped_fd_calls`]).
    fd_calls_unstopped: bool,
}

impl Drive {
    /// Run the engine over `backend` to the program's end.
    fn over<B: Backend>(
        self,
        mut backend: B,
        chain: &mut Chain,
        log: Log,
    ) -> Result<Ending, EngineError> {
        let pid = self.pid;
        let mut engine = Engine::new(&mut backend, chain, log, pid, &[(pid, pid)], self.on_stop)
            .time_limit(self.limit)
            .leftovers_for(self.leftovers_for)
            .interrupt(self.interrupt)
            .logging(&self.logged);
        if self.await_launch {
            engine = engine.await_launch();
        }
        if self.fd_calls_unstopped {
            engine = engine.with_fd_calls_unstopped();
        }
        engine.run()
    }
}

/// Refuse a chain that needs more than a backend can do.
fn check_capabilities(can: Capabilities, backend: &str, chain: &Chain) -> Result<(), SessionError> {
    for (stage, needs) in chain.needs() {
        if let Some(what) = can.missing(&needs) {
            return Err(invalid(format!(
                "{stage} needs {what}, which the {backend} backend cannot do"
            )));
        }
    }
    Ok(())
}

/// What `command` says to run, with the program found as `execvp` would
/// (in the command's own `PATH` if it sets one).
fn program_of(command: &Command) -> Result<Program, SessionError> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    for (key, value) in command.get_envs() {
        env.retain(|(k, _)| k != key);
        if let Some(value) = value {
            env.push((key.to_owned(), value.to_owned()));
        }
    }
    let search_path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone());
    let program = command.get_program();
    let path = ptrace::find_program(program, search_path.as_deref()).map_err(|e| match e {
        SpawnError::NotFound(name) => SessionError::NotFound(name),
        SpawnError::CannotRun(program, cause) => SessionError::CannotRun { program, cause },
        other => invalid(other),
    })?;
    let argv = std::iter::once(program.to_owned())
        .chain(command.get_args().map(|a| a.to_owned()))
        .collect();
    Ok(Program {
        path,
        argv,
        env,
        cwd: command.get_current_dir().map(PathBuf::from),
        stdio: [None; 3],
    })
}
