//! The command's entry point, shared by its two names: `fault`, and `fi`
//! (the project's name, which shells reserve as a keyword).

use std::process::ExitCode;

use crate::cli::{Cli, Command, NAME};
use crate::session::{self, EXIT_FAILED};
use crate::tracer::signals;
use crate::wasm::commands;

/// Parse the command line, do what it asks and return the status to exit
/// with: the traced program's own, or one of [`session`]'s `EXIT_*` codes
/// (usage errors, clap's included, are [`EXIT_FAILED`]; `--help` and
/// `--version` exit 0).
pub fn main() -> ExitCode {
    // Before any thread exists, so that every thread inherits the mask.
    signals::block_at_startup();
    let (cli, stages) = match Cli::parse_with_order() {
        Ok(parsed) => parsed,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EXIT_FAILED as u8)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match &cli.command {
        Some(Command::Plugins { action }) => commands::plugins(action.as_ref()),
        Some(Command::Plugin { action }) => commands::plugin(action),
        None => session::run(&cli.run, &stages),
    };
    match result {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(error) => {
            eprintln!("{NAME}: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}
