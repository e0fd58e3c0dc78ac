//! How the plugin moves a clock: the keys `jump=`, `freeze=`, `rate=` and
//! `skew=`, read and applied to one reading.

use std::str::FromStr;

/// Nanoseconds in a second.
pub const NANOS: i64 = 1_000_000_000;

/// The units `jump=` takes beyond those of fi's durations (`s`, `ms`, `us`,
/// `ns`), in seconds.
const LONG_UNITS: [(&str, i64); 3] = [("d", 86_400), ("h", 3_600), ("m", 60)];

/// A signed offset, `+1h`, `-30m`, `90s`, `-1.5d`, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Jump(pub i64);

impl FromStr for Jump {
    type Err = String;

    fn from_str(s: &str) -> Result<Jump, String> {
        let (sign, magnitude) = match s.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, s.strip_prefix('+').unwrap_or(s)),
        };
        let long = LONG_UNITS.iter().find_map(|&(unit, seconds)| {
            let number = magnitude.strip_suffix(unit)?;
            Some((number.parse::<f64>().ok()?, seconds))
        });
        let nanos = match long {
            Some((count, seconds)) if count.is_finite() && count >= 0.0 => {
                count * (seconds * NANOS) as f64
            }
            _ if magnitude.ends_with(|c: char| c.is_ascii_digit()) => {
                return Err(format!("'{s}' has no unit (use d, h, m, s, ms, us or ns)"))
            }
            _ => fi_grammar::parse_duration(magnitude)
                .map_err(|e| format!("'{s}': {} (or d, h, m)", e.kind))?
                .as_nanos() as f64,
        };
        if nanos > i64::MAX as f64 {
            return Err(format!("'{s}' is too far"));
        }
        Ok(Jump(sign * nanos as i64))
    }
}

/// A drift in parts per million, `+50ppm` or `-20ppm`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Skew(pub f64);

impl FromStr for Skew {
    type Err = String;

    fn from_str(s: &str) -> Result<Skew, String> {
        let number = s
            .strip_suffix("ppm")
            .ok_or_else(|| format!("'{s}' is not a drift in ppm (+50ppm, -20ppm)"))?;
        let ppm: f64 = number
            .strip_prefix('+')
            .unwrap_or(number)
            .parse()
            .map_err(|_| format!("'{number}' is not a number"))?;
        if !ppm.is_finite() || ppm <= -1e6 {
            return Err(format!("'{s}' would stop or reverse the clock"));
        }
        Ok(Skew(ppm))
    }
}

/// What happens to a clock: each reading `real` becomes
/// `base + (real - base) × factor + jump`, where `base` is the clock's
/// first reading in the program. A factor of 0 freezes the clock at its
/// first reading (plus the jump).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Warp {
    /// Added to every reading, in nanoseconds.
    pub jump: i64,
    /// How fast the clock runs from its first reading on.
    pub factor: f64,
}

impl Warp {
    /// The reading the program sees for the real one, both in nanoseconds
    /// (never below 0).
    pub fn apply(&self, base: i64, real: i64) -> i64 {
        let elapsed = (real - base) as f64 * self.factor;
        base.saturating_add(elapsed as i64)
            .saturating_add(self.jump)
            .max(0)
    }

    /// Whether readings come out as they went in.
    pub fn is_identity(&self) -> bool {
        self.jump == 0 && self.factor == 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jump(s: &str) -> Result<i64, String> {
        s.parse::<Jump>().map(|j| j.0)
    }

    #[test]
    fn jumps_take_long_and_short_units_and_a_sign() {
        assert_eq!(jump("+1h"), Ok(3_600 * NANOS));
        assert_eq!(jump("-30m"), Ok(-1_800 * NANOS));
        assert_eq!(jump("1.5d"), Ok(129_600 * NANOS));
        assert_eq!(jump("-250ms"), Ok(-250_000_000));
        assert_eq!(jump("+2s"), Ok(2 * NANOS));
        assert!(jump("5").unwrap_err().contains("no unit"));
        assert!(jump("+1y").unwrap_err().contains("unknown unit 'y'"));
        assert!(jump("h").is_err());
    }

    #[test]
    fn skews_are_parts_per_million() {
        assert_eq!("+50ppm".parse::<Skew>(), Ok(Skew(50.0)));
        assert_eq!("-20ppm".parse::<Skew>(), Ok(Skew(-20.0)));
        assert!("50".parse::<Skew>().is_err());
        assert!("-1000000ppm".parse::<Skew>().is_err());
    }

    #[test]
    fn a_warp_moves_time_from_the_first_reading() {
        let base = 100 * NANOS;
        let half = Warp {
            jump: 0,
            factor: 0.5,
        };
        assert_eq!(half.apply(base, base + 10 * NANOS), base + 5 * NANOS);
        let frozen = Warp {
            jump: 3_600 * NANOS,
            factor: 0.0,
        };
        assert_eq!(frozen.apply(base, base + 10 * NANOS), base + 3_600 * NANOS);
        let back = Warp {
            jump: -1_000 * NANOS,
            factor: 1.0,
        };
        assert_eq!(back.apply(base, base), 0, "never below zero");
        assert!(Warp {
            jump: 0,
            factor: 1.0
        }
        .is_identity());
    }
}
