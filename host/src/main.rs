//! The `fi` command.

use std::process::ExitCode;

use fi::cli::{Cli, Command};
use fi::tracer::signals;

fn main() -> ExitCode {
    // Before any thread exists, so that every thread inherits the mask.
    signals::block_at_startup();
    let (cli, stages) = Cli::parse_with_order();
    let result = match &cli.command {
        Some(Command::Plugins { action }) => fi::wasm::commands::plugins(action.as_ref()),
        Some(Command::Plugin { action }) => fi::wasm::commands::plugin(action),
        None => fi::session::run(&cli.run, &stages),
    };
    match result {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(error) => {
            eprintln!("fi: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}
