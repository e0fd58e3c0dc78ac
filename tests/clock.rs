//! Calls made through the vDSO, and the `clock` plugin, on real programs: a
//! C program reading every clock through glibc, a Go program's time.Now, a
//! Python program's time.time, and a running program fault attaches to.

mod common;

use std::collections::HashMap;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;

/// fault with the test's cache directory for compiled plugins kept warm.
fn fault() -> Cmd {
    Cmd::fault().env("XDG_CACHE_HOME", tmp_root().join("cache"))
}

const HOUR: f64 = 3_600.0;
const DAY: f64 = 86_400.0;
/// How far a clock read by a traced program may be from the test's own
/// reading of it, in seconds (a debug fault on a busy machine is slow).
const SLACK: f64 = 60.0;

/// The wall clock now, in seconds.
fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// `clock` now, in seconds, read by the test itself.
fn clock_now(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out pointer.
    assert_eq!(unsafe { libc::clock_gettime(clock, &mut ts) }, 0);
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// The `key=value` numbers of `clock_now`'s line starting with `when`.
fn readings(out: &Outcome, when: &str) -> HashMap<String, f64> {
    let line = out
        .lines()
        .into_iter()
        .find(|line| line.starts_with(when))
        .unwrap_or_else(|| panic!("no '{when}' line\n{}", out.describe()));
    line.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_string(), value.parse().unwrap()))
        .collect()
}

/// Assert that `got` is `want` within `slack` seconds.
#[track_caller]
fn assert_near(what: &str, got: f64, want: f64, slack: f64, out: &Outcome) {
    assert!(
        (got - want).abs() <= slack,
        "{what}: got {got:.3}, want {want:.3} ± {slack}\n{}",
        out.describe()
    );
}

/// The `entry` and `calls` of `clock_loop` under `fault_args` (natively for
/// none), with fault's log.
fn clock_loop(fault_args: &[&str], calls: u32) -> (String, Outcome) {
    let program = c_program("clock_loop");
    let out = if fault_args.is_empty() {
        Cmd::new(&program).arg(calls.to_string()).run()
    } else {
        fault()
            .args(fault_args)
            .arg("--")
            .arg(&program)
            .arg(calls.to_string())
            .run()
    };
    out.assert_code(0);
    let entry = out
        .lines()
        .iter()
        .find_map(|line| line.strip_prefix("entry "))
        .unwrap_or_else(|| panic!("no entry line\n{}", out.describe()))
        .to_string();
    (entry, out)
}

/// The calls `count` logged for `syscall` (0 when it has no row).
fn counted(out: &Outcome, syscall: &str) -> u64 {
    out.stderr
        .lines()
        .filter(|line| line.contains("[count]"))
        .find_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = words.iter().position(|w| *w == syscall)?;
            words[..at].iter().rev().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

#[test]
fn the_vdso_is_rewritten_only_for_a_subscriber() {
    const CALLS: u32 = 3_000;
    let (native, _) = clock_loop(&[], CALLS);

    // Counting writes only: clock_gettime stays in the vDSO, unseen.
    let (entry, out) = clock_loop(&["--plugin", "count:syscalls=write"], CALLS);
    assert_eq!(
        entry,
        native,
        "the vDSO must be left as it is\n{}",
        out.describe()
    );
    assert!(counted(&out, "write") >= 3, "{}", out.describe());
    assert_eq!(counted(&out, "clock_gettime"), 0, "{}", out.describe());

    // Counting clock_gettime: its entry makes the system call, every one
    // of the loop's calls is seen.
    let (entry, out) = clock_loop(&["--plugin", "count:syscalls=clock_gettime"], CALLS);
    assert_ne!(
        entry,
        native,
        "the entry must be rewritten\n{}",
        out.describe()
    );
    assert!(
        entry.starts_with(&format!("b8{:02x}", libc::SYS_clock_gettime)),
        "mov eax, clock_gettime: {entry}\n{}",
        out.describe()
    );
    assert!(
        counted(&out, "clock_gettime") >= u64::from(CALLS),
        "{}",
        out.describe()
    );

    // A rule that names the call subscribes to it too.
    let (entry, out) = clock_loop(&["-c", "--trace=clock_gettime"], CALLS);
    assert_ne!(entry, native, "{}", out.describe());
    let summary = lines_with(&out.stderr, "clock_gettime");
    assert!(
        summary.iter().any(|line| line
            .split_whitespace()
            .any(|w| w.parse::<u32>().is_ok_and(|n| n >= CALLS))),
        "-c counts the loop's calls\n{}",
        out.describe()
    );
}

#[test]
fn a_c_program_sees_the_clocks_jump_an_hour() {
    let out = fault()
        .args(["--plugin", "clock:jump=+1h", "--"])
        .arg(c_program("clock_now"))
        .arg("0")
        .run();
    out.assert_code(0);
    let before = readings(&out, "before");
    let wall = wall_now();
    for key in ["realtime", "gettimeofday", "time"] {
        assert_near(key, before[key], wall + HOUR, SLACK, &out);
    }
    let mono = clock_now(libc::CLOCK_MONOTONIC);
    assert_near("monotonic", before["monotonic"], mono + HOUR, SLACK, &out);
    // Not chosen by default.
    let boot = clock_now(libc::CLOCK_BOOTTIME);
    assert_near("boottime", before["boottime"], boot, SLACK, &out);
    assert!(
        out.stderr.contains("[clock]"),
        "the log shows the rewritten calls\n{}",
        out.describe()
    );
}

#[test]
fn a_negative_jump_of_the_wall_clock_alone() {
    let out = fault()
        .args(["--plugin", "clock:jump=-2d:clocks=realtime", "--"])
        .arg(c_program("clock_now"))
        .arg("0")
        .run();
    out.assert_code(0);
    let before = readings(&out, "before");
    let wall = wall_now();
    for key in ["realtime", "gettimeofday", "time"] {
        assert_near(key, before[key], wall - 2.0 * DAY, SLACK, &out);
    }
    let mono = clock_now(libc::CLOCK_MONOTONIC);
    assert_near("monotonic", before["monotonic"], mono, SLACK, &out);
}

/// How far `key` moved over `clock_now`'s sleep.
fn moved(out: &Outcome, key: &str) -> f64 {
    readings(out, "after")[key] - readings(out, "before")[key]
}

#[test]
fn frozen_clocks_do_not_move_while_the_program_sleeps() {
    let out = fault()
        .args(["--plugin", "clock:freeze=true:clocks=all", "--"])
        .arg(c_program("clock_now"))
        .arg("300")
        .run();
    out.assert_code(0);
    for key in ["realtime", "monotonic", "boottime", "gettimeofday", "time"] {
        assert_eq!(moved(&out, key), 0.0, "{key}\n{}", out.describe());
    }
}

#[test]
fn half_rate_clocks_see_half_the_sleep_and_a_skew_adds_its_drift() {
    const SLEEP: f64 = 0.4;
    let run = |spec: &str| {
        let out = fault()
            .args(["--plugin", spec, "--"])
            .arg(c_program("clock_now"))
            .arg("400")
            .run();
        out.assert_code(0);
        out
    };
    let out = run("clock:rate=0.5");
    // The program really slept at least SLEEP; a traced run may add some.
    for key in ["monotonic", "realtime"] {
        let seen = moved(&out, key);
        assert!(
            (SLEEP * 0.5..SLEEP * 0.5 + 0.2).contains(&seen),
            "{key} moved {seen:.3}s over a {SLEEP}s sleep\n{}",
            out.describe()
        );
    }
    // +100% drift: the clock runs twice as fast.
    let out = run("clock:skew=+1000000ppm:clocks=monotonic");
    let seen = moved(&out, "monotonic");
    assert!(
        (SLEEP * 2.0..SLEEP * 2.0 + 0.4).contains(&seen),
        "monotonic moved {seen:.3}s over a {SLEEP}s sleep\n{}",
        out.describe()
    );
    let real = moved(&out, "realtime");
    assert!(real < SLEEP + 0.2, "realtime untouched\n{}", out.describe());
}

#[test]
fn go_sees_the_jump_through_the_vdso_symbols_it_found_itself() {
    let out = fault()
        .args(["--plugin", "clock:jump=+1h", "--"])
        .arg(go_program("clock_now"))
        .arg("100")
        .run();
    out.assert_code(0);
    let now: f64 = out
        .lines()
        .iter()
        .find_map(|line| line.strip_prefix("now "))
        .unwrap_or_else(|| panic!("no now line\n{}", out.describe()))
        .parse()
        .unwrap();
    assert_near("time.Now", now, wall_now() + HOUR, SLACK, &out);
    // The monotonic clock jumped from the start, so Go's timers still work.
    let slept: u64 = out
        .lines()
        .iter()
        .find_map(|line| line.strip_prefix("slept_ms "))
        .unwrap()
        .parse()
        .unwrap();
    assert!((100..5_000).contains(&slept), "{}", out.describe());
}

#[test]
fn python_time_time_sees_the_jump() {
    let out = fault()
        .args(["--plugin", "clock:jump=-1h", "--"])
        .arg(python3())
        .arg(tests_dir().join("programs/python/clock_now.py"))
        .run();
    out.assert_code(0);
    let value = |key: &str| -> f64 {
        out.lines()
            .iter()
            .find_map(|line| line.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} line\n{}", out.describe()))
            .trim()
            .parse()
            .unwrap()
    };
    assert_near("time.time", value("now "), wall_now() - HOUR, SLACK, &out);
    // The plugin never takes a clock below 0 (docs/plugins/clock.md): on a
    // machine up for less than an hour, the monotonic clock reads 0.
    let mono = clock_now(libc::CLOCK_MONOTONIC);
    assert_near(
        "time.monotonic",
        value("monotonic "),
        (mono - HOUR).max(0.0),
        SLACK,
        &out,
    );
}

#[test]
fn an_attached_program_sees_the_jump_until_fault_detaches() {
    let mut program = Cmd::new(c_program("clock_watch"))
        .args(["400", "25"])
        .spawn();
    program.wait_for_stdout("the first tick", Duration::from_secs(10), |s| {
        s.contains("tick 1 ")
    });
    let realtime_of = |line: &str| -> Option<f64> {
        line.split_once("realtime=")
            .and_then(|(_, v)| v.trim().parse().ok())
    };
    let jumped = |s: &str| {
        s.lines()
            .filter_map(realtime_of)
            .any(|t| t > wall_now() + HOUR - SLACK)
    };
    let fi = fault()
        .args([
            "-p",
            &program.pid().to_string(),
            "--plugin",
            "clock:jump=+1h",
        ])
        .spawn();
    program.wait_for_stdout("a tick an hour ahead", Duration::from_secs(8), jumped);
    fi.signal(libc::SIGINT);
    let fi_out = fi.wait_within(Duration::from_secs(5));
    fi_out.assert_code(0);
    // After the detach the rewritten entry still makes the system call,
    // which nobody changes any more: the real time again.
    let seen = program.stdout_so_far().lines().count();
    thread::sleep(Duration::from_millis(300));
    let out = program.wait_within(Duration::from_secs(20));
    out.assert_code(0);
    let last = out.lines()[seen..]
        .iter()
        .filter_map(|line| realtime_of(line))
        .next_back()
        .unwrap_or_else(|| panic!("no tick after the detach\n{}", out.describe()));
    assert_near("after the detach", last, wall_now(), SLACK, &out);
}

#[test]
fn bad_clock_settings_are_refused_by_key() {
    for (spec, named) in [
        ("clock:rate=-1", "rate=-1"),
        ("clock:rate=fast", "rate=fast"),
        ("clock:jump=5", "jump=5"),
        ("clock:jump=+1y", "jump=+1y"),
        ("clock:skew=50", "skew=50"),
        ("clock:clocks=cpu", "clocks=cpu"),
        ("clock:freeze=true:rate=2", "rate=2"),
        ("clock:freeze=maybe", "freeze=maybe"),
    ] {
        let out = fault().args(["--plugin", spec, "--", "true"]).run();
        out.assert_code(125);
        assert!(
            out.stderr.contains(named),
            "the error names {named}\n{}",
            out.describe()
        );
    }
}

#[test]
fn a_rewritten_getrandom_entry_refuses_the_state_query_and_makes_the_call() {
    let program = c_program("clock_vgetrandom");
    let native = Cmd::new(&program).run();
    native.assert_code(0);
    if native.stdout.contains("no vgetrandom") {
        eprintln!("this kernel's vDSO has no getrandom: nothing to check");
        return;
    }
    assert!(native.stdout.contains("query 0\n"), "{}", native.describe());
    let out = fault()
        .args(["--plugin", "count:syscalls=getrandom", "--"])
        .arg(&program)
        .run();
    out.assert_code(0);
    // The query fails, so a C library falls back to the system call.
    assert!(
        out.stdout.contains(&format!("query -{}\n", libc::ENOSYS)),
        "{}",
        out.describe()
    );
    assert!(out.stdout.contains("bytes 16\n"), "{}", out.describe());
    assert_eq!(counted(&out, "getrandom"), 1, "{}", out.describe());
}
