//! One run of fault: build the policy chain from the command line, start or
//! attach the program, trace it to the end, report.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use crate::cli::{RunArgs, StageSpec};
use crate::output::{Log, LogFormat};
use crate::policy::chain::Chain;
use crate::policy::Policy;
use crate::rules::{parse, PathFilter, RulePolicy};
use crate::tracer::{self, seccomp, Ending, Mode, SpawnError, StartError, Tracer};
use crate::wasm;

/// fault's own status when it fails or its command line is wrong (nothing
/// was started), as `env` and `timeout` have it; clap's usage errors too.
pub const EXIT_FAILED: i32 = 125;
/// The status when the program exists but cannot be run.
pub const EXIT_CANNOT_RUN: i32 = 126;
/// The status when the program is not found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// Why fault stopped before or while tracing, and which exit status that
/// gives: none that the traced program could be mistaken for ending with.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The command line asks for something impossible: nothing was started.
    #[error("{0}")]
    Usage(String),
    /// fault itself failed while tracing.
    #[error("{0}")]
    Failed(String),
    /// The program to run is not found.
    #[error("{0}")]
    NotFound(String),
    /// The program exists but cannot be run (permission denied, not an
    /// executable, a directory, a missing interpreter).
    #[error("{0}")]
    CannotRun(String),
}

impl SessionError {
    /// The exit status fault ends with: [`EXIT_FAILED`],
    /// [`EXIT_CANNOT_RUN`] or [`EXIT_NOT_FOUND`], like `env`'s.
    pub fn exit_code(&self) -> i32 {
        match self {
            SessionError::Usage(_) | SessionError::Failed(_) => EXIT_FAILED,
            SessionError::CannotRun(_) => EXIT_CANNOT_RUN,
            SessionError::NotFound(_) => EXIT_NOT_FOUND,
        }
    }
}

fn usage(message: impl ToString) -> SessionError {
    SessionError::Usage(message.to_string())
}

/// Run the program (or attach to the processes) the arguments name and
/// return the exit status fault should end with.
pub fn run(args: &RunArgs, stages: &[StageSpec]) -> Result<i32, SessionError> {
    if args.command.is_empty() && args.pids.is_empty() {
        return Err(usage(
            "nothing to trace: give a command after --, or -p PID",
        ));
    }
    let log = open_log(args)?;
    let policies = build_policies(args, stages, &log)?;
    let mut chain = Chain::new(policies, args.on_plugin_error);
    let result = if args.pids.is_empty() {
        run_spawned(args, &mut chain, log.clone())
    } else {
        run_attached(args, &mut chain, log.clone())
    };
    chain.finish();
    log.finish(&chain.stages());
    result
}

/// The log sink of `-o` (standard error without it). `-o /dev/null` means
/// no lines at all: fault then skips decoding and formatting them.
fn open_log(args: &RunArgs) -> Result<Log, SessionError> {
    let out: Option<Box<dyn Write>> = match &args.output {
        Some(path)
            if path
                .canonicalize()
                .is_ok_and(|p| p == Path::new("/dev/null")) =>
        {
            None
        }
        Some(path) => {
            let file =
                File::create(path).map_err(|e| usage(format!("-o {}: {e}", path.display())))?;
            Some(Box::new(BufWriter::new(file)))
        }
        None => Some(Box::new(io::stderr())),
    };
    Ok(Log::new(out, args.log_format, args.trace, args.summary))
}

fn build_policies(
    args: &RunArgs,
    stages: &[StageSpec],
    log: &Log,
) -> Result<Vec<Box<dyn Policy>>, SessionError> {
    let paths = if args.paths.is_empty() {
        None
    } else {
        let filter = PathFilter::new(&args.paths).map_err(|e| usage(format!("-P: {e}")))?;
        Some(Arc::new(filter))
    };
    let limits = wasm::Limits {
        timeout: args.plugin_timeout,
        memory_bytes: usize::try_from(args.plugin_memory << 20).unwrap_or(usize::MAX),
        dirs: args.plugin_dirs.clone(),
    };
    let seed = wasm::Seed::given_or_fresh(args.seed, args.log_format == LogFormat::Json);
    let mut plugins =
        wasm::Loader::new(limits, seed, log.clone()).map_err(|e| usage(format!("{e:#}")))?;
    let mut policies: Vec<Box<dyn Policy>> = Vec::new();
    for stage in stages {
        match stage {
            StageSpec::Rule(text) => {
                let rule = parse::parse_expr(text).map_err(usage)?;
                policies.push(Box::new(RulePolicy::new(rule, paths.clone())));
            }
            StageSpec::Plugin(spec) => {
                let plugin = plugins
                    .load(spec)
                    .map_err(|e| usage(format!("--plugin {spec}: {e:#}")))?;
                policies.push(Box::new(plugin));
            }
        }
    }
    if !args.paths.is_empty() && !stages.iter().any(|s| matches!(s, StageSpec::Rule(_))) {
        return Err(usage("-P limits -e rules, but no -e rule was given"));
    }
    Ok(policies)
}

fn run_spawned(args: &RunArgs, chain: &mut Chain, log: Log) -> Result<i32, SessionError> {
    let program = tracer::find_program(&args.command[0]).map_err(|e| match e {
        SpawnError::NotFound(_) => SessionError::NotFound(e.to_string()),
        SpawnError::CannotRun(..) => SessionError::CannotRun(e.to_string()),
        _ => usage(e),
    })?;
    let (mode, filter) = if args.no_seccomp {
        (Mode::Syscall, None)
    } else {
        let filter = seccomp::filter_for(&chain.subscription())
            .map_err(|e| SessionError::Failed(format!("{e:#}")))?;
        (Mode::Seccomp, Some(filter))
    };
    let spawned = tracer::spawn(&program, &args.command, filter.as_ref())
        .map_err(|e| SessionError::Failed(e.to_string()))?;
    let mut tracer = Tracer::new(
        chain,
        log,
        mode,
        spawned.pid,
        &[(spawned.pid, spawned.pid)],
        false,
    );
    let ending = tracer.run().map_err(|e| {
        kill_spawned(spawned.pid);
        SessionError::Failed(e.to_string())
    })?;
    match ending {
        Ending::Exited(Some(127)) => match spawned.start_error() {
            Some(StartError::Exec(error)) => Err(SessionError::CannotRun(format!(
                "cannot run {}: {error}",
                program.display()
            ))),
            Some(StartError::Seccomp(error)) => Err(SessionError::Failed(format!(
                "cannot install the seccomp filter in {}: {error}",
                program.display()
            ))),
            None => Ok(127),
        },
        Ending::Exited(status) => Ok(status.unwrap_or(0)),
        Ending::Detached(signal) => Ok(128 + signal),
    }
}

/// A failed run must not leave the program behind: PTRACE_O_EXITKILL kills
/// every tracee when fault exits; this kills the main one at once.
fn kill_spawned(pid: i32) {
    // SAFETY: plain kill of our own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

fn run_attached(args: &RunArgs, chain: &mut Chain, log: Log) -> Result<i32, SessionError> {
    let mut threads = Vec::new();
    for &pid in &args.pids {
        let tids = tracer::attach(pid).map_err(usage)?;
        threads.extend(tids.into_iter().map(|tid| (pid, tid)));
    }
    let mut tracer = Tracer::new(
        chain,
        log.clone(),
        Mode::Syscall,
        args.pids[0],
        &threads,
        true,
    );
    match tracer
        .run()
        .map_err(|e| SessionError::Failed(e.to_string()))?
    {
        Ending::Exited(status) => Ok(status.unwrap_or(0)),
        Ending::Detached(signal) => {
            log.note(
                crate::cli::NAME,
                &format!("detached from {:?} on signal {signal}", args.pids),
            );
            Ok(0)
        }
    }
}
