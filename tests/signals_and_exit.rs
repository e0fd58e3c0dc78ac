//! Signals and exit statuses: signals pass through to the program, group
//! stops stop and resume it, its exit status is fault's, and the signals
//! sent to fault are forwarded.
//!
//! Every run has a deadline: a hung fault fails its test instead of hanging it.

mod common;

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

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
        out.ensure_eq(out.lines(), ["recovered 3"]);
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
        out.ensure_eq(out.lines(), ["rt ok 1 2 3 usr2"]);
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
    out.ensure_eq(out.lines().last(), Some(&"done"));
    assert_eq!(line_count(&ticks), 40);
    out.assert_stdout_lacks("EIO", "");
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
    out.ensure_eq(out.lines().last(), Some(&"got SIGINT"));
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
    out.assert_stdout_lacks("done", "");
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
            out.ensure_eq(out.lines().last(), Some(&line));
        }
    }
}

/// A program that ended leaving a daemon behind (gpg leaves its agent):
/// fault waits for the daemon, as `strace -f` does, until a stop signal,
/// which then ends the daemon, and fault exits with the program's status,
/// leaving nothing running.
#[test]
fn a_stop_signal_after_the_program_ended_ends_what_it_left_running() {
    // A duration no other test sleeps, to find the daemon by.
    let marker = "sleep 987654";
    let script = format!("setsid {marker} </dev/null >/dev/null 2>&1 & echo started; exit 3");
    let mut fi = Cmd::fault()
        .args(NO_MATCH)
        .args(["--", "sh", "-c", &script])
        .spawn();
    fi.wait_for_stdout("the program's line", Duration::from_secs(10), |s| {
        s.contains("started")
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !processes_running(marker).is_empty(),
        "the daemon was never seen running"
    );
    fi.signal(libc::SIGTERM);
    let out = fi.wait_within(Duration::from_secs(5));
    out.assert_code(3);
    let left = processes_running(marker);
    out.ensure(left.is_empty(), "the daemon still runs");
}
