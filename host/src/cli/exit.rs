//! fault's exit statuses: one table for `fault`, `fault explore` and
//! `--crash-at`, which the command's help and README.md show. The library
//! returns values and errors; only the command line turns them into these.

use crate::session::SessionError;

/// Success: the program's own 0, or a campaign without findings.
pub const SUCCESS: u8 = 0;
/// `fault explore`: the campaign (or the replayed run) found something.
pub const FINDINGS: u8 = 1;
/// fault stopped a run it had started: a plugin failed (a trap, its time
/// or memory limit, an invalid verdict) under `--on-plugin-error abort`,
/// or tracing itself failed. The program was killed.
pub const STOPPED: u8 = 124;
/// Nothing was started: the command line is wrong, or fault failed before
/// starting the program (as `env` and `timeout` have it).
pub const FAILED: u8 = 125;
/// The program exists but cannot be run (permission denied, not an
/// executable, a missing interpreter).
pub const CANNOT_RUN: u8 = 126;
/// The program was not found.
pub const NOT_FOUND: u8 = 127;

/// The status of a `fault explore` ended by stop signal `signal` (130 for
/// SIGINT, 143 for SIGTERM, 129 for SIGHUP), as a shell reports a command
/// that the signal ended.
pub fn interrupted(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(FAILED)
}

/// The table, one `(status, meaning)` row each.
pub const TABLE: [(&str, &str); 8] = [
    (
        "N",
        "fault: the traced program's own status (128+N when signal N killed it); \
         --crash-at with --check: the check's",
    ),
    ("0", "fault explore: no findings"),
    ("1", "fault explore: findings (or the replayed run is one)"),
    (
        "124",
        "fault stopped the program it had started: a plugin failed (trap, time, memory, \
         invalid verdict) under --on-plugin-error abort, or tracing failed",
    ),
    (
        "125",
        "nothing was started: the command line is wrong, or fault failed before starting",
    ),
    ("126", "the program exists but cannot be run"),
    ("127", "the program was not found"),
    (
        "130, 143",
        "fault explore ended by SIGINT or SIGTERM (129: SIGHUP); the --json report keeps \
         the runs made, for --resume",
    ),
];

/// The table as help text, after an `Exit status:` heading.
pub fn help() -> String {
    let mut text = String::from("Exit status:\n");
    for (status, meaning) in TABLE {
        text.push_str(&format!("  {status:<9} {meaning}\n"));
    }
    text
}

/// The status that tells a failure of fault's apart from the program's.
pub fn of_session_error(error: &SessionError) -> u8 {
    match error {
        SessionError::Invalid(_) | SessionError::Failed(_) => FAILED,
        SessionError::Stopped(_) => STOPPED,
        SessionError::NotFound(_) => NOT_FOUND,
        SessionError::CannotRun { .. } => CANNOT_RUN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_signal_is_128_plus_its_number() {
        assert_eq!(interrupted(libc::SIGINT), 130);
        assert_eq!(interrupted(libc::SIGTERM), 143);
        assert_eq!(interrupted(libc::SIGHUP), 129);
    }
}
