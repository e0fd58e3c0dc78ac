//! A plugin's `subscription.paths`: the globs of the files it acts on.
//! fault asks the plugin only about calls that touch a matching file, or
//! none at all; with only absolute globs, the engine also leaves calls on
//! descriptors of other files unstopped ([`FdPaths`]).

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{anyhow, bail, Result};

use crate::policy::FdPaths;

/// Globs of paths, `*` matching `/` too, as a plugin wrote them.
///
/// Each glob is matched by the regular expression globset translates it
/// to, all of them in one set, on the path's bytes: what a `GlobSet`
/// decides, without the candidate it builds per path (its file name and
/// extension, for strategies a glob like `/data/*` does not use). Asked
/// about every call of a run with a path, that was most of what a plugin
/// declaring `paths` cost over a rule.
#[derive(Clone)]
pub struct PathGlobs {
    set: regex::bytes::RegexSet,
    written: Vec<String>,
}

impl PathGlobs {
    /// The globs of `patterns`; `None` for none (the plugin acts on any
    /// file). Fails on a malformed or empty glob, naming it.
    pub fn new(patterns: &[String]) -> Result<Option<PathGlobs>> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let mut regexes = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            if pattern.is_empty() {
                bail!("an empty glob");
            }
            let glob = globset::Glob::new(pattern).map_err(|e| anyhow!("{pattern}: {e}"))?;
            regexes.push(glob.regex().to_string());
        }
        Ok(Some(PathGlobs {
            set: regex::bytes::RegexSet::new(regexes)?,
            written: patterns.to_vec(),
        }))
    }

    /// The globs as the plugin wrote them.
    pub fn written(&self) -> &[String] {
        &self.written
    }

    /// Whether a call touching `paths` (as `tracee.call-paths` lists them)
    /// may matter to the plugin: it touches no file, or a matching one.
    pub fn may_matter(&self, paths: &[std::path::PathBuf]) -> bool {
        paths.is_empty() || paths.iter().any(|path| self.holds(path))
    }

    /// The globs as the files whose descriptors' calls the plugin decides,
    /// when they are all absolute: a glob that is not (`pipe:*`, `*`) may
    /// match a pipe or a socket, which no open names.
    pub fn as_fd_paths(&self) -> Option<&dyn FdPaths> {
        self.written
            .iter()
            .all(|glob| glob.starts_with('/'))
            .then_some(self as &dyn FdPaths)
    }
}

impl FdPaths for PathGlobs {
    fn holds(&self, path: &Path) -> bool {
        self.set.is_match(path.as_os_str().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn globs(patterns: &[&str]) -> PathGlobs {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        PathGlobs::new(&patterns).unwrap().unwrap()
    }

    #[test]
    fn a_call_matters_if_it_touches_no_file_or_a_matching_one() {
        let data = globs(&["/data/*"]);
        let paths = |list: &[&str]| list.iter().map(PathBuf::from).collect::<Vec<_>>();
        assert!(!data.may_matter(&paths(&["/etc/hostname"])));
        assert!(data.may_matter(&paths(&["/data/db/wal.log"])));
        assert!(data.may_matter(&paths(&["/etc/hostname", "/data/x"])));
        assert!(data.may_matter(&[]));
        assert!(!data.may_matter(&paths(&["pipe:[12]"])));
    }

    #[test]
    fn the_globs_decide_every_path_as_a_globset_of_them_does() {
        use std::ffi::OsStr;
        let patterns = [
            "/data/*",
            "/data/*.log",
            "/var/lib/?b/wal-[0-9]*",
            "/srv/{a,b}/**/x",
            "*.tmp",
            "/odd/\\*name",
            "pipe:*",
        ];
        let paths: Vec<&Path> = [
            "/data/x",
            "/data/db/wal.log",
            "/data",
            "/datax/y",
            "/var/lib/db/wal-12",
            "/var/lib/dbb/wal-12",
            "/srv/a/one/two/x",
            "/srv/c/x",
            "/tmp/scratch.tmp",
            "/odd/*name",
            "/odd/xname",
            "pipe:[12]",
            "socket:[7]",
        ]
        .iter()
        .map(Path::new)
        .chain([Path::new(OsStr::from_bytes(b"/data/\xff\xfe"))])
        .collect();
        for pattern in patterns {
            let ours = globs(&[pattern]);
            let theirs = globset::GlobSet::new([globset::Glob::new(pattern).unwrap()]).unwrap();
            for path in &paths {
                assert_eq!(
                    ours.holds(path),
                    theirs.is_match(path),
                    "{pattern} on {}",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn only_absolute_globs_scope_descriptor_calls() {
        assert!(globs(&["/data/*", "/logs/*"]).as_fd_paths().is_some());
        assert!(globs(&["/data/*", "pipe:*"]).as_fd_paths().is_none());
        assert!(PathGlobs::new(&[]).unwrap().is_none());
        let error = PathGlobs::new(&["/data/[".to_string()]).err().unwrap();
        assert!(error.to_string().starts_with("/data/["), "{error}");
    }
}
