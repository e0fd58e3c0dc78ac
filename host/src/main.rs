//! The `fault` command (see [`fi::command`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    fi::command::main()
}
