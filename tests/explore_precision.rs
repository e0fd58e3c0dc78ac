//! `fault explore`'s findings are ones a user can trust: an exit status is
//! not a signal, an error a runtime reports is handling in any language,
//! random temporary names do not hide points, and one bug reached from
//! several call sites is one finding.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

mod common;
use common::{c_program, java, java_classes, python3, Cmd, TestDir};

/// A campaign can make dozens of runs.
const CAMPAIGN: Duration = Duration::from_secs(900);

type OsArg = std::ffi::OsStr;

fn os(text: &str) -> &OsArg {
    OsArg::new(text)
}

/// `fault explore --workdir work --json report.json ARGS -- COMMAND` in
/// `dir`, with an empty work directory; the run and the report.
fn explore(dir: &TestDir, args: &[&str], command: &[&OsArg]) -> (common::Outcome, Report) {
    fs::create_dir_all(dir.join("work")).unwrap();
    let report = dir.join("report.json");
    let run = Cmd::fault()
        .arg("explore")
        .args(["--workdir", "work", "--json"])
        .arg(&report)
        .args(args)
        .arg("--")
        .args(command)
        .cwd(dir.path())
        .timeout(CAMPAIGN)
        .run();
    let json = fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", report.display(), run.describe()));
    (run, Report(serde_json::from_str(&json).unwrap()))
}

/// A `--json` report.
struct Report(serde_json::Value);

impl Report {
    fn findings(&self) -> &Vec<serde_json::Value> {
        self.0["findings"].as_array().unwrap()
    }

    fn points(&self) -> &Vec<serde_json::Value> {
        self.0["points"].as_array().unwrap()
    }

    /// The points with this outcome.
    fn with_outcome(&self, outcome: &str) -> Vec<&serde_json::Value> {
        self.points()
            .iter()
            .filter(|p| p["outcome"] == outcome)
            .collect()
    }
}

#[test]
fn an_exit_status_above_128_after_an_error_message_is_no_crash() {
    let dir = TestDir::new("precision-243");
    let program = c_program("explore_exit243");
    let (run, report) = explore(&dir, &[], &[program.as_os_str()]);
    run.assert_code(0);
    assert!(report.findings().is_empty(), "{}", run.describe());
    let handled = report.with_outcome("handled");
    assert!(
        handled
            .iter()
            .any(|p| p["detail"].as_str().unwrap().contains("exit 243")),
        "{}",
        run.describe()
    );
    assert!(!run.stdout.contains("signal 115"), "{}", run.describe());
    assert!(report.with_outcome("not-reached").is_empty());
}

#[test]
fn a_java_access_denied_exception_that_propagates_is_reported_not_a_crash() {
    let dir = TestDir::new("precision-java");
    let classes = java_classes();
    let (run, report) = explore(
        &dir,
        &["--timeout", "120s"],
        &[
            java().as_os_str(),
            os("-Xshare:off"),
            os("-cp"),
            classes.as_os_str(),
            os("SaveDenied"),
        ],
    );
    run.assert_code(0);
    assert!(report.findings().is_empty(), "{}", run.describe());
    let uncaught = report.with_outcome("reported-uncaught");
    assert!(
        uncaught.iter().any(|p| p["key"]["syscall"] == "openat"
            && p["detail"]
                .as_str()
                .unwrap()
                .contains("java.nio.file.AccessDeniedException")),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("reported, uncaught (not findings)"),
        "{}",
        run.describe()
    );
}

/// A python3 whose standard library has `dbm.gnu`, if there is one.
fn python_with_gdbm() -> Option<PathBuf> {
    [python3(), PathBuf::from("/usr/bin/python3")]
        .into_iter()
        .find(|python| {
            Command::new(python)
                .args(["-c", "import dbm.gnu"])
                .output()
                .is_ok_and(|out| out.status.success())
        })
}

#[test]
fn a_python_dbm_error_that_propagates_is_no_crash() {
    let dir = TestDir::new("precision-python");
    // dbm.gnu where the interpreter has it (libgdbm's own I/O); the
    // pure-Python dbm.dumb otherwise.
    let (python, module) = match python_with_gdbm() {
        Some(python) => (python, "dbm.gnu"),
        None => (python3(), "dbm.dumb"),
    };
    let script = format!(
        "import {module} as db\nd = db.open('cache', 'c')\nfor i in range(20):\n    d[b'key%d' % i] = b'value' * 50\nd.close()\nprint('stored')\n"
    );
    let (run, report) = explore(
        &dir,
        &["--timeout", "60s"],
        &[python.as_os_str(), os("-c"), os(&script)],
    );
    let crashes: Vec<_> = report
        .findings()
        .iter()
        .filter(|f| f["outcome"] == "crash")
        .collect();
    assert!(crashes.is_empty(), "{crashes:#?}\n{}", run.describe());
    assert!(
        !report.with_outcome("reported-uncaught").is_empty(),
        "{}",
        run.describe()
    );
}

#[test]
fn a_letters_only_temporary_name_is_reached_in_every_run() {
    let dir = TestDir::new("precision-tempname");
    let program = c_program("explore_tempname");
    let (run, report) = explore(&dir, &[], &[program.as_os_str()]);
    run.assert_code(0);
    assert!(run.stdout.contains("no findings"), "{}", run.describe());
    let paths: Vec<&str> = report
        .points()
        .iter()
        .map(|p| p["key"]["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"{workdir}/out.txt.*"),
        "{paths:?}\n{}",
        run.describe()
    );
    assert!(
        report.with_outcome("not-reached").is_empty(),
        "{}",
        run.describe()
    );
    // open, write (3 faults), fsync, close (nothing unsynced), rename.
    assert!(report.points().len() >= 6, "{}", run.describe());
}

#[test]
fn one_ignored_error_reached_from_five_call_sites_is_one_finding() {
    let dir = TestDir::new("precision-sites");
    let program = c_program("explore_five_sites");
    let (run, report) = explore(&dir, &[], &[program.as_os_str()]);
    run.assert_code(1);
    let findings = report.findings();
    assert_eq!(findings.len(), 1, "{}", run.describe());
    let finding = &findings[0];
    assert_eq!(finding["outcome"], "silent");
    assert_eq!(finding["syscall"], "write");
    assert_eq!(finding["path"], "{workdir}/journal.log");
    let sites: Vec<&str> = finding["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["at"].as_str().unwrap())
        .collect();
    assert_eq!(sites.len(), 5, "{sites:?}\n{}", run.describe());
    for step in [
        "step_load",
        "step_parse",
        "step_check",
        "step_apply",
        "step_done",
    ] {
        assert!(
            sites.iter().any(|site| site.contains(step)),
            "{step} not among {sites:?}"
        );
    }
    // What the user loses, in a line: the journal is short.
    let loss = finding["loss"].as_str().unwrap();
    assert!(
        loss.starts_with("exit 0; journal.log ") && loss.contains(" of 28 bytes"),
        "{loss}"
    );
    assert!(run.stdout.contains("1 finding\n"), "{}", run.describe());
    assert!(run.stdout.contains("5 call sites"), "{}", run.describe());
}

#[test]
fn a_hang_names_the_process_still_running_and_where_it_waits() {
    let dir = TestDir::new("precision-hang");
    let program = c_program("explore_wait");
    let (run, report) = explore(&dir, &["--timeout", "2s"], &[program.as_os_str()]);
    run.assert_code(1);
    let hangs: Vec<&serde_json::Value> = report
        .findings()
        .iter()
        .filter(|f| f["outcome"] == "hang")
        .collect();
    assert!(!hangs.is_empty(), "{}", run.describe());
    for hang in hangs {
        let detail = hang["detail"].as_str().unwrap();
        // The main thread waits on its condition variable, in main.
        assert!(
            detail.contains("explore_wait [") && detail.contains("in futex"),
            "{detail}"
        );
        assert!(detail.contains("main"), "{detail}");
    }
}

#[test]
fn a_time_budget_ends_the_campaign_within_the_budget_and_one_run() {
    let dir = TestDir::new("precision-budget");
    let program = c_program("explore_wait");
    let started = std::time::Instant::now();
    let (run, report) = explore(
        &dir,
        &["--timeout", "2s", "--time-budget", "3s"],
        &[program.as_os_str()],
    );
    let took = started.elapsed();
    // Every run hangs for its 2 s: a budget of 3 s leaves room for the
    // recording and at most one run started before it ran out.
    assert!(
        took < Duration::from_secs(3 + 2 + 2),
        "{took:?}\n{}",
        run.describe()
    );
    let planned = report.0["planned"].as_u64().unwrap() as usize;
    assert!(report.points().len() < planned, "{}", run.describe());
    assert!(run.stdout.contains("not tried"), "{}", run.describe());
}
