//! Random decisions that replay: fi seeds every plugin's generator from the
//! run's `--seed`.

use std::str::FromStr;

#[cfg(not(all(any(test, feature = "testing"), not(target_arch = "wasm32"))))]
use crate::bindings::fi::policy::host;

/// A random number from fi's generator for this plugin, seeded from the
/// run's `--seed`: the same seed replays the same numbers.
pub fn random() -> u64 {
    // In a native unit test (feature `testing`), a fixed-seed stand-in.
    #[cfg(all(any(test, feature = "testing"), not(target_arch = "wasm32")))]
    return crate::testing::next_random();
    #[cfg(not(all(any(test, feature = "testing"), not(target_arch = "wasm32"))))]
    host::random()
}

/// True with probability `p`, drawn from [`random`]. A `p` of 1 or more is
/// always true and 0 or less always false, without drawing a number.
pub fn chance(p: f64) -> bool {
    if p >= 1.0 {
        return true;
    }
    if p <= 0.0 {
        return false;
    }
    // The top 53 bits make a uniform float in [0, 1).
    ((random() >> 11) as f64 / (1u64 << 53) as f64) < p
}

/// A probability from 0 to 1, parsed from `0.25` or `25%`.
///
/// ```
/// use fi_sdk::Probability;
///
/// assert_eq!("25%".parse::<Probability>().unwrap().value(), 0.25);
/// assert!("1.5".parse::<Probability>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Probability(f64);

impl Probability {
    /// One line for a `probability` key's help.
    pub const HELP: &'static str =
        "act on a call with this probability (0.25 or 25%), seeded by --seed; default 1";

    /// Always (1).
    pub const ALWAYS: Probability = Probability(1.0);

    /// The probability `p`.
    ///
    /// # Panics
    ///
    /// If `p` is not between 0 and 1.
    pub const fn new(p: f64) -> Probability {
        assert!(p >= 0.0 && p <= 1.0, "a probability is between 0 and 1");
        Probability(p)
    }

    /// The probability as a number from 0 to 1.
    pub fn value(self) -> f64 {
        self.0
    }

    /// Draw: true with this probability (see [`chance`]).
    pub fn roll(self) -> bool {
        chance(self.0)
    }
}

impl Default for Probability {
    fn default() -> Probability {
        Probability::ALWAYS
    }
}

impl FromStr for Probability {
    type Err = String;

    fn from_str(s: &str) -> Result<Probability, String> {
        let (number, scale) = match s.strip_suffix('%') {
            Some(number) => (number, 100.0),
            None => (s, 1.0),
        };
        let p = number
            .parse::<f64>()
            .map(|p| p / scale)
            .map_err(|_| format!("'{s}' is not a probability (such as 0.1 or 10%)"))?;
        if !(0.0..=1.0).contains(&p) {
            return Err(format!("'{s}' is not between 0 and 1 (or 0% and 100%)"));
        }
        Ok(Probability::new(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fractions_and_percentages() {
        assert_eq!("0.1".parse(), Ok(Probability(0.1)));
        assert_eq!("50%".parse(), Ok(Probability(0.5)));
        assert_eq!("1".parse(), Ok(Probability::ALWAYS));
        assert_eq!("0".parse(), Ok(Probability(0.0)));
        assert!("101%".parse::<Probability>().is_err());
        assert!("-0.5".parse::<Probability>().is_err());
        assert!("NaN".parse::<Probability>().is_err());
        assert!("often".parse::<Probability>().is_err());
    }

    #[test]
    fn certain_chances_draw_nothing() {
        // The host's generator does not exist in unit tests: these must not
        // call it.
        assert!(chance(1.0));
        assert!(!chance(0.0));
        assert!(Probability::ALWAYS.roll());
    }
}
