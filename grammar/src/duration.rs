//! Durations, as strace's `delay_enter=` reads them: a non-negative decimal
//! number with an optional unit.
//!
//! - Units: `s`, `ms`, `us` and `ns`; a bare number is in microseconds, as in
//!   strace (`delay_enter=10` is 10us).
//! - The number may have a fraction and an exponent (`1.5ms`, `1e3`), as C's
//!   `strtod` reads it; a leading `+` is allowed, a negative number is not.
//! - A whole number is exact; one with a fraction or exponent is rounded to
//!   the nanosecond.
//!
//! fi's `-e` rules, its `--plugin-timeout` and the SDK's
//! `Config::duration` all use [`parse_duration`].

use std::fmt;
use std::time::Duration;

/// The units, in nanoseconds. `s` comes last so that it does not shadow
/// `ns`, `us` and `ms`.
const UNITS: [(&str, u64); 4] = [
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
];
/// The unit of a bare number: microseconds.
const DEFAULT_UNIT: u64 = 1_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A rejected duration; displays as
/// `invalid duration '3h': unknown unit 'h' (use s, ms, us or ns)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationError {
    /// The duration as typed.
    pub text: String,
    /// What is wrong with it.
    pub kind: DurationErrorKind,
}

/// What is wrong with a duration; displays as the reason alone
/// (`unknown unit 'h' (use s, ms, us or ns)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DurationErrorKind {
    /// Nothing that starts like a number (`x`, `inf`, ``).
    NoNumber,
    /// A number followed by something other than a unit (`3h`: `h`).
    UnknownUnit(String),
    /// Characters of a number that do not make one (`1..2`, `1e`).
    NotANumber,
    /// A number below zero.
    Negative,
    /// A number too large for a [`Duration`] (or, without a fraction, for
    /// 64 bits).
    TooLarge,
}

impl fmt::Display for DurationErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationErrorKind::NoNumber => f.write_str("expected a number with s, ms, us or ns"),
            DurationErrorKind::UnknownUnit(unit) => {
                write!(f, "unknown unit '{unit}' (use s, ms, us or ns)")
            }
            DurationErrorKind::NotANumber => f.write_str("not a number"),
            DurationErrorKind::Negative => f.write_str("negative"),
            DurationErrorKind::TooLarge => f.write_str("too large"),
        }
    }
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid duration '{}': {}", self.text, self.kind)
    }
}

impl std::error::Error for DurationError {}

/// Parse a duration: `10` (microseconds), `2s`, `1.5ms`, `7us`, `9ns`, `1e3`.
///
/// ```
/// use std::time::Duration;
/// use fi_grammar::parse_duration;
///
/// assert_eq!(parse_duration("10"), Ok(Duration::from_micros(10)));
/// assert_eq!(parse_duration("1.5ms"), Ok(Duration::from_micros(1500)));
/// assert_eq!(
///     parse_duration("3h").unwrap_err().to_string(),
///     "invalid duration '3h': unknown unit 'h' (use s, ms, us or ns)"
/// );
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    parse(text).map_err(|kind| DurationError {
        text: text.to_owned(),
        kind,
    })
}

fn parse(text: &str) -> Result<Duration, DurationErrorKind> {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(end);
    if !number.contains(|c: char| c.is_ascii_digit()) {
        return Err(DurationErrorKind::NoNumber);
    }
    let unit = match unit {
        "" => DEFAULT_UNIT,
        _ => UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|&(_, nanos)| nanos)
            .ok_or_else(|| DurationErrorKind::UnknownUnit(unit.to_owned()))?,
    };
    let integer = number.strip_prefix('+').unwrap_or(number);
    if !integer.is_empty() && integer.bytes().all(|b| b.is_ascii_digit()) {
        // Only digits: exact.
        let count: u64 = integer.parse().map_err(|_| DurationErrorKind::TooLarge)?;
        return Ok(nanos_to_duration(u128::from(count) * u128::from(unit)));
    }
    let count: f64 = number.parse().map_err(|_| DurationErrorKind::NotANumber)?;
    if count < 0.0 {
        return Err(DurationErrorKind::Negative);
    }
    let seconds = count * unit as f64 / NANOS_PER_SEC as f64;
    Duration::try_from_secs_f64(seconds).map_err(|_| DurationErrorKind::TooLarge)
}

/// A duration of `nanos` nanoseconds, saturating past `u64::MAX` seconds.
fn nanos_to_duration(nanos: u128) -> Duration {
    let per_sec = u128::from(NANOS_PER_SEC);
    let secs = u64::try_from(nanos / per_sec).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % per_sec) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted() {
        let cases = [
            ("10", Duration::from_micros(10)),
            ("+10", Duration::from_micros(10)),
            ("0", Duration::ZERO),
            ("2s", Duration::from_secs(2)),
            ("5ms", Duration::from_millis(5)),
            ("7us", Duration::from_micros(7)),
            ("9ns", Duration::from_nanos(9)),
            ("1.5s", Duration::from_millis(1500)),
            ("1.5ms", Duration::from_micros(1500)),
            ("1e3", Duration::from_millis(1)),
            ("2e-3s", Duration::from_millis(2)),
            ("18446744073709551615s", Duration::from_secs(u64::MAX)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejected_with_the_bad_part_named() {
        let cases = [
            ("", "expected a number with s, ms, us or ns"),
            ("x", "expected a number with s, ms, us or ns"),
            ("ms", "expected a number with s, ms, us or ns"),
            ("inf", "expected a number with s, ms, us or ns"),
            ("3h", "unknown unit 'h' (use s, ms, us or ns)"),
            ("2m", "unknown unit 'm' (use s, ms, us or ns)"),
            ("1 s", "unknown unit ' s' (use s, ms, us or ns)"),
            ("1..2", "not a number"),
            ("1e", "not a number"),
            ("-1", "negative"),
            ("-1ms", "negative"),
            ("1e400", "too large"),
            ("18446744073709551616", "too large"),
        ];
        for (text, reason) in cases {
            let error = parse_duration(text).expect_err(text);
            assert_eq!(
                error.to_string(),
                format!("invalid duration '{text}': {reason}")
            );
        }
    }
}
