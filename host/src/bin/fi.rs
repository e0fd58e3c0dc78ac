//! `fi`: the `fault` command under the project's name (see [`fi::command`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    fi::command::main()
}
