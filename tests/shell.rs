//! The README's first command, typed into real shells: `bash -c`, `sh -c`
//! (dash on Debian) and a Makefile recipe, with the built `fault` first on
//! PATH. `fi` is a shell keyword, which is why the command is `fault`; these
//! tests are what would have caught it.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// What the README puts between its first-command markers, with the
/// `cargo run` prefix replaced by the command's name, as a user with
/// `fault` installed types it.
fn readme_first_command() -> String {
    let readme = fs::read_to_string(tests_dir().join("../README.md")).expect("reading README.md");
    let start = readme
        .find("<!-- first-command")
        .expect("README.md has a <!-- first-command --> marker");
    let end = readme[start..]
        .find("<!-- /first-command -->")
        .expect("README.md closes the first-command marker")
        + start;
    let block = &readme[start..end];
    let line = block
        .lines()
        .skip(1)
        .map(str::trim)
        .find(|l| !l.is_empty())
        .expect("a command between the first-command markers");
    let rest = line.strip_prefix("cargo run -p fi -- ").unwrap_or_else(|| {
        panic!("the README's first command is not `cargo run -p fi -- ...`: {line}")
    });
    format!("fault {rest}")
}

/// PATH with the directory of the built `fault` first.
fn path_with_fault() -> String {
    let dir = Path::new(FAULT).parent().unwrap();
    format!("{}:{}", arg(dir), std::env::var("PATH").unwrap_or_default())
}

/// The injected fault as the README describes it: cat's error, and the
/// log line of the failed `openat`.
#[track_caller]
fn assert_fault_seen(out: &Outcome) {
    assert!(
        out.stderr.contains("cat: /etc/hostname: Permission denied"),
        "cat must report the injected EACCES\n{}",
        out.describe()
    );
    let injected = lines_with(&out.stderr, "(INJECTED)");
    assert!(
        injected.len() == 1
            && injected[0].contains("openat(")
            && injected[0].contains("\"/etc/hostname\"")
            && injected[0].contains("EACCES"),
        "one injected openat of /etc/hostname in the log\n{}",
        out.describe()
    );
    assert!(out.stdout.is_empty(), "{}", out.describe());
}

#[test]
fn the_readme_command_works_in_bash_and_sh() {
    let line = readme_first_command();
    let bash = require_tool("bash", "apt-get install bash");
    for shell in [bash.as_path(), std::path::Path::new("/bin/sh")] {
        let out = Cmd::new(shell)
            .env("PATH", path_with_fault())
            .args(["-c", &line])
            .run();
        out.assert_code(1);
        assert_fault_seen(&out);
    }
}

#[test]
fn the_readme_command_works_in_a_makefile() {
    let line = readme_first_command();
    assert!(!line.contains('$'), "make would expand {line}");
    let dir = TestDir::new("makefile");
    fs::write(dir.join("Makefile"), format!("show-fault:\n\t{line}\n")).unwrap();
    let out = Cmd::new(require_tool("make", "apt-get install make"))
        .cwd(dir.path())
        .env("PATH", path_with_fault())
        .args(["-f", "Makefile", "show-fault"])
        .run();
    // make fails the target because the recipe (cat) exited 1.
    out.assert_code(2);
    assert!(out.stderr.contains("Error 1"), "{}", out.describe());
    let out = Outcome {
        stdout: out.stdout.replace(&format!("{line}\n"), ""),
        ..out
    };
    assert_fault_seen(&out);
}

#[test]
fn fault_help_works_in_bash() {
    let out = Cmd::new(require_tool("bash", "apt-get install bash"))
        .env("PATH", path_with_fault())
        .args(["-c", "fault --help"])
        .run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("Usage: fault") && out.stdout.contains("Exit status:"),
        "{}",
        out.describe()
    );
}

/// `fi` is the same program: same output, same status.
#[test]
fn the_fi_name_runs_the_same_command() {
    let args = [
        "-e",
        "fault=openat:error=EACCES",
        "-P",
        "/etc/hostname",
        "--",
        "cat",
        "/etc/hostname",
    ];
    let out = Cmd::new(FI).args(args).run();
    out.assert_code(1);
    assert_fault_seen(&out);
    let strip_pid = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.split_once("] ").map_or(l, |(_, rest)| rest).to_string())
            .collect()
    };
    let as_fault = Cmd::fault().args(args).run();
    assert_eq!(
        strip_pid(&out.stderr),
        strip_pid(&as_fault.stderr),
        "{}\n{}",
        out.describe(),
        as_fault.describe()
    );
    let version = |program: &str| Cmd::new(program).arg("--version").run().stdout;
    assert_eq!(version(FI), version(FAULT));
}
