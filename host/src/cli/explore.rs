//! The `fault explore` command line: its options, checked, made into
//! [`explore::Options`], and the reports written.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use std::io::IsTerminal;
use std::sync::{LazyLock, Mutex, PoisonError};

use clap::{Args, Subcommand};

use super::exit;
use super::time_option::parse_time_option;
use crate::crash::{CrashMode, Fs};
use crate::explore::events::{Event, Reporter};
use crate::explore::faults::{default_syscalls, Fault, FaultChoice};
use crate::explore::plan::Shard;
use crate::explore::report::{Report, Suppressions};
use crate::explore::CrashOptions;
use crate::explore::{self, shell_quote, ExploreError, Options};
use crate::interrupt::Interrupt;
use crate::COMMAND as NAME;

/// The end of `fault explore --help`.
pub static HELP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Outcomes: crash (a signal, a runtime error), corrupt (--check failed; with --faults corrupt, \
         also a silent wrong result), \
         hang (past --timeout), silent (an error fired and the program ended as without it), \
         handled (not a finding), not-reached.\n\n{}\n\
         Example:\n  fault explore --workdir testdata --check 'sqlite3 db \"PRAGMA integrity_check\"' -- ./db-test",
        exit::help()
    )
});

/// `fault explore ...`
#[derive(Debug, Subcommand)]
pub enum ExploreAction {
    /// Combine the --json reports of several shards into one report.
    Merge(MergeArgs),
}

/// `fault explore [OPTIONS] -- CMD [ARGS]`
#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// Start every run (the recording too) in a fresh copy of DIR, and run
    /// --check there; without it, runs share the current directory.
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,

    /// A shell command run in the run's directory afterwards; its failure
    /// makes a run in which the program claimed success (ended as without
    /// faults) "corrupt".
    #[arg(long, value_name = "CMD")]
    pub check: Option<String>,

    /// The check must pass after every run, also when the program reported
    /// the error (an integrity check, such as SQLite's integrity_check).
    #[arg(long, requires = "check")]
    pub check_always: bool,

    /// The explored syscalls, in strace's set syntax (default: the storage
    /// calls: open, read, write, fsync, msync, rename, unlink, close, ...).
    #[arg(long, value_name = "SET")]
    pub syscalls: Option<String>,

    /// Explore the socket calls too (connect, send, recv, accept).
    #[arg(long)]
    pub network: bool,

    /// Points are the calls on files matching GLOB (repeatable; relative
    /// globs are taken in the run's directory) instead of the files in the
    /// run's directory.
    #[arg(long = "path", value_name = "GLOB")]
    pub paths: Vec<String>,

    /// Every call of the explored syscalls is a point, whatever it touches.
    #[arg(long, conflicts_with = "paths")]
    pub all_paths: bool,

    /// The faults to try: a comma list of errno names, `short` and `corrupt`
    /// (a bit flipped in what a read returned), or `all` (every errno the
    /// man page lists). Default: a few per syscall.
    #[arg(long, value_name = "LIST")]
    pub faults: Option<String>,

    /// A run still going after TIME is a hang (default: 10 times the
    /// recording's duration, at least 10s).
    #[arg(long, value_name = "TIME", value_parser = parse_time_option)]
    pub timeout: Option<Duration>,

    /// Make at most N injected runs (0: record and save the plan only).
    #[arg(long, value_name = "N")]
    pub max_runs: Option<usize>,

    /// Start no run after TIME (e.g. 600s).
    #[arg(long, value_name = "TIME", value_parser = parse_time_option)]
    pub time_budget: Option<Duration>,

    /// Runs at once (needs --workdir).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,

    /// Make only slice I of N of the runs (1-based), for a CI matrix;
    /// `explore merge` combines the slices' --json reports.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,

    /// Read the plan from FILE if it exists; otherwise record it there.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// Leave out the findings FILE names: ids, or globs over stack frames,
    /// one per line.
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,

    /// Go on with an interrupted campaign: the runs already in the --json
    /// report are not made again (use with --plan, so the points are the same).
    #[arg(long, requires_all = ["json", "plan"])]
    pub resume: bool,

    /// Replay one injection by its id, and say what came of it.
    #[arg(long, value_name = "ID", conflicts_with = "crash")]
    pub replay: Option<String>,

    /// Simulate a power loss at every durability point (each call that
    /// writes, syncs or changes a directory under --root) instead of failing
    /// calls; --check judges what it leaves behind.
    #[arg(long, requires = "check")]
    pub crash: bool,

    /// Only this crash mode: lose-unsynced, torn, torn-any, reorder or
    /// reorder=N (default: all, every reorder state where they are few).
    #[arg(long, value_name = "MODE", requires = "crash", value_parser = parse_crash_mode)]
    pub crash_mode: Option<CrashMode>,

    /// The directory whose files a crash rewrites (default: the run's
    /// working directory; a relative DIR is taken there).
    #[arg(long, value_name = "DIR", requires = "crash")]
    pub root: Option<PathBuf>,

    /// The file system whose persistence crashes follow: posix (the
    /// default), ext4, xfs or btrfs.
    #[arg(long = "fs", value_name = "FS", requires = "crash", value_parser = parse_fs)]
    pub fs: Option<Fs>,

    /// Writes to PATH acknowledge what the program made safe (`-` or
    /// /dev/stdout: its standard output): a crash is tried just after each,
    /// as after the run's last call. Repeatable.
    #[arg(long, value_name = "PATH", requires = "crash")]
    pub ack: Vec<String>,

    /// Reports to write.
    #[command(flatten)]
    pub reports: ReportArgs,

    /// The program to explore and its arguments.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// Where to write a campaign's reports.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write every point tried and the findings as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write one JUnit test case per finding.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write a self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `fault explore merge REPORT... [--json FILE] ...`
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The --json reports of the slices.
    #[arg(required = true, value_name = "REPORT")]
    pub inputs: Vec<PathBuf>,

    /// Leave out the findings FILE names.
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,

    /// Reports to write.
    #[command(flatten)]
    pub reports: ReportArgs,
}

fn parse_fs(text: &str) -> Result<Fs, String> {
    text.parse()
}

fn parse_crash_mode(text: &str) -> Result<CrashMode, String> {
    text.parse()
}

/// Do what `fault explore [ACTION]` asks: a campaign (or a replay), or
/// `merge`; the exit status.
pub fn execute(action: Option<&ExploreAction>, args: &ExploreArgs) -> u8 {
    match action {
        None => run(args),
        Some(ExploreAction::Merge(merge_args)) => merge(merge_args),
    }
}

/// Run `fault explore`; the exit status. SIGINT, SIGTERM and SIGHUP end
/// the campaign ([`crate::interrupt`]): the runs in progress are killed,
/// the reports keep the runs made, and the status is 128 + the signal.
pub fn run(args: &ExploreArgs) -> u8 {
    let interrupt = Interrupt::new();
    if let Err(e) = interrupt.on_stop_signals() {
        eprintln!("{NAME}: listening for stop signals: {e}");
        return exit::FAILED;
    }
    let result = options(args, &interrupt).and_then(|options| match &args.replay {
        Some(id) => replay(&options, id),
        None => campaign(&options, &args.reports),
    });
    let status = result.unwrap_or_else(|error| match (error, interrupt.signal()) {
        (ExploreError::Interrupted(signal), _) | (_, Some(signal)) => {
            eprintln!(
                "{NAME}: interrupted by {} before any run was made",
                signal_name(signal)
            );
            exit::interrupted(signal)
        }
        (error, None) => {
            eprintln!("{NAME}: {error}");
            match error {
                ExploreError::Session(e) => exit::of_session_error(&e),
                _ => exit::FAILED,
            }
        }
    });
    // A signal that came after the last run ended still ends the campaign
    // with its status: the reports are written by then.
    interrupt.signal().map_or(status, exit::interrupted)
}

/// A stop signal's name (`SIGTERM`).
fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_string())
}

/// Run `fault explore merge`; the exit status.
pub fn merge(args: &MergeArgs) -> u8 {
    let merged = (|| -> Result<Report, ExploreError> {
        let suppressions = suppressions(args.suppress.as_deref())?;
        let reports = args
            .inputs
            .iter()
            .map(|path| read_report(path))
            .collect::<Result<_, _>>()?;
        let report = Report::merge(reports, &suppressions);
        write_reports(&report, &args.reports, None)?;
        Ok(report)
    })();
    match merged {
        Ok(report) => {
            print!("{}", report.summary());
            exit_status(&report)
        }
        Err(error) => {
            eprintln!("{NAME}: {error}");
            exit::FAILED
        }
    }
}

/// A `--json` report written earlier.
fn read_report(path: &Path) -> Result<Report, ExploreError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ExploreError::Invalid(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        ExploreError::Invalid(format!("{}: not an explore report: {e}", path.display()))
    })
}

fn exit_status(report: &Report) -> u8 {
    if report.findings.is_empty() {
        exit::SUCCESS
    } else {
        exit::FINDINGS
    }
}

fn campaign(options: &Options, reports: &ReportArgs) -> Result<u8, ExploreError> {
    let report = explore::explore(options)?;
    let interrupted = options.interrupt.signal();
    write_reports(&report, reports, interrupted)?;
    print!("{}", report.summary());
    if let Some(signal) = interrupted {
        let kept = match &reports.json {
            Some(path) => format!("; {} keeps them: --resume goes on from it", path.display()),
            None => String::new(),
        };
        eprintln!(
            "{NAME}: interrupted by {}: {} runs made, the runs in progress killed{kept}",
            signal_name(signal),
            report.points.len().saturating_sub(options.done.len()),
        );
        return Ok(exit::interrupted(signal));
    }
    Ok(exit_status(&report))
}

fn replay(options: &Options, id: &str) -> Result<u8, ExploreError> {
    let replayed = explore::replay(options, id)?;
    let (stdout, stderr) = &replayed.output;
    print!("{stdout}");
    eprint!("{stderr}");
    match &replayed.fired {
        Some((place, fault, stack)) => {
            println!("replay {id}: injected {fault} into {place}");
            for frame in stack.iter().take(8) {
                println!("    {frame}");
            }
        }
        None => println!("replay {id}: the point did not occur in this run"),
    }
    println!("status: {}", replayed.status);
    if let Some(check) = &replayed.check {
        println!("check: {check}");
    }
    println!("outcome: {} ({})", replayed.outcome, replayed.detail);
    Ok(if replayed.outcome.is_finding() {
        exit::FINDINGS
    } else {
        exit::SUCCESS
    })
}

/// Write the reports `args` asks for; a campaign ended by a stop signal
/// (`interrupted`) says so in its `--json` report (`"interrupted":
/// "SIGTERM"`), which `--resume` goes on from.
fn write_reports(
    report: &Report,
    args: &ReportArgs,
    interrupted: Option<i32>,
) -> Result<(), ExploreError> {
    let write = |path: &Option<PathBuf>, flag: &str, text: String| match path {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| ExploreError::Failed(format!("--{flag} {}: {e}", path.display()))),
        None => Ok(()),
    };
    let mut json = serde_json::to_value(report).expect("a report serializes");
    if let (Some(signal), Some(fields)) = (interrupted, json.as_object_mut()) {
        fields.insert("interrupted".into(), signal_name(signal).into());
    }
    let json = serde_json::to_string_pretty(&json).expect("a report serializes");
    write(&args.json, "json", json)?;
    write(&args.junit, "junit", report.junit())?;
    write(&args.html, "html", explore::html::page(report))
}

fn suppressions(path: Option<&Path>) -> Result<Suppressions, ExploreError> {
    path.map(Suppressions::read)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(ExploreError::Invalid)
}

/// The campaign the arguments describe, checked, ended by `interrupt`.
fn options(args: &ExploreArgs, interrupt: &Arc<Interrupt>) -> Result<Options, ExploreError> {
    let cwd = std::env::current_dir()
        .map_err(|e| ExploreError::Failed(format!("the current directory: {e}")))?;
    let syscalls = match &args.syscalls {
        Some(set) => crate::rules::syscall_set::parse_syscall_set(set)
            .map_err(|e| ExploreError::Invalid(format!("--syscalls {set}: {e}")))?,
        None => default_syscalls(args.network),
    };
    let faults = match args.faults.as_deref() {
        None => FaultChoice::Default,
        Some("all") => FaultChoice::All,
        Some(list) => FaultChoice::Only(
            list.split(',')
                .map(|item| item.trim().parse::<Fault>())
                .collect::<Result<_, _>>()
                .map_err(|e| ExploreError::Invalid(format!("--faults {list}: {e}")))?,
        ),
    };
    if let Some(dir) = &args.workdir {
        if !cwd.join(dir).is_dir() {
            return Err(ExploreError::Invalid(format!(
                "--workdir {}: not a directory",
                dir.display()
            )));
        }
    }
    let workdir = args.workdir.as_ref().map(|dir| cwd.join(dir));
    Ok(Options {
        program: explore::trial::Program {
            argv: args.command.clone(),
            workdir,
            cwd,
            check: args.check.clone(),
            check_always: args.check_always,
        },
        syscalls,
        network: args.network,
        paths: args.paths.clone(),
        all_paths: args.all_paths,
        faults,
        timeout: args.timeout,
        max_runs: args.max_runs,
        time_budget: args.time_budget,
        jobs: args.jobs,
        shard: args.shard,
        plan_file: args.plan.clone(),
        suppressions: suppressions(args.suppress.as_deref())?,
        crash: args.crash.then(|| CrashOptions {
            root: args.root.clone().unwrap_or_else(|| PathBuf::from(".")),
            mode: args.crash_mode,
            acks: args.ack.clone(),
            fs: args.fs.unwrap_or(Fs::Posix),
        }),
        done: match (&args.reports.json, args.resume) {
            (Some(path), true) if path.exists() => read_report(path)?.points,
            _ => Vec::new(),
        },
        replay_prefix: replay_prefix(args),
        progress: progress_view(),
        interrupt: Arc::clone(interrupt),
    })
}

/// `fault explore` with the options that decide which points exist and
/// what they are: what a replay command repeats.
fn replay_prefix(args: &ExploreArgs) -> String {
    let mut words = vec![NAME.to_string(), "explore".to_string()];
    let mut add = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            words.push(flag.to_string());
            words.push(shell_quote(&value));
        }
    };
    add(
        "--workdir",
        args.workdir.as_ref().map(|d| d.display().to_string()),
    );
    add("--check", args.check.clone());
    add("--syscalls", args.syscalls.clone());
    add("--faults", args.faults.clone());
    add(
        "--timeout",
        args.timeout.map(|t| format!("{}ms", t.as_millis())),
    );
    for path in &args.paths {
        add("--path", Some(path.clone()));
    }
    if args.check_always {
        words.push("--check-always".into());
    }
    if args.network {
        words.push("--network".into());
    }
    if args.all_paths {
        words.push("--all-paths".into());
    }
    words.join(" ")
}

/// The campaign's progress on standard error: a bar with an ETA on a
/// terminal, otherwise a line per finding and per tenth of the runs.
fn progress_view() -> Reporter {
    let bar: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);
    let terminal = std::io::stderr().is_terminal();
    Reporter::new(move |event| {
        let mut bar = bar.lock().unwrap_or_else(PoisonError::into_inner);
        show(event, &mut bar, terminal);
    })
}

/// Render `event`, with `bar` the terminal's progress bar of the runs.
fn show(event: &Event, bar: &mut Option<indicatif::ProgressBar>, terminal: bool) {
    match event {
        Event::Started { total } if terminal => {
            let started = indicatif::ProgressBar::new(*total as u64);
            started.set_style(
                indicatif::ProgressStyle::with_template(
                    "explore [{bar:30}] {pos}/{len} runs, ETA {eta} {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            *bar = Some(started);
        }
        Event::Started { .. } => {}
        Event::RunDone {
            tried,
            done,
            total,
            findings,
        } => match bar {
            Some(bar) => {
                bar.set_position(*done as u64);
                bar.set_message(format!("{findings} failing"));
            }
            None => {
                for point in tried.iter().filter(|p| p.outcome.is_finding()) {
                    eprintln!(
                        "[{NAME}] explore: {} {} on {} {} ({})",
                        point.id, point.outcome, point.key.syscall, point.key.path, point.fault
                    );
                }
                let step = (total / 10).max(1);
                if done.is_multiple_of(step) || done == total {
                    eprintln!("[{NAME}] explore: {done}/{total}");
                }
            }
        },
        Event::Note { what } => eprintln!("[{NAME}] explore: {what}"),
        Event::CrashCoverage {
            durability,
            acknowledgements,
            reorder,
        } => eprintln!(
            "{NAME}: crash points: {durability} durability, {acknowledgements} acknowledgements, \
             the end of the run; {reorder}"
        ),
        Event::Finished => {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
        }
    }
}
