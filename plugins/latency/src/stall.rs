//! Stall episodes: every `stall-every=`, for `stall-for=`, every matching
//! call blocks until the episode ends.

use std::time::Duration;

use fi_sdk::{Config, ConfigError};

/// The configuration keys this module reads, with their help.
pub const KEYS: [(&str, &str); 2] = [
    (
        "stall-every",
        "a stall episode starts this often (1s), the first this long after the start; default none",
    ),
    (
        "stall-for",
        "each episode lasts this long (200ms): matching calls block until it ends",
    ),
];

/// Episodes `length` long, one every `every`, the first at `every`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stalls {
    every: Duration,
    length: Duration,
}

impl Stalls {
    /// The episodes `stall-every=` and `stall-for=` ask for; neither key
    /// means none.
    pub fn from_config(config: &Config) -> Result<Option<Stalls>, ConfigError> {
        let (every, length) = match (
            config.duration("stall-every")?,
            config.duration("stall-for")?,
        ) {
            (None, None) => return Ok(None),
            (Some(every), Some(length)) => (every, length),
            (Some(_), None) => return Err(ConfigError::new("stall-every= needs stall-for=")),
            (None, Some(_)) => return Err(ConfigError::new("stall-for= needs stall-every=")),
        };
        if length >= every {
            return Err(ConfigError::invalid(
                "stall-for",
                config.get("stall-for").unwrap_or_default(),
                format!(
                    "must be shorter than stall-every={}",
                    config.get("stall-every").unwrap_or_default()
                ),
            ));
        }
        Ok(Some(Stalls { every, length }))
    }

    /// How long a call made at `now` (since the program started) waits: to
    /// the end of the episode it falls in, if any.
    pub fn wait(&self, now: Duration) -> Duration {
        if now < self.every {
            return Duration::ZERO;
        }
        let into = Duration::from_nanos((now.as_nanos() % self.every.as_nanos()) as u64);
        self.length.saturating_sub(into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_in_an_episode_wait_for_its_end() {
        let ms = Duration::from_millis;
        let stalls = Stalls {
            every: ms(1000),
            length: ms(200),
        };
        assert_eq!(stalls.wait(ms(50)), Duration::ZERO, "none before the first");
        assert_eq!(stalls.wait(ms(1000)), ms(200));
        assert_eq!(stalls.wait(ms(1150)), ms(50));
        assert_eq!(stalls.wait(ms(1200)), Duration::ZERO);
        assert_eq!(stalls.wait(ms(1999)), Duration::ZERO);
        assert_eq!(stalls.wait(ms(3010)), ms(190));
    }
}
