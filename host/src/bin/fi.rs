//! `fi`: the `fault` command under the project's name (see [`fi::cli`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    fi::cli::main()
}
