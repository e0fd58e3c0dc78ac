//! fault's command line: bad command lines start nothing and exit 125, a
//! missing program 127, one that cannot run 126; --help and --version.
//!
//! Every run has a deadline: a hung fault fails its test instead of hanging it.

mod common;

use std::fs;

use common::*;

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
    out.ensure(
        out.stderr.contains("fault: ") && out.stderr.contains("when=0"),
        "",
    );
}

#[test]
fn clap_usage_errors_exit_125_and_help_exits_0() {
    let out = Cmd::fault().args(["--no-such-option", "--", "true"]).run();
    out.assert_code(125);
    out.assert_stderr_has("--no-such-option", "");

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
    out.ensure_eq(lines[0], format!("fault {}", env!("CARGO_PKG_VERSION")));
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
    out.ensure(
        out.stderr
            .contains("fault: /nonexistent: command not found"),
        "",
    );
    // Nothing ran: the rule is not said to have changed nothing.
    out.assert_stderr_lacks("changed no call", "");

    let out = Cmd::fault().args(["--", "fi-test-no-such-command"]).run();
    out.assert_code(127);
    out.assert_stderr_has("fi-test-no-such-command", "");
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
        out.ensure(!dir.join("marker").exists(), "");
    }

    // Found in $PATH, but only without execute permission.
    let out = Cmd::fault()
        .env("PATH", dir.path())
        .args(["--", "not-executable"])
        .run();
    out.assert_code(126);
    out.assert_stderr_has("Permission denied", "");
}

#[test]
fn nothing_to_run_is_a_usage_error() {
    let out = Cmd::fault().args(["-e", "inject=write:error=EIO"]).run();
    out.assert_code(125);
    out.assert_stderr_has("fault: ", "");
}
