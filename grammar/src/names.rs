//! Spellings of errno and signal names beyond the canonical ones, shared by
//! fi's rules and its SDK. The canonical tables themselves come from the
//! `syscalls` crate (errno) and `nix` (signals) on the host, and are
//! generated from `syscalls` for the SDK.

/// Other names of errno values, as in `<errno.h>`: (alias, canonical name).
/// strace's table knows only the canonical names.
pub const ERRNO_ALIASES: &[(&str, &str)] = &[
    ("EWOULDBLOCK", "EAGAIN"),
    ("EDEADLOCK", "EDEADLK"),
    ("ENOTSUP", "EOPNOTSUPP"),
];

/// The canonical errno name an alias stands for (`EWOULDBLOCK` → `EAGAIN`),
/// in any case; `None` for a name that is not an alias.
pub fn errno_alias(name: &str) -> Option<&'static str> {
    ERRNO_ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map(|&(_, canonical)| canonical)
}

/// A signal name without its `SIG` prefix, in any case (`SIGKILL`, `sigkill`
/// and `KILL` all give `KILL`'s spelling as typed without the prefix).
pub fn strip_sig_prefix(name: &str) -> &str {
    match name.get(..3) {
        Some(prefix) if prefix.eq_ignore_ascii_case("SIG") => &name[3..],
        _ => name,
    }
}

/// Whether `typed` names the signal called `canonical` (`SIGKILL`): case
/// does not matter and the `SIG` prefix is optional, as in strace's
/// `signal=`.
pub fn signal_name_matches(canonical: &str, typed: &str) -> bool {
    strip_sig_prefix(canonical).eq_ignore_ascii_case(strip_sig_prefix(typed))
}

/// `AT_FDCWD`, the dirfd meaning "the working directory", on Linux. The SDK
/// builds for WASI, whose `libc` has a different value.
pub const AT_FDCWD: i32 = -100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_aliases() {
        assert_eq!(errno_alias("EWOULDBLOCK"), Some("EAGAIN"));
        assert_eq!(errno_alias("enotsup"), Some("EOPNOTSUPP"));
        assert_eq!(errno_alias("EAGAIN"), None);
    }

    #[test]
    fn signal_names() {
        assert!(signal_name_matches("SIGKILL", "SIGKILL"));
        assert!(signal_name_matches("SIGKILL", "kill"));
        assert!(signal_name_matches("SIGSTOP", "sigStop"));
        assert!(!signal_name_matches("SIGKILL", "SIGSTOP"));
        assert!(!signal_name_matches("SIGKILL", "SIG"));
    }
}
