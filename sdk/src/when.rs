//! strace's `when=` syntax: which occurrences of a call to act on.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crate::Call;

/// Which occurrences of a call to act on, in strace's `when=` syntax.
/// Calls are counted from 1, separately for every thread and every syscall:
///
/// | syntax    | acts on                                   |
/// |-----------|-------------------------------------------|
/// | `F`       | the F-th call only                        |
/// | `F+`      | the F-th call and every one after it      |
/// | `F+S`     | the F-th, F+S-th, F+2S-th, ... calls      |
/// | `F..L`    | the F-th to the L-th call                 |
/// | `F..L+S`  | every S-th call from the F-th to the L-th |
///
/// The default, `1+`, is every call.
///
/// ```
/// use fi_sdk::When;
///
/// let when: When = "2+3".parse().unwrap();
/// assert!(!when.includes(1));
/// assert!(when.includes(2) && when.includes(5) && when.includes(8));
/// assert!("5..2".parse::<When>().is_err());
/// ```
#[derive(Clone, Debug)]
pub struct When {
    first: u32,
    last: u32,
    step: u32,
    counts: HashMap<(i32, u32), u32>,
}

impl When {
    /// One line for a `when` key's help.
    pub const HELP: &'static str =
        "which calls, counted per thread and syscall from 1: F, F+, F+S, F..L or F..L+S; default 1+ (all)";

    /// Every call (`1+`).
    pub fn always() -> When {
        When::new(1, u32::MAX, 1)
    }

    fn new(first: u32, last: u32, step: u32) -> When {
        When {
            first,
            last,
            step,
            counts: HashMap::new(),
        }
    }

    /// Count `call` for its thread and syscall, and say whether this
    /// occurrence is one to act on.
    pub fn hit(&mut self, call: &Call) -> bool {
        if self.first == 1 && self.last == u32::MAX && self.step == 1 {
            return true;
        }
        let count = self
            .counts
            .entry((call.tid(), call.sysno().nr()))
            .or_insert(0);
        *count = count.saturating_add(1);
        let n = *count;
        self.includes(n)
    }

    /// Whether the `n`-th call (counting from 1) is one to act on.
    pub fn includes(&self, n: u32) -> bool {
        (self.first..=self.last).contains(&n) && (n - self.first).is_multiple_of(self.step)
    }
}

impl Default for When {
    fn default() -> When {
        When::always()
    }
}

/// Parses a count; `what` names it in errors.
fn count(s: &str, what: &str) -> Result<u32, String> {
    let n: u32 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a {what} (expected F, F+, F+S, F..L or F..L+S)"))?;
    if n == 0 {
        return Err(match what {
            "step" => "the step must be at least 1".into(),
            _ => "calls are counted from 1".into(),
        });
    }
    Ok(n)
}

impl FromStr for When {
    type Err = String;

    fn from_str(s: &str) -> Result<When, String> {
        let (range, step) = match s.split_once('+') {
            Some((range, "")) => (range, Some(1)),
            Some((range, step)) => (range, Some(count(step, "step")?)),
            None => (s, None),
        };
        let (first, last) = match range.split_once("..") {
            Some((first, last)) => (count(first, "count")?, Some(count(last, "count")?)),
            None => (count(range, "count")?, None),
        };
        match (last, step) {
            (Some(last), _) if last < first => Err(format!(
                "the last call ({last}) comes before the first ({first})"
            )),
            (Some(last), step) => Ok(When::new(first, last, step.unwrap_or(1))),
            (None, Some(step)) => Ok(When::new(first, u32::MAX, step)),
            (None, None) => Ok(When::new(first, first, 1)),
        }
    }
}

impl fmt::Display for When {
    /// The canonical strace form, such as `2+` or `1..10+3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first)?;
        match (self.last, self.step) {
            (u32::MAX, 1) => f.write_str("+"),
            (u32::MAX, step) => write!(f, "+{step}"),
            (last, _) if last == self.first => Ok(()),
            (last, 1) => write!(f, "..{last}"),
            (last, step) => write!(f, "..{last}+{step}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeCall;
    use crate::Sysno;

    fn acts_on(when: &str, upto: u32) -> Vec<u32> {
        let when: When = when.parse().unwrap();
        (1..=upto).filter(|&n| when.includes(n)).collect()
    }

    #[test]
    fn syntax() {
        assert_eq!(acts_on("3", 10), [3]);
        assert_eq!(acts_on("3+", 6), [3, 4, 5, 6]);
        assert_eq!(acts_on("2+3", 10), [2, 5, 8]);
        assert_eq!(acts_on("2..4", 10), [2, 3, 4]);
        assert_eq!(acts_on("1..9+4", 20), [1, 5, 9]);
        assert_eq!(acts_on("1+", 3), [1, 2, 3]);
        for form in ["3", "3+", "2+3", "2..4", "1..9+4"] {
            assert_eq!(form.parse::<When>().unwrap().to_string(), form);
        }
    }

    #[test]
    fn errors() {
        let err = |s: &str| s.parse::<When>().unwrap_err();
        assert_eq!(err("0"), "calls are counted from 1");
        assert_eq!(err("2+0"), "the step must be at least 1");
        assert_eq!(err("5..2"), "the last call (2) comes before the first (5)");
        assert!(err("x").starts_with("'x' is not a count"));
        assert!(err("").starts_with("'' is not a count"));
        assert!(err("1..").starts_with("'' is not a count"));
        assert!(err("1+x").starts_with("'x' is not a step"));
        assert!(err("-1").starts_with("'-1' is not a count"));
    }

    #[test]
    fn counts_per_thread_and_syscall() {
        let mut when: When = "2".parse().unwrap();
        let fsync = |tid| FakeCall::new(Sysno::fsync).tid(tid).call();
        assert!(!when.hit(&fsync(1)));
        assert!(!when.hit(&fsync(2)));
        assert!(!when.hit(&FakeCall::new(Sysno::write).call()));
        assert!(when.hit(&fsync(1)));
        assert!(!when.hit(&fsync(1)));
        assert!(when.hit(&fsync(2)));
        assert!(When::default().hit(&fsync(3)));
    }
}
