//! The command's entry point, shared by its two names: `fault`, and `fi`
//! (the project's name, which shells reserve as a keyword).

use std::process::ExitCode;

use crate::backend::ptrace::child_signal;
use crate::cli::{self, Cli, EXIT_FAILED};
use crate::engine::stop_signals;

/// A usage error of clap's on one line: its message and its tip, without
/// the usage and the pointer to `--help`.
fn one_line(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let message = lines.next().unwrap_or_default();
    let message = message.strip_prefix("error: ").unwrap_or(message);
    match lines.find_map(|l| l.strip_prefix("tip: ")) {
        Some(tip) => format!("{message} ({tip})"),
        None => message.to_string(),
    }
}

/// Parse the command line, do what it asks and return the status to exit
/// with: the traced program's own, or one of [`cli`]'s `EXIT_*` codes
/// (usage errors, clap's included, are [`EXIT_FAILED`]; `--help` and
/// `--version` exit 0).
pub fn main() -> ExitCode {
    // Before any thread exists, so that every thread inherits the mask:
    // the stop signals go to the session's thread alone, and so does
    // SIGCHLD, which wakes it when a tracee changes state.
    stop_signals::block_at_startup();
    child_signal::block_in_process();
    let (cli, stages) = match Cli::parse_with_order() {
        Ok(parsed) => parsed,
        Err(error) if error.use_stderr() => {
            eprintln!("{}: {}", cli::NAME, one_line(&error));
            return ExitCode::from(EXIT_FAILED);
        }
        Err(help) => {
            let _ = help.print();
            return ExitCode::SUCCESS;
        }
    };
    // What a fault killed with SIGKILL left in the temporary directory.
    crate::leftovers::sweep_temp_dir();
    ExitCode::from(cli::execute(&cli, &stages))
}
