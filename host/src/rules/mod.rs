//! strace-compatible rules (`-e inject=...`, `-e fault=...`, `-P PATH`): the
//! first implementation of the [`Policy`] seam.

pub mod parse;
pub mod poke;
pub mod syscall_set;
pub mod trace;

pub use trace::resolve;

use foldhash::{HashMap, HashSet};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use syscalls::{Sysno, SysnoSet};

use crate::output::Log;
use crate::policy::{
    Action, Call, Capabilities, ExitVerdict, FdPaths, Need, Policy, PolicyError, Verdict,
};
use crate::tracee::{is_within, Tracee};
use parse::{Fault, Rule};
use poke::Poke;

/// The paths of `-P`: tampering is limited to calls that touch one of them
/// through a path argument or an fd.
#[derive(Debug, Default)]
pub struct PathFilter {
    patterns: Vec<PathPattern>,
    /// When every pattern is a plain path: the last components they can
    /// end in, as written and resolved.
    exact_names: Option<HashSet<OsString>>,
}

/// One `-P` argument, as written and as matched.
#[derive(Debug)]
struct PathPattern {
    written: String,
    matcher: PathMatcher,
}

#[derive(Debug)]
enum PathMatcher {
    /// A plain path: exactly these paths (as written and resolved).
    Exact(Vec<PathBuf>),
    /// A path ending in `/`: these directories and everything under them.
    Under(Vec<PathBuf>),
    /// A shell-style glob (`*` also matches `/`, as in plugins' `path=`).
    Glob(globset::GlobMatcher),
}

impl PathFilter {
    /// A filter for the paths given with `-P`, relative ones taken from fi's
    /// working directory. A plain path matches exactly (as strace does), as
    /// written and as its symlinks resolve, since fds name the resolved file;
    /// one ending in `/` matches that directory and everything under it; one
    /// with `*`, `?` or `[` is a glob matched against the whole path, where
    /// `*` also matches `/`. Fails on a malformed glob, naming it.
    pub fn new(paths: &[PathBuf]) -> Result<PathFilter, String> {
        let cwd = std::env::current_dir().map_err(|e| format!("the working directory: {e}"))?;
        let patterns = paths
            .iter()
            .map(|path| PathPattern::new(&cwd, path))
            .collect::<Result<Vec<PathPattern>, _>>()?;
        let exact_names = patterns
            .iter()
            .map(|pattern| match &pattern.matcher {
                PathMatcher::Exact(paths) => Some(paths.iter().filter_map(|p| p.file_name())),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(|names| names.into_iter().flatten().map(OsStr::to_owned).collect());
        Ok(PathFilter {
            patterns,
            exact_names,
        })
    }

    /// Whether `call` touches one of the filter's paths.
    pub fn matches(&self, call: &Call, tracee: &Tracee) -> bool {
        self.matching(call, tracee).is_some()
    }

    /// The `-P` argument, as written, of a path `call` touches, if any.
    pub fn matching(&self, call: &Call, tracee: &Tracee) -> Option<&str> {
        if let Some(names) = &self.exact_names {
            // A path ends in the name its argument ends in: when no plain
            // pattern ends so, the argument's directory (a dirfd's path, a
            // readlink) need not be resolved.
            if tracee.path_arg_names_refused(call, |name| names.contains(name)) {
                return None;
            }
        }
        let paths = tracee.call_paths(call);
        self.patterns
            .iter()
            .find(|pattern| paths.iter().any(|path| pattern.matcher.contains(path)))
            .map(|pattern| pattern.written.as_str())
    }

    /// The `-P` arguments as written: `-P a, -P b`.
    pub fn describe(&self) -> String {
        self.patterns
            .iter()
            .map(|pattern| format!("-P {}", pattern.written))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl FdPaths for PathFilter {
    fn holds(&self, path: &Path) -> bool {
        self.patterns.iter().any(|p| p.matcher.contains(path))
    }
}

impl PathPattern {
    fn new(cwd: &Path, path: &Path) -> Result<PathPattern, String> {
        let written = path.to_string_lossy().into_owned();
        let matcher = if written.contains(['*', '?', '[']) {
            let absolute = if written.starts_with('/') {
                written.clone()
            } else {
                let base = globset::escape(&cwd.to_string_lossy());
                format!("{}/{written}", base.trim_end_matches('/'))
            };
            let glob = globset::Glob::new(&absolute).map_err(|e| format!("{written}: {e}"))?;
            PathMatcher::Glob(glob.compile_matcher())
        } else {
            let absolute = crate::tracee::resolve_path_at(cwd, path);
            let mut accepted = Vec::new();
            if let Ok(real) = absolute.canonicalize() {
                accepted.push(real);
            }
            accepted.push(absolute);
            if written.ends_with('/') {
                PathMatcher::Under(accepted)
            } else {
                PathMatcher::Exact(accepted)
            }
        };
        Ok(PathPattern { written, matcher })
    }
}

impl PathMatcher {
    fn contains(&self, path: &Path) -> bool {
        match self {
            PathMatcher::Exact(paths) => paths.iter().any(|p| p.as_os_str() == path.as_os_str()),
            PathMatcher::Under(dirs) => dirs.iter().any(|dir| is_within(path, dir)),
            PathMatcher::Glob(glob) => glob.is_match(path),
        }
    }
}

/// What a rule saw over a run, to say why it changed no call.
#[derive(Debug, Default)]
struct Activity {
    /// Calls of the rule's syscalls.
    made: u64,
    /// Of those, the ones that touched a `-P` path.
    on_paths: u64,
    /// Of those, the ones `when=` selected.
    selected: u64,
    /// Other syscalls, stopped for other stages, that touched a `-P` path:
    /// by syscall, who used it on which path.
    elsewhere: BTreeMap<String, String>,
}

/// One `-e inject=` or `-e fault=` rule, counting calls per thread and per
/// syscall as strace does for `when=`.
pub struct RulePolicy {
    name: String,
    rule: Rule,
    /// The syscalls the rule names as written, before later rules and
    /// `-e trace=` took some ([`resolve`]).
    named: SysnoSet,
    paths: Option<Arc<PathFilter>>,
    counts: HashMap<(i32, i64), u32>,
    activity: Activity,
    /// Where a poke that could not be written is reported.
    log: Option<Log>,
}

impl RulePolicy {
    /// A policy applying `rule`, limited to the `-P` paths if any.
    pub fn new(rule: Rule, paths: Option<Arc<PathFilter>>) -> RulePolicy {
        RulePolicy {
            name: format!("-e {}", rule.text),
            named: rule.syscalls.clone(),
            rule,
            paths,
            counts: HashMap::default(),
            activity: Activity::default(),
            log: None,
        }
    }

    /// The same policy for `rule` after [`resolve`] shrank it from the set
    /// it was written with, `named` (to say why it changed nothing).
    pub fn resolved(mut self, named: SysnoSet) -> RulePolicy {
        self.named = named;
        self
    }

    /// Report pokes that could not be written on `log`.
    pub fn report_to(mut self, log: Log) -> RulePolicy {
        self.log = Some(log);
        self
    }

    /// Write `pokes` for `call`; whether any byte was written. A failure
    /// is reported, as strace does, and the call goes on.
    fn poke_all(&self, pokes: &[Poke], call: &Call, tracee: &Tracee) -> bool {
        let count = call.sysno().map_or(6, crate::arch::classes::arg_count);
        let mut wrote = false;
        for one in pokes.iter().filter(|poke| poke.arg <= count) {
            let poked = poke::poke(tracee, &call.args, one);
            wrote |= poked.written > 0;
            if let (Some(failure), Some(log)) = (poked.failure, &self.log) {
                log.note(crate::COMMAND, &format!("{}: {failure}", self.name));
            }
        }
        wrote
    }

    /// Whether the rule fails the call or gives it a value.
    fn forces_result(&self) -> bool {
        self.rule.fault.is_some()
    }

    /// Count this call for its thread and syscall; whether `when=` selects it.
    fn selects(&mut self, call: &Call) -> bool {
        let count = self.counts.entry((call.tid, call.nr)).or_insert(0);
        *count = count.saturating_add(1);
        self.rule.when.matches(*count)
    }
}

impl Policy for RulePolicy {
    fn name(&self) -> &str {
        &self.name
    }

    fn subscription(&self) -> SysnoSet {
        self.rule.syscalls.clone()
    }

    fn needs(&self) -> Capabilities {
        let substitutes = self.rule.replace.is_some() && self.forces_result();
        Capabilities {
            rewrite: substitutes,
            results: substitutes || !self.rule.poke_exit.is_empty(),
            delay_exit: self.rule.delay_exit.is_some(),
        }
    }

    /// A substitute, a delayed exit or a signal needs a stop; a plain
    /// `error=` on every call (no `when=`, no `-P`, no delay) is a constant;
    /// the rest is decided at entry.
    fn need(&self, _sysno: Sysno) -> Need {
        let rule = &self.rule;
        if rule.replace.is_some() || rule.delay_exit.is_some() || rule.signal.is_some() {
            return Need::Stop;
        }
        match rule.fault {
            Some(Fault::Error(errno))
                if self.paths.is_none() && rule.when.is_always() && rule.delay_enter.is_none() =>
            {
                Need::Constant(Action::Fail(errno))
            }
            fault => Need::Entry {
                passes_changed: fault.is_none(),
            },
        }
    }

    /// With `-P`, a call on an fd whose file is none of the paths passes
    /// untouched.
    fn fd_paths(&self) -> Option<&dyn FdPaths> {
        self.paths.as_deref().map(|paths| paths as &dyn FdPaths)
    }

    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError> {
        self.activity.made += 1;
        if let Some(paths) = &self.paths {
            if !paths.matches(call, tracee) {
                return Ok(Verdict::PASS);
            }
        }
        self.activity.on_paths += 1;
        if !self.selects(call) {
            return Ok(Verdict::PASS);
        }
        self.activity.selected += 1;
        let mut verdict = Verdict {
            delay_enter: self.rule.delay_enter.unwrap_or_default(),
            delay_exit: self.rule.delay_exit.unwrap_or_default(),
            signal: self.rule.signal.map(|signal| signal as i32),
            ..Verdict::PASS
        };
        verdict.wrote_memory = self.poke_all(&self.rule.poke_enter, call, tracee);
        verdict.want_exit = !self.rule.poke_exit.is_empty();
        match (self.rule.replace, self.rule.fault) {
            // The substitute runs; the fault then overrides its result on
            // exit. Without a fault strace substitutes nothing: neither do we.
            (Some(substitute), Some(_)) => {
                call.nr = substitute.id() as i64;
                verdict.want_exit = true;
            }
            (None, Some(fault)) => {
                verdict.action = match fault {
                    Fault::Error(errno) => Action::Fail(errno),
                    Fault::Retval(value) => Action::Return(value),
                };
                // The call does not run, so no exit comes: what strace
                // pokes at its exit is poked now, before the caller sees it.
                verdict.wrote_memory |= self.poke_all(&self.rule.poke_exit, call, tracee);
                verdict.want_exit = false;
            }
            (_, None) => {}
        }
        Ok(verdict)
    }

    fn on_exit(
        &mut self,
        call: &Call,
        result: &mut i64,
        tracee: &Tracee,
    ) -> Result<ExitVerdict, PolicyError> {
        if self.rule.replace.is_some() {
            match self.rule.fault {
                Some(Fault::Error(errno)) => *result = -i64::from(errno.into_raw()),
                Some(Fault::Retval(value)) => *result = value,
                None => {}
            }
        }
        Ok(ExitVerdict::wrote_memory(self.poke_all(
            &self.rule.poke_exit,
            call,
            tracee,
        )))
    }

    fn thread_exited(&mut self, tid: i32) {
        self.counts.retain(|&(t, _), _| t != tid);
    }

    /// Notes the first call of each other syscall that touched a `-P` path,
    /// while the rule has selected none; it costs nothing without `-P`.
    fn observe(&mut self, call: &Call, tracee: &Tracee) {
        let Some(paths) = &self.paths else {
            return;
        };
        if self.activity.selected > 0 {
            return;
        }
        let name = call.name();
        if self.activity.elsewhere.contains_key(&name) {
            return;
        }
        if let Some(path) = paths.matching(call, tracee) {
            let program = std::fs::read_to_string(format!("/proc/{}/comm", tracee.tid))
                .map(|comm| comm.trim_end().to_string())
                .unwrap_or_else(|_| "the program".to_string());
            let note = format!("{program} used {name} on {path}, which the rule does not name");
            self.activity.elsewhere.insert(name, note);
        }
    }

    fn idle_reason(&self) -> Option<String> {
        let activity = &self.activity;
        if self.named.is_empty() {
            // `none`: nothing to change, as asked.
            return None;
        }
        if self.rule.syscalls.is_empty() {
            return Some("later -e rules, or -e trace=, take every syscall it names".to_string());
        }
        let calls = syscall_names(&self.rule.syscalls);
        let mut reasons = Vec::new();
        match &self.paths {
            Some(paths) if activity.on_paths == 0 => {
                reasons.push(format!("{}: no {calls} call touched it", paths.describe()))
            }
            None if activity.made == 0 => reasons.push(format!("no {calls} call was made")),
            _ if activity.selected == 0 => reasons.push(format!(
                "when= selected none of its {} calls",
                activity.on_paths
            )),
            _ => {}
        }
        reasons.extend(activity.elsewhere.values().cloned());
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }
}

/// `write`, `open/openat`, or `matching` for a large set.
fn syscall_names(set: &SysnoSet) -> String {
    let names: Vec<&str> = set.iter().map(|sysno| sysno.name()).collect();
    if names.len() <= 3 {
        names.join("/")
    } else {
        "matching".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_filter_accepts_the_path_as_written_and_resolved() {
        let dir = std::env::temp_dir().join(format!("fi-pathfilter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("real");
        std::fs::write(&file, b"x").unwrap();
        let link = dir.join("link");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let filter = PathFilter::new(std::slice::from_ref(&link)).unwrap();
        assert!(filter.holds(&link));
        assert!(filter.holds(&file.canonicalize().unwrap()));
        assert!(!filter.holds(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn path_filter_takes_directory_prefixes_and_globs() {
        let args = ["/data/", "/logs/*.log", "/etc/host[ns]*", "/exact"].map(PathBuf::from);
        let filter = PathFilter::new(&args).unwrap();
        assert!(filter.holds(Path::new("/data")));
        assert!(filter.holds(Path::new("/data/a/b")));
        assert!(!filter.holds(Path::new("/database")));
        assert!(filter.holds(Path::new("/logs/app.log")));
        assert!(filter.holds(Path::new("/logs/2024/app.log")));
        assert!(!filter.holds(Path::new("/logs/app.log.1")));
        assert!(filter.holds(Path::new("/etc/hostname")));
        assert!(filter.holds(Path::new("/exact")));
        assert!(!filter.holds(Path::new("/exact/below")));
        assert_eq!(
            filter.describe(),
            "-P /data/, -P /logs/*.log, -P /etc/host[ns]*, -P /exact"
        );
    }

    #[test]
    fn path_filter_refuses_a_malformed_glob_by_name() {
        let error = PathFilter::new(&[PathBuf::from("/data/[ab")]).unwrap_err();
        assert!(error.starts_with("/data/[ab: "), "{error}");
    }
}
