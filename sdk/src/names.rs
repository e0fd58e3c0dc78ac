//! x86_64 system call numbers and errno values, with their names.
//!
//! The tables are generated at build time from the `syscalls` crate (the one
//! fi itself uses) and the errno aliases from fi-grammar's (the one fi's
//! rules use), so names here and on fi's command line agree.

use std::fmt;
use std::str::FromStr;

/// An x86_64 system call number, such as [`Sysno::write`] (1).
///
/// Every known call has a constant named as in the kernel and strace, so a
/// policy can `match` on them:
///
/// ```
/// use fi_sdk::Sysno;
///
/// fn is_sync(sysno: Sysno) -> bool {
///     matches!(sysno, Sysno::fsync | Sysno::fdatasync)
/// }
/// assert!(is_sync(Sysno::new(74)));
/// assert_eq!(Sysno::fsync.name(), Some("fsync"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sysno(u32);

/// An errno value, such as [`Errno::EIO`] (5).
///
/// Parses from a name (`EIO`, any case) or a number (`5`):
///
/// ```
/// use fi_sdk::Errno;
///
/// assert_eq!("EIO".parse::<Errno>(), Ok(Errno::EIO));
/// assert_eq!("5".parse::<Errno>(), Ok(Errno::EIO));
/// assert_eq!(Errno::ENOSPC.to_string(), "ENOSPC");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(u16);

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

impl Sysno {
    /// The call with this number; any number is accepted.
    pub const fn new(nr: u32) -> Sysno {
        Sysno(nr)
    }

    /// The raw number.
    pub const fn nr(self) -> u32 {
        self.0
    }

    /// The call's name (`write`), or `None` for a number no known call has.
    pub fn name(self) -> Option<&'static str> {
        SYSCALL_NAMES
            .get(self.0 as usize)
            .copied()
            .filter(|name| !name.is_empty())
    }
}

impl fmt::Display for Sysno {
    /// The name, or `syscall_N` for an unknown number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "syscall_{}", self.0),
        }
    }
}

impl Errno {
    /// The errno with this code.
    ///
    /// # Panics
    ///
    /// If `code` is 0 or above 4095, which no errno is.
    pub const fn new(code: u16) -> Errno {
        assert!(code > 0 && code < 4096, "an errno is between 1 and 4095");
        Errno(code)
    }

    /// The errno a raw system call result reports: `Some(EIO)` for -5,
    /// `None` for a success (results from -4095 to -1 are errors).
    pub fn from_result(result: i64) -> Option<Errno> {
        (-4095..0)
            .contains(&result)
            .then(|| Errno((-result) as u16))
    }

    /// The raw code (5 for `EIO`).
    pub const fn code(self) -> u16 {
        self.0
    }

    /// The name (`EIO`), or `None` for a code without one.
    pub fn name(self) -> Option<&'static str> {
        self.entry().map(|(_, name, _)| name)
    }

    /// The kernel's description (`I/O error`), or `None` for a code without
    /// one.
    pub fn description(self) -> Option<&'static str> {
        self.entry().map(|(_, _, description)| description)
    }

    fn entry(self) -> Option<(Errno, &'static str, &'static str)> {
        ERRNOS.iter().copied().find(|(errno, _, _)| *errno == self)
    }
}

impl fmt::Display for Errno {
    /// The name, or the code for an errno without one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

impl FromStr for Errno {
    type Err = String;

    fn from_str(s: &str) -> Result<Errno, String> {
        if let Ok(code) = s.parse::<u16>() {
            return match code {
                1..4096 => Ok(Errno(code)),
                _ => Err(format!("errno {code} is out of range (1 to 4095)")),
            };
        }
        let name = fi_grammar::names::errno_alias(s).unwrap_or(s);
        ERRNOS
            .iter()
            .find(|(_, known, _)| known.eq_ignore_ascii_case(name))
            .map(|&(errno, _, _)| errno)
            .ok_or_else(|| format!("'{s}' is not an errno name (such as EIO) or number"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_names() {
        assert_eq!(Sysno::write.nr(), 1);
        assert_eq!(Sysno::sendto.nr(), 44);
        assert_eq!(Sysno::new(74).name(), Some("fsync"));
        assert_eq!(Sysno::new(400).name(), None);
        assert_eq!(Sysno::new(400).to_string(), "syscall_400");
        assert_eq!(Sysno::pwritev2.to_string(), "pwritev2");
    }

    #[test]
    fn errno_names_and_numbers() {
        assert_eq!(Errno::EIO.code(), 5);
        assert_eq!(Errno::EIO.description(), Some("I/O error"));
        assert_eq!("eacces".parse(), Ok(Errno::EACCES));
        assert_eq!("EWOULDBLOCK".parse(), Ok(Errno::EAGAIN));
        assert_eq!("28".parse::<Errno>().unwrap().to_string(), "ENOSPC");
        assert_eq!(Errno::new(999).to_string(), "999");
        assert!("0".parse::<Errno>().is_err());
        assert_eq!(
            "EIOO".parse::<Errno>(),
            Err("'EIOO' is not an errno name (such as EIO) or number".into())
        );
    }

    #[test]
    fn errno_from_result() {
        assert_eq!(Errno::from_result(-5), Some(Errno::EIO));
        assert_eq!(Errno::from_result(0), None);
        assert_eq!(Errno::from_result(12), None);
        assert_eq!(Errno::from_result(-4096), None);
    }
}
