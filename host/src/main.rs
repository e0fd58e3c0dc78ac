//! The `fi` command: a thin layer over the library ([`fi::cli`]).

use std::process::ExitCode;

use fi::cli::Cli;
use fi::engine::stop_signals;

fn main() -> ExitCode {
    // Before any thread exists, so that every thread inherits the mask.
    stop_signals::block_at_startup();
    let (cli, stages) = Cli::parse_with_order();
    ExitCode::from(fi::cli::execute(&cli, &stages))
}
