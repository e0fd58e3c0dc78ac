//! `count`: injects nothing; counts calls and errors per syscall and per
//! path, and logs a table when the program ends.
//!
//! Paths are those each call touches (its path arguments and the paths of
//! its descriptors), taken when the call enters, so `close` still counts
//! against the file it closed. With `path=GLOB`, only the calls that touch
//! a file the glob matches are counted (and fault asks the plugin about no
//! other file).

use std::collections::HashMap;
use std::fmt::Display;
use std::hash::Hash;

use fi_sdk::{
    log, Call, Config, ConfigError, Description, Errno, ExitAction, Glob, Policy, Subscription,
    Sysno, Verdict,
};

/// Calls seen, and how many of them failed.
#[derive(Clone, Copy, Default)]
struct Tally {
    calls: u64,
    errors: u64,
}

struct Count {
    by_syscall: HashMap<Sysno, Tally>,
    by_path: HashMap<String, Tally>,
    /// Per thread: the paths of the call now running.
    running: HashMap<i32, Vec<String>>,
    /// Only calls touching a file this matches count (`path=`).
    only: Option<Glob>,
}

impl Policy for Count {
    fn describe() -> Description {
        Description::new(
            "count",
            "Count calls and errors per syscall and per path; log them at the end",
        )
        .key(
            "syscalls",
            "calls to count: names, numbers or %classes, comma-separated; default all",
        )
        .key(
            "path",
            "count only calls touching a file this glob matches (`*` also matches /); default any",
        )
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let syscalls = config.list("syscalls")?.unwrap_or(vec!["all"]);
        let only: Option<Glob> = config.parse("path")?;
        let subscription = Subscription::syscalls(syscalls).paths(only.iter());
        let policy = Count {
            by_syscall: HashMap::new(),
            by_path: HashMap::new(),
            running: HashMap::new(),
            only,
        };
        Ok((policy, subscription))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        if self
            .only
            .as_ref()
            .is_some_and(|glob| !glob.matches_any(call.paths()))
        {
            return Verdict::pass();
        }
        self.by_syscall.entry(call.sysno()).or_default().calls += 1;
        for path in call.paths() {
            self.by_path.entry(path.clone()).or_default().calls += 1;
        }
        self.running.insert(call.tid(), call.paths().to_vec());
        Verdict::pass().want_exit()
    }

    fn on_exit(&mut self, call: &Call, result: i64) -> ExitAction {
        let paths = self.running.remove(&call.tid()).unwrap_or_default();
        if Errno::from_result(result).is_some() {
            self.by_syscall.entry(call.sysno()).or_default().errors += 1;
            for path in paths {
                self.by_path.entry(path).or_default().errors += 1;
            }
        }
        ExitAction::Keep
    }

    fn finish(&mut self) {
        log_table("syscall", &self.by_syscall);
        log_table("path", &self.by_path);
    }

    fn thread_exited(&mut self, tid: i32) {
        // A thread that died inside a call never reaches on_exit.
        self.running.remove(&tid);
    }
}

/// Logs one line per key, most called first.
fn log_table<K: Display + Ord + Hash>(what: &str, tallies: &HashMap<K, Tally>) {
    let mut rows: Vec<(&K, &Tally)> = tallies.iter().collect();
    rows.sort_by(|(a, ta), (b, tb)| tb.calls.cmp(&ta.calls).then(a.cmp(b)));
    log(&format!("{:>10} {:>10}  {what}", "calls", "errors"));
    for (key, tally) in rows {
        log(&format!("{:>10} {:>10}  {key}", tally.calls, tally.errors));
    }
}

fi_sdk::export_policy!(Count);
