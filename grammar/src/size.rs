//! Byte counts, as `dd` reads them: a whole number with an optional unit.
//!
//! - `K`, `M`, `G`, `T` (or `KiB`, `MiB`, `GiB`, `TiB`) are powers of 1024:
//!   `1M` is 1048576 bytes;
//! - `KB`, `MB`, `GB`, `TB` are powers of 1000: `1MB` is 1000000 bytes, the
//!   unit of `dd`'s `MB/s`;
//! - `B` or no unit: bytes. Letters may be in either case.
//!
//! The `disk-full` plugin's `size=` and the `latency` plugin's `rate=` use
//! [`parse_size`].

use std::fmt;

/// The units and their sizes in bytes; longer spellings before their
/// prefixes so that `KiB` is not read as `K` followed by junk.
const UNITS: [(&str, u64); 13] = [
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
    ("tib", 1 << 40),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
    ("tb", 1_000_000_000_000),
    ("k", 1 << 10),
    ("m", 1 << 20),
    ("g", 1 << 30),
    ("t", 1 << 40),
    ("b", 1),
];

/// A rejected byte count; displays as the reason
/// (`unknown unit 'X' (use K, M, G, T, KB, MB, GB, TB or B)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SizeError {
    /// No digits in front (`M`, ``, `-1K`).
    NoNumber,
    /// Digits followed by something that is not a unit.
    UnknownUnit(String),
    /// More than 64 bits of bytes.
    TooLarge,
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeError::NoNumber => {
                f.write_str("expected a whole number of bytes, such as 64K or 1M")
            }
            SizeError::UnknownUnit(unit) => write!(
                f,
                "unknown unit '{unit}' (use K, M, G, T, KB, MB, GB, TB or B)"
            ),
            SizeError::TooLarge => f.write_str("too large"),
        }
    }
}

impl std::error::Error for SizeError {}

/// Parse a byte count: `4096`, `64K`, `1M`, `10MB`, `2GiB`.
///
/// ```
/// use fi_grammar::parse_size;
///
/// assert_eq!(parse_size("1M"), Ok(1 << 20));
/// assert_eq!(parse_size("10MB"), Ok(10_000_000));
/// assert_eq!(
///     parse_size("3X").unwrap_err().to_string(),
///     "unknown unit 'X' (use K, M, G, T, KB, MB, GB, TB or B)"
/// );
/// ```
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(end);
    if number.is_empty() {
        return Err(SizeError::NoNumber);
    }
    let scale = match unit {
        "" => 1,
        _ => UNITS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(unit))
            .map(|&(_, bytes)| bytes)
            .ok_or_else(|| SizeError::UnknownUnit(unit.to_owned()))?,
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|count| count.checked_mul(scale))
        .ok_or(SizeError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_binary_without_b_and_decimal_with_it() {
        let cases = [
            ("0", 0),
            ("4096", 4096),
            ("12B", 12),
            ("64K", 65_536),
            ("64k", 65_536),
            ("1M", 1_048_576),
            ("1MiB", 1_048_576),
            ("2G", 2 << 30),
            ("1T", 1 << 40),
            ("1KB", 1_000),
            ("10MB", 10_000_000),
            ("3gb", 3_000_000_000),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn errors_name_the_bad_part() {
        assert_eq!(parse_size("M"), Err(SizeError::NoNumber));
        assert_eq!(parse_size(""), Err(SizeError::NoNumber));
        assert_eq!(parse_size("-1K"), Err(SizeError::NoNumber));
        assert_eq!(
            parse_size("1.5M"),
            Err(SizeError::UnknownUnit(".5M".into()))
        );
        assert_eq!(
            parse_size("1Mb/s"),
            Err(SizeError::UnknownUnit("Mb/s".into()))
        );
        assert_eq!(parse_size("99999999999999999999"), Err(SizeError::TooLarge));
        assert_eq!(parse_size("20000000T"), Err(SizeError::TooLarge));
    }
}
