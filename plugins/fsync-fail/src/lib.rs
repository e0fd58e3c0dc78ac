//! `fsync-fail`: `fsync`, `fdatasync`, `msync`, `sync_file_range` and
//! `syncfs` fail with an errno.
//!
//! By default the call does not run: nothing reaches the disk and the caller
//! sees the error. With `sync=before` the real sync runs first and the error
//! is reported on exit, as when a device fails after the data was written.
//! For `msync`, `path=` is matched against the file mapped at its address.

use fi_sdk::{
    Call, Config, ConfigError, Description, Errno, ExitAction, Policy, Subscription, Sysno,
    Trigger, Verdict,
};

struct FsyncFail {
    errno: Errno,
    sync_before: bool,
    trigger: Trigger,
}

impl Policy for FsyncFail {
    fn describe() -> Description {
        Description::new(
            "fsync-fail",
            "Make fsync, fdatasync, msync, sync_file_range and syncfs fail",
        )
        .key("errno", "the error to report (EIO or 5); default EIO")
        .key(
            "sync",
            "before: really sync, then report the error; none: don't sync (default)",
        )
        .keys(Trigger::KEYS)
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let sync_before = match config.get("sync") {
            None | Some("none") => false,
            Some("before") => true,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "sync",
                    other,
                    "expected before or none",
                ))
            }
        };
        let policy = FsyncFail {
            errno: config.parse("errno")?.unwrap_or(Errno::EIO),
            sync_before,
            trigger: Trigger::from_config(config)?,
        };
        let calls = ["fsync", "fdatasync", "msync", "sync_file_range", "syncfs"];
        // Only a real sync before the error needs the exit stop. A sync of
        // another file than path= passes untouched: fault does not ask
        // about it (msync names no file: it is asked about every one).
        let subscription = if sync_before {
            Subscription::syscalls(calls)
        } else {
            Subscription::syscalls(calls)
                .entry_only()
                .passes_untouched()
        }
        .paths(policy.trigger.path());
        Ok((policy, subscription))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        let fires = match call.sysno() {
            // msync(addr, len, flags) names no file: find the one mapped there.
            Sysno::msync => self
                .trigger
                .fires_with_paths(call, || call.mapped_file(call.arg(0)).into_iter().collect()),
            _ => self.trigger.fires(call),
        };
        match (fires, self.sync_before) {
            (false, _) => Verdict::pass(),
            (true, false) => Verdict::fail(self.errno),
            (true, true) => Verdict::pass().want_exit(),
        }
    }

    fn on_exit(&mut self, _call: &Call, _result: i64) -> ExitAction {
        ExitAction::Fail(self.errno)
    }

    fn thread_exited(&mut self, tid: i32) {
        self.trigger.forget_thread(tid);
    }
}

fi_sdk::export_policy!(FsyncFail);
