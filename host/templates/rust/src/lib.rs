//! `fsync-eio`: `fsync` and `fdatasync` of the files matching `path=` fail
//! with `EIO`. Made by `fault plugin new`: change it into your policy.

use fi_sdk::{Call, Config, ConfigError, Description, Errno, Glob, Policy, Subscription, Verdict};

/// Fails the syncs of the files `path` matches.
struct FsyncEio {
    path: Glob,
}

impl Policy for FsyncEio {
    fn describe() -> Description {
        Description::new(
            "fsync-eio",
            "fsync and fdatasync of matching files fail with EIO",
        )
        .key(
            "path",
            "glob of the files whose syncs fail (* matches any characters, / too); default /data/*",
        )
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let path = match config.parse("path")? {
            Some(glob) => glob,
            None => Glob::new("/data/*").expect("a valid glob"),
        };
        // Promises that let fault answer calls for less: decided at entry
        // only, a call let run is let run untouched, and only calls on the
        // files of `path` matter (fault asks about no other).
        let subscription = Subscription::syscalls(["fsync", "fdatasync"])
            .entry_only()
            .passes_untouched()
            .paths([&path]);
        Ok((FsyncEio { path }, subscription))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        if self.path.matches_any(call.paths()) {
            Verdict::fail(Errno::EIO)
        } else {
            Verdict::pass()
        }
    }
}

fi_sdk::export_policy!(FsyncEio);

#[cfg(test)]
mod tests {
    use fi_sdk::testing::{init, FakeCall};
    use fi_sdk::Sysno;

    use super::*;

    /// `fsync(3)`, where fd 3 is `path`.
    fn fsync(path: &str) -> Call {
        FakeCall::new(Sysno::fsync)
            .arg(0, 3)
            .fd(3, path)
            .paths([path])
            .call()
    }

    #[test]
    fn fails_the_syncs_of_matching_files_only() {
        let (mut policy, _) = init::<FsyncEio>(&[("path", "/data/*.log")]).unwrap();
        assert_eq!(
            policy.on_enter(&fsync("/data/db.log")),
            Verdict::fail(Errno::EIO)
        );
        assert_eq!(policy.on_enter(&fsync("/tmp/db.log")), Verdict::pass());
    }

    #[test]
    fn refuses_a_bad_glob() {
        let error = init::<FsyncEio>(&[("path", "/data/[ab")]).err().unwrap();
        assert!(error.to_string().starts_with("path=/data/[ab: "), "{error}");
    }
}
