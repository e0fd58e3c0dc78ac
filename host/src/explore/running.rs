//! The processes of a run still going at its time limit, and where each of
//! their threads waits: what a hang's report names.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use crate::tracee::stack::{symbolize, Unwinder};
use crate::tracee::Tracee;

/// How many frames of a waiting thread's stack are shown.
const SHOWN_FRAMES: usize = 4;

/// The processes descended from this one (the run's program and its
/// children) that work under `dir` (every descendant without one), each in
/// a line: its name and id, and for each thread the call it waits in and
/// the innermost frames of its stack.
pub fn still_running(dir: Option<&Path>) -> Vec<String> {
    descendants(std::process::id() as i32)
        .into_iter()
        .filter(|&pid| {
            dir.is_none_or(|dir| {
                fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
            })
        })
        .filter_map(describe)
        .collect()
}

/// Every process below `root` in the process tree, parents first.
fn descendants(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Some(parent) = parent_of(pid) {
            children.entry(parent).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut pending = vec![root];
    while let Some(pid) = pending.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            found.push(child);
            pending.push(child);
        }
    }
    found.sort_unstable();
    found
}

/// The parent of `pid`, from `/proc/PID/stat` (after the name, which may
/// hold spaces and parentheses).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after) = stat.rsplit_once(')')?;
    after.split_whitespace().nth(1)?.parse().ok()
}

/// `name [pid]: thread TID in CALL at f1 <- f2 ...; ...`.
fn describe(pid: i32) -> Option<String> {
    let name = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    let mut unwinder = Unwinder::new();
    let mut threads: Vec<i32> = fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
        .filter_map(|entry| entry.file_name().to_string_lossy().parse().ok())
        .collect();
    threads.sort_unstable();
    let waits: Vec<String> = threads
        .into_iter()
        .map(|tid| waiting(&mut unwinder, Tracee { pid, tid }))
        .collect();
    Some(format!("{} [{pid}]: {}", name.trim(), waits.join("; ")))
}

/// Where thread `tracee` is: the call it is blocked in, with its stack, or
/// that it runs.
fn waiting(unwinder: &mut Unwinder, tracee: Tracee) -> String {
    let text = fs::read_to_string(format!("/proc/{}/task/{}/syscall", tracee.pid, tracee.tid))
        .unwrap_or_default();
    let fields: Vec<&str> = text.split_whitespace().collect();
    let number = |i: usize| {
        fields
            .get(i)
            .and_then(|f| u64::from_str_radix(f.trim_start_matches("0x"), 16).ok())
    };
    let (Some(nr), Some(sp), Some(pc)) = (
        fields.first().and_then(|f| f.parse::<usize>().ok()),
        number(7),
        number(8),
    ) else {
        return format!(
            "thread {} {}",
            tracee.tid,
            fields.first().unwrap_or(&"gone")
        );
    };
    let call = syscalls::Sysno::new(nr).map_or_else(|| format!("call {nr}"), |s| s.to_string());
    let frames = unwinder.stack_at(&tracee, (pc, sp, 0), SHOWN_FRAMES);
    let stack = symbolize(&frames);
    if stack.is_empty() {
        format!("thread {} in {call}", tracee.tid)
    } else {
        format!("thread {} in {call} at {}", tracee.tid, stack.join(" <- "))
    }
}
