//! Reliability: exact accounting under stress, process creation storms,
//! rejected rule expressions, and property tests that the parsers of user
//! input never panic. The long versions live in `tests/stress/run`; see
//! RELIABILITY.md.
//!
//! Every run has a deadline, and the sizes here are kept small enough for
//! the default `cargo test` on a 2-core machine.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// 1. Stress: exact accounting

const THREADS: u64 = 16;
const WRITES: u64 = 2000;
const STEP: u64 = 5;

#[test]
fn every_fifth_write_of_every_thread_fails_exactly() {
    let dir = TestDir::new("stress-threads");
    let log = dir.join("log.json");
    let out = Cmd::fault()
        .args(["-c", "--log-format", "json", "-o"])
        .arg(&log)
        .args([
            "-e",
            &format!("inject=write:error=EIO:when={STEP}+{STEP}"),
            "-P",
            "/dev/null",
            "--",
        ])
        .arg(c_program("stress_threads"))
        .args([THREADS.to_string(), WRITES.to_string()])
        .timeout(Duration::from_secs(60))
        .run();
    out.assert_code(0);
    let per_thread = WRITES / STEP;

    // What the threads saw.
    let lines = out.lines();
    assert_eq!(lines.len() as u64, THREADS, "{}", out.describe());
    let mut tids = Vec::new();
    for line in &lines {
        let (tid, failures) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}\n{}", out.describe()));
        let failures: u64 = failures.parse().unwrap();
        assert_eq!(
            failures,
            per_thread,
            "thread {tid} saw the wrong number of failures\n{}",
            out.describe()
        );
        tids.push(tid.parse::<u64>().unwrap());
    }

    // What fi logged.
    let text = std::fs::read_to_string(&log).expect("reading the JSON log");
    let mut injected_by_tid: BTreeMap<u64, u64> = BTreeMap::new();
    let mut summary = None;
    for line in text.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if let Some(rows) = value.get("summary") {
            summary = Some(rows.clone());
            continue;
        }
        if value["syscall"] == "write" && value["injected"] == true {
            assert_eq!(value["errno"], "EIO", "{line}");
            assert_eq!(value["result"], -5, "{line}");
            let tid = value["tid"].as_u64().expect("tid");
            *injected_by_tid.entry(tid).or_default() += 1;
        }
    }
    let total: u64 = injected_by_tid.values().sum();
    assert_eq!(
        total,
        THREADS * per_thread,
        "injected write lines in the log"
    );
    assert_eq!(injected_by_tid.len() as u64, THREADS, "{injected_by_tid:?}");
    for tid in &tids {
        assert_eq!(
            injected_by_tid.get(tid).copied(),
            Some(per_thread),
            "log lines for thread {tid}: {injected_by_tid:?}"
        );
    }

    let summary = summary.expect("no summary line at the end of the JSON log");
    let write = summary
        .as_array()
        .expect("summary is a list")
        .iter()
        .find(|row| row["syscall"] == "write")
        .unwrap_or_else(|| panic!("no write row in {summary}"));
    assert_eq!(
        write["tampered"].as_u64(),
        Some(THREADS * per_thread),
        "{write}"
    );
    assert_eq!(
        write["errors"].as_u64(),
        Some(THREADS * per_thread),
        "{write}"
    );
    assert!(
        write["stops"].as_u64().unwrap_or(0) >= THREADS * WRITES,
        "{write}"
    );
}

// ---------------------------------------------------------------------------
// 2. Stress: process creation

#[test]
fn many_forks_vforks_and_an_exec_from_a_thread_complete() {
    // The rule fires in every child: each checks getppid() returned 4242.
    let out = Cmd::fault()
        .args(["-e", "inject=getppid:retval=4242", "--"])
        .arg(c_program("stress_fork"))
        .args(["300", "4242"])
        .timeout(Duration::from_secs(60))
        .run();
    out.assert_code(42);
    assert_eq!(
        out.lines(),
        ["forks ok 300", "vforks ok 20", "after exec"],
        "{}",
        out.describe()
    );
    assert_eq!(
        lines_with(&out.stderr, "getppid() = 4242 (INJECTED)").len(),
        300,
        "one injected getppid per child\n{}",
        out.describe()
    );
}

#[test]
fn many_forks_under_a_rule_that_matches_nothing() {
    let out = Cmd::fault()
        .args([
            "-e",
            "inject=write,openat:error=EIO",
            "-P",
            "/nonexistent/fi-test",
            "--",
        ])
        .arg(c_program("stress_fork"))
        .args(["300", "-"])
        .timeout(Duration::from_secs(60))
        .run();
    out.assert_code(42);
    assert_eq!(
        out.lines(),
        ["forks ok 300", "vforks ok 20", "after exec"],
        "{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------
// 2b. A target that another tracer already holds

fn tracer_pid(pid: i32) -> Option<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn attaching_to_a_process_strace_already_traces_is_refused() {
    let strace = require_tool("strace", "apt-get install strace");
    let target = Cmd::new("sleep").arg("60").spawn();
    let pid = target.pid();
    let tracer = Cmd::new(strace)
        .args(["-qq", "-o", "/dev/null", "-p", &pid.to_string()])
        .spawn();
    assert!(
        wait_until(Duration::from_secs(10), || tracer_pid(pid)
            .is_some_and(|t| t != 0)),
        "strace did not attach"
    );
    let holder = tracer_pid(pid);
    let out = Cmd::fault()
        .args(["-p", &pid.to_string(), "-e", "inject=write:error=EIO"])
        .timeout(Duration::from_secs(10))
        .run();
    out.assert_code(125);
    assert!(
        out.stderr.contains("fault: ") && out.stderr.contains("already traced"),
        "{}",
        out.describe()
    );
    // The target and its tracer are left as they were.
    assert!(
        matches!(proc_state(pid), Some(c) if c != 'Z' && c != 'X'),
        "the target died"
    );
    assert_eq!(tracer_pid(pid), holder, "the tracer changed");
    drop(tracer);
    drop(target);
}

// ---------------------------------------------------------------------------
// 2c. Tracee memory: hostile pointers get the kernel's answer, fi survives

#[test]
fn hostile_pointers_get_the_same_results_under_fi() {
    let program = c_program("stress_badptr");
    let native = Cmd::new(&program).run();
    native.assert_code(0);
    assert!(
        native.stdout.contains("open-addr-1: EFAULT"),
        "{}",
        native.describe()
    );
    for extra in [&[][..], &["--no-seccomp"], &["--trace"]] {
        let out = Cmd::fault()
            .args(extra)
            .args([
                "-e",
                "inject=openat,unlink,write:error=EIO",
                "-P",
                "/nonexistent/fi-test",
                "--",
            ])
            .arg(&program)
            .run();
        out.assert_code(0);
        assert_eq!(out.stdout, native.stdout, "{}", out.describe());
    }
}

// ---------------------------------------------------------------------------
// 3. Expressions strace rejects are rejected before anything runs

#[test]
fn rejected_expressions_exit_125_and_start_nothing() {
    let dir = TestDir::new("rejected");
    // (expression, part of the message naming what is wrong)
    let cases: &[(&str, &str)] = &[
        ("inject=write:when=2..1", "when="),
        ("inject=write:error=EIO:when=2..1", "when="),
        ("inject=write:error=EIO:when=65536", "when="),
        ("inject=write:error=EIO:when=1+0", "when="),
        ("inject=write:error=EIO:when=1+65536", "when="),
        ("inject=write:error=EIO:when=+3", "when="),
        ("inject=write:error=EIO:when=abc", "when="),
        ("inject=write:retval=1:error=EIO", "mutually exclusive"),
        ("inject=write:error=4096", "4096"),
        ("inject=write:error=0", "errno 0"),
        ("inject=write:signal=0", "signal 0"),
        ("inject=write:signal=65", "signal 65"),
        ("inject=write:delay_enter=-1", "delay_enter="),
        ("inject=:error=EIO", "syscall set"),
        ("inject=write:error=EIO:error=EPERM", "more than once"),
        ("inject=write:foo=1", "foo"),
        ("inject=write:error=", "error="),
        ("inject=write,,read:error=EIO", "write,,read"),
        ("fault=write:retval=0", "retval="),
        ("inject=write:poke_enter=@arg9=00", "poke_enter="),
        ("inject=%nosuchclass:error=EIO", "%nosuchclass"),
        ("inject=/[:error=EIO", "/["),
    ];
    for (expr, named) in cases {
        let out = Cmd::fault()
            .cwd(dir.path())
            .args(["-e", expr, "--", "touch", "marker"])
            .run();
        assert_refused(&out, named, &dir.join("marker"));
        assert!(
            out.stderr.contains(&format!("fault: -e {expr}")),
            "the message must quote the expression\n{}",
            out.describe()
        );
    }
}

// ---------------------------------------------------------------------------
// 4. Property tests: the parsers of user input never panic

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings assembled from the pieces of the `-e` grammar.
fn grammar_expr() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("inject=".to_owned()),
        Just("fault=".to_owned()),
        Just("trace=".to_owned()),
        Just(":".to_owned()),
        Just(",".to_owned()),
        Just("!".to_owned()),
        Just("%".to_owned()),
        Just("/".to_owned()),
        Just("write".to_owned()),
        Just("openat".to_owned()),
        Just("getpid".to_owned()),
        Just("all".to_owned()),
        Just("%file".to_owned()),
        Just("%pure".to_owned()),
        Just("error=".to_owned()),
        Just("retval=".to_owned()),
        Just("signal=".to_owned()),
        Just("syscall=".to_owned()),
        Just("when=".to_owned()),
        Just("delay_enter=".to_owned()),
        Just("delay_exit=".to_owned()),
        Just("poke_enter=".to_owned()),
        Just("EIO".to_owned()),
        Just("SIGKILL".to_owned()),
        Just("+".to_owned()),
        Just("..".to_owned()),
        Just("-".to_owned()),
        Just("=".to_owned()),
        Just("s".to_owned()),
        Just("ms".to_owned()),
        "[0-9]{1,25}",
        "\\PC{0,3}",
    ];
    prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
}

#[track_caller]
fn check_rule(text: &str) {
    if let Err(e) = fi::rules::parse::parse_expr(text) {
        let message = e.to_string();
        assert!(
            message.starts_with("-e "),
            "{text:?} gave the message {message:?}"
        );
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_expr_never_panics_on_any_string(text in "\\PC{0,64}") {
        check_rule(&text);
    }

    #[test]
    fn parse_expr_never_panics_on_grammar_pieces(text in grammar_expr()) {
        check_rule(&text);
    }

    #[test]
    fn plugin_spec_never_panics(text in prop_oneof![
        "\\PC{0,64}",
        prop::collection::vec(
            prop_oneof![
                Just("plugin".to_owned()), Just(":".to_owned()), Just("=".to_owned()),
                Just(",".to_owned()), Just("/".to_owned()), Just(".wasm".to_owned()),
                Just("builtin:".to_owned()), "[a-z0-9_-]{0,8}", "\\PC{0,3}",
            ],
            0..12,
        ).prop_map(|p| p.concat()),
    ]) {
        let _ = fi::wasm::PluginSpec::parse(&text);
    }

    #[test]
    fn parse_duration_never_panics(text in prop_oneof![
        "\\PC{0,32}",
        "[0-9]{0,30}(s|ms|us|ns|m|h|)",
    ]) {
        let _ = fi::cli::parse_duration(&text);
    }
}
