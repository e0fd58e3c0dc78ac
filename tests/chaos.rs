//! The `chaos` plugin on real programs: it draws only errors the kernel
//! could return for the call where it stands, so that an injected failure
//! never points at a cause that cannot exist (no `EAGAIN` from a blocking
//! write to a regular file, no `EINTR` from `close`).

mod common;

use common::*;

/// fault with the test's cache directory for compiled plugins kept warm
/// across tests.
fn fault() -> Cmd {
    Cmd::fault().env("XDG_CACHE_HOME", tmp_root().join("cache"))
}

/// The log lines of calls chaos failed.
fn injected(out: &Outcome) -> Vec<&str> {
    out.stderr
        .lines()
        .filter(|line| line.contains("(INJECTED)") && line.ends_with("[chaos]"))
        .collect()
}

/// The errno name of an injected line (`= -1 EIO (...)`).
fn errno_of(line: &str) -> &str {
    line.split("= -1 ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no errno in {line}"))
}

#[test]
fn regular_files_never_see_eagain_or_eintr() {
    let dir = TestDir::new("chaos-files");
    let source = dir.join("source");
    std::fs::write(&source, "x".repeat(100_000)).unwrap();
    let mut drawn = Vec::new();
    for seed in 1..=8 {
        let out = fault()
            .args(["--seed", &seed.to_string(), "--plugin"])
            .arg(format!(
                "chaos:syscalls=read,write,close:probability=1:path={}/*",
                dir.path().display()
            ))
            .args(["--", "sh", "-c"])
            .arg(format!(
                "cat {} > {}/copy",
                source.display(),
                dir.path().display()
            ))
            .run();
        assert_ne!(out.code(), Some(0), "{}", out.describe());
        for line in injected(&out) {
            drawn.push(errno_of(line).to_string());
        }
        for false_lead in [
            "Resource temporarily unavailable",
            "Interrupted system call",
        ] {
            assert!(!out.stderr.contains(false_lead), "{}", out.describe());
        }
    }
    assert!(!drawn.is_empty(), "chaos injected nothing");
    for errno in &drawn {
        assert!(
            ["EIO", "ENOSPC", "EDQUOT", "EFBIG"].contains(&errno.as_str()),
            "{errno} drawn for a regular file"
        );
    }
}

#[test]
fn pipes_get_eagain_when_nonblocking_and_eintr_when_blocking_with_a_handler() {
    // interrupt_retry reads a non-blocking pipe end (EAGAIN is possible,
    // EINTR is not) and writes a blocking one with a SIGUSR1 handler
    // installed (EINTR is possible, EAGAIN is not); it retries both, so its
    // output is what it prints without fault.
    let program = c_program("interrupt_retry");
    let native = Cmd::new(&program).arg("100000").run();
    native.assert_code(0);
    let out = fault()
        .args([
            "--seed",
            "3",
            "--plugin",
            "chaos:syscalls=read,readv,write,writev:probability=0.3:path=pipe*",
            "--",
        ])
        .arg(&program)
        .arg("100000")
        .run();
    out.assert_code(0);
    assert_eq!(out.stdout, native.stdout, "{}", out.describe());
    let lines = injected(&out);
    for line in &lines {
        let errno = errno_of(line);
        let read = line.contains("read(") || line.contains("readv(");
        match errno {
            "EAGAIN" => assert!(read, "EAGAIN on a blocking write: {line}"),
            "EINTR" => assert!(!read, "EINTR on a non-blocking read: {line}"),
            other => panic!("{other} drawn for a pipe: {line}"),
        }
    }
    let count = |errno| lines.iter().filter(|l| errno_of(l) == errno).count();
    assert!(
        count("EAGAIN") > 0 && count("EINTR") > 0,
        "{}",
        out.describe()
    );
}

#[test]
fn close_never_fails_with_eintr() {
    // The program handles SIGUSR1, so EINTR would be drawn if close could
    // return it; the pipe ends it closes fail with EIO only.
    let program = c_program("interrupt_retry");
    let mut drawn = Vec::new();
    for seed in 1..=6 {
        let out = fault()
            .args(["--seed", &seed.to_string(), "--plugin"])
            .arg("chaos:syscalls=close:probability=1:path=pipe*")
            .arg("--")
            .arg(&program)
            .arg("1000")
            .run();
        drawn.extend(injected(&out).into_iter().map(|l| errno_of(l).to_string()));
    }
    assert!(!drawn.is_empty(), "chaos injected nothing");
    assert!(drawn.iter().all(|errno| errno == "EIO"), "{drawn:?}");
}
