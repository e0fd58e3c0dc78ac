//! strace's syscall-set expression (the value of `-e trace=`), shared by
//! `-e inject=SET:...`, `-e fault=SET:...` and plugin subscriptions.
//!
//! A set is a comma-separated list of elements, optionally preceded by `!`
//! which negates the whole list:
//!
//! - a syscall name (`write`) or x86_64 number (`1`);
//! - a class: `%file`, `%desc`, `%network`/`%net`, `%process`, `%signal`,
//!   `%memory`, `%ipc`, `%creds`, `%clock`, `%stat`, `%lstat`, `%fstat`,
//!   `%%stat`, `%statfs`, `%fstatfs`, `%%statfs`, `%pure`, and the legacy
//!   spellings `file`, `desc`, `network`, `process`, `signal`, `ipc`,
//!   `memory`;
//! - `/REGEX`: every syscall whose name the regex matches (unanchored);
//! - `all`: every syscall.
//!
//! The whole list may also be `all` or `none`. An element prefixed with `?`
//! is dropped silently when it selects nothing (unknown name, number or
//! class, or a regex that matches nothing). A set may select nothing
//! (`none`, `!all`): as in strace, a rule over it changes nothing.

use regex::Regex;
use syscalls::{Sysno, SysnoSet};
use thiserror::Error;

use crate::arch::classes::{class_by_name, syscalls_in, Classes};
use fi_grammar::DidYouMean;

/// Why a syscall-set expression was rejected; each names the offending part.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SetError {
    /// The list (or the part after `!`) is empty.
    #[error("empty syscall set")]
    Empty,
    /// Two commas in a row, or a leading or trailing comma.
    #[error("empty element in syscall set '{0}'")]
    EmptyElement(String),
    /// No x86_64 syscall has this name.
    #[error("unknown syscall '{0}'{1}")]
    UnknownSyscall(String, DidYouMean),
    /// No syscall class has this name.
    #[error("unknown class '{0}'")]
    UnknownClass(String),
    /// A number that is not an x86_64 syscall number.
    #[error("invalid syscall number '{0}'")]
    InvalidNumber(String),
    /// A `/REGEX` element that does not compile.
    #[error("invalid regex '{element}': {reason}")]
    InvalidRegex {
        /// The element, with its `/`.
        element: String,
        /// What the regex compiler objected to.
        reason: String,
    },
    /// A `/REGEX` element that matches no syscall name.
    #[error("regex '{0}' matches no syscall")]
    NoMatch(String),
}

/// Legacy class names strace accepts without the leading `%`.
const LEGACY_CLASSES: [&str; 7] = [
    "file", "desc", "network", "process", "signal", "ipc", "memory",
];

/// Parse a syscall-set expression (`write,%net`, `!/^sched_`, `all`,
/// `none`).
pub fn parse_syscall_set(text: &str) -> Result<SysnoSet, SetError> {
    let (negate, list) = strip_negation(text);
    let selected = match list {
        "" => return Err(SetError::Empty),
        "all" => SysnoSet::all(),
        "none" => SysnoSet::empty(),
        _ => parse_list(list)?,
    };
    Ok(if negate {
        SysnoSet::all().difference(&selected)
    } else {
        selected
    })
}

/// The union of `items`, each parsed as one element of a syscall set (a
/// name, number, `%class`, `/REGEX` or `all`; no `!` and no commas). This is
/// what plugin subscriptions send. An empty list selects nothing.
pub fn syscalls_for_list(items: &[String]) -> Result<SysnoSet, SetError> {
    let mut set = SysnoSet::empty();
    for item in items {
        set = set.union(&parse_element(item)?);
    }
    Ok(set)
}

/// Strip leading `!`s; each one inverts the rest, so an odd count negates.
fn strip_negation(text: &str) -> (bool, &str) {
    let list = text.trim_start_matches('!');
    let bangs = text.len() - list.len();
    (bangs % 2 == 1, list)
}

fn parse_list(list: &str) -> Result<SysnoSet, SetError> {
    let mut set = SysnoSet::empty();
    for element in list.split(',') {
        if element.is_empty() {
            return Err(SetError::EmptyElement(list.to_owned()));
        }
        set = set.union(&parse_element(element)?);
    }
    Ok(set)
}

/// One element; a `?` prefix turns "selects nothing" into an empty set.
fn parse_element(element: &str) -> Result<SysnoSet, SetError> {
    let required = element.trim_start_matches('?');
    let optional = required.len() < element.len();
    if required.is_empty() {
        return Err(SetError::EmptyElement(element.to_owned()));
    }
    match parse_required(required) {
        // A regex that does not compile is a typo, not an unknown name.
        Err(err) if optional && !matches!(err, SetError::InvalidRegex { .. }) => {
            Ok(SysnoSet::empty())
        }
        result => result,
    }
}

fn parse_required(element: &str) -> Result<SysnoSet, SetError> {
    if element.starts_with(|c: char| c.is_ascii_digit()) {
        parse_number(element)
    } else if let Some(pattern) = element.strip_prefix('/') {
        parse_regex(element, pattern)
    } else if let Some(class) = element.strip_prefix('%') {
        class_by_name(class)
            .map(syscalls_in)
            .ok_or_else(|| SetError::UnknownClass(element.to_owned()))
    } else if element == "all" {
        Ok(SysnoSet::all())
    } else if let Some(class) = legacy_class(element) {
        Ok(syscalls_in(class))
    } else {
        parse_name(element)
    }
}

fn legacy_class(name: &str) -> Option<Classes> {
    class_by_name(name).filter(|_| LEGACY_CLASSES.contains(&name))
}

fn parse_number(element: &str) -> Result<SysnoSet, SetError> {
    element
        .parse::<usize>()
        .ok()
        .and_then(Sysno::new)
        .map(|sysno| SysnoSet::new(&[sysno]))
        .ok_or_else(|| SetError::InvalidNumber(element.to_owned()))
}

fn parse_name(element: &str) -> Result<SysnoSet, SetError> {
    element
        .parse::<Sysno>()
        .map(|sysno| SysnoSet::new(&[sysno]))
        .map_err(|()| {
            // A name misspelt, not a misplaced operator (`write,!read`).
            let misspelt = element
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
            let suggestion = match misspelt {
                true => DidYouMean::among(element, Sysno::iter().map(|sysno| sysno.name())),
                false => DidYouMean::default(),
            };
            SetError::UnknownSyscall(element.to_owned(), suggestion)
        })
}

fn parse_regex(element: &str, pattern: &str) -> Result<SysnoSet, SetError> {
    let regex = Regex::new(pattern).map_err(|err| SetError::InvalidRegex {
        element: element.to_owned(),
        reason: regex_reason(&err),
    })?;
    let set: SysnoSet = SysnoSet::all()
        .iter()
        .filter(|sysno| regex.is_match(sysno.name()))
        .collect();
    if set.is_empty() {
        return Err(SetError::NoMatch(element.to_owned()));
    }
    Ok(set)
}

/// The last line of a regex error: the multi-line form draws a caret under
/// the pattern, which does not survive being put on one line.
fn regex_reason(err: &regex::Error) -> String {
    let text = err.to_string();
    let last = text.lines().last().unwrap_or_default().trim();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_of(names: &[Sysno]) -> SysnoSet {
        SysnoSet::new(names)
    }

    fn err(text: &str) -> String {
        parse_syscall_set(text).unwrap_err().to_string()
    }

    #[test]
    fn names_numbers_and_lists() {
        assert_eq!(parse_syscall_set("write"), Ok(set_of(&[Sysno::write])));
        assert_eq!(parse_syscall_set("1"), Ok(set_of(&[Sysno::write])));
        assert_eq!(
            parse_syscall_set("openat,read,3"),
            Ok(set_of(&[Sysno::openat, Sysno::read, Sysno::close]))
        );
        assert_eq!(
            parse_syscall_set("file_setattr"),
            Ok(set_of(&[Sysno::file_setattr]))
        );
    }

    #[test]
    fn classes_with_and_without_percent() {
        let file = parse_syscall_set("%file").unwrap();
        assert!(file.contains(Sysno::openat) && !file.contains(Sysno::write));
        assert_eq!(parse_syscall_set("file").unwrap(), file);
        assert_eq!(parse_syscall_set("%net"), parse_syscall_set("%network"));
        assert_eq!(parse_syscall_set("network"), parse_syscall_set("%network"));
        let stat_like = parse_syscall_set("%%stat").unwrap();
        assert!(stat_like.contains(Sysno::statx) && stat_like.contains(Sysno::lstat));
        assert!(parse_syscall_set("%%statfs")
            .unwrap()
            .contains(Sysno::ustat));
        assert_eq!(err("%fiel"), "unknown class '%fiel'");
        // Only the seven historical classes have a %-less spelling.
        assert_eq!(err("creds"), "unknown syscall 'creds'");
    }

    #[test]
    fn regex_selects_by_name() {
        let set = parse_syscall_set("/^pread").unwrap();
        assert_eq!(
            set,
            set_of(&[Sysno::pread64, Sysno::preadv, Sysno::preadv2])
        );
        let set = parse_syscall_set("/sync").unwrap();
        assert!(set.contains(Sysno::fsync) && set.contains(Sysno::syncfs));
        assert_eq!(err("/["), "invalid regex '/[': unclosed character class");
        assert_eq!(err("/^nothing$"), "regex '/^nothing$' matches no syscall");
        assert_eq!(parse_syscall_set("?/^nothing$,write"), Ok(set_of_write()));
        assert!(parse_syscall_set("?/[").is_err());
    }

    fn set_of_write() -> SysnoSet {
        set_of(&[Sysno::write])
    }

    #[test]
    fn negation_applies_to_the_whole_list() {
        let set = parse_syscall_set("!write,read").unwrap();
        assert!(!set.contains(Sysno::write) && !set.contains(Sysno::read));
        assert!(set.contains(Sysno::openat));
        assert_eq!(parse_syscall_set("!!write"), Ok(set_of_write()));
        assert_eq!(parse_syscall_set("!none"), Ok(SysnoSet::all()));
        assert_eq!(parse_syscall_set("all"), Ok(SysnoSet::all()));
        assert_eq!(parse_syscall_set("write,all"), Ok(SysnoSet::all()));
        // Sets that select nothing are accepted, as strace accepts them.
        for empty in ["none", "!all", "?fsycn", "!!none"] {
            assert_eq!(parse_syscall_set(empty), Ok(SysnoSet::empty()), "{empty}");
        }
    }

    #[test]
    fn question_mark_ignores_unknown_elements() {
        assert_eq!(parse_syscall_set("?fsycn,write"), Ok(set_of_write()));
        assert_eq!(parse_syscall_set("??%fiel,write"), Ok(set_of_write()));
        assert_eq!(parse_syscall_set("?9999,write"), Ok(set_of_write()));
        assert_eq!(parse_syscall_set("?write"), Ok(set_of_write()));
    }

    #[test]
    fn rejected_sets() {
        let cases = [
            ("", "empty syscall set"),
            ("!", "empty syscall set"),
            ("fsycn", "unknown syscall 'fsycn' (did you mean 'fsync'?)"),
            (
                "write,fsycn",
                "unknown syscall 'fsycn' (did you mean 'fsync'?)",
            ),
            ("nosuchcall", "unknown syscall 'nosuchcall'"),
            ("none,write", "unknown syscall 'none'"),
            ("9999", "invalid syscall number '9999'"),
            ("400", "invalid syscall number '400'"),
            ("1x", "invalid syscall number '1x'"),
            ("write,,read", "empty element in syscall set 'write,,read'"),
            ("write,", "empty element in syscall set 'write,'"),
            ("?", "empty element in syscall set '?'"),
        ];
        for (text, message) in cases {
            assert_eq!(err(text), message, "{text}");
        }
    }

    #[test]
    fn lists_from_plugins_are_unions() {
        let items = ["write".to_owned(), "0".to_owned(), "%pure".to_owned()];
        let set = syscalls_for_list(&items).unwrap();
        assert!(set.contains(Sysno::write) && set.contains(Sysno::read));
        assert!(set.contains(Sysno::getpid) && !set.contains(Sysno::openat));
        assert_eq!(syscalls_for_list(&[]), Ok(SysnoSet::empty()));
        let bad = ["write".to_owned(), "fsycn".to_owned()];
        assert_eq!(
            syscalls_for_list(&bad),
            Err(SetError::UnknownSyscall(
                "fsycn".to_owned(),
                DidYouMean::among("fsycn", ["fsync"])
            ))
        );
        let comma = ["write,read".to_owned()];
        assert!(syscalls_for_list(&comma).is_err());
    }
}
