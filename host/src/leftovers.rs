//! fault's own scratch directories in the temporary directory: each is
//! named by a prefix of [`PREFIXES`] and the process id of the fault that
//! made it, removed by that fault on every exit that runs code, and swept
//! at the next start if that process died without removing it (SIGKILL).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The prefixes of fault's scratch directories, each followed by
/// `PID-` and a suffix: a `--crash-at` run's spilled bytes
/// ([`crate::crash`]) and a campaign's copies of the work directory
/// ([`crate::explore`]).
pub const PREFIXES: [&str; 2] = ["fi-crash-", "fault-explore-"];

/// The process id a scratch directory's name carries, if it is named as
/// one of fault's.
pub fn owner_pid(name: &str) -> Option<i32> {
    let rest = PREFIXES
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))?;
    let (pid, suffix) = rest.split_once('-')?;
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    if !digits || suffix.is_empty() {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` no longer exists.
fn is_dead(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    !alive && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Remove, in `dir`, the scratch directories of fault processes that are
/// gone: named as fault names them, a directory (not a symlink), owned by
/// this user, and of a process id that no process has. Nothing else is
/// touched. The directories removed.
pub fn sweep(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    let own = std::process::id() as i32;
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        let path = entry.path();
        let ours =
            std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_dir() && meta.uid() == uid);
        if ours && pid != own && pid > 0 && is_dead(pid) && std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// [`sweep`] the temporary directory.
pub fn sweep_temp_dir() -> Vec<PathBuf> {
    sweep(&std::env::temp_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fault_names_carry_a_pid() {
        assert_eq!(owner_pid("fi-crash-123-0"), Some(123));
        assert_eq!(owner_pid("fault-explore-9-0000abcd"), Some(9));
        assert_eq!(owner_pid("fi-crash-123"), None);
        assert_eq!(owner_pid("fi-crash-12x-0"), None);
        assert_eq!(owner_pid("fi-crash--0"), None);
        assert_eq!(owner_pid("fi-store-123-0"), None);
        assert_eq!(owner_pid("my-fi-crash-123-0"), None);
    }

    #[test]
    fn the_sweep_removes_dead_owners_dirs_and_nothing_else() {
        let base = std::env::temp_dir().join(format!("fi-sweep-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        // A process that is surely gone: a child reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        let dead = child.id();
        let alive = std::process::id();
        let make = |name: &str| {
            let dir = base.join(name);
            std::fs::create_dir_all(dir.join("sub")).unwrap();
            std::fs::write(dir.join("sub/f"), b"x").unwrap();
            dir
        };
        let gone = make(&format!("fi-crash-{dead}-0"));
        let gone_explore = make(&format!("fault-explore-{dead}-00000001"));
        let live = make(&format!("fi-crash-{alive}-0"));
        let other = make(&format!("fi-crashed-{dead}-0"));
        let file = base.join(format!("fault-explore-{dead}-2"));
        std::fs::write(&file, b"not a directory").unwrap();
        let target = make("target");
        let link = base.join(format!("fi-crash-{dead}-7"));
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut removed = sweep(&base);
        removed.sort();
        let mut expected = vec![gone.clone(), gone_explore.clone()];
        expected.sort();
        assert_eq!(removed, expected);
        assert!(!gone.exists() && !gone_explore.exists());
        for kept in [&live, &other, &file, &target, &link] {
            assert!(kept.exists(), "{} kept", kept.display());
        }
        assert!(target.join("sub/f").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
