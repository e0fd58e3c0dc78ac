//! The command's entry point, shared by its two names: `fault`, and `fi`
//! (the project's name, which shells reserve as a keyword).

use std::process::ExitCode;

use crate::backend::ptrace::child_signal;
use crate::cli::{self, Cli, EXIT_FAILED};
use crate::engine::stop_signals;

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
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EXIT_FAILED)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    ExitCode::from(cli::execute(&cli, &stages))
}
