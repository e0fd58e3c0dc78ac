//! Plugins that decide calls at entry only (their subscription lists no
//! `results`) are answered through seccomp user notification, without a
//! ptrace stop, where the kernel allows; a plugin that needs results still
//! gets its stop and sees them.

use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use fi::backend::Kind;
use fi::session::{Outcome, Session, Status};

mod common;
use common::{proc_state, wait_until, Cmd, TestDir};

/// The state (`S` asleep, `t` in a ptrace stop) of the `cat` of `secret`
/// while `delay` holds its `openat` and `path-errno` then fails it, with
/// the plugins `delay_spec` and `path-errno:path=*/secret` on backend `kind`.
fn held_cat_state(kind: Kind, delay_spec: &str, name: &str) -> (char, Outcome) {
    let dir = TestDir::new(name);
    let secret = dir.join("secret");
    std::fs::write(&secret, "x\n").unwrap();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("exec cat {}", secret.display()));
    let session = Session::command(&command)
        .backend(kind)
        .plugin(delay_spec)
        .plugin("path-errno:path=*/secret")
        .keep_no_calls();
    let (sender, receiver) = mpsc::channel();
    let running = thread::spawn(move || sender.send(session.run().unwrap()).unwrap());
    assert!(
        wait_until(Duration::from_secs(20), || cat_of(&secret).is_some()),
        "cat never ran"
    );
    // Well into the 1.5 s hold of its openat.
    thread::sleep(Duration::from_millis(700));
    let state = cat_of(&secret).and_then(proc_state).expect("cat is held");
    let outcome = receiver.recv_timeout(Duration::from_secs(30)).unwrap();
    running.join().unwrap();
    (state, outcome)
}

/// The pid of the `cat` whose command line names `secret`.
fn cat_of(secret: &Path) -> Option<i32> {
    let needle = secret.display().to_string();
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            comm.trim() == "cat" && String::from_utf8_lossy(&cmdline).contains(&needle)
        })
}

const HOLD: &str = "delay:syscalls=openat:enter=1500ms:path=*/secret";

#[test]
fn entry_only_plugins_take_no_ptrace_stop() {
    if !fi::backend::notify::supported() {
        eprintln!("skipped: this kernel has no seccomp user notification with killable waits");
        return;
    }
    let (state, outcome) = held_cat_state(Kind::Auto, HOLD, "entry-only-notify");
    assert_eq!(
        outcome.status,
        Status::Exited(1),
        "path-errno failed cat's open"
    );
    // Waiting on a notification is a sleep (S); a ptrace stop shows as t.
    assert_eq!(state, 'S', "cat's openat waited on a notification");
}

#[test]
fn the_same_plugins_stop_on_ptrace_and_when_a_result_is_wanted() {
    let (state, outcome) = held_cat_state(Kind::Ptrace, HOLD, "entry-only-ptrace");
    assert_eq!(outcome.status, Status::Exited(1));
    assert_eq!(state, 't', "cat's openat was held in a ptrace stop");
    // A delay after the call needs the call's exit: a ptrace stop again.
    let with_exit = format!("{HOLD}:exit=1ms");
    let (state, outcome) = held_cat_state(Kind::Auto, &with_exit, "entry-only-exit");
    assert_eq!(outcome.status, Status::Exited(1));
    assert_eq!(state, 't', "cat's openat was held in a ptrace stop");
}

#[test]
fn a_plugin_that_needs_results_still_sees_them() {
    // count asks for every result: the failed openat of a missing file is
    // counted as an error, which only the call's exit shows.
    let dir = TestDir::new("entry-only-count");
    let out = Cmd::fault()
        .args(["--plugin", "count:syscalls=openat", "--", "cat"])
        .arg(dir.join("missing"))
        .run();
    out.assert_code(1);
    let row = out
        .stderr
        .lines()
        .find(|line| line.trim_end().ends_with("openat") && line.contains("[count]"))
        .unwrap_or_else(|| panic!("no openat row\n{}", out.describe()));
    let numbers: Vec<u64> = row
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    assert!(
        numbers.len() >= 2 && numbers[1] >= 1,
        "no error counted: {row}\n{}",
        out.describe()
    );
}
