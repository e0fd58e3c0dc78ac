//! The key of a fault point: what makes "the same call" recognisable in
//! another run of the program, whatever the thread interleaving, the
//! address-space layout or the temporary directory of that run.
//!
//! A key is
//! - `program`: the file name of the calling process's executable;
//! - `syscall`: the call's name;
//! - `path`: the path class of the file the call touches (its path
//!   argument, or the path of its fd): the run's working directory written
//!   as `{workdir}`, every alphanumeric run of six or more characters that
//!   mixes letters and digits (temporary names) as `*`, every other run of
//!   digits as `N`;
//! - `site`: the call stack in the caller, innermost first, each frame as
//!   `module+0xaddress` (the module's file name, the address within it);
//! - `ordinal`: how many calls with the same program, syscall, path and
//!   site came before this one, plus one, counted over the whole run.
//!
//! The [`PointKey::id`] of a key and a fault names one injection; the
//! [`PointKey::site_id`] names the code path findings are grouped by.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::faults::Fault;
use crate::tracee::stack::Frame;

/// A fault point's identity across runs (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PointKey {
    /// The caller's executable, by file name.
    pub program: String,
    /// The syscall's name.
    pub syscall: String,
    /// The path class of the file it touches (empty if none).
    pub path: String,
    /// The call stack, innermost first, as `module+0xaddress`.
    pub site: Vec<String>,
    /// 1 for the first call with this program, syscall, path and site.
    pub ordinal: u32,
}

impl PointKey {
    /// The short id of injecting `fault` at this point: what `--replay`
    /// takes.
    pub fn id(&self, fault: Fault) -> String {
        short_hash(&format!("{}\n{}\n{fault}", self.site_id(), self.ordinal))
    }

    /// The short id of the code path: program, syscall, path class and call
    /// site, without the ordinal. Findings are grouped by it, and it is
    /// what a suppression names.
    pub fn site_id(&self) -> String {
        short_hash(&format!(
            "{}\n{}\n{}\n{}",
            self.program,
            self.syscall,
            self.path,
            self.site.join("\n")
        ))
    }
}

fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..5].iter().map(|b| format!("{b:02x}")).collect()
}

/// `frames` as key text: `module+0xaddress`, the module by file name.
pub fn site_of(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .map(|frame| {
            let module = frame.module.file_name().unwrap_or_default();
            format!("{}+{:#x}", module.to_string_lossy(), frame.offset)
        })
        .collect()
}

/// The path class of `path` for a run whose working directory is `workdir`.
pub fn path_class(path: &Path, workdir: &Path) -> String {
    normalize_names(&workdir_relative(path, workdir))
}

/// `path` with the run's working directory written as `{workdir}`, before
/// any name is normalised.
pub fn workdir_relative(path: &Path, workdir: &Path) -> String {
    let text = match path.strip_prefix(workdir) {
        Ok(inside) if inside.as_os_str().is_empty() => "{workdir}".to_string(),
        Ok(inside) => format!("{{workdir}}/{}", inside.display()),
        Err(_) => path.display().to_string(),
    };
    match text.strip_suffix(" (deleted)") {
        Some(kept) => kept.to_string(),
        None => text,
    }
}

/// A random part of a file name, learned from two runs without faults
/// (a `mkstemp` name such as `file.txt.oVDvfBg`): a fixed `prefix`, `len`
/// random letters and digits, a fixed `suffix`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RandomName {
    /// The fixed text before the random part.
    pub prefix: String,
    /// How many random letters and digits (0: a number of any length).
    pub len: usize,
    /// The fixed text after it.
    pub suffix: String,
}

impl RandomName {
    /// `component` with its random part as `*`, if it has this shape.
    fn replace(&self, component: &str) -> Option<String> {
        let middle = component
            .strip_prefix(&self.prefix)?
            .strip_suffix(&self.suffix)?;
        let shaped = match self.len {
            // A random number: as many digits as it drew.
            0 => !middle.is_empty() && middle.bytes().all(|b| b.is_ascii_digit()),
            len => middle.len() == len && middle.bytes().all(|b| b.is_ascii_alphanumeric()),
        };
        shaped.then(|| format!("{}*{}", self.prefix, self.suffix))
    }

    /// The random part two names of one file in two runs differ by: the
    /// run of letters and digits around the characters that differ.
    fn between(first: &str, second: &str) -> Option<RandomName> {
        if first == second {
            return None;
        }
        if let Some(number) = RandomName::number_between(first, second) {
            return Some(number);
        }
        if first.len() != second.len() {
            return None;
        }
        let (a, b) = (first.as_bytes(), second.as_bytes());
        let mut start = a.iter().zip(b).position(|(x, y)| x != y)?;
        let mut end = a.len()
            - a.iter()
                .rev()
                .zip(b.iter().rev())
                .position(|(x, y)| x != y)?;
        let alnum = |i: usize| a[i].is_ascii_alphanumeric() && b[i].is_ascii_alphanumeric();
        if !(start..end).all(alnum) {
            return None;
        }
        while start > 0 && alnum(start - 1) {
            start -= 1;
        }
        while end < a.len() && alnum(end) {
            end += 1;
        }
        // Digits in both (a process id inside a longer name:
        // `.tmp-10388-pack-<hash>.pack`): a number, of any length.
        let digits = |x: &[u8]| x[start..end].iter().all(u8::is_ascii_digit);
        Some(RandomName {
            prefix: first[..start].to_string(),
            len: if digits(a) && digits(b) {
                0
            } else {
                end - start
            },
            suffix: first[end..].to_string(),
        })
    }

    /// Two names that differ in a run of digits only, of any length (Go's
    /// `os.CreateTemp`, `main.go.1534096273`): a random number.
    fn number_between(first: &str, second: &str) -> Option<RandomName> {
        // Bytes, not text: the fixed parts may end inside a character; the
        // slices below are taken only where a digit starts or ends them.
        let digits = |text: &str, from: usize, to: usize| {
            to > from && text.as_bytes()[from..to].iter().all(u8::is_ascii_digit)
        };
        let prefix = first
            .bytes()
            .zip(second.bytes())
            .take_while(|(a, b)| a == b && !a.is_ascii_digit())
            .count();
        let suffix = first
            .bytes()
            .rev()
            .zip(second.bytes().rev())
            .take_while(|(a, b)| a == b && !a.is_ascii_digit())
            .count();
        let (first_end, second_end) = (
            first.len().checked_sub(suffix)?,
            second.len().checked_sub(suffix)?,
        );
        // The number is a whole run of letters and digits: `3c` and `8c`
        // (git's object directories, two hex digits) are a random name of
        // two characters, not a number before a fixed `c`.
        let alnum_at = |at: usize| {
            first
                .as_bytes()
                .get(at)
                .is_some_and(u8::is_ascii_alphanumeric)
        };
        if (prefix > 0 && alnum_at(prefix - 1)) || alnum_at(first_end) {
            return None;
        }
        (digits(first, prefix, first_end) && digits(second, prefix, second_end)).then(|| {
            RandomName {
                prefix: first[..prefix].to_string(),
                len: 0,
                suffix: first[first_end..].to_string(),
            }
        })
    }
}

/// The random file names of a program: the shapes of the path components
/// that differ between two runs without faults. A point on such a file is
/// the same point in every run, whatever name it drew.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RandomNames(Vec<RandomName>);

impl RandomNames {
    /// The random names of two runs' paths (as [`workdir_relative`] gives
    /// them): each path of one run that the other has not is paired with
    /// one of the other's of as many components, differing only in random
    /// parts.
    pub fn learn(first: &[String], second: &[String]) -> RandomNames {
        let only = |these: &[String], those: &[String]| -> Vec<String> {
            let mut only: Vec<String> = these
                .iter()
                .filter(|path| !those.contains(path))
                .cloned()
                .collect();
            only.sort();
            only.dedup();
            only
        };
        let (ours, theirs) = (only(first, second), only(second, first));
        let mut names = Vec::new();
        for path in &ours {
            let components: Vec<&str> = path.split('/').collect();
            let paired = theirs.iter().find_map(|other| {
                let others: Vec<&str> = other.split('/').collect();
                if others.len() != components.len() {
                    return None;
                }
                components
                    .iter()
                    .zip(&others)
                    .filter(|(a, b)| a != b)
                    .map(|(a, b)| RandomName::between(a, b))
                    .collect::<Option<Vec<_>>>()
            });
            names.extend(paired.into_iter().flatten());
        }
        names.sort();
        names.dedup();
        RandomNames(names)
    }

    /// The path class of `path` (as [`workdir_relative`] gives it): random
    /// parts as `*`, then [`normalize_names`].
    pub fn class(&self, path: &str) -> String {
        normalize_names(&self.glob(path))
    }

    /// `path` (as [`workdir_relative`] gives it) with its random parts as
    /// `*`, and nothing else changed: a glob of the file in every run.
    pub fn glob(&self, path: &str) -> String {
        let replaced: Vec<String> = path
            .split('/')
            .map(|component| {
                self.0
                    .iter()
                    .find_map(|name| name.replace(component))
                    .unwrap_or_else(|| component.to_string())
            })
            .collect();
        replaced.join("/")
    }

    /// Whether no random name was learned.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Temporary names to `*`, other digit runs to `N`.
pub(super) fn normalize_names(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.bytes().filter(u8::is_ascii_digit).count();
        if run.len() >= 6 && digits > 0 && digits < run.len() {
            out.push('*');
        } else {
            let mut in_digits = false;
            for c in run.chars() {
                if c.is_ascii_digit() {
                    if !in_digits {
                        out.push('N');
                    }
                    in_digits = true;
                } else {
                    out.push(c);
                    in_digits = false;
                }
            }
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workdir_temporary_names_and_numbers_are_normalised() {
        let workdir = Path::new("/tmp/fault-explore-1234/run-7");
        assert_eq!(
            path_class(
                Path::new("/tmp/fault-explore-1234/run-7/db/wal.000012"),
                workdir
            ),
            "{workdir}/db/wal.N"
        );
        assert_eq!(
            path_class(Path::new("/tmp/tmpk3j_x9w2/data.txt"), workdir),
            "/tmp/*_xNwN/data.txt"
        );
        assert_eq!(
            path_class(Path::new("/data/etilqs_a8f9e7d6c5"), workdir),
            "/data/etilqs_*"
        );
        assert_eq!(
            path_class(Path::new("/data/test.txt"), workdir),
            "/data/test.txt"
        );
    }

    #[test]
    fn names_that_differ_between_two_runs_are_random_in_every_run() {
        let first = vec![
            "{workdir}/file.txt.oVDvfBg".to_string(),
            "{workdir}/.git/objects/pack/tmp_pack_lumurY".to_string(),
            "{workdir}/file.txt".to_string(),
        ];
        let second = vec![
            "{workdir}/file.txt.QkzWpaE".to_string(),
            "{workdir}/.git/objects/pack/tmp_pack_xAbcdY".to_string(),
            "{workdir}/file.txt".to_string(),
        ];
        let random = RandomNames::learn(&first, &second);
        assert_eq!(
            random.class("{workdir}/file.txt.zzTopQQ"),
            "{workdir}/file.txt.*"
        );
        assert_eq!(
            random.class("{workdir}/.git/objects/pack/tmp_pack_Qwerty"),
            "{workdir}/.git/objects/pack/tmp_pack_*"
        );
        assert_eq!(random.class("{workdir}/file.txt"), "{workdir}/file.txt");
        let numbers = RandomNames::learn(
            &["{workdir}/main.go.1534096273".to_string()],
            &["{workdir}/main.go.987654321".to_string()],
        );
        assert_eq!(
            numbers.class("{workdir}/main.go.42424242"),
            "{workdir}/main.go.*"
        );
        // A process id amid a name is a number, however many digits the
        // next run's has.
        let pid = RandomNames::learn(
            &["{workdir}/.tmp-10388-pack-42e1.pack".to_string()],
            &["{workdir}/.tmp-10465-pack-42e1.pack".to_string()],
        );
        assert_eq!(
            pid.glob("{workdir}/.tmp-100017-pack-42e1.pack"),
            "{workdir}/.tmp-*-pack-42e1.pack"
        );
        // Hex directory names that happen to share a letter are two random
        // characters, whatever the next run draws.
        let hex = RandomNames::learn(
            &["{workdir}/.git/objects/3c/tmp_obj_a".to_string()],
            &["{workdir}/.git/objects/8c/tmp_obj_a".to_string()],
        );
        assert_eq!(
            hex.class("{workdir}/.git/objects/fe/tmp_obj_a"),
            "{workdir}/.git/objects/*/tmp_obj_a"
        );
        // Another length, or another shape, is another file.
        assert_eq!(
            random.class("{workdir}/file.txt.orig"),
            "{workdir}/file.txt.orig"
        );
        assert!(RandomNames::learn(&first, &first).is_empty());
    }

    #[test]
    fn ids_change_with_the_fault_and_the_ordinal_but_site_ids_do_not() {
        let key = PointKey {
            program: "db".into(),
            syscall: "write".into(),
            path: "{workdir}/db.log".into(),
            site: vec!["libc.so.6+0x1234".into(), "db+0x99".into()],
            ordinal: 1,
        };
        let second = PointKey {
            ordinal: 2,
            ..key.clone()
        };
        let eio = Fault::Errno(syscalls::Errno::EIO);
        assert_ne!(key.id(eio), key.id(Fault::Short));
        assert_ne!(key.id(eio), second.id(eio));
        assert_eq!(key.site_id(), second.site_id());
        assert_eq!(key.id(eio).len(), 10);
    }
}
