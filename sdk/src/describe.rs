//! What a policy says about itself and which calls it wants.

use crate::bindings::fi::policy::setup;
use crate::Glob;

/// What a policy says about itself, for `fi plugins` and `fi plugin check`:
/// its name, a one-line summary and the configuration keys it accepts.
///
/// ```
/// use fi_sdk::{Description, Trigger};
///
/// let description = Description::new("fsync-fail", "Make fsync fail")
///     .key("errno", "errno to report; default EIO")
///     .keys(Trigger::KEYS);
/// # let _ = description;
/// ```
#[derive(Clone, Debug)]
pub struct Description {
    name: String,
    summary: String,
    keys: Vec<(String, String)>,
}

impl Description {
    /// A description with a short `name` (`short-write`) and a one-line
    /// `summary` of what the policy does.
    pub fn new(name: impl Into<String>, summary: impl Into<String>) -> Description {
        Description {
            name: name.into(),
            summary: summary.into(),
            keys: Vec::new(),
        }
    }

    /// Accept the configuration key `name`; `help` is one line saying what it
    /// does and its default. Keys not listed are rejected before
    /// [`Policy::new`](crate::Policy::new) runs.
    pub fn key(mut self, name: impl Into<String>, help: impl Into<String>) -> Description {
        self.keys.push((name.into(), help.into()));
        self
    }

    /// Accept several keys, as `(name, help)` pairs.
    pub fn keys<'a>(self, keys: impl IntoIterator<Item = (&'a str, &'a str)>) -> Description {
        keys.into_iter().fold(self, |description, (name, help)| {
            description.key(name, help)
        })
    }

    pub(crate) fn key_names(&self) -> Vec<&str> {
        self.keys.iter().map(|(name, _)| name.as_str()).collect()
    }
}

impl From<Description> for setup::Description {
    fn from(d: Description) -> setup::Description {
        setup::Description {
            name: d.name,
            summary: d.summary,
            config: d
                .keys
                .into_iter()
                .map(|(name, help)| setup::ConfigKey { name, help })
                .collect(),
        }
    }
}

/// The calls a policy wants to see: syscall names (`fsync`), numbers (`74`)
/// or strace classes (`%file`, `%desc`, `%network`, `%process`, `%signal`,
/// `%memory`, `%ipc`, `%creds`), and what it promises about them. fi
/// rejects unknown entries before the program starts.
///
/// Without a promise a policy may rewrite any call it sees, want its
/// result ([`Verdict::want_exit`](crate::Verdict::want_exit),
/// [`Verdict::delay_exit`](crate::Verdict::delay_exit)) and hold, signal or
/// mark it for the log, which costs a ptrace stop per call. Each promise
/// lets fi answer calls for less; breaking one is the plugin's error, which
/// fi reports:
///
/// - [`entry_only`](Subscription::entry_only) (or
///   [`entry_only_for`](Subscription::entry_only_for) some calls): the
///   policy decides them at entry only (pass, fail, return, hold before,
///   signal), and fi answers them through a seccomp user notification
///   where the kernel allows, without stopping the thread;
/// - [`passes_untouched`](Subscription::passes_untouched) (or
///   [`passes_untouched_for`](Subscription::passes_untouched_for)): of those
///   entry-only calls, it lets run only untouched (never held, signalled or
///   marked for the log), so fi answers them without a stop even while its
///   log writes lines;
/// - [`paths`](Subscription::paths): it acts only on calls that touch a
///   file one of the globs matches, and fi asks it about no call that
///   touches only other files.
///
/// ```
/// use fi_sdk::{Glob, Subscription};
///
/// // Fails openat and fsync at entry, lets the rest run untouched.
/// let entry = Subscription::syscalls(["openat", "fsync"])
///     .entry_only()
///     .passes_untouched();
/// // Rewrites write's count and looks at its result; fails fsync at entry.
/// let mixed = Subscription::syscalls(["write", "fsync"]).entry_only_for(["fsync"]);
/// // Fails calls on files under /data only.
/// let data = Glob::new("/data/*").unwrap();
/// let scoped = Subscription::syscalls(["%file", "%desc"])
///     .entry_only()
///     .paths([&data]);
/// # let _ = (entry, mixed, scoped);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    syscalls: Vec<String>,
    /// The calls it decides at entry only.
    entry_only: Vec<String>,
    /// The entry-only calls it lets run only untouched.
    passes_untouched: Vec<String>,
    /// The globs of the files it acts on; empty for any.
    paths: Vec<String>,
    /// fi keeps what unsynced writes to those files overwrite.
    keeps_unsynced: bool,
}

impl Subscription {
    /// Subscribe to these calls, promising nothing about them.
    pub fn syscalls<S: Into<String>>(syscalls: impl IntoIterator<Item = S>) -> Subscription {
        Subscription {
            syscalls: syscalls.into_iter().map(Into::into).collect(),
            entry_only: Vec::new(),
            passes_untouched: Vec::new(),
            paths: Vec::new(),
            keeps_unsynced: false,
        }
    }

    /// The policy decides every call it subscribed to at entry only: it
    /// neither wants a result, nor delays an exit, nor rewrites a call.
    pub fn entry_only(self) -> Subscription {
        let calls = self.syscalls.clone();
        self.entry_only_for(calls)
    }

    /// The policy decides these calls at entry only; it may want the
    /// results of the others, or rewrite them.
    pub fn entry_only_for<S: Into<String>>(
        mut self,
        calls: impl IntoIterator<Item = S>,
    ) -> Subscription {
        self.entry_only = calls.into_iter().map(Into::into).collect();
        self
    }

    /// Of the calls it decides at entry only, the policy lets run only
    /// untouched: it never holds, signals or marks for the log a call it
    /// lets run, and only fails or returns the others.
    pub fn passes_untouched(self) -> Subscription {
        let calls = self.syscalls.clone();
        self.passes_untouched_for(calls)
    }

    /// The policy lets these calls (of those it decides at entry only) run
    /// only untouched.
    pub fn passes_untouched_for<S: Into<String>>(
        mut self,
        calls: impl IntoIterator<Item = S>,
    ) -> Subscription {
        self.passes_untouched = calls.into_iter().map(Into::into).collect();
        self
    }

    /// The policy acts only on calls that touch a file (through a path
    /// argument or a descriptor, as [`Call::paths`](crate::Call::paths)
    /// lists them) one of `globs` matches, and lets every other call that
    /// touches files run untouched: fi does not ask it about those. Calls
    /// that touch no file reach it as usual. With only absolute globs, fi
    /// also leaves a process's calls on descriptors unstopped until it
    /// opens a matching file.
    pub fn paths<'a>(mut self, globs: impl IntoIterator<Item = &'a Glob>) -> Subscription {
        self.paths = globs.into_iter().map(Glob::to_string).collect();
        self
    }

    /// fi keeps, from the program's start on, the bytes that writes to the
    /// policy's files (its [`paths`](Subscription::paths), or every regular
    /// file without them) overwrite until those files are synced, so that
    /// [`Call::unsynced_before`](crate::Call::unsynced_before) returns
    /// them: the stale data a read may return. fi then follows the write
    /// family, truncations and syncs of those files whether or not the
    /// policy subscribed to them (it is not asked about them).
    pub fn keep_unsynced(mut self) -> Subscription {
        self.keeps_unsynced = true;
        self
    }

    /// Whether [`Subscription::keep_unsynced`] was asked.
    pub(crate) fn keeps_unsynced(&self) -> bool {
        self.keeps_unsynced
    }
}

impl From<Subscription> for setup::Subscription {
    fn from(s: Subscription) -> setup::Subscription {
        setup::Subscription {
            syscalls: s.syscalls,
            entry_only: s.entry_only,
            passes_untouched: s.passes_untouched,
            paths: s.paths,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_promises_nothing_unless_it_says_so() {
        let bare: setup::Subscription = Subscription::syscalls(["read", "write"]).into();
        assert_eq!(bare.syscalls, ["read", "write"]);
        assert!(bare.entry_only.is_empty() && bare.passes_untouched.is_empty());
        assert!(bare.paths.is_empty());
        let some: setup::Subscription = Subscription::syscalls(["read", "write"])
            .entry_only_for(["read"])
            .into();
        assert_eq!(some.entry_only, ["read"]);
        let all: setup::Subscription = Subscription::syscalls(["openat"])
            .entry_only()
            .passes_untouched()
            .into();
        assert_eq!(
            (all.entry_only, all.passes_untouched),
            (vec!["openat".to_string()], vec!["openat".to_string()])
        );
    }

    #[test]
    fn paths_are_the_globs_as_written() {
        let data = Glob::new("/data/*").unwrap();
        let pipes = Glob::new("pipe:*").unwrap();
        let declared: setup::Subscription = Subscription::syscalls(["%desc"])
            .paths([&data, &pipes])
            .into();
        assert_eq!(declared.paths, ["/data/*", "pipe:*"]);
    }
}
