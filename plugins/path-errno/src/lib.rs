//! `path-errno`: every call touching a matching path fails with an errno.
//!
//! Subscribes the strace classes `%file` (calls taking a path) and `%desc`
//! (calls taking a file descriptor); a call fails, without running, when any
//! path it touches matches the required `path=` glob.

use fi_sdk::{
    Call, Config, ConfigError, Description, Errno, Glob, Policy, Probability, Subscription,
    Trigger, Verdict, When,
};

struct PathErrno {
    errno: Errno,
    trigger: Trigger,
}

impl Policy for PathErrno {
    fn describe() -> Description {
        Description::new(
            "path-errno",
            "Make every call touching a matching path fail",
        )
        .key("path", "glob of the paths (* also matches /); required")
        .key(
            "errno",
            "the error to report (EACCES or 13); default EACCES",
        )
        .key("when", When::HELP)
        .key("probability", Probability::HELP)
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        config.require::<Glob>("path")?;
        let policy = PathErrno {
            errno: config.parse("errno")?.unwrap_or(Errno::EACCES),
            trigger: Trigger::from_config(config)?,
        };
        // Decided at entry only: fi answers through user notification where it
        // can. A call on other files passes untouched: fi does not ask about
        // it, nor stops fd calls until a matching file is open.
        let subscription = Subscription::syscalls(["%file", "%desc"])
            .entry_only()
            .passes_untouched()
            .paths(policy.trigger.path());
        Ok((policy, subscription))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        if self.trigger.fires(call) {
            return Verdict::fail(self.errno);
        }
        Verdict::pass()
    }

    fn thread_exited(&mut self, tid: i32) {
        self.trigger.forget_thread(tid);
    }
}

fi_sdk::export_policy!(PathErrno);
