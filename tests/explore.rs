//! `fault explore` as a new user runs it: on programs with error-handling
//! bugs (found unaided, classified, replayable), on correct programs (no
//! findings), on real software (sqlite3), with sharding, reports and bad
//! input.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod common;
use common::{
    c_program, go_program, java, java_classes, python3, require_tool, Cmd, TestDir, FAULT,
};

/// A campaign can make dozens of runs.
const CAMPAIGN: Duration = Duration::from_secs(600);

fn explore(dir: &TestDir, args: &[&str], command: &[&OsArg]) -> common::Outcome {
    Cmd::fault()
        .arg("explore")
        .args(args)
        .arg("--")
        .args(command)
        .cwd(dir.path())
        .timeout(CAMPAIGN)
        .run()
}

type OsArg = std::ffi::OsStr;

fn os(text: &str) -> &OsArg {
    OsArg::new(text)
}

/// An empty work directory inside the test's directory.
fn workdir(dir: &TestDir) -> PathBuf {
    let work = dir.join("work");
    fs::create_dir_all(&work).unwrap();
    work
}

/// The findings of a --json report: (outcome, syscall, fault, path).
fn findings(report: &Path) -> Vec<(String, String, String, String)> {
    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(report).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", report.display()));
    let mut found: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap_or_default().to_string();
            (
                text("outcome"),
                text("syscall"),
                text("fault"),
                text("path"),
            )
        })
        .collect();
    found.sort();
    found
}

fn finding(
    outcome: &str,
    syscall: &str,
    fault: &str,
    path: &str,
) -> (String, String, String, String) {
    (outcome.into(), syscall.into(), fault.into(), path.into())
}

/// The replay command of the first finding, run in `dir` through sh.
fn replay_first(dir: &TestDir, report: &Path) -> common::Outcome {
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(report).unwrap()).unwrap();
    let replay = json["findings"][0]["replay"].as_str().unwrap().to_string();
    assert!(replay.starts_with("fault explore "), "{replay}");
    let path = format!(
        "{}:{}",
        Path::new(common::FAULT).parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Cmd::new("sh")
        .args(["-c", &replay])
        .env("PATH", path)
        .cwd(dir.path())
        .timeout(CAMPAIGN)
        .run()
}

#[test]
fn the_go_seed_programs_ignored_write_is_found_and_replayed() {
    let dir = TestDir::new("explore-go");
    workdir(&dir);
    let program = go_program("seed");
    let report = dir.join("report.json");
    let run = explore(
        &dir,
        &["--workdir", "work", "--json", report.to_str().unwrap()],
        &[program.as_os_str()],
    );
    run.assert_code(1);
    let found = findings(&report);
    assert!(
        found.contains(&finding("silent", "write", "EIO", "{workdir}/test.txt")),
        "{found:?}\n{}",
        run.describe()
    );
    assert!(run.stdout.contains("main.main"), "{}", run.describe());

    let replayed = replay_first(&dir, &report);
    replayed.assert_code(1);
    assert!(
        replayed.stdout.contains("outcome: silent"),
        "{}",
        replayed.describe()
    );

    // With a check that compares the file, the same write is corrupt.
    let checked = dir.join("checked.json");
    let run = explore(
        &dir,
        &[
            "--workdir",
            "work",
            "--check",
            "grep -qx 'some great stuff' test.txt",
            "--json",
            checked.to_str().unwrap(),
        ],
        &[program.as_os_str()],
    );
    run.assert_code(1);
    assert!(
        findings(&checked).contains(&finding("corrupt", "write", "EIO", "{workdir}/test.txt")),
        "{:?}",
        findings(&checked)
    );
}

#[test]
fn a_c_program_gets_exactly_its_planted_bugs() {
    let dir = TestDir::new("explore-c");
    workdir(&dir);
    let store = c_program("explore_store");
    let check = format!("{} verify", store.display());
    let report = dir.join("report.json");
    let run = explore(
        &dir,
        &[
            "--workdir",
            "work",
            "--check",
            &check,
            "--jobs",
            "2",
            "--json",
            report.to_str().unwrap(),
        ],
        &[store.as_os_str()],
    );
    run.assert_code(1);
    assert_eq!(
        findings(&report),
        vec![
            finding("corrupt", "write", "short", "{workdir}/store.dat"),
            finding("crash", "openat", "EACCES", "{workdir}/notes.txt"),
            finding("silent", "close", "EIO", "{workdir}/index.dat"),
        ],
        "{}",
        run.describe()
    );
    // The work directory itself is never written.
    assert_eq!(fs::read_dir(dir.join("work")).unwrap().count(), 0);
}

#[test]
fn a_swallowed_python_fsync_is_found_and_a_careful_save_reports_nothing() {
    let dir = TestDir::new("explore-python");
    let work = workdir(&dir);
    let python = python3();
    let programs = common::tests_dir().join("programs/python");
    for script in ["swallow_fsync.py", "careful_save.py"] {
        fs::copy(programs.join(script), work.join(script)).unwrap();
    }
    let report = dir.join("swallow.json");
    let run = explore(
        &dir,
        &["--workdir", "work", "--json", report.to_str().unwrap()],
        &[python.as_os_str(), os("swallow_fsync.py")],
    );
    run.assert_code(1);
    assert_eq!(
        findings(&report),
        vec![finding("silent", "fsync", "EIO", "{workdir}/data.txt")],
        "{}",
        run.describe()
    );

    let run = explore(
        &dir,
        &[
            "--workdir",
            "work",
            "--check",
            "grep -qx important data.txt",
        ],
        &[python.as_os_str(), os("careful_save.py")],
    );
    run.assert_code(0);
    assert!(run.stdout.contains("no findings"), "{}", run.describe());
}

#[test]
fn a_java_programs_ignored_force_failure_is_found() {
    let dir = TestDir::new("explore-java");
    workdir(&dir);
    let classes = java_classes();
    let report = dir.join("report.json");
    let run = explore(
        &dir,
        &[
            "--workdir",
            "work",
            "--syscalls",
            "msync",
            "--json",
            report.to_str().unwrap(),
        ],
        &[
            java().as_os_str(),
            os("-Xshare:off"),
            os("-cp"),
            classes.as_os_str(),
            os("ForceIgnored"),
        ],
    );
    run.assert_code(1);
    assert_eq!(
        findings(&report),
        vec![finding("silent", "msync", "EIO", "{workdir}/record.dat")],
        "{}",
        run.describe()
    );
}

#[test]
fn a_multithreaded_program_gets_the_same_plan_keys_every_time() {
    let dir = TestDir::new("explore-threads");
    workdir(&dir);
    let program = c_program("explore_threads");
    let keys = |plan: &str| {
        explore(
            &dir,
            &["--workdir", "work", "--max-runs", "0", "--plan", plan],
            &[program.as_os_str()],
        )
        .assert_code(0);
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.join(plan)).unwrap()).unwrap();
        let mut keys: Vec<String> = json["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["key"].to_string())
            .collect();
        keys.sort();
        keys
    };
    let first = keys("first.json");
    // 4 threads: open, 3 writes, fsync each (a close after the fsync has
    // nothing to lose, so it is no point).
    assert_eq!(first.len(), 20, "{first:#?}");
    for _ in 0..2 {
        assert_eq!(keys("again.json"), first);
        fs::remove_file(dir.join("again.json")).unwrap();
    }
}

#[test]
fn four_shards_merged_equal_one_campaign_and_reports_are_written() {
    let dir = TestDir::new("explore-shards");
    workdir(&dir);
    let store = c_program("explore_store");
    let check = format!("{} verify", store.display());
    let whole = dir.join("whole.json");
    let junit = dir.join("whole.xml");
    let base = ["--workdir", "work", "--check", check.as_str()];
    let mut args = base.to_vec();
    args.extend([
        "--json",
        whole.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    explore(&dir, &args, &[store.as_os_str()]).assert_code(1);
    let mut shards = Vec::new();
    for i in 1..=4 {
        let out = dir.join(&format!("shard-{i}.json"));
        let shard = format!("{i}/4");
        let mut args = base.to_vec();
        args.extend(["--shard", &shard, "--json", out.to_str().unwrap()]);
        explore(&dir, &args, &[store.as_os_str()]);
        shards.push(out);
    }
    let merged = dir.join("merged.json");
    let html = dir.join("merged.html");
    let run = Cmd::fault()
        .args(["explore", "merge"])
        .args(&shards)
        .arg("--json")
        .arg(&merged)
        .arg("--html")
        .arg(&html)
        .run();
    run.assert_code(1);
    let read = |path: &Path| -> serde_json::Value {
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
    };
    assert_eq!(read(&merged), read(&whole));

    // An interrupted campaign, resumed, gives the same report too.
    let resumed = dir.join("resumed.json");
    let plan = dir.join("plan.json");
    let mut args = base.to_vec();
    args.extend([
        "--plan",
        plan.to_str().unwrap(),
        "--json",
        resumed.to_str().unwrap(),
    ]);
    let mut interrupted = args.clone();
    interrupted.extend(["--max-runs", "5"]);
    explore(&dir, &interrupted, &[store.as_os_str()]);
    assert_eq!(read(&resumed)["points"].as_array().unwrap().len(), 5);
    let mut resume = args.clone();
    resume.push("--resume");
    explore(&dir, &resume, &[store.as_os_str()]).assert_code(1);
    assert_eq!(read(&resumed)["points"], read(&whole)["points"]);
    assert_eq!(read(&resumed)["findings"], read(&whole)["findings"]);

    let xml = fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 3, "{xml}");

    // The HTML report, as a browser renders it.
    let chromium = require_tool("chromium", "apt-get install chromium");
    let dom = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("running chromium");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<tr class=\"finding ").count(), 3, "{dom}");
    for outcome in ["crash", "corrupt", "silent"] {
        assert!(dom.contains(&format!("<td>{outcome}</td>")), "{dom}");
    }
    assert!(dom.contains("id=\"map\""), "{dom}");
    // The store is built with debug info: its frames show their source.
    let source = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs/c/explore_store.c"),
    )
    .unwrap();
    let shown: Vec<&str> = dom
        .split("<span class=\"source\">")
        .skip(1)
        .filter_map(|s| s.split_once("</span>")?.0.split_once(" | ").map(|(_, t)| t))
        .collect();
    assert!(!shown.is_empty(), "no source line in the stacks\n{dom}");
    for text in shown {
        let text = text
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
            .replace("&quot;", "\"");
        assert!(
            source.lines().any(|l| l.trim() == text),
            "{text:?} is not a line of explore_store.c"
        );
    }
}

#[test]
fn sqlite3_completes_and_keeps_its_integrity_under_every_fault() {
    let sqlite3 = require_tool("sqlite3", "apt-get install sqlite3");
    let dir = TestDir::new("explore-sqlite");
    workdir(&dir);
    let report = dir.join("report.json");
    let run = explore(
        &dir,
        &[
            "--workdir",
            "work",
            "--jobs",
            "2",
            "--check",
            "sqlite3 test.db 'PRAGMA integrity_check' | grep -qx ok",
            "--check-always",
            "--json",
            report.to_str().unwrap(),
        ],
        &[
            sqlite3.as_os_str(),
            os("test.db"),
            os("CREATE TABLE t(x); INSERT INTO t VALUES(1); INSERT INTO t VALUES(2);"),
        ],
    );
    // SQLite ignores a failed fsync of the database's directory (its
    // documented choice); nothing else goes wrong, and integrity holds.
    let found = findings(&report);
    assert!(
        found
            .iter()
            .all(|(outcome, syscall, _, path)| outcome == "silent"
                && syscall == "fdatasync"
                && path == "{workdir}"),
        "{found:?}\n{}",
        run.describe()
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert!(json["points"].as_array().unwrap().len() > 20);
    assert!(!run.stdout.contains("corrupt"), "{}", run.describe());
}

#[test]
fn bad_explore_command_lines_are_refused_before_anything_runs() {
    let dir = TestDir::new("explore-bad");
    let cases: &[(&[&str], &str)] = &[
        (
            &["explore", "--jobs", "2", "--", "true"],
            "--jobs above 1 needs --workdir",
        ),
        (&["explore", "--shard", "5/4", "--", "true"], "--shard 5/4"),
        (
            &["explore", "--faults", "EBOGUS", "--", "true"],
            "unknown fault 'EBOGUS'",
        ),
        (
            &["explore", "--workdir", "missing", "--", "true"],
            "--workdir missing: not a directory",
        ),
        (
            &["explore", "--syscalls", "nosuchcall", "--", "true"],
            "--syscalls nosuchcall",
        ),
        (&["explore"], "nothing to explore"),
        (&["explore", "merge", "missing.json"], "missing.json"),
    ];
    for (args, message) in cases {
        let run = Cmd::fault().args(*args).cwd(dir.path()).run();
        run.assert_code(125);
        assert!(
            run.stderr.contains(message),
            "{message}\n{}",
            run.describe()
        );
    }
    // A check that fails without any fault cannot judge a fault.
    let run = Cmd::fault()
        .args(["explore", "--check", "false", "--", "true"])
        .cwd(dir.path())
        .run();
    run.assert_code(125);
    assert!(
        run.stderr
            .contains("--check fails after the run without faults"),
        "{}",
        run.describe()
    );
}

#[test]
fn a_program_that_waits_forever_after_an_error_is_a_hang_and_nothing_is_left_running() {
    let dir = TestDir::new("explore-hang");
    workdir(&dir);
    let program = c_program("explore_wait");
    let report = dir.join("report.json");
    let run = explore(
        &dir,
        &[
            "--workdir",
            "work",
            "--timeout",
            "2s",
            "--json",
            report.to_str().unwrap(),
        ],
        &[program.as_os_str()],
    );
    run.assert_code(1);
    assert_eq!(
        findings(&report),
        vec![
            finding("hang", "openat", "EACCES", "{workdir}/out.dat"),
            finding("hang", "write", "EIO", "{workdir}/out.dat"),
        ],
        "{}",
        run.describe()
    );
    let name = program.file_name().unwrap().to_str().unwrap();
    let left: Vec<PathBuf> = fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let comm = entry.ok()?.path().join("comm");
            (fs::read_to_string(&comm).ok()?.trim() == name).then_some(comm)
        })
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
}

#[test]
fn a_crash_campaign_finds_the_rename_without_fsync_and_passes_the_careful_one() {
    let dir = TestDir::new("explore-crash");
    let work = workdir(&dir);
    fs::write(work.join("data.txt"), "old version\n").unwrap();
    fs::write(dir.join("old.txt"), "old version\n").unwrap();
    fs::write(dir.join("new.txt"), &"new version\n".repeat(84)[..1000]).unwrap();
    let check = format!(
        "cmp -s data.txt {} || cmp -s data.txt {}",
        dir.join("old.txt").display(),
        dir.join("new.txt").display()
    );
    let program = c_program("crash_rename");
    let report = dir.join("unsafe.json");
    let run = explore(
        &dir,
        &[
            "--workdir",
            "work",
            "--crash",
            "--check",
            &check,
            "--json",
            report.to_str().unwrap(),
        ],
        &[program.as_os_str(), os("unsafe")],
    );
    run.assert_code(1);
    let found = findings(&report);
    assert!(
        found
            .iter()
            .all(|(outcome, _, fault, _)| outcome == "corrupt" && fault.starts_with("crash:")),
        "{found:?}\n{}",
        run.describe()
    );
    assert!(!found.is_empty(), "{}", run.describe());
    // Its replay line is a plain fault command that crashes the same way.
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let replay = json["findings"][0]["replay"].as_str().unwrap();
    assert!(replay.contains("--crash-at"), "{replay}");

    let run = explore(
        &dir,
        &["--workdir", "work", "--crash", "--check", &check],
        &[program.as_os_str(), os("safe")],
    );
    run.assert_code(0);
    assert!(run.stdout.contains("no findings"), "{}", run.describe());
    assert_eq!(
        fs::read_to_string(work.join("data.txt")).unwrap(),
        "old version\n"
    );
}

#[test]
fn each_finding_s_plain_rule_gives_the_same_outcome_outside_explore() {
    let dir = TestDir::new("explore-rules");
    let work = workdir(&dir);
    let store = c_program("explore_store");
    let check = format!("{} verify", store.display());
    let report = dir.join("report.json");
    let args = ["--workdir", "work", "--check", &check, "--json"];
    let mut args = args.to_vec();
    args.push(report.to_str().unwrap());
    explore(&dir, &args, &[store.as_os_str()]).assert_code(1);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let rule_of = |outcome: &str| -> String {
        let finding = findings.iter().find(|f| f["outcome"] == outcome);
        let finding = finding.unwrap_or_else(|| panic!("no {outcome} finding: {json}"));
        finding["rule"].as_str().unwrap_or_default().to_string()
    };
    // A close that runs and then fails has no rule: fault's rules do not
    // run the call they fail.
    assert_eq!(rule_of("silent"), "", "{json}");
    let bin = Path::new(FAULT).parent().unwrap().display().to_string();
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    let run_rule = |rule: &str| {
        fs::remove_dir_all(&work).unwrap();
        fs::create_dir_all(&work).unwrap();
        let out = Command::new("sh")
            .args(["-c", rule])
            .env("PATH", &path)
            .output()
            .unwrap();
        let checked = Command::new("sh")
            .args(["-c", &check])
            .current_dir(&work)
            .status()
            .unwrap();
        (out, checked)
    };
    // The failed fopen of the notes file: the store dereferences NULL.
    let crash = rule_of("crash");
    assert!(crash.contains("-e fault=openat:error="), "{crash}");
    let (out, _) = run_rule(&crash);
    // fault's status for a program killed by SIGSEGV: 128 + 11.
    assert_eq!(out.status.code(), Some(128 + 11), "{crash}\n{out:?}");
    // The short record write: the program exits 0 and the check fails.
    let corrupt = rule_of("corrupt");
    assert!(corrupt.contains("--plugin short-write:path="), "{corrupt}");
    let (out, checked) = run_rule(&corrupt);
    assert_eq!(out.status.code(), Some(0), "{corrupt}\n{out:?}");
    assert!(!checked.success(), "the check must fail after {corrupt}");
}

/// A file named by the time in seconds is a random name: the second
/// recording, made at once with its wall clock a second ahead, names it
/// otherwise, so every run's point is found under the learned pattern.
#[test]
fn a_file_named_by_the_time_in_seconds_is_reached_in_every_run() {
    let dir = TestDir::new("explore-time-name");
    workdir(&dir);
    let report = dir.join("report.json");
    let out = explore(
        &dir,
        &["--workdir", "work", "--jobs", "1", "--json", "report.json"],
        &[os("sh"), os("-c"), os("echo data > \"out.$(date +%s)\"")],
    );
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let points = json["points"].as_array().unwrap();
    assert!(!points.is_empty(), "{}", out.stderr);
    for point in points {
        assert_eq!(point["key"]["path"], "{workdir}/out.*", "{point}");
        assert_ne!(point["outcome"], "not-reached", "{point}");
    }
    assert_eq!(
        json["findings"].as_array().map(Vec::len),
        Some(0),
        "{}",
        out.stdout
    );
}

/// A program that leaves a daemon running (gpg leaves its agent): each run
/// ends half a second after the program, its leftovers killed, so the
/// campaign ends and nothing of it is left running.
#[test]
fn a_program_that_leaves_a_daemon_is_explored_and_nothing_is_left_running() {
    let dir = TestDir::new("explore-daemon");
    workdir(&dir);
    // A duration no other test sleeps, to find the daemons by.
    let marker = "sleep 876543";
    let script = format!("setsid {marker} </dev/null >/dev/null 2>&1 & echo data > out.txt");
    let out = explore(
        &dir,
        &["--workdir", "work", "--jobs", "1", "--timeout", "60s"],
        &[os("sh"), os("-c"), os(&script)],
    );
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("no findings"), "{}", out.stdout);
    let left = common::processes_running(marker);
    assert!(left.is_empty(), "a daemon still runs: {left:?}");
}
