//! `fault [OPTIONS] -- CMD` and `fault -p PID`: the options of a traced run,
//! made into a [`Session`], run, and its end reported.

use std::ffi::OsString;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{ArgMatches, Args, ValueEnum};

use super::exit;
use super::time_option::parse_time_option;
use crate::backend::Kind;
use crate::crash::{Crash, CrashMode, CrashReport, Fs};
use crate::output::LogFormat;
use crate::policy::chain::OnPolicyError;
use crate::session::{Session, SessionError};
use crate::COMMAND as NAME;

/// Options for tracing a program.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A strace-style rule: inject=SET:error=E|retval=V[:signal=S][:syscall=S]
    /// [:delay_enter=T][:delay_exit=T][:poke_enter=@argN=HEX][:poke_exit=@argN=HEX]
    /// [:when=EXPR], fault=SET[:error=E][:when=EXPR], or trace=SET (the calls
    /// traced: -e rules tamper only with them, --trace logs only them).
    #[arg(short = 'e', value_name = "EXPR", allow_hyphen_values = true)]
    pub rules: Vec<String>,

    /// The same as -e inject=EXPR.
    #[arg(long = "inject", value_name = "EXPR", allow_hyphen_values = true)]
    pub inject: Vec<String>,

    /// The same as -e fault=EXPR.
    #[arg(long = "fault", value_name = "EXPR", allow_hyphen_values = true)]
    pub fault: Vec<String>,

    /// Accepted for strace command lines: fault always follows forks,
    /// vforks, clones and threads (-ff with -o is refused: fault writes one log).
    #[arg(short = 'f', action = clap::ArgAction::Count)]
    pub follow_forks: u8,

    /// Accepted for strace command lines: fault prints none of strace's
    /// attach and exit messages anyway (-q, -qq, -qqq).
    #[arg(short = 'q', action = clap::ArgAction::Count)]
    pub quiet: u8,

    /// Limit -e rules to calls that touch PATH through a path argument or an fd;
    /// PATH/ also matches everything under it, a PATH with * ? [ is a glob (* matches /).
    #[arg(short = 'P', value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// A policy plugin: a built-in name or a .wasm/.wat file, optionally
    /// followed by :key=value pairs. Repeats; runs in command-line order with -e rules.
    #[arg(long = "plugin", value_name = "SPEC")]
    pub plugins: Vec<String>,

    /// Attach to a running process and all its threads (repeatable).
    #[arg(short = 'p', value_name = "PID", conflicts_with = "command")]
    pub pids: Vec<i32>,

    /// Write the log to FILE instead of standard error.
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The log's format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log every call fault stops, not only the tampered ones (with -e
    /// trace=SET, every call of SET); --trace=SET is -e trace=SET --trace.
    #[arg(long, value_name = "SET", num_args = 0..=1, require_equals = true)]
    pub trace: Option<Option<String>>,

    /// Print strace's per-syscall table at the end: time (entry to return),
    /// calls, tamperings and errors of every traced call (-e trace=SET, or all).
    #[arg(short = 'c', long = "summary")]
    pub summary: bool,

    /// Seed for the plugins' random numbers (printed when not given).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Longest time one plugin call may run (e.g. 1s, 200ms).
    #[arg(long, value_name = "TIME", default_value = "1s", value_parser = parse_time_option)]
    pub plugin_timeout: Duration,

    /// Longest delay a plugin may hold a call (delay-enter-ns, delay-exit-ns);
    /// a verdict asking for more is the plugin's error.
    #[arg(long, value_name = "TIME", default_value = "600s", value_parser = parse_time_option)]
    pub max_delay: Duration,

    /// Show the WebAssembly backtrace of a plugin that traps.
    #[arg(long)]
    pub verbose: bool,

    /// Most memory one plugin may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub plugin_memory: u64,

    /// Let plugins read (only read) the files under DIR (repeatable).
    #[arg(long = "plugin-dir", value_name = "DIR")]
    pub plugin_dirs: Vec<PathBuf>,

    /// What a plugin error (trap, timeout, memory) does: kill the run, or let the call pass.
    #[arg(long, value_enum, default_value_t = OnPolicyError::Abort)]
    pub on_plugin_error: OnPolicyError,

    /// How calls reach fault: auto (constant errors answered by the seccomp filter when no
    /// log line is kept, entry-only decisions through seccomp user notification, ptrace stops
    /// for the rest; the default, or $FI_BACKEND) or ptrace (a ptrace stop per decided call).
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<Kind>,

    /// Stop every call with PTRACE_SYSCALL instead of a seccomp filter (slow; for comparison).
    #[arg(long)]
    pub no_seccomp: bool,

    /// Simulate a power loss just after the chosen call returns: the traced tree is
    /// killed and the files under --root rewritten as a power cut may leave them.
    /// SET as in -e; when= counts the calls of SET over the whole run; path= as -P.
    /// `end`: when the program's main process exits, after its last call.
    #[arg(long, value_name = "SET[:when=EXPR][:path=GLOB]")]
    pub crash_at: Option<String>,

    /// What the crash leaves: lose-unsynced (every unsynced change undone, the default),
    /// torn (unsynced data lost, the last write keeps a sector-aligned prefix), torn-any
    /// (any prefix), reorder (a seeded subset survives), reorder=N (subset N).
    #[arg(long, value_name = "MODE", requires = "crash_at", value_parser = CrashMode::from_str)]
    pub crash_mode: Option<CrashMode>,

    /// The directory whose files the crash model follows and rewrites (default: the
    /// working directory); nothing outside it is touched.
    #[arg(long, value_name = "DIR", requires = "crash_at")]
    pub root: Option<PathBuf>,

    /// The file system whose persistence the crash follows: posix (POSIX's promises
    /// only, the default), ext4 (data=ordered, auto_da_alloc), xfs or btrfs.
    #[arg(long = "fs", value_name = "FS", requires = "crash_at", value_parser = Fs::from_str)]
    pub fs: Option<Fs>,

    /// After the crash, run CMD with `sh -c` in the working directory; fault then exits
    /// with CMD's status.
    #[arg(long, value_name = "CMD", requires = "crash_at")]
    pub check: Option<String>,

    /// The program to run and its arguments.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// One stage of the chain as the user wrote it, in command-line order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StageSpec {
    /// `-e EXPR`
    Rule(String),
    /// `--plugin SPEC`
    Plugin(String),
}

/// Trace the program (or attach to the processes) the arguments name.
pub fn run(args: &RunArgs, stages: &[StageSpec]) -> u8 {
    match session(args, stages).and_then(Session::run) {
        Ok(outcome) => {
            if let Some(report) = &outcome.crash {
                print_crash(report);
            }
            match &args.check {
                Some(check) => run_check(check),
                None => outcome.status.shell_code() as u8,
            }
        }
        Err(error) => {
            eprintln!("{NAME}: {error}");
            exit::of_session_error(&error)
        }
    }
}

/// What the crash lost, on standard error.
fn print_crash(report: &CrashReport) {
    for line in report.lines() {
        eprintln!("{NAME}: {line}");
    }
}

/// Run `--check CMD` with `sh -c`; its exit status (128+N for signal N).
fn run_check(check: &str) -> u8 {
    match std::process::Command::new("sh")
        .arg("-c")
        .arg(check)
        .status()
    {
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt;
            let code = status
                .code()
                .or_else(|| status.signal().map(|s| 128 + s))
                .unwrap_or(exit::FAILED.into());
            eprintln!("{NAME}: --check exited with status {code}");
            code as u8
        }
        Err(e) => {
            eprintln!("{NAME}: --check {check}: {e}");
            exit::FAILED
        }
    }
}

/// The session the command line describes.
fn session(args: &RunArgs, stages: &[StageSpec]) -> Result<Session, SessionError> {
    if args.follow_forks > 1 && args.output.is_some() {
        return Err(SessionError::Invalid(
            "-ff with -o asks for one log file per process; fault writes one log (use -f)".into(),
        ));
    }
    let mut session = match (args.command.split_first(), args.pids.is_empty()) {
        (Some((program, rest)), true) => {
            let mut command = std::process::Command::new(program);
            command.args(rest);
            Session::command(&command)
        }
        (None, false) => Session::attach(&args.pids),
        _ => {
            return Err(SessionError::Invalid(
                "nothing to trace: give a command after --, or -p PID".into(),
            ))
        }
    };
    for stage in stages {
        session = match stage {
            StageSpec::Rule(text) => session.rule(text),
            StageSpec::Plugin(spec) => session.plugin(spec),
        };
    }
    if let Some(Some(set)) = &args.trace {
        session = session.rule(&format!("trace={set}"));
    }
    for path in &args.paths {
        session = session.path(path);
    }
    if let Some(seed) = args.seed {
        session = session.seed(seed);
    }
    for dir in &args.plugin_dirs {
        session = session.plugin_dir(dir);
    }
    let memory = usize::try_from(args.plugin_memory << 20).unwrap_or(usize::MAX);
    session = session
        .plugin_timeout(args.plugin_timeout)
        .plugin_max_delay(args.max_delay)
        .plugin_backtraces(args.verbose)
        .plugin_memory(memory)
        .on_policy_error(args.on_plugin_error)
        .trace_all(args.trace.is_some())
        .print_summary(args.summary)
        .keep_no_calls()
        .handle_stop_signals();
    session = match log_sink(args)? {
        Some(out) => session.log_to(out, args.log_format),
        None => session.end_of_log_to_stderr(),
    };
    if let Some(kind) = args.backend {
        session = session.backend(kind);
    }
    if args.no_seccomp {
        session = session.without_seccomp();
    }
    if let Some(spec) = &args.crash_at {
        let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
        let mode = args.crash_mode.unwrap_or(CrashMode::LoseUnsynced);
        let seed = crate::wasm::Seed::given_or_fresh(args.seed, false).value;
        let crash = Crash::new(root, mode, seed)
            .fs(args.fs.unwrap_or(Fs::Posix))
            .at_spec(spec)
            .map_err(SessionError::Invalid)?;
        session = session.crash(crash);
    }
    Ok(session)
}

/// The log sink of `-o` (standard error without it). `-o /dev/null` means
/// no lines at all: fi then skips decoding and formatting them.
fn log_sink(args: &RunArgs) -> Result<Option<Box<dyn std::io::Write + Send>>, SessionError> {
    match &args.output {
        Some(path)
            if path
                .canonicalize()
                .is_ok_and(|p| p == std::path::Path::new("/dev/null")) =>
        {
            Ok(None)
        }
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| SessionError::Invalid(format!("-o {}: {e}", path.display())))?;
            Ok(Some(Box::new(std::io::BufWriter::new(file))))
        }
        None => Ok(Some(Box::new(std::io::stderr()))),
    }
}

impl ValueEnum for LogFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[LogFormat::Text, LogFormat::Json]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            LogFormat::Text => PossibleValue::new("text").help("strace-style text lines"),
            LogFormat::Json => PossibleValue::new("json").help("one JSON object per line"),
        })
    }
}

impl ValueEnum for Kind {
    fn value_variants<'a>() -> &'a [Self] {
        &[Kind::Auto, Kind::Ptrace]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Kind::Auto => PossibleValue::new("auto")
                .help("in-kernel answers and seccomp user notification where possible"),
            Kind::Ptrace => PossibleValue::new("ptrace").help("a ptrace stop per decided call"),
        })
    }
}

impl ValueEnum for OnPolicyError {
    fn value_variants<'a>() -> &'a [Self] {
        &[OnPolicyError::Abort, OnPolicyError::Pass]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            OnPolicyError::Abort => PossibleValue::new("abort").help("kill the run"),
            OnPolicyError::Pass => {
                PossibleValue::new("pass").help("disable the plugin; its calls pass")
            }
        })
    }
}

/// `-e` and `--plugin` values merged by their position on the command line.
pub fn stage_order(matches: &ArgMatches, run: &RunArgs) -> Vec<StageSpec> {
    let indices = |id: &str| -> Vec<usize> {
        matches
            .indices_of(id)
            .map(|i| i.collect())
            .unwrap_or_default()
    };
    let long_forms = |id: &str, qualifier: &str, values: &[String]| -> Vec<(usize, StageSpec)> {
        indices(id)
            .into_iter()
            .zip(values)
            .map(|(i, expr)| (i, StageSpec::Rule(format!("{qualifier}={expr}"))))
            .collect()
    };
    let mut stages: Vec<(usize, StageSpec)> = indices("rules")
        .into_iter()
        .zip(&run.rules)
        .map(|(i, rule)| (i, StageSpec::Rule(rule.clone())))
        .chain(long_forms("inject", "inject", &run.inject))
        .chain(long_forms("fault", "fault", &run.fault))
        .chain(
            indices("plugins")
                .into_iter()
                .zip(&run.plugins)
                .map(|(i, spec)| (i, StageSpec::Plugin(spec.clone()))),
        )
        .collect();
    stages.sort_by_key(|(i, _)| *i);
    stages.into_iter().map(|(_, stage)| stage).collect()
}
