//! strace's `when=FIRST[..LAST][+[STEP]]`: which invocations of a call,
//! counted from 1, are acted on.
//!
//! | syntax    | acts on                                   |
//! |-----------|-------------------------------------------|
//! | `F`       | the F-th call only                        |
//! | `F+`      | the F-th call and every one after it      |
//! | `F+S`     | the F-th, F+S-th, F+2S-th, ... calls      |
//! | `F..L`    | the F-th to the L-th call                 |
//! | `F..L+S`  | every S-th call from the F-th to the L-th |
//!
//! The bounds are strace's, which keeps the counters in 16 bits: FIRST and
//! STEP in 1..65535, LAST in FIRST..65534.

use std::fmt;
use std::str::FromStr;

/// Bounds of `when=`: strace keeps the counters in 16 bits and uses 65535
/// for "no last".
const WHEN_MAX: u32 = 65535;
const WHEN_LAST_MAX: u32 = 65534;

/// Which invocations (counted from 1) are acted on; parse it from strace's
/// syntax with [`str::parse`].
///
/// ```
/// use fi_grammar::When;
///
/// let when: When = "2+3".parse().unwrap();
/// assert!(!when.matches(1));
/// assert!(when.matches(2) && when.matches(5) && when.matches(8));
/// assert_eq!(
///     "5..2".parse::<When>().unwrap_err().to_string(),
///     "LAST must be in FIRST..65534"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct When {
    /// The first invocation acted on (1..65535).
    pub first: u32,
    /// The last invocation that may be acted on (`first`..65534); `None`: no
    /// upper bound.
    pub last: Option<u32>,
    /// The distance between invocations acted on (1..65535); 0 means only
    /// `first` (`when=F`).
    pub step: u32,
}

impl Default for When {
    /// Every invocation, as when `when=` is not given (`1+`).
    fn default() -> When {
        When {
            first: 1,
            last: None,
            step: 1,
        }
    }
}

impl When {
    /// Whether the `n`th invocation (1-based) is acted on.
    pub fn matches(&self, n: u32) -> bool {
        if n < self.first || self.last.is_some_and(|last| n > last) {
            return false;
        }
        // Only 0 is a multiple of 0, so a step of 0 leaves only `first`.
        (n - self.first).is_multiple_of(self.step)
    }

    /// Whether every invocation is acted on (`1+`).
    pub fn is_always(&self) -> bool {
        *self == When::default()
    }
}

/// A rejected `when=`; displays as the reason alone
/// (`FIRST must be in 1..65535`), for the caller to name the option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WhenError {
    /// Why it was rejected.
    pub reason: &'static str,
}

impl fmt::Display for WhenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason)
    }
}

impl std::error::Error for WhenError {}

impl FromStr for When {
    type Err = WhenError;

    /// `FIRST[..LAST][+[STEP]]`, as strace's `when=` takes it.
    fn from_str(value: &str) -> Result<When, WhenError> {
        let invalid = |reason| WhenError { reason };
        let (first, rest) = split_decimal(value);
        let first =
            number(first, 1, WHEN_MAX).ok_or_else(|| invalid("FIRST must be in 1..65535"))?;
        let (last, rest) = match rest.strip_prefix("..") {
            Some(range) => {
                let (last, rest) = split_decimal(range);
                let last = number(last, first, WHEN_LAST_MAX)
                    .ok_or_else(|| invalid("LAST must be in FIRST..65534"))?;
                (Some(last), rest)
            }
            None => (None, rest),
        };
        let step = match rest.strip_prefix('+') {
            Some("") => 1,
            Some(step) => {
                number(step, 1, WHEN_MAX).ok_or_else(|| invalid("STEP must be in 1..65535"))?
            }
            None if !rest.is_empty() => return Err(invalid("expected FIRST[..LAST][+[STEP]]")),
            // `F` is only invocation F; `F..L` is every one from F to L.
            None if last.is_some() => 1,
            None => 0,
        };
        Ok(When { first, last, step })
    }
}

impl fmt::Display for When {
    /// The canonical form, such as `3`, `2+`, `2+3`, `1..10` or `1..10+3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first)?;
        match (self.last, self.step) {
            (None, 0) => Ok(()),
            (None, 1) => f.write_str("+"),
            (None, step) => write!(f, "+{step}"),
            (Some(last), 1) => write!(f, "..{last}"),
            (Some(last), step) => write!(f, "..{last}+{step}"),
        }
    }
}

/// Split off the leading decimal digits.
fn split_decimal(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// `digits` as a number in `min..=max`.
fn number(digits: &str, min: u32, max: u32) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.parse().ok().filter(|n| (min..=max).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn when(first: u32, last: Option<u32>, step: u32) -> When {
        When { first, last, step }
    }

    #[test]
    fn forms() {
        let cases = [
            ("3", when(3, None, 0)),
            ("3+", when(3, None, 1)),
            ("3+2", when(3, None, 2)),
            ("2..5", when(2, Some(5), 1)),
            ("2..5+", when(2, Some(5), 1)),
            ("2..9+3", when(2, Some(9), 3)),
            ("4..4", when(4, Some(4), 1)),
            ("65535", when(65535, None, 0)),
            ("1..65534+65535", when(1, Some(65534), 65535)),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse(), Ok(expected), "{text}");
        }
        for form in ["3", "3+", "2+3", "2..4", "1..9+4"] {
            assert_eq!(form.parse::<When>().unwrap().to_string(), form);
        }
    }

    #[test]
    fn rejected() {
        let cases = [
            ("", "FIRST must be in 1..65535"),
            ("0", "FIRST must be in 1..65535"),
            ("-1", "FIRST must be in 1..65535"),
            ("65536", "FIRST must be in 1..65535"),
            ("4-", "expected FIRST[..LAST][+[STEP]]"),
            ("1.", "expected FIRST[..LAST][+[STEP]]"),
            ("7+0", "STEP must be in 1..65535"),
            ("9+1+", "STEP must be in 1..65535"),
            ("2..1", "LAST must be in FIRST..65534"),
            ("1..", "LAST must be in FIRST..65534"),
            ("1..65535", "LAST must be in FIRST..65534"),
        ];
        for (text, reason) in cases {
            assert_eq!(text.parse::<When>(), Err(WhenError { reason }), "{text}");
        }
    }

    #[test]
    fn matches_invocations() {
        let matching = |w: When| (1..=12).filter(|&n| w.matches(n)).collect::<Vec<_>>();
        assert_eq!(matching(When::default()), (1..=12).collect::<Vec<_>>());
        assert_eq!(matching(when(3, None, 0)), [3]);
        assert_eq!(matching(when(3, None, 1)), (3..=12).collect::<Vec<_>>());
        assert_eq!(matching(when(3, None, 4)), [3, 7, 11]);
        assert_eq!(matching(when(2, Some(5), 1)), [2, 3, 4, 5]);
        assert_eq!(matching(when(2, Some(9), 3)), [2, 5, 8]);
        assert!(when(1, None, 1).matches(u32::MAX));
        assert!(When::default().is_always() && !when(1, None, 2).is_always());
    }
}
