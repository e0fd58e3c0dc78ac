//! The `fault` command line: what the user asked for, checked before
//! anything runs, then handed to the library. One file per subcommand
//! ([`run`], [`explore`], [`plugin`], [`plugins`]); [`exit`] is the table
//! of exit statuses. The library never prints and never imports from here.

use std::process::ExitCode;
use std::sync::LazyLock;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Durations on the command line (`--plugin-timeout 200ms`) are read as the
/// rules' `delay_enter=` is: one grammar, in fi-grammar.
pub use fi_grammar::parse_duration;

use crate::backend::ptrace::child_signal;
use crate::engine::stop_signals;

pub mod exit;
pub mod explore;
pub mod plugin;
pub mod plugins;
pub mod run;
pub mod scaffold;
mod time_option;

pub use run::{RunArgs, StageSpec};

/// The command's name, in its messages, its log notes and its usage lines
/// (whichever of its two names it was started by).
pub const NAME: &str = crate::COMMAND;

/// What `--version` prints after the name: the version, the version of the
/// plugin contract this build runs plugins for and the wasmtime that runs
/// them.
static LONG_VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}\nplugin contract: {} (wit/policy.wit)\nwasmtime {}",
        env!("CARGO_PKG_VERSION"),
        crate::wasm::contract_package(),
        env!("FI_WASMTIME_VERSION"),
    )
});

/// The end of `fault --help`: examples, then the exit statuses.
static AFTER_HELP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Examples:\n  \
        fault -e fault=openat:error=EACCES -P /etc/hostname -- cat /etc/hostname\n  \
        fault -e inject=fsync:error=EIO:when=2+ -- ./db\n  \
        fault --plugin short-write:mode=torn -- ./go-prog\n  \
        fault --plugin ./my_policy.wasm:path=/data/* -- python3 app.py\n\n{}",
        exit::help().trim_end()
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
    after_help = AFTER_HELP.as_str(),
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
        action: Option<plugins::PluginsAction>,
    },
    /// Work with one plugin file.
    Plugin {
        /// What to do.
        #[command(subcommand)]
        action: plugin::PluginAction,
    },
    /// Find error-handling bugs: fail every fault point of a run, one at a
    /// time, and report the runs that go wrong.
    #[command(args_conflicts_with_subcommands = true, after_help = explore::HELP.as_str())]
    Explore {
        /// Combine reports instead of exploring.
        #[command(subcommand)]
        action: Option<explore::ExploreAction>,
        /// The campaign.
        #[command(flatten)]
        args: Box<explore::ExploreArgs>,
    },
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
        let order = run::stage_order(&matches, &cli.run);
        Ok((cli, order))
    }
}

/// Parse the command line, do what it asks and return the status to exit
/// with: the traced program's own, or one of [`exit`]'s codes (usage
/// errors, clap's included, are [`exit::FAILED`]; `--help` and `--version`
/// exit 0). The entry point of both the command's names: `fault`, and `fi`
/// (the project's name, which shells reserve as a keyword).
pub fn main() -> ExitCode {
    // Before any thread exists, so that every thread inherits the mask:
    // the stop signals go to the session's thread alone, and so does
    // SIGCHLD, which wakes it when a tracee changes state.
    stop_signals::block_at_startup();
    child_signal::block_in_process();
    let (cli, stages) = match Cli::parse_with_order() {
        Ok(parsed) => parsed,
        Err(error) if error.use_stderr() => {
            eprintln!("{NAME}: {}", one_line(&error));
            return ExitCode::from(exit::FAILED);
        }
        Err(help) => {
            let _ = help.print();
            return ExitCode::SUCCESS;
        }
    };
    // What a fault killed with SIGKILL left in the temporary directory.
    crate::leftovers::sweep_temp_dir();
    ExitCode::from(execute(&cli, &stages))
}

/// A usage error of clap's on one line: its message (with what it lists,
/// such as the missing arguments) and its tip, without the usage and the
/// pointer to `--help`.
fn one_line(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let mut paragraphs = text.split("\n\n").map(|paragraph| {
        paragraph
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    });
    let first = paragraphs.next().unwrap_or_default();
    let message = first.strip_prefix("error: ").unwrap_or(&first);
    let tip = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("tip: "));
    match tip {
        Some(tip) => format!(
            "{} ({tip})",
            message.split(" tip: ").next().unwrap_or(message)
        ),
        None => message.to_string(),
    }
}

/// Run what the command line asks for; the exit status to end with.
pub fn execute(cli: &Cli, stages: &[StageSpec]) -> u8 {
    let result = match &cli.command {
        Some(Command::Plugins { action }) => plugins::execute(action.as_ref()),
        Some(Command::Plugin { action }) => plugin::execute(action),
        Some(Command::Explore { action, args }) => return explore::execute(action.as_ref(), args),
        None => return run::run(&cli.run, stages),
    };
    match result {
        Ok(()) => exit::SUCCESS,
        Err(error) => {
            eprintln!("{NAME}: {error:#}");
            exit::FAILED
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cli::run::stage_order;

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
    fn usage_errors_are_one_line_that_names_what_is_wrong() {
        let error = |args: &[&str]| one_line(&Cli::try_parse_from(args).unwrap_err());
        let missing = error(&[NAME, "--check", "true", "--", "true"]);
        assert!(missing.contains("--crash-at"), "{missing}");
        let unknown = error(&[NAME, "--nosuch", "--", "true"]);
        assert!(unknown.contains("'--nosuch'"), "{unknown}");
        for line in [missing, unknown] {
            assert!(!line.contains('\n') && !line.contains("Usage"), "{line}");
        }
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
