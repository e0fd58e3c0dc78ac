//! strace-compatible rules (`-e inject=...`, `-e fault=...`, `-P PATH`): the
//! first implementation of the [`Policy`] seam.

pub mod parse;
pub mod syscall_set;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use syscalls::SysnoSet;

use crate::policy::{Action, Call, Policy, PolicyError, Verdict};
use crate::tracee::Tracee;
use parse::{Fault, Rule};

/// The paths of `-P`: tampering is limited to calls that touch one of them
/// through a path argument or an fd.
#[derive(Debug, Default)]
pub struct PathFilter {
    paths: Vec<PathBuf>,
}

impl PathFilter {
    /// A filter for the paths given with `-P`, relative ones taken from fi's
    /// working directory. Each path matches as written and as its symlinks
    /// resolve, since fds name the resolved file.
    pub fn new(paths: &[PathBuf]) -> std::io::Result<PathFilter> {
        let cwd = std::env::current_dir()?;
        let mut accepted = Vec::new();
        for path in paths {
            let absolute = crate::tracee::resolve_path_at(&cwd, path);
            if let Ok(real) = absolute.canonicalize() {
                accepted.push(real);
            }
            accepted.push(absolute);
        }
        Ok(PathFilter { paths: accepted })
    }

    /// Whether `call` touches one of the filter's paths.
    pub fn matches(&self, call: &Call, tracee: &Tracee) -> bool {
        tracee
            .call_paths(call)
            .iter()
            .any(|path| self.contains(path))
    }

    fn contains(&self, path: &Path) -> bool {
        self.paths.iter().any(|p| p == path)
    }
}

/// One `-e inject=` or `-e fault=` rule, counting calls per thread and per
/// syscall as strace does for `when=`.
pub struct RulePolicy {
    name: String,
    rule: Rule,
    paths: Option<Arc<PathFilter>>,
    counts: HashMap<(i32, i64), u32>,
}

impl RulePolicy {
    /// A policy applying `rule`, limited to the `-P` paths if any.
    pub fn new(rule: Rule, paths: Option<Arc<PathFilter>>) -> RulePolicy {
        RulePolicy {
            name: format!("-e {}", rule.text),
            rule,
            paths,
            counts: HashMap::new(),
        }
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

    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError> {
        if let Some(paths) = &self.paths {
            if !paths.matches(call, tracee) {
                return Ok(Verdict::PASS);
            }
        }
        if !self.selects(call) {
            return Ok(Verdict::PASS);
        }
        let mut verdict = Verdict {
            delay_enter: self.rule.delay_enter.unwrap_or_default(),
            delay_exit: self.rule.delay_exit.unwrap_or_default(),
            signal: self.rule.signal.map(|signal| signal as i32),
            ..Verdict::PASS
        };
        match (self.rule.replace, self.rule.fault) {
            // The substitute runs; a fault then overrides its result on exit.
            (Some(substitute), fault) => {
                call.nr = substitute.id() as i64;
                verdict.want_exit = fault.is_some();
            }
            (None, Some(Fault::Error(errno))) => verdict.action = Action::Fail(errno),
            (None, Some(Fault::Retval(value))) => verdict.action = Action::Return(value),
            (None, None) => {}
        }
        Ok(verdict)
    }

    fn on_exit(
        &mut self,
        _call: &Call,
        result: &mut i64,
        _tracee: &Tracee,
    ) -> Result<bool, PolicyError> {
        match self.rule.fault {
            Some(Fault::Error(errno)) => *result = -i64::from(errno.into_raw()),
            Some(Fault::Retval(value)) => *result = value,
            None => {}
        }
        Ok(false)
    }

    fn thread_exited(&mut self, tid: i32) {
        self.counts.retain(|&(t, _), _| t != tid);
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
        assert!(filter.contains(&link));
        assert!(filter.contains(&file.canonicalize().unwrap()));
        assert!(!filter.contains(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
