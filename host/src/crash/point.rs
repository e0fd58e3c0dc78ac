//! Where the crash happens: a predicate over the calls the model sees, and
//! the one `--crash-at SET[:when=EXPR][:path=GLOB]` builds.

use std::path::PathBuf;

use fi_grammar::When;
use syscalls::SysnoSet;

use crate::model::Call;
use crate::rules::syscall_set::parse_syscall_set;
use crate::rules::PathFilter;
use crate::tracee::Tracee;

/// What the durability model knows of a call, for a crash-point predicate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Point {
    /// The call's number among the run's durability points (1 for the
    /// first), if it is one: a call that writes, syncs or changes a
    /// directory entry under the root.
    pub durability_point: Option<u64>,
    /// The call's number among the run's acknowledgements (1 for the
    /// first), if it is one: a write to a file named by [`Crash::ack`].
    ///
    /// [`Crash::ack`]: super::Crash::ack
    pub ack_point: Option<u64>,
    /// The call ends the run: the `exit_group` of the program's main
    /// process (after its last call, before it is gone).
    pub end: bool,
}

/// Where a program tells the world what is safe ([`super::Crash::ack`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ack {
    /// The main process's standard output, whatever it is.
    Stdout,
    /// A file (relative: in the main process's working directory).
    Path(PathBuf),
}

impl Ack {
    /// `-` and `/dev/stdout` are the standard output; anything else a file.
    pub(crate) fn parse(text: &str) -> Ack {
        match text {
            "-" | "/dev/stdout" => Ack::Stdout,
            path => Ack::Path(PathBuf::from(path)),
        }
    }
}

/// A crash-point predicate: sees every call the crash stage stops, in the
/// order they enter; the first call it accepts is the crash point.
pub type Predicate = Box<dyn FnMut(&Call, &Tracee, &Point) -> bool + Send>;

/// `--crash-at SET[:when=EXPR][:path=GLOB]`: the calls of SET (strace's
/// syntax) that touch a path matching GLOB (as `-P` takes it) are counted
/// over the whole run, all threads together; the crash comes after the
/// first one whose number `when=` selects (the first one without `when=`).
pub struct CrashAt {
    /// The syscalls counted.
    pub syscalls: SysnoSet,
    when: When,
    paths: Option<PathFilter>,
    seen: u32,
}

impl CrashAt {
    /// Parse `SET[:when=EXPR][:path=GLOB]`; the error names the wrong part.
    pub fn parse(text: &str) -> Result<CrashAt, String> {
        let fail = |what: String| format!("--crash-at {text}: {what}");
        let mut parts = text.split(':');
        let set = parts.next().unwrap_or_default();
        let syscalls = parse_syscall_set(set).map_err(|e| fail(e.to_string()))?;
        let mut when = None;
        let mut paths = None;
        for option in parts.filter(|p| !p.is_empty()) {
            match option.split_once('=') {
                Some(("when", value)) if when.is_none() => {
                    let parsed: When = value.parse().map_err(|e: fi_grammar::WhenError| {
                        fail(format!("invalid when= '{value}': {}", e.reason))
                    })?;
                    when = Some(parsed);
                }
                Some(("path", value)) if paths.is_none() && !value.is_empty() => {
                    let filter = PathFilter::new(&[PathBuf::from(value)])
                        .map_err(|e| fail(format!("path=: {e}")))?;
                    paths = Some(filter);
                }
                Some((key @ ("when" | "path"), _)) => {
                    return Err(fail(format!("{key}= given twice or empty")))
                }
                _ => {
                    return Err(fail(format!(
                        "unknown option '{option}' (expected when= or path=)"
                    )))
                }
            }
        }
        Ok(CrashAt {
            syscalls,
            when: when.unwrap_or_default(),
            paths,
            seen: 0,
        })
    }

    /// Count `call` if it is one of the set (on a matching path); whether
    /// it is the crash point.
    pub fn matches(&mut self, call: &Call, tracee: &Tracee) -> bool {
        if !call.sysno().is_some_and(|s| self.syscalls.contains(s)) {
            return false;
        }
        if let Some(paths) = &self.paths {
            if !paths.matches(call, tracee) {
                return false;
            }
        }
        self.seen = self.seen.saturating_add(1);
        self.when.matches(self.seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_set_when_and_path() {
        let at = CrashAt::parse("rename,renameat:when=2:path=/data/*").unwrap();
        assert!(at.syscalls.contains(syscalls::Sysno::renameat));
        assert!(at.when.matches(2) && !at.when.matches(1));
        assert!(at.paths.is_some());
    }

    #[test]
    fn names_the_wrong_part() {
        let e = CrashAt::parse("fsync:when=0").err().unwrap();
        assert!(
            e.starts_with("--crash-at fsync:when=0: invalid when= '0'"),
            "{e}"
        );
        let e = CrashAt::parse("nosuchcall").err().unwrap();
        assert!(e.contains("nosuchcall"), "{e}");
        let e = CrashAt::parse("write:error=EIO").err().unwrap();
        assert!(e.contains("unknown option 'error=EIO'"), "{e}");
    }
}
