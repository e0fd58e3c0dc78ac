//! fault's exit statuses, in one table for `fault` and `fault explore`: the
//! constants the command returns and the `Exit status:` text of its help.

use crate::session::SessionError;

/// Success: the program's own 0, or a campaign without findings.
pub const SUCCESS: u8 = 0;
/// `fault explore`: the campaign (or the replayed run) found something.
pub const FINDINGS: u8 = 1;
/// Nothing was started: the command line is wrong, or fault failed before
/// starting the program (as `env` and `timeout` have it).
pub const FAILED: u8 = 125;
/// The program exists but cannot be run (permission denied, not an
/// executable, a missing interpreter).
pub const CANNOT_RUN: u8 = 126;
/// The program was not found.
pub const NOT_FOUND: u8 = 127;

/// The table of `fault --help`, one `(status, meaning)` row each.
pub const RUN_TABLE: [(&str, &str); 4] = [
    (
        "N",
        "the traced program's own (128+N when signal N killed it)",
    ),
    (
        "125",
        "fault itself failed, or its command line is wrong (nothing was started)",
    ),
    (
        "126",
        "the program exists but cannot be run (permission denied, not an executable)",
    ),
    ("127", "the program was not found"),
];

/// The table of `fault explore --help`.
pub const EXPLORE_TABLE: [(&str, &str); 3] = [
    ("0", "no findings"),
    ("1", "findings"),
    ("125", "explore itself failed or its command line is wrong"),
];

/// A table as help text, after an `Exit status:` heading.
pub fn help(table: &[(&str, &str)]) -> String {
    let mut text = String::from("Exit status:\n");
    for (status, meaning) in table {
        text.push_str(&format!("  {status:<4} {meaning}\n"));
    }
    text
}

/// The status that tells a failure of fault's apart from the program's.
pub fn of_session_error(error: &SessionError) -> u8 {
    match error {
        SessionError::Invalid(_) | SessionError::Failed(_) => FAILED,
        SessionError::NotFound(_) => NOT_FOUND,
        SessionError::CannotRun { .. } => CANNOT_RUN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_shows_every_code_the_command_returns() {
        let run = help(&RUN_TABLE);
        for code in [FAILED, CANNOT_RUN, NOT_FOUND] {
            assert!(run.contains(&format!("  {code} ")), "{run}");
        }
        let explore = help(&EXPLORE_TABLE);
        for code in [SUCCESS, FINDINGS, FAILED] {
            assert!(explore.contains(&format!("  {code:<4} ")), "{explore}");
        }
    }
}
