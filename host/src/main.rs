//! The `fault` command (see [`fi::cli`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    fi::cli::main()
}
