//! fi's engine as a user sees it: strace-style rules applied to real
//! programs (C, Go, Python, Java, shell), exit statuses, signals, attaching,
//! and the log.
//!
//! Every run has a deadline: a hung fi fails its test instead of hanging it.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// A rule on a syscall the program makes, limited to a path it never
/// touches: it must change nothing.
const NO_MATCH: [&str; 4] = [
    "-e",
    "inject=fsync,write:error=EIO",
    "-P",
    "/nonexistent/fi-test",
];

/// The 1-based numbers of the calls a program reported as failed in lines
/// `PREFIX N: RESULT`, where RESULT is `ok` or an errno name; each failure
/// must carry `errno`.
#[track_caller]
fn failed_calls(out: &Outcome, prefix: &str, errno: &str) -> BTreeSet<u32> {
    let mut failed = BTreeSet::new();
    for line in out.stdout.lines().filter(|l| l.starts_with(prefix)) {
        let rest = &line[prefix.len()..];
        let (number, result) = rest
            .split_once(": ")
            .unwrap_or_else(|| panic!("bad line {line:?}\n{}", out.describe()));
        let number: u32 = number.trim().parse().unwrap();
        let result = result.split_whitespace().next().unwrap_or("");
        if result != "ok" {
            assert_eq!(
                result,
                errno,
                "call {number} failed with the wrong errno\n{}",
                out.describe()
            );
            failed.insert(number);
        }
    }
    failed
}

fn set(numbers: &[u32]) -> BTreeSet<u32> {
    numbers.iter().copied().collect()
}

// ---------------------------------------------------------------------------
// 1. The first thing the README shows

fn hostname_fault(extra: &[&str]) {
    let out = Cmd::fault()
        .args(extra)
        .args([
            "-e",
            "fault=openat:error=EACCES",
            "-P",
            "/etc/hostname",
            "--",
            "cat",
            "/etc/hostname",
        ])
        .run();
    out.assert_code(1);
    assert!(
        out.stdout.is_empty(),
        "cat printed the file\n{}",
        out.describe()
    );
    assert!(
        out.stderr.contains("cat: /etc/hostname: Permission denied"),
        "cat did not report the error\n{}",
        out.describe()
    );
    let logged: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("openat(") && l.contains("\"/etc/hostname\""))
        .collect();
    assert_eq!(
        logged.len(),
        1,
        "expected one log line for the open\n{}",
        out.describe()
    );
    assert!(log_pid(logged[0]) > 0);
    assert!(
        logged[0].contains("= -1 EACCES (Permission denied) (INJECTED)"),
        "log line: {}\n{}",
        logged[0],
        out.describe()
    );
    // Only that open was tampered with: cat loaded its libraries.
    assert_eq!(
        lines_with(&out.stderr, "(INJECTED)").len(),
        1,
        "other calls were tampered with\n{}",
        out.describe()
    );
}

#[test]
fn fault_limited_to_a_path_fails_only_that_open() {
    hostname_fault(&[]);
}

#[test]
fn fault_limited_to_a_path_without_seccomp() {
    hostname_fault(&["--no-seccomp"]);
}

#[test]
fn fault_without_a_path_fails_every_open() {
    let out = Cmd::fault()
        .args([
            "-e",
            "fault=openat:error=EACCES",
            "--",
            "cat",
            "/etc/hostname",
        ])
        .run();
    assert!(
        !matches!(out.code(), Some(0) | None),
        "cat cannot even load libc, it must fail\n{}",
        out.describe()
    );
    let hostname = fs::read_to_string("/etc/hostname").unwrap();
    assert!(
        !out.stdout.contains(hostname.trim()),
        "cat printed the file\n{}",
        out.describe()
    );
    assert!(
        lines_with(&out.stderr, "= -1 EACCES (Permission denied) (INJECTED)").len() >= 2,
        "every open should fail\n{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------
// 2. when= counts per thread

fn threads_when_3(extra: &[&str]) {
    let out = Cmd::fault()
        .args(extra)
        .args([
            "-e",
            "inject=write:error=EIO:when=3",
            "-P",
            "/dev/null",
            "--",
        ])
        .arg(c_program("threads"))
        .run();
    out.assert_code(0);
    let expected: Vec<String> = (0..4)
        .map(|t| format!("thread {t}: failed=3:EIO"))
        .collect();
    assert_eq!(
        out.lines(),
        expected,
        "write #3 of each thread, and only it, must fail\n{}",
        out.describe()
    );
}

#[test]
fn when_counts_each_thread_separately() {
    threads_when_3(&[]);
}

#[test]
fn when_counts_each_thread_separately_without_seccomp() {
    threads_when_3(&["--no-seccomp"]);
}

// ---------------------------------------------------------------------------
// 3. when= forms

fn when_forms(extra: &[&str]) {
    let dir = TestDir::new("when-forms");
    let cases: [(&str, &[u32]); 6] = [
        ("3", &[3]),
        ("3+", &[3, 4, 5, 6, 7, 8, 9, 10]),
        ("2+3", &[2, 5, 8]),
        ("2..5", &[2, 3, 4, 5]),
        ("1..7+3", &[1, 4, 7]),
        ("4..4", &[4]),
    ];
    for (when, expected) in cases {
        let out = Cmd::fault()
            .args(extra)
            .args(["-e", &format!("inject=fsync:error=EIO:when={when}"), "--"])
            .arg(c_program("fsyncs"))
            .arg("10")
            .arg(dir.join("file"))
            .run();
        out.assert_code(1);
        assert_eq!(out.lines().len(), 10, "{}", out.describe());
        assert_eq!(
            failed_calls(&out, "fsync ", "EIO"),
            set(expected),
            "when={when} failed the wrong calls\n{}",
            out.describe()
        );
        assert_eq!(
            lines_with(&out.stderr, "(INJECTED)").len(),
            expected.len(),
            "when={when}: one log line per injected call\n{}",
            out.describe()
        );
    }
}

#[test]
fn when_forms_select_the_right_calls() {
    when_forms(&[]);
}

#[test]
fn when_forms_select_the_right_calls_without_seccomp() {
    when_forms(&["--no-seccomp"]);
}

#[test]
fn when_counts_each_syscall_separately() {
    let dir = TestDir::new("when-per-syscall");
    let out = Cmd::fault()
        .args(["-e", "inject=fsync,fdatasync:error=EIO:when=2", "--"])
        .arg(c_program("fsyncs"))
        .arg("3")
        .arg(dir.join("file"))
        .arg("both")
        .run();
    out.assert_code(1);
    assert_eq!(
        failed_calls(&out, "fsync ", "EIO"),
        set(&[2]),
        "{}",
        out.describe()
    );
    assert_eq!(
        failed_calls(&out, "fdatasync ", "EIO"),
        set(&[2]),
        "{}",
        out.describe()
    );
}

#[test]
fn fault_fails_with_enosys_by_default() {
    let dir = TestDir::new("fault-default");
    let out = Cmd::fault()
        .args(["-e", "fault=fsync:when=2", "--"])
        .arg(c_program("fsyncs"))
        .arg("3")
        .arg(dir.join("file"))
        .run();
    out.assert_code(1);
    assert_eq!(
        failed_calls(&out, "fsync ", "ENOSYS"),
        set(&[2]),
        "{}",
        out.describe()
    );
    assert_eq!(
        lines_with(
            &out.stderr,
            "= -1 ENOSYS (Function not implemented) (INJECTED)"
        )
        .len(),
        1,
        "{}",
        out.describe()
    );
}

#[test]
fn without_when_every_call_is_tampered() {
    let dir = TestDir::new("when-all");
    let out = Cmd::fault()
        .args(["-e", "inject=fsync:error=EIO", "--"])
        .arg(c_program("fsyncs"))
        .arg("5")
        .arg(dir.join("file"))
        .run();
    out.assert_code(1);
    assert_eq!(
        failed_calls(&out, "fsync ", "EIO"),
        set(&[1, 2, 3, 4, 5]),
        "{}",
        out.describe()
    );
}

#[test]
fn a_class_naming_execveat_but_not_execve_decides_the_program_s_calls() {
    // %desc holds execveat (it takes a directory fd) but not execve, which
    // launches the program: fault must not wait for a launch it cannot see.
    let dir = TestDir::new("desc-class");
    std::fs::write(dir.join("data"), "hello").unwrap();
    let out = Cmd::fault()
        .args(["-o", "/dev/null", "-e", "fault=%desc:error=EIO", "-P"])
        .arg(dir.join("data"))
        .args(["--", "cat"])
        .arg(dir.join("data"))
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("Input/output error"),
        "{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------
// 4. retval= and error= by number

#[test]
fn retval_replaces_the_result() {
    let out = Cmd::fault()
        .args(["-e", "inject=getpid:retval=42", "--"])
        .arg(c_program("ids"))
        .run();
    out.assert_code(0);
    let line = out.lines()[0].to_owned();
    assert!(
        line.starts_with("getpid=42 "),
        "getpid must return 42\n{}",
        out.describe()
    );
    assert!(
        !line.ends_with("self=42"),
        "the real pid is not 42\n{}",
        out.describe()
    );
    let logged = lines_with(&out.stderr, "getpid(");
    assert_eq!(logged.len(), 1, "{}", out.describe());
    assert!(logged[0].contains("= 42 (INJECTED)"), "{}", out.describe());
}

#[test]
fn error_by_number_is_the_same_as_by_name() {
    let dir = TestDir::new("errno-number");
    for error in ["5", "EIO", "eio"] {
        let out = Cmd::fault()
            .args(["-e", &format!("inject=fsync:error={error}:when=2"), "--"])
            .arg(c_program("fsyncs"))
            .arg("3")
            .arg(dir.join("file"))
            .run();
        out.assert_code(1);
        assert_eq!(
            failed_calls(&out, "fsync ", "EIO"),
            set(&[2]),
            "error={error}\n{}",
            out.describe()
        );
        assert_eq!(
            lines_with(&out.stderr, "= -1 EIO (Input/output error) (INJECTED)").len(),
            1,
            "error={error}\n{}",
            out.describe()
        );
    }
}

// ---------------------------------------------------------------------------
// 5. syscall=

#[test]
fn syscall_runs_a_pure_substitute() {
    // As in strace, syscall= substitutes only a call that fails or returns
    // a value: with a delay alone, getppid itself runs.
    let out = Cmd::fault()
        .args(["-e", "inject=getppid:syscall=getpid:delay_enter=1ms", "--"])
        .arg(c_program("ids"))
        .run();
    out.assert_code(0);
    let line = out.lines()[0].to_owned();
    let fields: Vec<&str> = line.split(' ').collect();
    let pid = fields[0].strip_prefix("getpid=").unwrap();
    assert_ne!(
        fields[1],
        format!("getppid={pid}"),
        "getppid must have run itself\n{}",
        out.describe()
    );
}

#[test]
fn syscall_with_an_error_does_not_run_the_original() {
    let dir = TestDir::new("syscall-error");
    let file = dir.join("victim");
    fs::write(&file, "x").unwrap();
    let out = Cmd::fault()
        .args([
            "-e",
            "inject=unlink,unlinkat:syscall=getpid:error=EPERM",
            "--",
        ])
        .arg(c_program("unlink"))
        .arg(&file)
        .run();
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["unlink: EPERM", "exists: yes"],
        "{}",
        out.describe()
    );
    assert!(file.exists());
}

// ---------------------------------------------------------------------------
// 6. signal=

#[test]
fn signal_is_delivered_on_the_selected_call() {
    let dir = TestDir::new("signal");
    let out = Cmd::fault()
        .args(["-e", "inject=fsync:signal=SIGUSR1:when=2", "--"])
        .arg(c_program("sigcount"))
        .arg("4")
        .arg(dir.join("file"))
        .run();
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "fsync 1: ok",
            "fsync 2: ok",
            "fsync 3: ok",
            "fsync 4: ok",
            "deliveries=1"
        ],
        "one SIGUSR1, and no call failed\n{}",
        out.describe()
    );
}

#[test]
fn signal_sigkill_ends_the_program() {
    let dir = TestDir::new("sigkill");
    let out = Cmd::fault()
        .args(["-e", "inject=fsync:signal=SIGKILL:when=2", "--"])
        .arg(c_program("sigcount"))
        .arg("4")
        .arg(dir.join("file"))
        .run();
    out.assert_code(137);
    assert!(
        !out.stdout.contains("deliveries"),
        "the program ran on\n{}",
        out.describe()
    );
    assert!(
        !out.stdout.contains("fsync 2"),
        "fsync 2 returned\n{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------
// 7. Delays

fn fsync_millis(out: &Outcome, n: u32) -> f64 {
    let prefix = format!("fsync {n}: ");
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {prefix:?}\n{}", out.describe()));
    assert!(
        line.contains(": ok "),
        "fsync {n} failed\n{}",
        out.describe()
    );
    line.rsplit("ms=").next().unwrap().parse().unwrap()
}

#[test]
fn delay_enter_holds_the_call() {
    let dir = TestDir::new("delay-enter");
    let log = dir.join("log");
    let out = Cmd::fault()
        .arg("-o")
        .arg(&log)
        .args(["-e", "inject=fsync:delay_enter=200ms:when=1", "--"])
        .arg(c_program("timed_fsync"))
        .arg("2")
        .arg(dir.join("file"))
        .run();
    out.assert_code(0);
    let took = fsync_millis(&out, 1);
    assert!(
        took >= 150.0,
        "fsync 1 took {took}ms, expected >= 150\n{}",
        out.describe()
    );
    let log = fs::read_to_string(&log).unwrap();
    let logged = lines_with(&log, "fsync(");
    assert_eq!(logged.len(), 1, "log:\n{log}");
    assert!(logged[0].contains("(DELAYED)"), "log:\n{log}");
    assert!(
        !out.stderr.contains("fsync("),
        "-o must take the log off stderr\n{}",
        out.describe()
    );
}

#[test]
fn delay_exit_holds_the_return() {
    let dir = TestDir::new("delay-exit");
    let out = Cmd::fault()
        .args(["-e", "inject=fsync:delay_exit=200ms:when=2", "--"])
        .arg(c_program("timed_fsync"))
        .arg("3")
        .arg(dir.join("file"))
        .run();
    out.assert_code(0);
    let took = fsync_millis(&out, 2);
    assert!(
        took >= 150.0,
        "fsync 2 took {took}ms, expected >= 150\n{}",
        out.describe()
    );
    let logged = lines_with(&out.stderr, "fsync(");
    assert_eq!(logged.len(), 1, "{}", out.describe());
    assert!(logged[0].contains("(DELAYED)"), "{}", out.describe());
}

// ---------------------------------------------------------------------------
// 8. -P matches fds

#[test]
fn path_filter_matches_writes_through_an_fd() {
    let dir = TestDir::new("path-fd");
    let out = Cmd::fault()
        .args(["-e", "fault=write:error=ENOSPC", "-P"])
        .arg(dir.join("a"))
        .arg("--")
        .arg(c_program("two_files"))
        .arg(dir.path())
        .run();
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["write a: ENOSPC", "write b: ok"],
        "{}",
        out.describe()
    );
    assert_eq!(dir.read("a"), "");
    assert_eq!(dir.read("b"), "data for b\n");
    let logged = lines_with(&out.stderr, "(INJECTED)");
    assert_eq!(logged.len(), 1, "{}", out.describe());
    assert!(
        logged[0].contains("write(")
            && logged[0].contains(&format!("<{}>", dir.join("a").display())),
        "the log shows the fd's path\n{}",
        out.describe()
    );
    assert!(
        logged[0].contains("= -1 ENOSPC (No space left on device) (INJECTED)"),
        "{}",
        out.describe()
    );
}

#[test]
fn relative_path_filter_is_taken_from_fis_directory() {
    let dir = TestDir::new("path-relative");
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "fault=write:error=ENOSPC", "-P", "b", "--"])
        .arg(c_program("two_files"))
        .arg(".")
        .run();
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["write a: ok", "write b: ENOSPC"],
        "{}",
        out.describe()
    );
}

#[test]
fn path_filter_counts_only_matching_calls() {
    // write a and two stdout writes come before write b: with when=1, b's
    // write is tampered with only if they were not counted.
    let dir = TestDir::new("path-when");
    let out = Cmd::fault()
        .args(["-e", "fault=write:error=ENOSPC:when=1", "-P"])
        .arg(dir.join("b"))
        .arg("--")
        .arg(c_program("two_files"))
        .arg(dir.path())
        .run();
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["write a: ok", "write b: ENOSPC"],
        "{}",
        out.describe()
    );
}

#[test]
fn path_filter_follows_symlinks() {
    let dir = TestDir::new("path-symlink");
    // Like strace, fi resolves -P paths when it starts: the file exists.
    fs::write(dir.join("a"), "").unwrap();
    std::os::unix::fs::symlink(dir.join("a"), dir.join("link")).unwrap();
    let out = Cmd::fault()
        .args(["-e", "fault=write:error=ENOSPC", "-P"])
        .arg(dir.join("link"))
        .arg("--")
        .arg(c_program("two_files"))
        .arg(dir.path())
        .run();
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["write a: ENOSPC", "write b: ok"],
        "{}",
        out.describe()
    );
}

/// Two directories, `A` and `B`, each holding a file `f`.
fn two_dirs(name: &str) -> TestDir {
    let dir = TestDir::new(name);
    for sub in ["A", "B"] {
        fs::create_dir(dir.join(sub)).unwrap();
        fs::write(dir.join(sub).join("f"), format!("{sub}\n")).unwrap();
    }
    dir
}

#[test]
fn relative_paths_follow_cd() {
    let dir = two_dirs("path-cd");
    let script = "cd A; read x < f; echo \"A: $?\"; cd ../B; read y < f; echo \"B: $?\"";
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "fault=openat:error=ENOENT", "-P"])
        .arg(dir.join("B/f"))
        .args(["--", "bash", "-c", script])
        .run();
    out.assert_code(0);
    assert_eq!(out.lines(), ["A: 0", "B: 1"], "{}", out.describe());
}

/// Run Python in `DIR/A` with `steps`, which call `open_f(label)` to open
/// `f` and print `label ok` or the error, under a rule failing every open
/// of `DIR/faulted`.
fn python_opening_f(dir: &TestDir, faulted: &str, steps: &str) -> Outcome {
    let script = format!(
        r#"
import os, threading
def open_f(label):
    try:
        open("f").close()
        print(label, "ok")
    except OSError as e:
        print(label, os.strerror(e.errno))
{steps}"#
    );
    Cmd::fault()
        .cwd(dir.join("A"))
        .args(["-e", "fault=openat:error=ENOENT", "-P"])
        .arg(dir.join(faulted))
        .arg("--")
        .arg(python3())
        .args(["-c", &script])
        .run()
}

#[test]
fn relative_paths_follow_another_threads_chdir_and_fchdir() {
    let dir = two_dirs("path-threads-cwd");
    let steps = r#"
open_f("A")
thread = threading.Thread(target=os.chdir, args=("../B",))
thread.start()
thread.join()
open_f("B, after another thread's chdir")
os.fchdir(os.open("../A", os.O_RDONLY))
open_f("A, after fchdir")
"#;
    let out = python_opening_f(&dir, "B/f", steps);
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "A ok",
            "B, after another thread's chdir No such file or directory",
            "A, after fchdir ok"
        ],
        "{}",
        out.describe()
    );
}

#[test]
fn relative_paths_follow_a_rename_of_the_working_directory() {
    let dir = two_dirs("path-rename-cwd");
    let steps = r#"
open_f("A")
os.rename("../A", "../C")
open_f("C")
"#;
    let out = python_opening_f(&dir, "C/f", steps);
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["A ok", "C No such file or directory"],
        "{}",
        out.describe()
    );
}

#[test]
fn a_watched_directory_change_is_neither_logged_nor_counted() {
    let dir = two_dirs("path-cd-count");
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-c", "-e", "fault=openat:error=ENOENT", "-P"])
        .arg(dir.join("B/f"))
        .args(["--", "bash", "-c", "cd A; cd ../B; read y < f"])
        .run();
    out.assert_code(1);
    let rows = |name: &str| {
        out.stderr
            .lines()
            .filter(|line| line.split_whitespace().next() == Some(name))
            .count()
    };
    assert_eq!(
        rows("openat"),
        1,
        "the summary counts openat\n{}",
        out.describe()
    );
    assert!(
        rows("chdir") == 0 && lines_with(&out.stderr, "chdir(").is_empty(),
        "a chdir no stage subscribed to was counted\n{}",
        out.describe()
    );
}

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
    assert_eq!(out.lines(), expected, "{}", out.describe());
    for i in 0..20 {
        assert_eq!(dir.read(&format!("child-{i}")), "x");
    }
    // One log line per tampered call, each naming its own process.
    let injected = lines_with(&out.stderr, "(INJECTED)");
    if child_exit == 0 {
        assert!(injected.is_empty(), "{}", out.describe());
    } else {
        assert_eq!(injected.len(), 20, "{}", out.describe());
        let pids: BTreeSet<i32> = injected.iter().map(|line| log_pid(line)).collect();
        assert_eq!(pids.len(), 20, "20 children, 20 pids\n{}", out.describe());
        assert!(
            injected
                .iter()
                .all(|l| l.contains("fsync(") && l.contains("child-")),
            "{}",
            out.describe()
        );
    }
}

/// The thread id at the start of a text log line: `[pid   1234] ...`.
#[track_caller]
fn log_pid(line: &str) -> i32 {
    line.strip_prefix("[pid ")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(pid, _)| pid.trim().parse().ok())
        .unwrap_or_else(|| panic!("not a log line: {line:?}"))
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
// 10. Signals pass through

#[test]
fn sigsegv_handlers_work_under_fi() {
    for extra in [
        &["-e", "inject=fsync:error=EIO"][..],
        &[
            "-e",
            "inject=rt_sigaction,rt_sigprocmask,rt_sigreturn:delay_enter=1ms",
        ][..],
        &["--no-seccomp", "-e", "inject=fsync:error=EIO"][..],
    ] {
        let out = Cmd::fault()
            .args(extra)
            .arg("--")
            .arg(c_program("segv"))
            .run();
        out.assert_code(0);
        assert_eq!(out.lines(), ["recovered 3"], "{}", out.describe());
    }
}

#[test]
fn realtime_and_queued_signals_pass_through() {
    for extra in [
        &[
            "-e",
            "inject=rt_sigqueueinfo,rt_sigtimedwait,kill:delay_enter=1ms",
        ][..],
        &["--no-seccomp", "-e", "inject=fsync:error=EIO"][..],
    ] {
        let out = Cmd::fault()
            .args(extra)
            .arg("--")
            .arg(c_program("rtsig"))
            .run();
        out.assert_code(0);
        assert_eq!(out.lines(), ["rt ok 1 2 3 usr2"], "{}", out.describe());
    }
}

// ---------------------------------------------------------------------------
// 11. Group stops

/// The number of lines in `path` (0 if it is missing).
fn line_count(path: &std::path::Path) -> usize {
    fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn sigstop_and_sigcont_stop_and_resume_the_program() {
    let dir = TestDir::new("group-stop");
    let ticks = dir.join("ticks");
    let mut fi = Cmd::fault()
        .args(NO_MATCH)
        .arg("--")
        .arg(c_program("ticker"))
        .arg(&ticks)
        .args(["40", "20"])
        .arg(dir.join("pid"))
        .spawn();
    let pid = read_pid_file(&dir.join("pid"), Duration::from_secs(10));
    assert!(
        wait_until(Duration::from_secs(10), || line_count(&ticks) >= 3),
        "the program does not tick\n{}",
        fi.describe()
    );

    assert!(send_signal(pid, libc::SIGSTOP));
    let stopped = wait_until(Duration::from_secs(2), || {
        matches!(proc_state(pid), Some('T' | 't'))
    });
    assert!(
        stopped,
        "not stopped: state {:?}\n{}",
        proc_state(pid),
        fi.describe()
    );
    let state = proc_state(pid);
    thread::sleep(Duration::from_millis(100));
    let before = line_count(&ticks);
    thread::sleep(Duration::from_millis(300));
    assert_eq!(
        line_count(&ticks),
        before,
        "the stopped program went on ticking"
    );
    assert!(
        matches!(proc_state(pid), Some('T' | 't')),
        "state {:?} after 300ms (was {state:?})",
        proc_state(pid)
    );
    assert!(
        fi.running(),
        "fi ended while the program was stopped\n{}",
        fi.describe()
    );

    assert!(send_signal(pid, libc::SIGCONT));
    let out = fi.wait();
    out.assert_code(0);
    assert_eq!(out.lines().last(), Some(&"done"), "{}", out.describe());
    assert_eq!(line_count(&ticks), 40);
    assert!(!out.stdout.contains("EIO"), "{}", out.describe());
}

// ---------------------------------------------------------------------------
// 12. Exit statuses, and signals sent to fi

#[test]
fn exit_status_is_the_programs() {
    for extra in [&[][..], &["--no-seccomp"][..]] {
        let out = Cmd::fault()
            .args(extra)
            .args(["--", "sh", "-c", "exit 3"])
            .run();
        out.assert_code(3);
        let out = Cmd::fault()
            .args(extra)
            .args(["--", "sh", "-c", "kill -TERM $$"])
            .run();
        out.assert_code(143);
        let out = Cmd::fault().args(extra).args(["--", "true"]).run();
        out.assert_code(0);
    }
}

#[test]
fn sigint_to_fi_is_forwarded_to_the_program() {
    let dir = TestDir::new("forward-int");
    let mut fi = Cmd::fault()
        .args(NO_MATCH)
        .arg("--")
        .arg(c_program("ticker"))
        .arg(dir.join("ticks"))
        .args(["200", "50"])
        .spawn();
    fi.wait_for_stdout("the first tick", Duration::from_secs(10), |s| {
        s.contains("tick 1: ok")
    });
    fi.signal(libc::SIGINT);
    let out = fi.wait_within(Duration::from_secs(5));
    out.assert_code(42);
    assert_eq!(
        out.lines().last(),
        Some(&"got SIGINT"),
        "{}",
        out.describe()
    );
}

#[test]
fn sigterm_to_fi_is_forwarded_to_the_program() {
    let dir = TestDir::new("forward-term");
    let mut fi = Cmd::fault()
        .args(NO_MATCH)
        .arg("--")
        .arg(c_program("ticker"))
        .arg(dir.join("ticks"))
        .args(["200", "50"])
        .spawn();
    fi.wait_for_stdout("the first tick", Duration::from_secs(10), |s| {
        s.contains("tick 1: ok")
    });
    fi.signal(libc::SIGTERM);
    // ticker does not handle SIGTERM: it dies of it.
    let out = fi.wait_within(Duration::from_secs(5));
    out.assert_code(143);
    assert!(!out.stdout.contains("done"), "{}", out.describe());
}

/// A stop signal to fault while a thread is held in a 15 s injected delay is
/// forwarded at once, and the held call goes on: fault never waits the
/// delay out first.
#[test]
fn a_stop_signal_cuts_an_injected_delay_short() {
    for (signal, code, last_line) in [
        (libc::SIGINT, 42, Some("got SIGINT")),
        (libc::SIGTERM, 143, None),
    ] {
        let dir = TestDir::new("delay-cut-short");
        let ticks = dir.join("ticks");
        let mut fi = Cmd::fault()
            .args(["-e", "inject=write:delay_enter=15s", "-P"])
            .arg(&ticks)
            .arg("--")
            .arg(c_program("ticker"))
            .arg(&ticks)
            .args(["200", "50"])
            .spawn();
        // The first tick's write is held.
        assert!(wait_until(Duration::from_secs(10), || ticks.exists()));
        thread::sleep(Duration::from_millis(300));
        assert!(fi.running(), "{}", fi.describe());
        fi.signal(signal);
        let signalled = Instant::now();
        let out = fi.wait_within(Duration::from_secs(5));
        assert!(
            signalled.elapsed() < Duration::from_secs(4),
            "fault waited {:?} for the delay",
            signalled.elapsed()
        );
        out.assert_code(code);
        if let Some(line) = last_line {
            assert_eq!(out.lines().last(), Some(&line), "{}", out.describe());
        }
    }
}

// ---------------------------------------------------------------------------
// 13. Attaching

/// Attach fi to a running ticker, let it fail some writes, stop fi with
/// `signal`; returns fi's outcome after checking that the program ran on
/// unharmed.
fn attach_and_stop_with(signal: i32, log_args: &[&str]) -> Outcome {
    let dir = TestDir::new("attach");
    let ticks = dir.join("ticks");
    // The program is the test's own child, so the test can wait for it.
    let mut program = Cmd::new(c_program("ticker"))
        .arg(&ticks)
        .args(["60", "50"])
        .spawn();
    program.wait_for_stdout("the first tick", Duration::from_secs(10), |s| {
        s.contains("tick 1: ok")
    });

    let mut fi = Cmd::fault()
        .args(log_args)
        .arg("-p")
        .arg(program.pid().to_string())
        .args(["-e", "inject=write:error=EIO", "-P"])
        .arg(&ticks)
        .spawn();
    program.wait_for_stdout("a failed tick", Duration::from_secs(5), |s| {
        s.contains(": EIO")
    });
    thread::sleep(Duration::from_millis(300));
    assert!(fi.running(), "fi ended on its own\n{}", fi.describe());
    fi.signal(signal);
    let detached_at = Instant::now();
    let fi_out = fi.wait_within(Duration::from_secs(3));
    fi_out.assert_code(0);
    assert!(
        detached_at.elapsed() < Duration::from_secs(2),
        "fi took {:?} to detach",
        detached_at.elapsed()
    );

    let out = program.wait_within(Duration::from_secs(10));
    out.assert_code(0);
    let lines = out.lines();
    assert_eq!(lines.len(), 61, "{}", out.describe());
    assert_eq!(lines.last(), Some(&"done"));
    let failed = failed_calls(&out, "tick ", "EIO");
    assert!(!failed.is_empty(), "{}", out.describe());
    let first = *failed.iter().next().unwrap();
    let last = *failed.iter().last().unwrap();
    assert!(first > 1, "{}", out.describe());
    assert_eq!(
        failed,
        (first..=last).collect(),
        "every write while attached fails, none after\n{}",
        out.describe()
    );
    assert!(
        last < 55,
        "the program ran on after the detach\n{}",
        out.describe()
    );
    // The file holds exactly the writes that succeeded.
    let written: BTreeSet<u32> = fs::read_to_string(&ticks)
        .unwrap()
        .lines()
        .map(|l| l.strip_prefix("tick ").unwrap().parse().unwrap())
        .collect();
    assert_eq!(written, (1..=60).filter(|n| !failed.contains(n)).collect());
    fi_out
}

#[test]
fn attach_tampers_then_detaches_on_sigint() {
    let out = attach_and_stop_with(libc::SIGINT, &[]);
    let logged = lines_with(&out.stderr, "(INJECTED)");
    assert!(
        !logged.is_empty(),
        "the log shows the injected writes\n{}",
        out.describe()
    );
    assert!(
        logged
            .iter()
            .all(|l| l.contains("write(") && l.contains("= -1 EIO (Input/output error)")),
        "{}",
        out.describe()
    );
}

#[test]
fn attach_tampers_then_detaches_on_sigterm() {
    let dir = TestDir::new("attach-json");
    let log = dir.join("log.json");
    let log_arg = arg(&log);
    attach_and_stop_with(libc::SIGTERM, &["--log-format", "json", "-o", &log_arg]);
    let text = fs::read_to_string(&log).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}\n{text}"))
        })
        .collect();
    let writes: Vec<&serde_json::Value> =
        records.iter().filter(|r| r["syscall"] == "write").collect();
    assert!(!writes.is_empty(), "{text}");
    for write in writes {
        assert_eq!(write["verdict"], "fail", "{write}");
        assert_eq!(write["errno"], "EIO", "{write}");
        assert_eq!(write["result"], -5, "{write}");
        assert_eq!(write["injected"], true, "{write}");
    }
}

#[test]
fn attach_follows_every_thread() {
    let dir = TestDir::new("attach-threads");
    let mut program = Cmd::new(c_program("mticker"))
        .arg(dir.path())
        .args(["4", "60", "50"])
        .spawn();
    program.wait_for_stdout("the threads", Duration::from_secs(10), |s| {
        s.contains("started")
    });
    thread::sleep(Duration::from_millis(100));
    let mut fi = Cmd::fault()
        .arg("-p")
        .arg(program.pid().to_string())
        .args(["-e", "inject=write:error=EIO"]);
    for t in 0..4 {
        fi = fi.arg("-P").arg(dir.join(&format!("t{t}")));
    }
    let mut fi = fi.spawn();
    // Every thread writes every 50ms: after 1s each has met the rule.
    thread::sleep(Duration::from_millis(1000));
    assert!(fi.running(), "fi ended on its own\n{}", fi.describe());
    fi.signal(libc::SIGINT);
    fi.wait_within(Duration::from_secs(3)).assert_code(0);
    let out = program.wait_within(Duration::from_secs(10));
    out.assert_code(0);
    let lines = out.lines();
    assert_eq!(lines.len(), 6, "{}", out.describe());
    for t in 0..4 {
        let line = lines[t + 1];
        let field = |name: &str| -> u32 {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {line:?}"))
        };
        assert!(
            line.starts_with(&format!("thread {t}: ")),
            "{}",
            out.describe()
        );
        assert!(
            field("failed") > 0,
            "thread {t} was not traced\n{}",
            out.describe()
        );
        assert_eq!(field("ok") + field("failed"), 60, "{}", out.describe());
        assert!(
            field("last_failed") < 60,
            "thread {t} ran on after the detach\n{}",
            out.describe()
        );
        let t_file = fs::read_to_string(dir.join(&format!("t{t}"))).unwrap();
        assert_eq!(t_file.lines().count() as u32, field("ok"));
    }
}

#[test]
fn detaching_during_a_delay_lets_the_call_complete() {
    let dir = TestDir::new("attach-delay");
    let ticks = dir.join("ticks");
    let mut program = Cmd::new(c_program("ticker"))
        .arg(&ticks)
        .args(["30", "50"])
        .spawn();
    program.wait_for_stdout("the first tick", Duration::from_secs(10), |s| {
        s.contains("tick 1: ok")
    });
    let mut fi = Cmd::fault()
        .arg("-p")
        .arg(program.pid().to_string())
        .args(["-e", "inject=write:delay_enter=5s", "-P"])
        .arg(&ticks)
        .spawn();
    // The next tick's write is held for 5s; stop fi in the middle of it.
    thread::sleep(Duration::from_millis(700));
    let held = fs::read_to_string(&ticks).unwrap().lines().count();
    assert!(fi.running(), "fi ended on its own\n{}", fi.describe());
    fi.signal(libc::SIGINT);
    let detached_at = Instant::now();
    fi.wait_within(Duration::from_secs(3)).assert_code(0);
    assert!(
        detached_at.elapsed() < Duration::from_secs(2),
        "fi waited {:?} for the delay before detaching",
        detached_at.elapsed()
    );
    let out = program.wait_within(Duration::from_secs(10));
    out.assert_code(0);
    let expected: Vec<String> = (1..=30)
        .map(|i| format!("tick {i}: ok"))
        .chain(["done".to_string()])
        .collect();
    assert_eq!(
        out.lines(),
        expected,
        "no write may be lost or failed\n{}",
        out.describe()
    );
    assert!(held < 30, "the write was not held");
    assert_eq!(fs::read_to_string(&ticks).unwrap().lines().count(), 30);
}

#[test]
fn attach_to_a_missing_process_is_a_usage_error() {
    let mut pid = 999_999;
    while proc_state(pid).is_some() {
        pid -= 1;
    }
    let out = Cmd::fault()
        .args(["-p", &pid.to_string(), "-e", "inject=write:error=EIO"])
        .run();
    out.assert_code(125);
    assert!(out.stderr.contains("no such process"), "{}", out.describe());
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
    assert_eq!(out.status.code(), None, "{}", out.describe());
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

// ---------------------------------------------------------------------------
// 15. The seed program (Go)

#[test]
fn go_seed_program_loses_its_write() {
    let seed = go_program("seed");
    let dir = TestDir::new("seed");
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "inject=write:error=EIO", "-P", "test.txt", "--"])
        .arg(&seed)
        .run();
    out.assert_code(0);
    assert!(dir.join("test.txt").exists(), "{}", out.describe());
    assert_eq!(
        dir.read("test.txt"),
        "",
        "the write must have failed\n{}",
        out.describe()
    );
    assert!(
        out.stderr.contains("test.txt>")
            && out.stderr.contains("EIO (Input/output error) (INJECTED)"),
        "{}",
        out.describe()
    );

    let clean = TestDir::new("seed-clean");
    let out = Cmd::fault().cwd(clean.path()).arg("--").arg(&seed).run();
    out.assert_code(0);
    assert_eq!(clean.read("test.txt"), "some great stuff");
}

// ---------------------------------------------------------------------------
// 16. Python

#[test]
fn python_sees_eio_from_fsync_on_one_file() {
    let python = python3();
    let dir = TestDir::new("python");
    let (one, two) = (dir.join("one"), dir.join("two"));
    let out = Cmd::fault()
        .args(["-e", "inject=fsync:error=EIO", "-P"])
        .arg(&one)
        .arg("--")
        .arg(&python)
        .arg("-c")
        .arg(program_source("python/fsync_two.py"))
        .arg(&one)
        .arg(&two)
        .timeout(Duration::from_secs(60))
        .run();
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            format!("{}: OSError errno=EIO", one.display()),
            format!("{}: ok", two.display())
        ],
        "{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------
// 17. Bad command lines start nothing

#[test]
fn bad_command_lines_exit_125_and_start_nothing() {
    let dir = TestDir::new("usage");
    let cases: &[(&[&str], &str)] = &[
        (&["-e", "inject=write:error=EFOO"], "EFOO"),
        (&["-e", "inject=write"], "inject=write"),
        (&["-e", "inject=nosuchsyscall:error=EIO"], "nosuchsyscall"),
        (&["-e", "fault=write:error=EIO:when=0"], "when"),
        (&["-e", "inject=write:error=EIO:retval=1"], "retval"),
        (
            &["-e", "inject=getppid:syscall=getpid"],
            "inject=getppid:syscall=getpid",
        ),
        (&["-e", "inject=unlink:syscall=write:error=EPERM"], "write"),
        (&["-e", "inject=write:signal=SIGFOO"], "SIGFOO"),
        (&["-e", "inject=write:delay_enter=soon"], "soon"),
        (&["-e", "signal=none"], "signal=none"),
        (&["--plugin", "nosuch"], "nosuch"),
    ];
    for (args, named) in cases {
        let out = Cmd::fault()
            .cwd(dir.path())
            .args(*args)
            .args(["--", "touch", "marker"])
            .run();
        assert_refused(&out, named, &dir.join("marker"));
    }
}

#[test]
fn a_bad_rule_exits_125_naming_it() {
    let out = Cmd::fault()
        .args(["-e", "inject=write:when=0", "--", "true"])
        .run();
    out.assert_code(125);
    assert!(
        out.stderr.contains("fault: ") && out.stderr.contains("when=0"),
        "{}",
        out.describe()
    );
}

#[test]
fn clap_usage_errors_exit_125_and_help_exits_0() {
    let out = Cmd::fault().args(["--no-such-option", "--", "true"]).run();
    out.assert_code(125);
    assert!(
        out.stderr.contains("--no-such-option"),
        "{}",
        out.describe()
    );

    let out = Cmd::fault().args(["plugin"]).run();
    out.assert_code(125);

    let out = Cmd::fault().arg("--help").run();
    out.assert_code(0);
    for wanted in [
        "Usage: fault",
        "fault -e fault=openat",
        "Exit status:",
        "125",
        "126",
        "127",
    ] {
        assert!(
            out.stdout.contains(wanted),
            "{wanted:?}\n{}",
            out.describe()
        );
    }
}

#[test]
fn version_names_the_plugin_contract_and_wasmtime() {
    let out = Cmd::fault().arg("--version").run();
    out.assert_code(0);
    let packages = [format!("fi:policy@{}", contract_version())];
    let lock = fs::read_to_string(tests_dir().join("../Cargo.lock")).unwrap();
    let wasmtime = lock
        .split("\n[[package]]\n")
        .find_map(|p| p.strip_prefix("name = \"wasmtime\"\nversion = \""))
        .and_then(|rest| rest.split('"').next())
        .expect("Cargo.lock locks wasmtime");
    let lines = out.lines();
    assert_eq!(
        lines[0],
        format!("fault {}", env!("CARGO_PKG_VERSION")),
        "{}",
        out.describe()
    );
    assert!(
        lines
            .iter()
            .any(|l| *l == format!("plugin contract: {} (wit/policy.wit)", packages.join(", "))),
        "{packages:?}\n{}",
        out.describe()
    );
    assert!(
        lines.iter().any(|l| *l == format!("wasmtime {wasmtime}")),
        "wasmtime {wasmtime}\n{}",
        out.describe()
    );
}

#[test]
fn a_missing_program_exits_127() {
    let out = Cmd::fault()
        .args(["-e", "inject=write:error=EIO", "--", "/nonexistent"])
        .run();
    out.assert_code(127);
    assert!(
        out.stderr
            .contains("fault: /nonexistent: command not found"),
        "{}",
        out.describe()
    );
    // Nothing ran: the rule is not said to have changed nothing.
    assert!(
        !out.stderr.contains("changed no call"),
        "{}",
        out.describe()
    );

    let out = Cmd::fault().args(["--", "fi-test-no-such-command"]).run();
    out.assert_code(127);
    assert!(
        out.stderr.contains("fi-test-no-such-command"),
        "{}",
        out.describe()
    );
}

#[test]
fn a_program_that_cannot_run_exits_126() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TestDir::new("cannot-run");
    let script = dir.join("not-executable");
    fs::write(&script, "#!/bin/sh\ntouch marker\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o644)).unwrap();
    let bad_interpreter = dir.join("bad-interpreter");
    fs::write(&bad_interpreter, "#!/nonexistent/sh\ntouch marker\n").unwrap();
    fs::set_permissions(&bad_interpreter, fs::Permissions::from_mode(0o755)).unwrap();
    let subdir = dir.join("a-directory");
    fs::create_dir(&subdir).unwrap();
    for (program, why) in [
        (&script, "Permission denied"),
        (&bad_interpreter, "No such file or directory"),
        (&subdir, "Is a directory"),
    ] {
        let out = Cmd::fault()
            .cwd(dir.path())
            .args(["-e", "inject=write:error=EIO", "--"])
            .arg(program)
            .run();
        out.assert_code(126);
        assert!(
            out.stderr.contains("fault: ")
                && out.stderr.contains(&arg(program))
                && out.stderr.contains(why),
            "{why}\n{}",
            out.describe()
        );
        assert!(!dir.join("marker").exists(), "{}", out.describe());
    }

    // Found in $PATH, but only without execute permission.
    let out = Cmd::fault()
        .env("PATH", dir.path())
        .args(["--", "not-executable"])
        .run();
    out.assert_code(126);
    assert!(
        out.stderr.contains("Permission denied"),
        "{}",
        out.describe()
    );
}

#[test]
fn nothing_to_run_is_a_usage_error() {
    let out = Cmd::fault().args(["-e", "inject=write:error=EIO"]).run();
    out.assert_code(125);
    assert!(out.stderr.contains("fault: "), "{}", out.describe());
}

// ---------------------------------------------------------------------------
// 18. The log: --trace, JSON, -c

#[test]
fn trace_logs_every_stopped_call() {
    let dir = TestDir::new("trace");
    let out = Cmd::fault()
        .args(["--trace", "-e", "inject=fsync:error=EIO:when=2", "--"])
        .arg(c_program("fsyncs"))
        .arg("3")
        .arg(dir.join("file"))
        .run();
    out.assert_code(1);
    let logged = lines_with(&out.stderr, "fsync(");
    assert_eq!(logged.len(), 3, "{}", out.describe());
    assert!(logged[0].ends_with("= 0"), "{}", out.describe());
    assert!(
        logged[1].contains("= -1 EIO (Input/output error) (INJECTED)"),
        "{}",
        out.describe()
    );
    assert!(logged[2].ends_with("= 0"), "{}", out.describe());
}

#[test]
fn json_log_describes_the_injected_call() {
    let dir = TestDir::new("json");
    let log = dir.join("log.json");
    let out = Cmd::fault()
        .args(["--log-format", "json", "-o"])
        .arg(&log)
        .args([
            "-e",
            "fault=openat:error=EACCES",
            "-P",
            "/etc/hostname",
            "--",
            "cat",
            "/etc/hostname",
        ])
        .run();
    out.assert_code(1);
    let text = fs::read_to_string(&log).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}\n{text}"))
        })
        .collect();
    for record in &records {
        assert!(record.is_object(), "{record}");
        assert!(record["time"].is_number(), "{record}");
        let call = record.get("syscall").is_some();
        let message = record.get("source").is_some() && record["message"].is_string();
        let stages = record["stages"].is_array();
        assert!(
            call || message || stages,
            "neither a call, a message nor the stage counts: {record}"
        );
    }
    let opens: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["syscall"] == "openat")
        .collect();
    assert_eq!(opens.len(), 1, "{text}");
    let open = opens[0];
    assert!(open["pid"].as_i64().is_some_and(|p| p > 0), "{open}");
    assert_eq!(open["tid"], open["pid"], "{open}");
    assert_eq!(open["nr"], 257, "{open}");
    assert_eq!(open["args"].as_array().map(Vec::len), Some(6), "{open}");
    assert!(
        open["paths"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "/etc/hostname"),
        "{open}"
    );
    assert_eq!(open["verdict"], "fail", "{open}");
    assert_eq!(open["injected"], true, "{open}");
    assert_eq!(open["result"], -13, "{open}");
    assert_eq!(open["errno"], "EACCES", "{open}");
    assert_eq!(open["delay_ns"], 0, "{open}");
    assert_eq!(open["signals"], serde_json::json!([]), "{open}");
    assert!(
        open["policies"].as_array().unwrap().iter().any(|p| p
            .as_str()
            .is_some_and(|s| s.contains("fault=openat:error=EACCES"))),
        "{open}"
    );
    assert!(
        !out.stderr.contains("openat"),
        "-o must take the log off stderr\n{}",
        out.describe()
    );
}

#[test]
fn json_log_of_a_delayed_call() {
    let dir = TestDir::new("json-delay");
    let log = dir.join("log.json");
    let out = Cmd::fault()
        .args(["--log-format", "json", "-o"])
        .arg(&log)
        .args(["-e", "inject=fsync:delay_enter=50ms:when=1", "--"])
        .arg(c_program("fsyncs"))
        .arg("1")
        .arg(dir.join("file"))
        .run();
    out.assert_code(0);
    let text = fs::read_to_string(&log).unwrap();
    let record: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["syscall"] == "fsync")
        .unwrap_or_else(|| panic!("no fsync record:\n{text}"));
    assert_eq!(record["verdict"], "pass", "{record}");
    assert_eq!(record["injected"], false, "{record}");
    assert_eq!(record["result"], 0, "{record}");
    assert_eq!(record["errno"], serde_json::Value::Null, "{record}");
    assert_eq!(record["delay_ns"], 50_000_000u64, "{record}");
    assert_eq!(
        record["paths"],
        serde_json::json!([dir.join("file").to_str().unwrap()]),
        "{record}"
    );
}

/// The numbers of the `-c` row for `name`: stops, tampered, errors.
fn summary_row(log: &str, name: &str) -> Option<[u64; 3]> {
    log.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 4 || fields[0] != name {
            return None;
        }
        let n = |i: usize| fields[i].parse::<u64>().ok();
        Some([n(1)?, n(2)?, n(3)?])
    })
}

#[test]
fn summary_counts_the_injected_calls() {
    let dir = TestDir::new("summary");
    let out = Cmd::fault()
        .args(["-c", "-e", "inject=fsync:error=EIO:when=2+", "--"])
        .arg(c_program("fsyncs"))
        .arg("5")
        .arg(dir.join("file"))
        .run();
    out.assert_code(1);
    let header = out.stderr.lines().find(|l| {
        l.split_whitespace().collect::<Vec<_>>() == ["syscall", "stops", "tampered", "errors"]
    });
    assert!(header.is_some(), "no table header\n{}", out.describe());
    assert_eq!(
        summary_row(&out.stderr, "fsync"),
        Some([5, 4, 4]),
        "{}",
        out.describe()
    );
    let last = out.stderr.lines().last().unwrap_or("");
    assert!(
        last.starts_with("total"),
        "the total row ends the log\n{}",
        out.describe()
    );
    let total = summary_row(&out.stderr, "total").unwrap();
    assert!(
        total[0] >= 5 && total[1] == 4 && total[2] >= 4,
        "{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------
// 19. Java

#[test]
fn java_runs_the_same_under_fi() {
    let classes = java_classes();
    let java = java();
    let native = Cmd::new(&java)
        .arg("-cp")
        .arg(&classes)
        .arg("Workers")
        .timeout(Duration::from_secs(120))
        .run();
    native.assert_code(3);
    let traced = Cmd::fault()
        .args(NO_MATCH)
        .arg("--")
        .arg(&java)
        .arg("-cp")
        .arg(&classes)
        .arg("Workers")
        .timeout(Duration::from_secs(120))
        .run();
    traced.assert_code(3);
    assert_eq!(traced.stdout, native.stdout, "{}", traced.describe());
    assert!(
        traced.stdout.contains("done 16 shared 3200"),
        "{}",
        traced.describe()
    );
}

// ---------------------------------------------------------------------------
// 20. Shell pipelines

#[test]
fn bash_pipeline_runs_the_same_under_fi() {
    let bash = require_tool("bash", "apt-get install bash");
    let script = program_source("shell/pipeline.sh");
    let native = Cmd::new(&bash).arg("-c").arg(&script).run();
    native.assert_code(0);
    assert_eq!(native.stdout, "999\n998\n997\n"); // sort -r is lexicographic
    for extra in [&NO_MATCH[..], &["--no-seccomp", "-e", "fault=fsync"][..]] {
        let traced = Cmd::fault()
            .args(extra)
            .arg("--")
            .arg(&bash)
            .arg("-c")
            .arg(&script)
            .run();
        traced.assert_code(0);
        assert_eq!(traced.stdout, native.stdout, "{}", traced.describe());
    }
}

// ---------------------------------------------------------------------------
// 21. Did the fault fire? Stage counts and warnings at the end of a run

/// A file of `size` bytes in `dir`, for `cp` to copy.
fn source_file(dir: &TestDir, size: usize) -> std::path::PathBuf {
    let path = dir.join("src");
    fs::write(&path, vec![b'x'; size]).unwrap();
    path
}

#[test]
fn a_rule_that_never_fires_is_reported_with_the_syscall_the_program_used() {
    let cp = require_tool("cp", "apt-get install coreutils");
    let dir = TestDir::new("idle-cp");
    source_file(&dir, 100_000);
    // cp copies with copy_file_range: a write rule on dst never fires, and
    // cp's status alone would read as "cp handled the fault".
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "inject=write:error=EIO", "-P", "dst", "--"])
        .arg(&cp)
        .args(["src", "dst"])
        .run();
    out.assert_code(0);
    let warnings = lines_with(&out.stderr, "changed no call");
    assert_eq!(
        warnings,
        ["[fault] warning: -e inject=write:error=EIO: changed no call; -P dst: no write call touched it"],
        "{}",
        out.describe()
    );
    // With a stage that stops copy_file_range (and never fires either), the
    // write rule can tell which call it missed.
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "inject=write:error=EIO"])
        .args(["-e", "inject=copy_file_range:error=EIO:when=1000"])
        .args(["-P", "dst", "--"])
        .arg(&cp)
        .args(["src", "dst"])
        .run();
    out.assert_code(0);
    let warnings = lines_with(&out.stderr, "changed no call");
    assert_eq!(warnings.len(), 2, "{}", out.describe());
    assert!(
        warnings[0].ends_with(
            "-P dst: no write call touched it; cp used copy_file_range on dst, which the rule does not name"
        ),
        "{}",
        out.describe()
    );
    assert!(
        warnings[1].starts_with("[fault] warning: -e inject=copy_file_range:error=EIO:when=1000: changed no call; when= selected none of its "),
        "{}",
        out.describe()
    );
}

#[test]
fn an_idle_rule_keeps_the_programs_status() {
    let true_ = require_tool("true", "apt-get install coreutils");
    let out = Cmd::fault()
        .args(["-e", "inject=write:error=EIO", "-P", "/nonexistent", "--"])
        .arg(&true_)
        .run();
    out.assert_code(0);
    assert_eq!(
        lines_with(&out.stderr, "warning"),
        ["[fault] warning: -e inject=write:error=EIO: changed no call; -P /nonexistent: no write call touched it"],
        "{}",
        out.describe()
    );
}

#[test]
fn a_rule_that_fired_gets_no_warning_and_is_counted_per_stage() {
    let cat = require_tool("cat", "apt-get install coreutils");
    let dir = TestDir::new("stage-counts");
    let file = dir.join("secret");
    fs::write(&file, "hidden\n").unwrap();
    let other = dir.join("other");
    fs::write(&other, "shown\n").unwrap();
    let out = Cmd::fault()
        .args(["-c", "-e", "fault=openat:error=EACCES"])
        .args(["-e", "inject=fsync:error=EIO", "-P"])
        .arg(&file)
        .arg("--")
        .arg(&cat)
        .arg(&file)
        .arg(&other)
        .arg(&file)
        .run();
    out.assert_code(1);
    assert_eq!(out.stdout, "shown\n", "{}", out.describe());
    let warnings = lines_with(&out.stderr, "changed no call");
    assert_eq!(
        warnings,
        [format!(
            "[fault] warning: -e inject=fsync:error=EIO: changed no call; -P {}: no fsync call touched it",
            file.display()
        )],
        "{}",
        out.describe()
    );
    let row = |stage: &str| -> Vec<String> {
        let line = out
            .stderr
            .lines()
            .find(|line| line.starts_with(stage))
            .unwrap_or_else(|| panic!("no -c row for {stage}\n{}", out.describe()));
        line[stage.len()..]
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    assert_eq!(row("-e fault=openat:error=EACCES"), ["2"]);
    assert_eq!(row("-e inject=fsync:error=EIO"), ["0"]);

    let log = dir.join("log.json");
    Cmd::fault()
        .args(["--log-format", "json", "-o"])
        .arg(&log)
        .args(["-e", "fault=openat:error=EACCES", "-P"])
        .arg(&file)
        .arg("--")
        .arg(&cat)
        .arg(&file)
        .arg(&file)
        .arg(&file)
        .run()
        .assert_code(1);
    let text = fs::read_to_string(&log).unwrap();
    let stages: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter_map(|value| value.get("stages").cloned())
        .collect();
    assert_eq!(
        stages,
        [serde_json::json!([{"stage": "-e fault=openat:error=EACCES", "changed": 3}])],
        "{text}"
    );
    assert!(!text.contains("changed no call"), "{text}");
}

#[test]
fn dash_p_takes_a_glob_and_a_directory_prefix() {
    let cat = require_tool("cat", "apt-get install coreutils");
    let dir = TestDir::new("path-globs");
    fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    for (name, text) in [
        ("app.log", "log\n"),
        ("notes.txt", "notes\n"),
        ("sub/deeper/x", "x\n"),
        ("subway", "subway\n"),
    ] {
        fs::write(dir.join(name), text).unwrap();
    }
    let cat_all = |pattern: &str| {
        Cmd::fault()
            .cwd(dir.path())
            .args(["-e", "fault=openat:error=EACCES", "-P", pattern, "--"])
            .arg(&cat)
            .args(["app.log", "notes.txt", "sub/deeper/x", "subway"])
            .run()
    };
    let out = cat_all("*.log");
    out.assert_code(1);
    assert_eq!(out.stdout, "notes\nx\nsubway\n", "{}", out.describe());
    assert!(
        out.stderr.contains("cat: app.log: Permission denied"),
        "{}",
        out.describe()
    );

    let out = cat_all("sub/");
    out.assert_code(1);
    assert_eq!(out.stdout, "log\nnotes\nsubway\n", "{}", out.describe());
    assert!(
        out.stderr.contains("cat: sub/deeper/x: Permission denied"),
        "{}",
        out.describe()
    );

    // A plain path keeps strace's exact meaning: not a prefix.
    let out = cat_all(&format!("{}/sub", dir.path().display()));
    out.assert_code(0);
    assert_eq!(out.stdout, "log\nnotes\nx\nsubway\n", "{}", out.describe());
}

#[test]
fn text_log_decodes_open_flags_and_mode_like_strace() {
    let sh = require_tool("sh", "apt-get install dash");
    let dir = TestDir::new("decoded-flags");
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "fault=openat:error=EACCES", "-P", "out", "--"])
        .arg(&sh)
        .args(["-c", "echo hi > out"])
        .run();
    out.assert_code(2);
    let lines = lines_with(&out.stderr, "openat(");
    assert_eq!(lines.len(), 1, "{}", out.describe());
    assert!(
        lines[0].contains(
            "openat(AT_FDCWD, \"out\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = -1 EACCES (Permission denied) (INJECTED)"
        ),
        "{}",
        out.describe()
    );
    // JSON keeps the raw numbers.
    let log = dir.join("log.json");
    Cmd::fault()
        .cwd(dir.path())
        .args(["--log-format", "json", "-o"])
        .arg(&log)
        .args(["-e", "fault=openat:error=EACCES", "-P", "out", "--"])
        .arg(&sh)
        .args(["-c", "echo hi > out"])
        .run()
        .assert_code(2);
    let text = fs::read_to_string(&log).unwrap();
    let call: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let flags = (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC) as u64;
    assert_eq!(call["args"][2], flags, "{text}");
    assert_eq!(call["args"][3], 0o666, "{text}");
}
