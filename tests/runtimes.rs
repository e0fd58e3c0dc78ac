//! Real runtimes under fault: a Go program, Python, Java and shell
//! pipelines run the same, and the rules reach their calls.
//!
//! Every run has a deadline: a hung fault fails its test instead of hanging it.

mod common;

use std::time::Duration;

use common::*;

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
    out.ensure(dir.join("test.txt").exists(), "");
    assert_eq!(
        dir.read("test.txt"),
        "",
        "the write must have failed\n{}",
        out.describe()
    );
    out.ensure(
        out.stderr.contains("test.txt>")
            && out.stderr.contains("EIO (Input/output error) (INJECTED)"),
        "",
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
    out.ensure_eq(
        out.lines(),
        [
            format!("{}: OSError errno=EIO", one.display()),
            format!("{}: ok", two.display()),
        ],
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
    traced.ensure_eq(&traced.stdout, &native.stdout);
    traced.assert_stdout_has("done 16 shared 3200", "");
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
        traced.ensure_eq(&traced.stdout, &native.stdout);
    }
}
