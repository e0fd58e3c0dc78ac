//! `fault explore`'s findings are ones a user can trust: an exit status is
//! not a signal, an error a runtime reports is handling in any language,
//! random temporary names do not hide points, and one bug reached from
//! several call sites is one finding.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

mod common;
use common::{c_program, java, java_classes, python3, require_tool, Cmd, TestDir};

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

/// `script` run with sh in `dir`'s work directory (made here), which must
/// succeed: what a campaign starts from.
fn prepare(dir: &TestDir, script: &str) {
    let work = dir.join("work");
    fs::create_dir_all(&work).unwrap();
    let output = Command::new("sh")
        .args(["-c", script])
        .current_dir(&work)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Each finding as `outcome syscall path`, for messages.
fn finding_lines(report: &Report) -> Vec<String> {
    report
        .findings()
        .iter()
        .map(|f| format!("{} {} {}", f["outcome"], f["syscall"], f["path"]))
        .collect()
}

/// A text file of 2,000 lines, as the corpus gives its programs.
const DATA: &str = "seq -f 'line %g of the data' 1 2000 > data.txt";

#[test]
fn a_failed_removal_that_leaves_only_an_empty_directory_is_no_finding() {
    let dir = TestDir::new("precision-rmdir");
    let git = require_tool("git", "apt-get install git");
    prepare(
        &dir,
        &format!(
            "git init -q . && {DATA} && git add data.txt && \
             git -c user.name=a -c user.email=a@b commit -qm one"
        ),
    );
    // git repack removes each loose object's directory once packed, and
    // goes on when it cannot: an empty directory is all that is left.
    let (run, report) = explore(
        &dir,
        &[
            "--syscalls",
            "rmdir",
            "--check",
            "git fsck --no-progress 2>/dev/null && git cat-file -e HEAD:data.txt",
        ],
        &[git.as_os_str(), os("repack"), os("-adq")],
    );
    run.assert_code(0);
    let handled = report.with_outcome("handled");
    assert!(handled.len() >= 3, "{}", run.describe());
    assert!(
        handled
            .iter()
            .all(|p| p["detail"].as_str().unwrap().contains("empty directory")),
        "{}",
        run.describe()
    );
    assert!(report.findings().is_empty(), "{}", run.describe());
}

#[test]
fn objects_named_by_the_time_are_no_loss_and_their_points_are_reached() {
    let dir = TestDir::new("precision-git-time");
    require_tool("git", "apt-get install git");
    prepare(
        &dir,
        &format!(
            "git init -q . && {DATA} && git add data.txt && \
             git -c user.name=a -c user.email=a@b commit -qm one && echo more >> data.txt"
        ),
    );
    // Each run commits at another time, so the commit object (named by
    // its hash) lands in another directory of .git/objects in every run,
    // the two runs without faults included. git falls back from link to
    // rename, and from a failed mkdir to the next try: the commit is whole.
    let commit = "GIT_COMMITTER_DATE=@$(( 1600000000 + $(date +%s%N) / 1000000 % 100000000 )) \
                  git -c user.name=a -c user.email=a@b commit -qam two";
    let (run, report) = explore(
        &dir,
        &[
            "--syscalls",
            "link,mkdir,unlink,unlinkat",
            "--check",
            "git fsck --no-progress 2>/dev/null && git log -1 --format=%s | grep -qx two",
        ],
        &[os("sh"), os("-c"), os(commit)],
    );
    assert!(
        report.findings().is_empty(),
        "{:?}\n{}",
        finding_lines(&report),
        run.describe()
    );
    assert!(
        report.with_outcome("not-reached").is_empty(),
        "{}",
        run.describe()
    );
    assert!(
        report
            .points()
            .iter()
            .any(|p| p["key"]["syscall"] == "link"),
        "{}",
        run.describe()
    );
    run.assert_code(0);
}

#[test]
fn a_point_one_run_misses_by_chance_is_reached_by_the_next() {
    let dir = TestDir::new("precision-by-chance");
    // Every third run of the program makes no mkdir, as a program does
    // whose directory, named by a hash, exists already now and then. The
    // two recordings make it; the first injected run does not.
    let counter = dir.join("runs");
    fs::write(&counter, "0").unwrap();
    let script = format!(
        "n=$(cat {c}); echo $((n + 1)) > {c}; \
         if [ $((n % 3)) -ne 2 ]; then mkdir d || {{ echo 'cannot make d' >&2; exit 1; }}; fi",
        c = counter.display()
    );
    let (run, report) = explore(
        &dir,
        &["--syscalls", "mkdir"],
        &[os("sh"), os("-c"), os(&script)],
    );
    run.assert_code(0);
    assert!(
        report.with_outcome("not-reached").is_empty(),
        "{}",
        run.describe()
    );
    assert!(
        !report.with_outcome("handled").is_empty(),
        "{}",
        run.describe()
    );
    assert!(run.stdout.contains("no findings"), "{}", run.describe());
}

#[test]
fn an_ignored_fclose_is_one_finding_whatever_failed_inside_it() {
    let dir = TestDir::new("precision-fclose");
    let lz4 = require_tool("lz4", "apt-get install lz4");
    prepare(&dir, DATA);
    // lz4 ignores what fclose returns: the flush's write and the close
    // itself fail inside that one call, one bug.
    let (run, report) = explore(
        &dir,
        &[
            "--syscalls",
            "write,close",
            "--check",
            "lz4 -qdc data.txt.lz4 | cmp -s - data.txt",
        ],
        &[
            lz4.as_os_str(),
            os("-q"),
            os("data.txt"),
            os("data.txt.lz4"),
        ],
    );
    run.assert_code(1);
    let findings = report.findings();
    assert_eq!(
        findings.len(),
        1,
        "{:?}\n{}",
        finding_lines(&report),
        run.describe()
    );
    let outcomes: Vec<&str> = report
        .points()
        .iter()
        .filter(|p| ["corrupt", "silent"].contains(&p["outcome"].as_str().unwrap()))
        .map(|p| p["key"]["syscall"].as_str().unwrap())
        .collect();
    assert!(
        outcomes.contains(&"write") && outcomes.contains(&"close"),
        "{outcomes:?}\n{}",
        run.describe()
    );
    assert_eq!(findings[0]["outcome"], "corrupt");
    assert_eq!(findings[0]["path"], "{workdir}/data.txt.lzN");
}

#[test]
fn the_same_loss_whichever_open_failed_is_one_finding() {
    let dir = TestDir::new("precision-perl-open");
    let perl = require_tool("perl", "apt-get install perl");
    prepare(
        &dir,
        &format!("{DATA} && sed s/line/LINE/ data.txt > edited.txt"),
    );
    // perl -i warns and exits 0 when it cannot open the file or its
    // replacement: either way the file is left unedited.
    let (run, report) = explore(
        &dir,
        &[
            "--syscalls",
            "openat",
            "--faults",
            "EACCES",
            "--check",
            "cmp -s data.txt edited.txt",
        ],
        &[
            perl.as_os_str(),
            os("-pi"),
            os("-e"),
            os("s/line/LINE/"),
            os("data.txt"),
        ],
    );
    run.assert_code(1);
    let corrupt = report.with_outcome("corrupt");
    let paths: std::collections::BTreeSet<&str> = corrupt
        .iter()
        .map(|p| p["key"]["path"].as_str().unwrap())
        .collect();
    assert!(paths.len() >= 2, "{paths:?}\n{}", run.describe());
    assert_eq!(
        report.findings().len(),
        1,
        "{:?}\n{}",
        finding_lines(&report),
        run.describe()
    );
    let loss = report.findings()[0]["loss"].as_str().unwrap();
    assert!(loss.starts_with("exit 0; the check failed"), "{loss}");
}

#[test]
fn a_python_module_error_that_reports_the_fault_is_no_crash() {
    let dir = TestDir::new("precision-python-sqlite");
    let python = python3();
    // The sqlite3 module reports a journal it cannot open as
    // `sqlite3.OperationalError: attempt to write a readonly database`:
    // the module's own words for the fault, not a bug of the error path.
    let script = "import sqlite3\ndb = sqlite3.connect('out.db')\ndb.execute('CREATE TABLE t(x)')\ndb.executemany('INSERT INTO t VALUES(?)', [(i,) for i in range(50)])\ndb.commit()\ndb.close()\n";
    let (run, report) = explore(
        &dir,
        &["--syscalls", "openat", "--faults", "EACCES"],
        &[python.as_os_str(), os("-c"), os(script)],
    );
    let uncaught = report.with_outcome("reported-uncaught");
    assert!(
        uncaught
            .iter()
            .any(|p| p["detail"].as_str().unwrap().contains("sqlite3.")),
        "{}",
        run.describe()
    );
    let crashes: Vec<_> = report
        .findings()
        .iter()
        .filter(|f| f["outcome"] == "crash")
        .collect();
    assert!(crashes.is_empty(), "{crashes:#?}\n{}", run.describe());
}

/// cp copies inside the kernel (`copy_file_range`): those calls are fault
/// points, and the destination's close is one too (it holds unsynced
/// data); cp reports each failure, so nothing is a finding.
#[test]
fn cp_s_kernel_copy_is_explored_and_its_errors_are_handled() {
    let dir = TestDir::new("precision-cp");
    fs::create_dir_all(dir.join("work")).unwrap();
    let data: String = (1..20_000).map(|i| format!("line {i}\n")).collect();
    fs::write(dir.join("work/data.txt"), &data).unwrap();
    fs::write(dir.join("work/expected.txt"), &data).unwrap();
    let (run, report) = explore(
        &dir,
        &["--check", "cmp -s copy.txt expected.txt"],
        &[os("cp"), os("data.txt"), os("copy.txt")],
    );
    run.assert_code(0);
    assert!(report.findings().is_empty(), "{}", run.describe());
    let syscalls: Vec<&str> = report
        .points()
        .iter()
        .map(|p| p["key"]["syscall"].as_str().unwrap())
        .collect();
    assert!(syscalls.contains(&"copy_file_range"), "{syscalls:?}");
    assert!(syscalls.contains(&"close"), "{syscalls:?}");
    assert!(
        report.with_outcome("not-reached").is_empty(),
        "{}",
        run.describe()
    );
}

#[test]
fn a_failed_checkpoint_sync_that_sqlite_keeps_its_log_for_is_handled() {
    let dir = TestDir::new("precision-sqlite-wal");
    require_tool("sqlite3", "apt-get install sqlite3");
    prepare(
        &dir,
        "sqlite3 test.db 'PRAGMA journal_mode=WAL; CREATE TABLE t(x)' > /dev/null",
    );
    // When a sync of its checkpoint fails at close, SQLite keeps the
    // write-ahead log (and its index) instead of removing them, and exits 0:
    // the rows are in the log, and the next open recovers them. The close
    // of the index, removed just before, has nothing left to lose. Only
    // the sync of the directory, which SQLite leaves unchecked on purpose,
    // stays a finding.
    let (run, report) = explore(
        &dir,
        &[
            "--syscalls",
            "fdatasync,fsync,close,ftruncate,write,pwrite64",
            "--check",
            "sqlite3 test.db 'PRAGMA integrity_check; SELECT count(*) FROM t' | tr '\\n' ' ' | grep -qx 'ok 2 '",
        ],
        &[
            os("sqlite3"),
            os("test.db"),
            os("INSERT INTO t VALUES(1); INSERT INTO t VALUES(2);"),
        ],
    );
    let kept_the_log = report.with_outcome("handled").into_iter().any(|p| {
        p["detail"]
            .as_str()
            .unwrap()
            .contains("left test.db-shm, test.db-wal")
    });
    assert!(kept_the_log, "{}", run.describe());
    assert_eq!(
        finding_lines(&report),
        ["\"silent\" \"fdatasync\" \"{workdir}\""],
        "{}",
        run.describe()
    );
}
