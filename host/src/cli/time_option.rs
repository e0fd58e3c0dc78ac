//! The value of a duration option, one parser for every subcommand.

use std::time::Duration;

use fi_grammar::parse_duration;

/// The value of a duration option (`--plugin-timeout 200ms`, `--max-delay`,
/// explore's `--timeout` and `--time-budget`): [`parse_duration`]'s grammar
/// with its unit required (a bare number is refused, not taken as
/// microseconds as the rules' delays are), and more than 0.
pub fn parse_time_option(text: &str) -> Result<Duration, String> {
    let number = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    if number.len() == text.len() {
        return Err(format!(
            "'{text}' has no unit: write {text}s, {text}ms, {text}us or {text}ns"
        ));
    }
    let duration = parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err(format!("'{text}': must be more than 0"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_option_needs_a_unit_and_more_than_zero() {
        assert_eq!(parse_time_option("7ms"), Ok(Duration::from_millis(7)));
        for refused in ["5", "0s", "0", "1.5", "5e3", "-1s", ""] {
            assert!(parse_time_option(refused).is_err(), "{refused}");
        }
        assert!(parse_time_option("5").unwrap_err().contains("no unit"));
    }
}
