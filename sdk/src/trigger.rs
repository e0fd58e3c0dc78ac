//! The usual `when=`, `path=` and `probability=` filter of a policy.

use crate::{Call, Config, ConfigError, Glob, Probability, When};

/// Decides whether a policy acts on a call, from the three keys most policies
/// share: `path=` (a [`Glob`] matched against every path the call touches),
/// `when=` (a [`When`] counter) and `probability=` (a seeded
/// [`Probability`]).
///
/// They apply in that order: only calls touching a matching path are
/// counted by `when`, and only the occurrences `when` selects roll the dice.
#[derive(Clone, Debug, Default)]
pub struct Trigger {
    path: Option<Glob>,
    when: When,
    probability: Probability,
}

impl Trigger {
    /// The three keys, for [`Description::keys`](crate::Description::keys).
    pub const KEYS: [(&'static str, &'static str); 3] = [
        ("path", Glob::HELP),
        ("when", When::HELP),
        ("probability", Probability::HELP),
    ];

    /// Reads `path=`, `when=` and `probability=` from `config`; each is
    /// optional (any path, every call, always).
    pub fn from_config(config: &Config) -> Result<Trigger, ConfigError> {
        Trigger::from_config_or(config, Probability::ALWAYS)
    }

    /// Like [`Trigger::from_config`], with another default probability.
    pub fn from_config_or(
        config: &Config,
        probability: Probability,
    ) -> Result<Trigger, ConfigError> {
        Ok(Trigger {
            path: config.parse("path")?,
            when: config.parse("when")?.unwrap_or_default(),
            probability: config.parse("probability")?.unwrap_or(probability),
        })
    }

    /// The `path=` glob, if one was given: the trigger fires on no call on
    /// another file (see [`Subscription::paths`](crate::Subscription::paths)).
    pub fn path(&self) -> Option<&Glob> {
        self.path.as_ref()
    }

    /// Forget the `when=` counts of thread `tid`, which has ended (see
    /// [`When::forget_thread`]).
    pub fn forget_thread(&mut self, tid: i32) {
        self.when.forget_thread(tid);
    }

    /// Whether to act on `call`, judging its path by [`Call::paths`]
    /// (fetched only if `path=` was given).
    pub fn fires(&mut self, call: &Call) -> bool {
        self.fires_if(call, |glob| glob.matches_any(call.paths()))
    }

    /// Whether to act on `call`, judging its path by what `paths` returns
    /// (called only if `path=` was given): for calls whose file is not among
    /// their arguments, such as `msync`.
    pub fn fires_with_paths(&mut self, call: &Call, paths: impl FnOnce() -> Vec<String>) -> bool {
        self.fires_if(call, |glob| glob.matches_any(&paths()))
    }

    fn fires_if(&mut self, call: &Call, path_matches: impl FnOnce(&Glob) -> bool) -> bool {
        self.path.as_ref().is_none_or(path_matches)
            && self.when.hit(call)
            && self.probability.roll()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeCall;
    use crate::{Description, Sysno};

    #[test]
    fn only_matching_paths_are_counted() {
        let description = Description::new("t", "t").keys(Trigger::KEYS);
        let pairs = vec![
            ("path".into(), "/data/*".into()),
            ("when".into(), "2".into()),
        ];
        let mut trigger = Trigger::from_config(&Config::new(pairs, &description).unwrap()).unwrap();
        let fsync = |path| FakeCall::new(Sysno::fsync).paths([path]).call();
        assert!(!trigger.fires(&fsync("/data/a")));
        assert!(!trigger.fires(&fsync("/etc/b")));
        assert!(trigger.fires(&fsync("/data/c")));
        assert!(!trigger.fires(&fsync("/data/d")));
        assert!(Trigger::default().fires(&FakeCall::new(Sysno::write).call()));
    }
}
