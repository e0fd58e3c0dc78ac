//! The user's `key=value` configuration, and its errors.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::Description;

/// The `key=value` pairs the user gave the policy.
///
/// Before [`Policy::new`](crate::Policy::new) sees it, fi_sdk has checked
/// every key against [`Policy::describe`](crate::Policy::describe) and that no
/// key is given twice, so a policy only reads and parses values.
#[derive(Clone, Debug)]
pub struct Config {
    pairs: Vec<(String, String)>,
}

/// A configuration mistake, worded for the user: `keep=abc: not a number`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(String);

impl ConfigError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> ConfigError {
        ConfigError(message.into())
    }

    /// `key=value` is wrong for `reason`.
    pub fn invalid(key: &str, value: &str, reason: impl fmt::Display) -> ConfigError {
        ConfigError(format!("{key}={value}: {reason}"))
    }

    /// The required `key` is missing.
    pub fn missing(key: &str) -> ConfigError {
        ConfigError(format!("missing required key '{key}'"))
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Checks `pairs` against the keys `description` lists.
    pub(crate) fn new(
        pairs: Vec<(String, String)>,
        description: &Description,
    ) -> Result<Config, ConfigError> {
        let known = description.key_names();
        for (i, (key, _)) in pairs.iter().enumerate() {
            if !known.contains(&key.as_str()) {
                let hint = match fi_grammar::DidYouMean::among(key, &known).name() {
                    Some(name) => format!("did you mean '{name}'?"),
                    None if known.is_empty() => "known: none".to_string(),
                    None => format!("known: {}", known.join(", ")),
                };
                return Err(ConfigError(format!("unknown key '{key}' ({hint})")));
            }
            if pairs[..i].iter().any(|(earlier, _)| earlier == key) {
                return Err(ConfigError(format!("key '{key}' is given twice")));
            }
        }
        Ok(Config { pairs })
    }

    /// The raw value of `key`, if the user gave it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` parsed as a `T` (a number, an [`Errno`](crate::Errno),
    /// a [`When`](crate::When), a [`Glob`](crate::Glob), ...), or `None` if
    /// the user did not give it. Use `.unwrap_or(default)` for a default.
    pub fn parse<T>(&self, key: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.get(key)
            .map(|value| {
                value
                    .parse()
                    .map_err(|e| ConfigError::invalid(key, value, e))
            })
            .transpose()
    }

    /// Like [`Config::parse`], for a key the user must give.
    pub fn require<T>(&self, key: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.parse(key)?.ok_or_else(|| ConfigError::missing(key))
    }

    /// The value of `key` as a duration, read as fi's rules read
    /// `delay_enter=`: `250ns`, `10us`, `1.5ms`, `2s`; a number without a
    /// unit is in microseconds (`10` is `10us`).
    pub fn duration(&self, key: &str) -> Result<Option<Duration>, ConfigError> {
        self.get(key)
            .map(|value| {
                fi_grammar::parse_duration(value)
                    .map_err(|e| ConfigError::invalid(key, value, e.kind))
            })
            .transpose()
    }

    /// The value of `key` as a comma-separated list (`read,write`); items
    /// are trimmed and must not be empty.
    pub fn list(&self, key: &str) -> Result<Option<Vec<&str>>, ConfigError> {
        self.get(key)
            .map(|value| {
                let items: Vec<&str> = value.split(',').map(str::trim).collect();
                if items.iter().any(|item| item.is_empty()) {
                    return Err(ConfigError::invalid(key, value, "empty list item"));
                }
                Ok(items)
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Errno, When};

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let description = Description::new("test", "a test")
            .key("path", "")
            .key("when", "")
            .key("errno", "")
            .key("delay", "");
        let pairs = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::new(pairs, &description)
    }

    #[test]
    fn rejects_unknown_and_repeated_keys() {
        assert_eq!(
            config(&[("pth", "/x")]).unwrap_err().to_string(),
            "unknown key 'pth' (did you mean 'path'?)"
        );
        assert_eq!(
            config(&[("speed", "1")]).unwrap_err().to_string(),
            "unknown key 'speed' (known: path, when, errno, delay)"
        );
        assert_eq!(
            config(&[("path", "/a"), ("path", "/b")])
                .unwrap_err()
                .to_string(),
            "key 'path' is given twice"
        );
        let none = Config::new(vec![("x".into(), "1".into())], &Description::new("n", "n"));
        assert_eq!(
            none.unwrap_err().to_string(),
            "unknown key 'x' (known: none)"
        );
    }

    #[test]
    fn parses_values_and_names_the_key_in_errors() {
        let c = config(&[("errno", "ENOSPC"), ("when", "3+")]).unwrap();
        assert_eq!(c.parse("errno"), Ok(Some(Errno::ENOSPC)));
        assert_eq!(c.get("path"), None);
        assert_eq!(c.parse::<Errno>("path"), Ok(None));
        assert!(c.require::<When>("when").is_ok());
        assert_eq!(
            c.require::<String>("path").unwrap_err().to_string(),
            "missing required key 'path'"
        );
        let bad = config(&[("when", "0")]).unwrap();
        assert_eq!(
            bad.parse::<When>("when").unwrap_err().to_string(),
            "when=0: FIRST must be in 1..65535"
        );
    }

    #[test]
    fn durations() {
        let duration = |value: &str| config(&[("delay", value)]).unwrap().duration("delay");
        let ms = Duration::from_millis;
        assert_eq!(duration("10ms"), Ok(Some(ms(10))));
        assert_eq!(duration("1.5s"), Ok(Some(ms(1500))));
        assert_eq!(duration("250ns"), Ok(Some(Duration::from_nanos(250))));
        // As in fi's delay_enter=: a bare number is in microseconds.
        assert_eq!(duration("10"), Ok(Some(Duration::from_micros(10))));
        assert_eq!(
            duration("10h").unwrap_err().to_string(),
            "delay=10h: unknown unit 'h' (use s, ms, us or ns)"
        );
        assert_eq!(
            duration("2m").unwrap_err().to_string(),
            "delay=2m: unknown unit 'm' (use s, ms, us or ns)"
        );
        assert_eq!(
            duration("ms").unwrap_err().to_string(),
            "delay=ms: expected a number with s, ms, us or ns"
        );
        assert_eq!(config(&[]).unwrap().duration("delay"), Ok(None));
    }

    #[test]
    fn lists() {
        let c = config(&[("path", "read, write"), ("when", "a,,b")]).unwrap();
        assert_eq!(c.list("path"), Ok(Some(vec!["read", "write"])));
        assert_eq!(c.list("errno"), Ok(None));
        assert_eq!(
            c.list("when").unwrap_err().to_string(),
            "when=a,,b: empty list item"
        );
    }
}
