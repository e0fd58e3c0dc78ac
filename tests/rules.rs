//! fi's strace-style rules as a user sees them: fault= and inject=, when=,
//! retval= and error=, syscall=, signal= and the delays, on real programs.
//!
//! Every run has a deadline: a hung fault fails its test instead of hanging it.

mod common;

use std::fs;

use common::*;

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
    out.ensure(out.stdout.is_empty(), "cat printed the file");
    out.assert_stderr_has(
        "cat: /etc/hostname: Permission denied",
        "cat did not report the error",
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
    out.ensure(
        !matches!(out.code(), Some(0) | None),
        "cat cannot even load libc, it must fail",
    );
    let hostname = fs::read_to_string("/etc/hostname").unwrap();
    out.assert_stdout_lacks(hostname.trim(), "cat printed the file");
    out.ensure(
        lines_with(&out.stderr, "= -1 EACCES (Permission denied) (INJECTED)").len() >= 2,
        "every open should fail",
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
        out.ensure_eq(out.lines().len(), 10);
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
    out.ensure_eq(failed_calls(&out, "fsync ", "EIO"), set(&[2]));
    out.ensure_eq(failed_calls(&out, "fdatasync ", "EIO"), set(&[2]));
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
    out.ensure_eq(failed_calls(&out, "fsync ", "ENOSYS"), set(&[2]));
    out.ensure_eq(
        lines_with(
            &out.stderr,
            "= -1 ENOSYS (Function not implemented) (INJECTED)",
        )
        .len(),
        1,
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
    out.ensure_eq(failed_calls(&out, "fsync ", "EIO"), set(&[1, 2, 3, 4, 5]));
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
    out.assert_stderr_has("Input/output error", "");
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
    out.ensure(line.starts_with("getpid=42 "), "getpid must return 42");
    out.ensure(!line.ends_with("self=42"), "the real pid is not 42");
    let logged = lines_with(&out.stderr, "getpid(");
    out.ensure_eq(logged.len(), 1);
    out.ensure(logged[0].contains("= 42 (INJECTED)"), "");
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
    out.ensure_eq(out.lines(), ["unlink: EPERM", "exists: yes"]);
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
    out.assert_stdout_lacks("deliveries", "the program ran on");
    out.assert_stdout_lacks("fsync 2", "fsync 2 returned");
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
    out.ensure(
        !out.stderr.contains("fsync("),
        "-o must take the log off stderr",
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
    out.ensure_eq(logged.len(), 1);
    out.ensure(logged[0].contains("(DELAYED)"), "");
}
