//! What a policy says about itself and which calls it wants.

use crate::bindings::fi::policy::types;

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    syscalls: Vec<String>,
}

impl Subscription {
    /// Subscribe to these calls.
    pub fn syscalls<S: Into<String>>(syscalls: impl IntoIterator<Item = S>) -> Subscription {
        Subscription {
            syscalls: syscalls.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Subscription> for types::Subscription {
    fn from(s: Subscription) -> types::Subscription {
        // Every call may ask for its result: the SDK does not yet let a
        // policy say it needs less.
        types::Subscription {
            results: s.syscalls.clone(),
            syscalls: s.syscalls,
        }
    }
}
