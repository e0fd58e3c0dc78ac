//! -p PID: attaching to running processes and their threads, tampering,
//! and detaching on a stop signal.
//!
//! Every run has a deadline: a hung fault fails its test instead of hanging it.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

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
    out.ensure_eq(lines.len(), 61);
    assert_eq!(lines.last(), Some(&"done"));
    let failed = failed_calls(&out, "tick ", "EIO");
    out.ensure(!failed.is_empty(), "");
    let first = *failed.iter().next().unwrap();
    let last = *failed.iter().last().unwrap();
    out.ensure(first > 1, "");
    assert_eq!(
        failed,
        (first..=last).collect(),
        "every write while attached fails, none after\n{}",
        out.describe()
    );
    out.ensure(last < 55, "the program ran on after the detach");
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
    out.ensure(!logged.is_empty(), "the log shows the injected writes");
    out.ensure(
        logged
            .iter()
            .all(|l| l.contains("write(") && l.contains("= -1 EIO (Input/output error)")),
        "",
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
    out.ensure_eq(lines.len(), 6);
    for t in 0..4 {
        let line = lines[t + 1];
        let field = |name: &str| -> u32 {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {line:?}"))
        };
        out.ensure(line.starts_with(&format!("thread {t}: ")), "");
        assert!(
            field("failed") > 0,
            "thread {t} was not traced\n{}",
            out.describe()
        );
        out.ensure_eq(field("ok") + field("failed"), 60);
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
    out.assert_stderr_has("no such process", "");
}
