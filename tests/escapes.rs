//! What fault cannot see, said out loud: a program that sets up an io_uring
//! is warned about, and failing `io_uring_setup` with ENOSYS sends it back
//! to plain system calls, where faults reach it again.

mod common;
use common::{c_program, Cmd, TestDir};

const WARNING: &str = "sets up an io_uring";

#[test]
fn a_program_using_io_uring_is_warned_about_and_its_write_escapes_the_rule() {
    let dir = TestDir::new("uring-warned");
    let out = dir.join("out");
    let run = Cmd::fault()
        .args(["-e", "fault=pwrite64:error=EIO", "--"])
        .arg(c_program("uring_write"))
        .arg(&out)
        .run();
    run.assert_code(0);
    assert_eq!(run.lines(), ["io_uring"], "{}", run.describe());
    assert!(run.stderr.contains(WARNING), "{}", run.describe());
    assert!(
        run.stderr.contains("-e fault=io_uring_setup:error=ENOSYS"),
        "the warning names the way out: {}",
        run.describe()
    );
    // The rule never saw the write (the ring's IORING_OP_WRITE is a
    // pwrite): it went through the ring.
    assert_eq!(dir.read("out"), "hello through io_uring\n");
}

#[test]
fn failing_io_uring_setup_makes_the_program_fall_back_and_the_fault_lands() {
    let dir = TestDir::new("uring-fallback");
    let out = dir.join("out");
    let run = Cmd::fault()
        .args([
            "-e",
            "fault=io_uring_setup:error=ENOSYS",
            "-e",
            "fault=pwrite64:error=EIO",
            "--",
        ])
        .arg(c_program("uring_write"))
        .arg(&out)
        .run();
    run.assert_code(1);
    assert_eq!(run.lines(), ["pwrite"], "{}", run.describe());
    assert!(
        run.stderr.contains("write failed: Input/output error"),
        "{}",
        run.describe()
    );
    assert!(!run.stderr.contains(WARNING), "{}", run.describe());
    assert_eq!(dir.read("out"), "");
}

#[test]
fn without_the_fallback_rule_the_same_fallback_runs_unharmed() {
    // ENOSYS alone: the program writes through pwrite and succeeds, so the
    // rule changes the way, not the outcome.
    let dir = TestDir::new("uring-plain");
    let out = dir.join("out");
    let run = Cmd::fault()
        .args(["-e", "fault=io_uring_setup:error=ENOSYS", "--"])
        .arg(c_program("uring_write"))
        .arg(&out)
        .run();
    run.assert_code(0);
    assert_eq!(run.lines(), ["pwrite"], "{}", run.describe());
    assert_eq!(dir.read("out"), "hello through pwrite\n");
}
