//! The `interrupt` plugin on real programs: short reads and writes, EINTR
//! and EAGAIN where the kernel could return them. A program that retries
//! correctly is unaffected; one that assumes a single read completes is
//! caught.

mod common;

use common::*;

/// fault with the test's cache directory for compiled plugins kept warm
/// across tests.
fn fault() -> Cmd {
    Cmd::fault().env("XDG_CACHE_HOME", tmp_root().join("cache"))
}

/// How many log lines name an injected fault of the plugin.
fn injected(out: &Outcome, what: &str) -> usize {
    out.stderr
        .lines()
        .filter(|line| line.contains(what) && line.ends_with("[interrupt]"))
        .count()
}

#[test]
fn a_program_that_retries_sees_the_same_data() {
    let program = c_program("interrupt_retry");
    let native = Cmd::new(&program).arg("300000").run();
    native.assert_code(0);
    for seed in ["1", "2", "3"] {
        let out = fault()
            .args(["--seed", seed, "--plugin", "interrupt:fds=pipe", "--"])
            .arg(&program)
            .arg("300000")
            .run();
        out.assert_code(0);
        assert_eq!(out.stdout, native.stdout, "{}", out.describe());
        // Reads of the non-blocking end may fail with EAGAIN, writes of the
        // blocking end with EINTR (a SIGUSR1 handler is installed); both
        // are cut short too, vectored ones included.
        let short = out
            .stderr
            .lines()
            .filter(|l| l.contains("/* was ") && l.ends_with("[interrupt]"))
            .count();
        assert!(short > 0, "no call was cut\n{}", out.describe());
        assert!(injected(&out, "EAGAIN") > 0, "{}", out.describe());
        assert!(injected(&out, "EINTR") > 0, "{}", out.describe());
    }
}

#[test]
fn errors_are_only_those_the_descriptor_allows() {
    let program = c_program("interrupt_retry");
    let out = fault()
        .args(["--plugin", "interrupt:fds=pipe:faults=eintr,eagain", "--"])
        .arg(&program)
        .arg("100000")
        .run();
    out.assert_code(0);
    // The parent reads a non-blocking end: EAGAIN, never EINTR. The child
    // writes a blocking end: EINTR, never EAGAIN.
    for line in out.stderr.lines().filter(|l| l.ends_with("[interrupt]")) {
        let reads = line.contains("read(") || line.contains("readv(");
        let writes = line.contains("write(") || line.contains("writev(");
        if line.contains("EINTR") {
            assert!(writes && !reads, "EINTR on a non-blocking read: {line}");
        }
        if line.contains("EAGAIN") {
            assert!(reads && !writes, "EAGAIN on a blocking write: {line}");
        }
    }
    assert!(injected(&out, "EINTR") > 0 && injected(&out, "EAGAIN") > 0);
}

#[test]
fn a_program_without_a_handler_gets_no_eintr() {
    // cat neither handles a signal nor makes its pipe non-blocking: only
    // short counts are possible, and cat retries them.
    let dir = TestDir::new("interrupt-cat");
    let source = dir.join("source");
    let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&source, &text).unwrap();
    let out = fault()
        .args([
            "--plugin",
            "interrupt:probability=1:fds=pipe",
            "--",
            "sh",
            "-c",
        ])
        .arg(format!("cat {} | cat", source.display()))
        .run();
    out.assert_code(0);
    assert_eq!(out.stdout, text);
    assert_eq!(injected(&out, "EINTR") + injected(&out, "EAGAIN"), 0);
    assert!(out.stderr.contains("/* was "), "{}", out.describe());
}

#[test]
fn a_single_read_assumed_complete_is_caught() {
    let program = c_program("interrupt_once");
    Cmd::new(&program).arg("1000").run().assert_code(0);
    let out = fault()
        .args([
            "--plugin",
            "interrupt:fds=pipe:syscalls=read:probability=1",
            "--",
        ])
        .arg(&program)
        .arg("1000")
        .run();
    out.assert_code(1);
    let line = out.lines().first().copied().unwrap_or_default().to_string();
    let got: usize = line
        .strip_prefix("read ")
        .and_then(|rest| rest.strip_suffix(" of 1000"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", out.describe()));
    assert!((1..1000).contains(&got), "{}", out.describe());
}

/// Python's reads of its stdin pipe come back short; `read()` loops until
/// the end. (Its writes are left alone: with `PYTHONUNBUFFERED=1`, stdout
/// is a raw `FileIO` under a write-through text layer, and `print` drops
/// what a short write did not take.)
#[test]
fn python_reading_a_pipe_gets_all_of_it() {
    let script = "import hashlib, sys\n\
                  data = sys.stdin.buffer.read()\n\
                  print(len(data), hashlib.sha256(data).hexdigest())\n";
    let command = format!("seq 1 40000 | {} -c '{script}'", python3().display());
    let native = Cmd::new("sh").args(["-c", &command]).run();
    native.assert_code(0);
    let out = fault()
        .args([
            "--seed",
            "5",
            "--plugin",
            "interrupt:syscalls=read:faults=short",
            "--",
        ])
        .args(["sh", "-c", &command])
        .run();
    out.assert_code(0);
    assert_eq!(out.stdout, native.stdout, "{}", out.describe());
    assert!(out.stderr.contains("/* was "), "{}", out.describe());
}

#[test]
fn bad_keys_stop_fault_before_the_program_runs() {
    let dir = TestDir::new("interrupt-config");
    let marker = dir.join("marker");
    for (spec, named) in [
        ("interrupt:fds=pipe,disk", "fds=pipe,disk: unknown 'disk'"),
        ("interrupt:faults=slow", "faults=slow: unknown 'slow'"),
        (
            "interrupt:syscalls=fsync",
            "interrupt does not act on 'fsync'",
        ),
        ("interrupt:probability=2", "probability=2"),
    ] {
        let out = fault()
            .args(["--plugin", spec, "--", "touch"])
            .arg(&marker)
            .run();
        assert_ne!(out.code(), Some(0), "{}", out.describe());
        assert!(out.stderr.contains(named), "{}", out.describe());
        assert!(!marker.exists(), "the program ran under {spec}");
    }
}
