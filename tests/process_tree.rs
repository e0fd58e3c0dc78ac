//! The traced process tree: forks, vforks, threads and exec all get the
//! rules, and killing fault kills the programs it started.
//!
//! Every run has a deadline: a hung fault fails its test instead of hanging it.

mod common;

use std::collections::BTreeSet;
use std::thread;
use std::time::Duration;

use common::*;

// ---------------------------------------------------------------------------
// 9. fork, vfork, threads, exec

fn family(extra: &[&str], child_exit: i32) {
    let dir = TestDir::new("family");
    let out = Cmd::fault()
        .args(extra)
        .arg("--")
        .arg(c_program("family"))
        .arg(dir.path())
        .run();
    out.assert_code(7);
    let mut expected: Vec<String> = (0..20)
        .map(|i| format!("child {i}: exit={child_exit}"))
        .collect();
    expected.push("vfork: exit=0".into());
    out.ensure_eq(out.lines(), expected);
    for i in 0..20 {
        assert_eq!(dir.read(&format!("child-{i}")), "x");
    }
    // One log line per tampered call, each naming its own process.
    let injected = lines_with(&out.stderr, "(INJECTED)");
    if child_exit == 0 {
        out.ensure(injected.is_empty(), "");
    } else {
        out.ensure_eq(injected.len(), 20);
        let pids: BTreeSet<i32> = injected.iter().map(|line| log_pid(line)).collect();
        assert_eq!(pids.len(), 20, "20 children, 20 pids\n{}", out.describe());
        out.ensure(
            injected
                .iter()
                .all(|l| l.contains("fsync(") && l.contains("child-")),
            "",
        );
    }
}

#[test]
fn children_threads_and_exec_from_a_thread() {
    family(&NO_MATCH, 0);
}

#[test]
fn every_forked_child_gets_the_fault() {
    family(&["-e", "inject=fsync:error=EIO"], libc::EIO);
}

#[test]
fn when_counts_each_child_separately() {
    // Each child's fsync is its own first one.
    family(&["-e", "inject=fsync:error=EIO:when=1"], libc::EIO);
}

#[test]
fn every_forked_child_gets_the_fault_without_seccomp() {
    family(&["--no-seccomp", "-e", "inject=fsync:error=EIO"], libc::EIO);
}

// ---------------------------------------------------------------------------
// 14. kill -9 of fi

#[test]
fn killing_fi_kills_the_programs_it_started() {
    let dir = TestDir::new("exitkill");
    let mut fi = Cmd::fault()
        .args(["-e", "inject=write:delay_enter=1s", "--"])
        .arg(c_program("spinwrite"))
        .arg(dir.path())
        .spawn();
    let parent = read_pid_file(&dir.join("parent.pid"), Duration::from_secs(10));
    let child = read_pid_file(&dir.join("child.pid"), Duration::from_secs(10));
    thread::sleep(Duration::from_millis(300));
    assert!(fi.running(), "{}", fi.describe());
    fi.signal(libc::SIGKILL);
    let out = fi.wait_within(Duration::from_secs(5));
    out.ensure_eq(out.status.code(), None);
    for (name, pid) in [("program", parent), ("its child", child)] {
        let gone = wait_until(Duration::from_secs(2), || {
            matches!(proc_state(pid), None | Some('Z' | 'X'))
        });
        assert!(
            gone,
            "{name} (pid {pid}) outlived fi: state {:?}",
            proc_state(pid)
        );
    }
}
