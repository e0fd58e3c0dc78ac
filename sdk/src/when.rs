//! strace's `when=` syntax: which occurrences of a call to act on.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crate::Call;

/// Which occurrences of a call to act on, in strace's `when=` syntax (the
/// grammar fi's `-e` rules read, from fi-grammar). Calls are counted from 1,
/// separately for every thread and every syscall:
///
/// | syntax    | acts on                                   |
/// |-----------|-------------------------------------------|
/// | `F`       | the F-th call only                        |
/// | `F+`      | the F-th call and every one after it      |
/// | `F+S`     | the F-th, F+S-th, F+2S-th, ... calls      |
/// | `F..L`    | the F-th to the L-th call                 |
/// | `F..L+S`  | every S-th call from the F-th to the L-th |
///
/// As in strace, F and S are in 1..65535 and L in F..65534. The default,
/// `1+`, is every call.
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
    when: fi_grammar::When,
    counts: HashMap<(i32, u32), u32>,
}

impl When {
    /// One line for a `when` key's help.
    pub const HELP: &'static str =
        "which calls, counted per thread and syscall from 1: F, F+, F+S, F..L or F..L+S; default 1+ (all)";

    /// Every call (`1+`).
    pub fn always() -> When {
        When::from(fi_grammar::When::default())
    }

    /// Count `call` for its thread and syscall, and say whether this
    /// occurrence is one to act on.
    pub fn hit(&mut self, call: &Call) -> bool {
        if self.when.is_always() {
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

    /// Forget the counts of thread `tid`, which has ended: a new thread given
    /// the same id counts from 1 again. Call it from
    /// [`Policy::thread_exited`](crate::Policy::thread_exited).
    pub fn forget_thread(&mut self, tid: i32) {
        self.counts.retain(|&(thread, _), _| thread != tid);
    }

    /// Whether the `n`-th call (counting from 1) is one to act on.
    pub fn includes(&self, n: u32) -> bool {
        self.when.matches(n)
    }
}

impl From<fi_grammar::When> for When {
    fn from(when: fi_grammar::When) -> When {
        When {
            when,
            counts: HashMap::new(),
        }
    }
}

impl Default for When {
    fn default() -> When {
        When::always()
    }
}

impl FromStr for When {
    type Err = fi_grammar::WhenError;

    /// strace's `FIRST[..LAST][+[STEP]]`; the error says which part is wrong
    /// (`FIRST must be in 1..65535`).
    fn from_str(s: &str) -> Result<When, fi_grammar::WhenError> {
        s.parse::<fi_grammar::When>().map(When::from)
    }
}

impl fmt::Display for When {
    /// The canonical strace form, such as `2+` or `1..10+3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.when.fmt(f)
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
        let err = |s: &str| s.parse::<When>().unwrap_err().to_string();
        assert_eq!(err("0"), "FIRST must be in 1..65535");
        assert_eq!(err("2+0"), "STEP must be in 1..65535");
        assert_eq!(err("5..2"), "LAST must be in FIRST..65534");
        assert_eq!(err("x"), "FIRST must be in 1..65535");
        assert_eq!(err(""), "FIRST must be in 1..65535");
        assert_eq!(err("1.."), "LAST must be in FIRST..65534");
        assert_eq!(err("1+x"), "STEP must be in 1..65535");
        assert_eq!(err("-1"), "FIRST must be in 1..65535");
        assert_eq!(err("65536"), "FIRST must be in 1..65535");
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

    #[test]
    fn a_new_thread_with_an_old_id_counts_afresh() {
        let mut when: When = "2".parse().unwrap();
        let fsync = |tid| FakeCall::new(Sysno::fsync).tid(tid).call();
        assert!(!when.hit(&fsync(7)));
        assert!(!when.hit(&fsync(8)));
        when.forget_thread(7);
        // Thread 7 ended; the kernel gives its id to a new thread.
        assert!(!when.hit(&fsync(7)), "the new thread's first fsync");
        assert!(when.hit(&fsync(7)), "the new thread's second fsync");
        assert!(when.hit(&fsync(8)), "thread 8 kept its count");
    }
}
