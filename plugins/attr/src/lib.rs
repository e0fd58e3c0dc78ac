//! `attr`: file attributes that lie. After a matching `stat`, `lstat`,
//! `fstat`, `newfstatat` or `statx` returned, the size, modification time,
//! permission bits or link count in the caller's buffer are replaced; after
//! a matching `statfs` or `fstatfs`, the free space. The file itself is
//! untouched: only what the program is told about it changes.
//!
//! A size lie also sets the block count to match (`st_blocks`, 512-byte
//! units), as a real file of that size would have, so that programs do not
//! take the file for a sparse one, and reads, copies and seeks of the file
//! agree with it ([`size`]).

mod layout;
mod size;

use fi_sdk::{
    log, Call, Config, ConfigError, Description, ExitAction, Glob, Policy, Subscription, Trigger,
    Verdict,
};

use layout::{Field, Layout};
use size::{AtExit, SizeLie};

/// The calls that describe a file.
const STATS: [&str; 5] = ["stat", "lstat", "fstat", "newfstatat", "statx"];
/// The calls that describe a file system.
const STATFS: [&str; 2] = ["statfs", "fstatfs"];

/// The values to report instead of the real ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Lies {
    size: Option<u64>,
    mtime: Option<i64>,
    mode: Option<u32>,
    nlink: Option<u32>,
    free: Option<u64>,
}

/// What a thread's current call waits for at its exit.
enum Pending {
    /// A call whose buffer holds the lie once it returned: the buffer's
    /// address and layout.
    Stat(u64, Layout),
    /// A read, copy or seek changed to agree with a size lie.
    Size(AtExit),
}

struct Attr {
    lies: Lies,
    trigger: Trigger,
    /// Reads, copies and seeks that agree with a size lie.
    size: Option<SizeLie>,
    pending: std::collections::HashMap<i32, Pending>,
}

impl Policy for Attr {
    fn describe() -> Description {
        Description::new(
            "attr",
            "Make stat, fstat, newfstatat, statx and statfs report false sizes, times, modes, link counts or free space; reads agree with a false size",
        )
        .key("path", "glob of the files whose attributes lie (* also matches /); required")
        .key("size", "report this size in bytes (and blocks to match); reads, copies and seeks of the file end there (past the real end, reads that name their offset read zeros)")
        .key("mtime", "report this modification time, in seconds since 1970")
        .key("mode", "report these permission bits, in octal (0644); the file type stays")
        .key("nlink", "report this many hard links")
        .key("free", "statfs: report this many bytes free (and available)")
        .key("when", fi_sdk::When::HELP)
        .key("probability", fi_sdk::Probability::HELP)
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let glob = config.require::<Glob>("path")?;
        let mode = config
            .get("mode")
            .map(|text| {
                u32::from_str_radix(text, 8)
                    .ok()
                    .filter(|mode| *mode <= 0o7777)
                    .ok_or_else(|| {
                        ConfigError::invalid(
                            "mode",
                            text,
                            "expected octal permission bits, 0 to 7777",
                        )
                    })
            })
            .transpose()?;
        let lies = Lies {
            size: config.parse("size")?,
            mtime: config.parse("mtime")?,
            mode,
            nlink: config.parse("nlink")?,
            free: config.parse("free")?,
        };
        if lies == Lies::default() {
            return Err(ConfigError::new(
                "nothing to lie about: give size=, mtime=, mode=, nlink= or free=",
            ));
        }
        let describes_files = lies.size.is_some()
            || lies.mtime.is_some()
            || lies.mode.is_some()
            || lies.nlink.is_some();
        let mut calls: Vec<&str> = Vec::new();
        if describes_files {
            calls.extend(STATS);
        }
        if lies.free.is_some() {
            calls.extend(STATFS);
        }
        if lies.size.is_some() {
            calls.extend(size::CALLS);
        }
        let policy = Attr {
            lies,
            trigger: Trigger::from_config(config)?,
            size: lies.size.map(|size| SizeLie::new(size, glob)),
            pending: std::collections::HashMap::new(),
        };
        let subscription = Subscription::syscalls(calls).paths(policy.trigger.path());
        Ok((policy, subscription))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        self.pending.remove(&call.tid());
        let Some((buffer, layout)) = Layout::of(call) else {
            let Some(size) = self.size.as_mut() else {
                return Verdict::pass();
            };
            let (verdict, at_exit) = size.enter(call);
            if let Some(at_exit) = at_exit {
                self.pending.insert(call.tid(), Pending::Size(at_exit));
            }
            return verdict;
        };
        if !self.trigger.fires(call) {
            return Verdict::pass();
        }
        self.pending
            .insert(call.tid(), Pending::Stat(buffer, layout));
        Verdict::pass().want_exit()
    }

    fn on_exit(&mut self, call: &Call, result: i64) -> ExitAction {
        let (buffer, layout) = match self.pending.remove(&call.tid()) {
            Some(Pending::Stat(buffer, layout)) => (buffer, layout),
            Some(Pending::Size(at_exit)) => {
                return match self.size.as_mut() {
                    Some(size) => size.exit(call, at_exit, result),
                    None => ExitAction::Keep,
                };
            }
            None => return ExitAction::Keep,
        };
        if result != 0 {
            return ExitAction::Keep;
        }
        let mut told = Vec::new();
        let lies = self.lies;
        let mut set = |field: Field, value: u64, what: String| match layout
            .write(call, buffer, field, value)
        {
            Ok(true) => told.push(what),
            Ok(false) => {}
            Err(e) => log(&format!("{}: could not change {what}: {e}", call.name())),
        };
        if let Some(size) = lies.size {
            set(Field::Size, size, format!("size {size}"));
            set(Field::Blocks, size.div_ceil(512), String::new());
        }
        if let Some(mtime) = lies.mtime {
            set(Field::Mtime, mtime as u64, format!("mtime {mtime}"));
        }
        if let Some(mode) = lies.mode {
            set(Field::Mode, u64::from(mode), format!("mode {mode:04o}"));
        }
        if let Some(nlink) = lies.nlink {
            set(Field::Nlink, u64::from(nlink), format!("nlink {nlink}"));
        }
        if let Some(free) = lies.free {
            set(Field::Free, free, format!("{free} bytes free"));
        }
        told.retain(|what| !what.is_empty());
        if !told.is_empty() {
            log(&format!(
                "{} of {} told {}",
                call.name(),
                call.path().unwrap_or("?"),
                told.join(", ")
            ));
        }
        ExitAction::Keep
    }

    fn thread_exited(&mut self, tid: i32) {
        self.pending.remove(&tid);
        self.trigger.forget_thread(tid);
    }
}

fi_sdk::export_policy!(Attr);
