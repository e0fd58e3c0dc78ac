//! What a policy says about itself and which calls it wants.

use crate::bindings::fi::policy::types;
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

impl From<Description> for types::Description {
    fn from(d: Description) -> types::Description {
        types::Description {
            name: d.name,
            summary: d.summary,
            config: d
                .keys
                .into_iter()
                .map(|(name, help)| types::ConfigKey { name, help })
                .collect(),
        }
    }
}

/// The calls a policy wants to see: syscall names (`fsync`), numbers (`74`)
/// or strace classes (`%file`, `%desc`, `%network`, `%process`, `%signal`,
/// `%memory`, `%ipc`, `%creds`). fi rejects unknown entries before the
/// program starts.
///
/// By default a policy may want the result of every call it sees
/// ([`Verdict::want_exit`](crate::Verdict::want_exit),
/// [`Verdict::delay_exit`](crate::Verdict::delay_exit)) or rewrite it, which
/// costs a ptrace stop per call. A policy that decides some calls at entry
/// only (pass, fail, return, delay before, signal) says so with
/// [`Subscription::results`] or [`Subscription::entry_only`], and fi answers
/// those calls through a seccomp user notification where the kernel allows,
/// without stopping the thread.
///
/// A call decided at entry that the policy holds
/// ([`Verdict::delay_enter`](crate::Verdict::delay_enter)), signals or marks
/// for the log and lets run is logged with its result, which costs the stop
/// after it ran whenever fi's log writes lines. A policy that only fails, returns or passes
/// calls untouched says so with [`Subscription::passes_untouched`] (or names
/// the calls it may change and let run with
/// [`Subscription::changed_passes`]), and fi answers those calls without a
/// stop even while it logs.
///
/// ```
/// use fi_sdk::Subscription;
///
/// // Fails openat and fsync at entry, lets the rest run untouched.
/// let entry = Subscription::syscalls(["openat", "fsync"])
///     .entry_only()
///     .passes_untouched();
/// // Rewrites write's count and looks at its result; fails fsync at entry.
/// let mixed = Subscription::syscalls(["write", "fsync"]).results(["write"]);
/// // Holds some writes before they run, and shows their results in the log.
/// let delays = Subscription::syscalls(["write"]).entry_only();
/// # let _ = (entry, mixed, delays);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    syscalls: Vec<String>,
    /// The calls whose results the policy may want, or may rewrite; `None`
    /// for all of `syscalls`.
    results: Option<Vec<String>>,
    /// The calls the policy may hold, signal or mark for the log and let
    /// run; `None` for all of `syscalls`.
    changed_passes: Option<Vec<String>>,
    /// The files on which the policy decides fd calls; empty for any.
    fd_paths: Vec<String>,
}

impl Subscription {
    /// Subscribe to these calls; the policy may want the result of any of
    /// them, or rewrite any.
    pub fn syscalls<S: Into<String>>(syscalls: impl IntoIterator<Item = S>) -> Subscription {
        Subscription {
            syscalls: syscalls.into_iter().map(Into::into).collect(),
            results: None,
            changed_passes: None,
            fd_paths: Vec::new(),
        }
    }

    /// The policy wants the results of these calls only (or rewrites these
    /// only); it decides the others at entry. Asking for the result of
    /// another call is the plugin's error, which fi reports.
    pub fn results<S: Into<String>>(
        mut self,
        results: impl IntoIterator<Item = S>,
    ) -> Subscription {
        self.results = Some(results.into_iter().map(Into::into).collect());
        self
    }

    /// The policy decides every call at entry: it neither wants a result
    /// nor delays an exit nor rewrites a call.
    pub fn entry_only(self) -> Subscription {
        self.results(Vec::<String>::new())
    }

    /// The policy may hold, signal or mark for the log these calls only and
    /// let them run; the others it fails, returns or lets run untouched.
    /// Doing otherwise is the plugin's error, which fi reports.
    pub fn changed_passes<S: Into<String>>(
        mut self,
        calls: impl IntoIterator<Item = S>,
    ) -> Subscription {
        self.changed_passes = Some(calls.into_iter().map(Into::into).collect());
        self
    }

    /// The policy fails or returns calls, or lets them run untouched: it
    /// never holds, signals or marks a call it lets run.
    pub fn passes_untouched(self) -> Subscription {
        self.changed_passes(Vec::<String>::new())
    }

    /// The policy decides the calls it subscribed to that take a file
    /// descriptor and no path (`read`, `fsync`, `close`) by the path of the
    /// descriptor's file alone, and passes untouched every such call on a
    /// file none of `globs` matches: fi asks it only about such calls on
    /// descriptors of matching files. A glob that is not an
    /// absolute path may match a pipe's or a socket's name (`pipe:[12]`):
    /// with one among `globs`, fi asks about every fd call, as without them.
    pub fn fd_paths<'a>(mut self, globs: impl IntoIterator<Item = &'a Glob>) -> Subscription {
        let globs: Vec<String> = globs.into_iter().map(Glob::to_string).collect();
        self.fd_paths = if globs.iter().all(|glob| glob.starts_with('/')) {
            globs
        } else {
            Vec::new()
        };
        self
    }
}

impl From<Subscription> for types::Subscription {
    fn from(s: Subscription) -> types::Subscription {
        types::Subscription {
            results: s.results.unwrap_or_else(|| s.syscalls.clone()),
            changed_passes: s.changed_passes.unwrap_or_else(|| s.syscalls.clone()),
            syscalls: s.syscalls,
            fd_paths: s.fd_paths,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_globs_declare_the_files_of_fd_calls() {
        let data = Glob::new("/data/*").unwrap();
        let declared: types::Subscription =
            Subscription::syscalls(["%desc"]).fd_paths([&data]).into();
        assert_eq!(declared.fd_paths, ["/data/*"]);
        let relative = Glob::new("data/*").unwrap();
        let undeclared: types::Subscription = Subscription::syscalls(["%desc"])
            .fd_paths([&data, &relative])
            .into();
        assert!(undeclared.fd_paths.is_empty());
    }

    #[test]
    fn every_call_may_want_its_result_unless_the_policy_says_less() {
        let all: types::Subscription = Subscription::syscalls(["read", "write"]).into();
        assert_eq!(all.results, ["read", "write"]);
        let some: types::Subscription = Subscription::syscalls(["read", "write"])
            .results(["write"])
            .into();
        assert_eq!(
            (some.syscalls, some.results),
            (
                vec!["read".to_string(), "write".to_string()],
                vec!["write".to_string()]
            )
        );
        let none: types::Subscription = Subscription::syscalls(["openat"]).entry_only().into();
        assert!(none.results.is_empty());
        assert_eq!(none.changed_passes, vec!["openat".to_string()]);
        let untouched: types::Subscription = Subscription::syscalls(["openat"])
            .entry_only()
            .passes_untouched()
            .into();
        assert!(untouched.results.is_empty() && untouched.changed_passes.is_empty());
    }
}
