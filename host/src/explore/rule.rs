//! A point as a plain rule: the `fault -e fault=…:when=N -P PATH` line
//! (or the built-in `short-write` plugin's) that fails the same call
//! outside explore, in the work directory itself.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use syscalls::Sysno;

use super::faults::Fault;
use super::key::RandomNames;
use super::probe::SeenPoint;
use super::shell::shell_quote;

/// Which call of its file a point is, as a rule's `-P` and `when=` select
/// it: the `when`-th call of its syscall on `path` in its thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleTarget {
    /// The `-P` argument: relative to the work directory, random names as
    /// `*`.
    pub path: String,
    /// The call's number among its thread's calls of its syscall on `path`.
    pub when: u32,
}

/// For each point of a recording, its [`RuleTarget`], where one thread
/// alone made that syscall on that file (a rule counts per thread, so the
/// calls of several threads cannot be told apart by `when=`).
pub fn targets(seen: &[SeenPoint], random: &RandomNames) -> Vec<Option<RuleTarget>> {
    let file_of = |point: &SeenPoint| {
        let glob = random.glob(&point.path);
        let path = match glob.strip_prefix("{workdir}/") {
            Some(inside) => inside.to_string(),
            None if glob == "{workdir}" => ".".to_string(),
            None => glob,
        };
        (point.key.syscall.clone(), path)
    };
    let files: Vec<(String, String)> = seen.iter().map(file_of).collect();
    let mut threads: HashMap<&(String, String), HashSet<i32>> = HashMap::new();
    for (file, point) in files.iter().zip(seen) {
        threads.entry(file).or_default().insert(point.tid);
    }
    let mut counts: HashMap<&(String, String), u32> = HashMap::new();
    files
        .iter()
        .map(|file| {
            let when = counts.entry(file).or_insert(0);
            *when += 1;
            (threads[file].len() == 1).then_some(RuleTarget {
                path: file.1.clone(),
                when: *when,
            })
        })
        .collect()
}

/// The command line that injects `fault` into `syscall` at `target` in the
/// work directory `dir` itself (not a copy): an `-e fault=` rule for an
/// errno, the `short-write` plugin for a short write. `None` where no rule
/// does what explore did: a `close` that runs and then reports an error, a
/// short read, a crash, a corrupted read (its bit is the point's own).
pub fn command_line(
    target: &RuleTarget,
    syscall: &str,
    fault: Fault,
    dir: &Path,
    command: &[String],
) -> Option<String> {
    let file = match target.path.starts_with('/') {
        true => target.path.clone(),
        false => format!("{}/{}", dir.display(), target.path),
    };
    let path = shell_quote(&file);
    let when = target.when;
    let sysno: Sysno = syscall.parse().ok()?;
    let selector = match fault {
        Fault::Errno(_) if sysno == Sysno::close => return None,
        Fault::Errno(errno) => {
            let name = errno
                .name()
                .map_or_else(|| errno.into_raw().to_string(), String::from);
            format!("-e fault={syscall}:error={name}:when={when} -P {path}")
        }
        Fault::Short if matches!(sysno, Sysno::write | Sysno::pwrite64 | Sysno::sendto) => {
            format!("--plugin short-write:path={path}:when={when}")
        }
        Fault::Short | Fault::Crash(_) | Fault::Corrupt => return None,
    };
    let command: Vec<String> = command.iter().map(|a| shell_quote(a)).collect();
    Some(format!(
        "cd {} && {} {selector} -- {}",
        shell_quote(&dir.display().to_string()),
        crate::COMMAND,
        command.join(" ")
    ))
}
