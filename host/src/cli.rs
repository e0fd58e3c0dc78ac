//! The command line: what the user asked for, checked before anything runs.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// Durations on the command line (`--plugin-timeout 200ms`) are read as the
/// rules' `delay_enter=` is: one grammar, in fi-grammar.
pub use fi_grammar::parse_duration;

use std::str::FromStr;

use crate::backend::Kind;
use crate::crash::{Crash, CrashMode, CrashReport, Fs};
use crate::output::LogFormat;
use crate::policy::chain::OnPolicyError;
use crate::session::{Session, SessionError};

/// The command's name, in its messages, its log notes and its usage lines
/// (whichever of its two names it was started by).
pub const NAME: &str = crate::COMMAND;

/// What `--version` prints after the name: the version, the versions of the
/// plugin contract this build runs plugins for and the wasmtime that runs
/// them.
static LONG_VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}\nplugin contract: {} (wit/since-VERSION/policy.wit)\nwasmtime {}",
        env!("CARGO_PKG_VERSION"),
        crate::wasm::wit_packages(),
        env!("FI_WASMTIME_VERSION"),
    )
});

/// Syscall fault injection for real programs, driven by strace-style rules
/// and sandboxed WebAssembly policies.
#[derive(Debug, Parser)]
#[command(
    name = NAME,
    bin_name = NAME,
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  \
        fault -e fault=openat:error=EACCES -P /etc/hostname -- cat /etc/hostname\n  \
        fault -e inject=fsync:error=EIO:when=2+ -- ./db\n  \
        fault --plugin short-write:mode=torn -- ./go-prog\n  \
        fault --plugin ./my_policy.wasm:path=/data/* -- python3 app.py\n\n\
        Exit status:\n  \
        N    the traced program's own (128+N when signal N killed it)\n  \
        125  fault itself failed, or its command line is wrong (nothing was started)\n  \
        126  the program exists but cannot be run (permission denied, not an executable)\n  \
        127  the program was not found"
)]
pub struct Cli {
    /// Inspect plugins instead of running a program.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// What to run and how.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the built-in plugins and their config keys, or export them.
    Plugins {
        /// What to do (default: list).
        #[command(subcommand)]
        action: Option<PluginsAction>,
    },
    /// Work with one plugin file.
    Plugin {
        /// What to do.
        #[command(subcommand)]
        action: PluginAction,
    },
    /// Find error-handling bugs: fail every fault point of a run, one at a
    /// time, and report the runs that go wrong.
    #[command(args_conflicts_with_subcommands = true, after_help = EXPLORE_HELP)]
    Explore {
        /// Combine reports instead of exploring.
        #[command(subcommand)]
        action: Option<ExploreAction>,
        /// The campaign.
        #[command(flatten)]
        args: Box<crate::explore_cli::ExploreArgs>,
    },
}

/// The end of `fault explore --help`.
const EXPLORE_HELP: &str = "Outcomes: crash (a signal, a runtime error), corrupt (--check failed), \
    hang (past --timeout), silent (an error fired and the program ended as without it), \
    handled (not a finding), not-reached.\n\n\
    Exit status: 0 no findings, 1 findings, 125 explore itself failed or its command line is wrong.\n\n\
    Example:\n  fault explore --workdir testdata --check 'sqlite3 db \"PRAGMA integrity_check\"' -- ./db-test";

/// `fault explore ...`
#[derive(Debug, Subcommand)]
pub enum ExploreAction {
    /// Combine the --json reports of several shards into one report.
    Merge(crate::explore_cli::MergeArgs),
}

/// `fault plugins ...`
#[derive(Debug, Subcommand)]
pub enum PluginsAction {
    /// Write every built-in plugin as DIR/NAME.wasm, to share or modify.
    Export {
        /// The directory to write into (created if missing).
        dir: PathBuf,
    },
}

/// `fault plugin ...`
#[derive(Debug, Subcommand)]
pub enum PluginAction {
    /// Check a plugin against fi's contract: world, version, description and
    /// the subscription it returns for a config.
    Check {
        /// A built-in name, or a .wasm or .wat file, optionally followed by
        /// :key=value pairs.
        spec: String,
    },
    /// Start a plugin project: a policy to change, the contract, one build
    /// command and a README.
    New {
        /// The plugin's name: lowercase letters, digits, - and _.
        name: String,
        /// The language: rust, python, javascript, c or wat.
        #[arg(long, value_name = "LANG")]
        lang: String,
        /// The project directory (default ./NAME); created, or must be empty.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Options for tracing a program.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A strace-style rule: inject=SET:error=E|retval=V[:signal=S][:syscall=S]
    /// [:delay_enter=T][:delay_exit=T][:poke_enter=@argN=HEX][:poke_exit=@argN=HEX]
    /// [:when=EXPR], fault=SET[:error=E][:when=EXPR], or trace=SET (the calls
    /// traced: -e rules tamper only with them, --trace logs only them).
    #[arg(short = 'e', value_name = "EXPR")]
    pub rules: Vec<String>,

    /// The same as -e inject=EXPR.
    #[arg(long = "inject", value_name = "EXPR")]
    pub inject: Vec<String>,

    /// The same as -e fault=EXPR.
    #[arg(long = "fault", value_name = "EXPR")]
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

    /// Print a per-syscall table of stops, tamperings and errors at the end.
    #[arg(short = 'c', long = "summary")]
    pub summary: bool,

    /// Seed for the plugins' random numbers (printed when not given).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Longest time one plugin call may run (e.g. 1s, 200ms).
    #[arg(long, value_name = "TIME", default_value = "1s", value_parser = parse_duration)]
    pub plugin_timeout: Duration,

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

impl Cli {
    /// Parse the process's arguments and the order of `-e` and `--plugin`
    /// among them. The error is a usage error, or the `--help` or
    /// `--version` text ([`clap::Error::use_stderr`] tells them apart).
    pub fn parse_with_order() -> Result<(Cli, Vec<StageSpec>), clap::Error> {
        let matches = Cli::command()
            .long_version(LONG_VERSION.as_str())
            .try_get_matches()?;
        let cli = Cli::from_arg_matches(&matches)?;
        let order = stage_order(&matches, &cli.run);
        Ok((cli, order))
    }
}

/// Exit status when fault itself fails or its command line is wrong
/// (nothing was started), as `env` and `timeout` have it.
pub const EXIT_FAILED: u8 = 125;
/// Exit status when the program exists but cannot be run.
pub const EXIT_CANNOT_RUN: u8 = 126;
/// Exit status when the program is not found.
pub const EXIT_NOT_FOUND: u8 = 127;

/// Run what the command line asks for; the exit status to end with.
pub fn execute(cli: &Cli, stages: &[StageSpec]) -> u8 {
    let result = match &cli.command {
        Some(Command::Plugins { action: None }) => crate::wasm::commands::list().map(|()| 0),
        Some(Command::Plugins {
            action: Some(PluginsAction::Export { dir }),
        }) => crate::wasm::commands::export(dir).map(|()| 0),
        Some(Command::Plugin {
            action: PluginAction::Check { spec },
        }) => crate::wasm::commands::check(spec)
            .map(|()| 0)
            .map_err(|e| e.context(spec.clone())),
        Some(Command::Plugin {
            action: PluginAction::New { name, lang, dir },
        }) => crate::wasm::commands::new(name, lang, dir.as_deref()).map(|()| 0),
        Some(Command::Explore { action: None, args }) => return crate::explore_cli::run(args),
        Some(Command::Explore {
            action: Some(ExploreAction::Merge(args)),
            ..
        }) => return crate::explore_cli::merge(args),
        None => return run(&cli.run, stages),
    };
    result.unwrap_or_else(|error| {
        eprintln!("{NAME}: {error:#}");
        EXIT_FAILED
    })
}

/// Trace the program (or attach to the processes) the arguments name.
fn run(args: &RunArgs, stages: &[StageSpec]) -> u8 {
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
            exit_status_of(&error)
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
                .unwrap_or(EXIT_FAILED.into());
            eprintln!("{NAME}: --check exited with status {code}");
            code as u8
        }
        Err(e) => {
            eprintln!("{NAME}: --check {check}: {e}");
            EXIT_FAILED
        }
    }
}

/// The exit status that tells a failure of fault's apart from the program's.
pub fn exit_status_of(error: &SessionError) -> u8 {
    match error {
        SessionError::Invalid(_) | SessionError::Failed(_) => EXIT_FAILED,
        SessionError::NotFound(_) => EXIT_NOT_FOUND,
        SessionError::CannotRun { .. } => EXIT_CANNOT_RUN,
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
fn stage_order(matches: &ArgMatches, run: &RunArgs) -> Vec<StageSpec> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn order(args: &[&str]) -> Vec<StageSpec> {
        let matches = Cli::command().try_get_matches_from(args).unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        stage_order(&matches, &cli.run)
    }

    #[test]
    fn rules_and_plugins_keep_command_line_order() {
        let stages = order(&[
            NAME,
            "--plugin",
            "a",
            "-e",
            "fault=write",
            "--plugin",
            "b",
            "--",
            "true",
        ]);
        assert_eq!(
            stages,
            vec![
                StageSpec::Plugin("a".into()),
                StageSpec::Rule("fault=write".into()),
                StageSpec::Plugin("b".into()),
            ]
        );
    }

    #[test]
    fn strace_long_forms_keep_their_place() {
        let stages = order(&[
            NAME,
            "--fault=chdir:error=ENOENT",
            "-f",
            "-ff",
            "-qq",
            "--plugin",
            "a",
            "--inject=chdir:error=EACCES",
            "-e",
            "trace=chdir",
            "--",
            "true",
        ]);
        assert_eq!(
            stages,
            vec![
                StageSpec::Rule("fault=chdir:error=ENOENT".into()),
                StageSpec::Plugin("a".into()),
                StageSpec::Rule("inject=chdir:error=EACCES".into()),
                StageSpec::Rule("trace=chdir".into()),
            ]
        );
        let cli = Cli::try_parse_from([NAME, "--trace", "--", "true"]).unwrap();
        assert_eq!(cli.run.trace, Some(None));
        let cli = Cli::try_parse_from([NAME, "--trace=writev", "--", "true"]).unwrap();
        assert_eq!(cli.run.trace, Some(Some("writev".into())));
        let cli = Cli::try_parse_from([NAME, "-ff", "-qq", "--", "true"]).unwrap();
        assert_eq!((cli.run.follow_forks, cli.run.quiet), (2, 2));
    }

    #[test]
    fn durations_take_strace_units() {
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_micros(7)));
        assert!(parse_duration("3h")
            .unwrap_err()
            .to_string()
            .contains("unknown unit 'h'"));
        assert!(parse_duration("").is_err());
    }
}
