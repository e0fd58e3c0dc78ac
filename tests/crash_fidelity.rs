//! Power-loss campaigns that match real file systems: a rename into a
//! synced directory never loses the file, nothing of a crashed tree (a
//! daemon included) is alive when the check runs, the last acknowledged
//! write is crashed after, and each crash says which file systems
//! (`--fs`) can leave its state. Real programs: sh and coreutils, C,
//! Python, sqlite3 through Python, redis-server.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{c_program, python3, require_tool, Cmd, TestDir};
use fi::crash::{Crash, CrashMode, CrashReport, Fs, Tear};
use fi::session::Session;

/// A campaign makes dozens of runs.
const CAMPAIGN: Duration = Duration::from_secs(600);

/// One library run of `command` with `crash`; its crash report.
fn crash_run(command: &Command, crash: Crash) -> CrashReport {
    let outcome = Session::command(command).crash(crash).run().unwrap();
    outcome.crash.expect("a crash report")
}

/// `sh -c SCRIPT` in `dir`.
fn sh(dir: &Path, script: &str) -> Command {
    let mut command = Command::new("sh");
    command.args(["-c", script]).current_dir(dir);
    command
}

/// Every state a crash at the end of `command` can leave on `fs`: each
/// fixed mode, then every reorder state; `reset` puts the files back
/// before each run. The reports, with what `look` saw after each.
fn every_state<T>(
    command: &Command,
    root: &Path,
    fs: Fs,
    reset: impl Fn(),
    look: impl Fn() -> T,
) -> Vec<(CrashReport, T)> {
    every_state_at(command, root, fs, Crash::at_end, reset, look)
}

/// [`every_state`] with the crash point `at` sets.
fn every_state_at<T>(
    command: &Command,
    root: &Path,
    fs: Fs,
    at: impl Fn(Crash) -> Crash,
    reset: impl Fn(),
    look: impl Fn() -> T,
) -> Vec<(CrashReport, T)> {
    reset();
    let first = crash_run(
        command,
        at(Crash::new(root, CrashMode::LoseUnsynced, 1).fs(fs)),
    );
    let states = first.reorder_states.expect("few changes");
    let mut modes = vec![
        CrashMode::LoseUnsynced,
        CrashMode::Torn(Tear::Sector),
        CrashMode::Torn(Tear::Any),
    ];
    modes.extend((0..states).map(CrashMode::ReorderState));
    modes
        .into_iter()
        .map(|mode| {
            reset();
            let report = crash_run(command, at(Crash::new(root, mode, 7).fs(fs)));
            assert!(report.problems.is_empty(), "{:?}", report.lines());
            assert!(report.point.is_some(), "{:?}", report.lines());
            (report, look())
        })
        .collect()
}

#[test]
fn a_rename_into_a_synced_directory_leaves_the_file_under_one_name_at_least() {
    let dir = TestDir::new("fidelity-xdir-rename");
    let root = dir.path();
    let reset = || {
        let _ = fs::remove_dir_all(root.join("d"));
        fs::create_dir_all(root.join("d/a")).unwrap();
        fs::create_dir_all(root.join("d/b")).unwrap();
        fs::write(root.join("d/a/f"), "payload\n").unwrap();
    };
    let look = || {
        let at = |p: &str| fs::read_to_string(root.join(p)).ok();
        (at("d/a/f"), at("d/b/f"))
    };
    // mv renames; coreutils' sync DIR fsyncs the directory.
    let command = sh(root, "mv d/a/f d/b/f && sync d/b");
    for fs in Fs::ALL {
        let states = every_state(&command, root, fs, reset, look);
        for (report, (old, new)) in &states {
            let payload = Some("payload\n".to_string());
            assert!(
                *old == payload || *new == payload,
                "{fs}: the file under neither name: {:?}",
                report.lines()
            );
            assert_eq!(
                *new,
                payload,
                "{fs}: the synced destination: {:?}",
                report.lines()
            );
        }
        let (lose, (old, _)) = &states[0];
        if fs == Fs::Posix {
            // The source directory was never synced: its entry may be back.
            assert!(old.is_some(), "{:?}", lose.lines());
            assert!(
                lose.lines()
                    .iter()
                    .any(|l| l.contains("d/a/f: removal undone")),
                "{:?}",
                lose.lines()
            );
        } else {
            // One journal (or log) commits both sides of the rename.
            assert!(old.is_none(), "{fs}: {:?}", lose.lines());
        }
    }
}

#[test]
fn a_crashed_daemon_is_gone_before_the_check_runs() {
    let dir = TestDir::new("fidelity-daemon");
    fs::create_dir(dir.join("data")).unwrap();
    // The daemon's pid file lies outside the root: the crash keeps it.
    let check = "pid=$(cat daemon.pid); if [ -e /proc/$pid ]; then \
                 echo \"$pid alive: $(cut -d' ' -f3 /proc/$pid/stat)\"; exit 1; fi; echo gone";
    let run = Cmd::fault()
        .args([
            "--root",
            "data",
            "--crash-at",
            "end",
            "--check",
            check,
            "--",
        ])
        .arg(c_program("crash_daemon"))
        .arg("daemon.pid")
        .cwd(dir.path())
        .timeout(Duration::from_secs(60))
        .run();
    run.assert_code(0);
    assert!(run.stdout.contains("started"), "{}", run.describe());
    assert!(run.stdout.contains("gone"), "{}", run.describe());
    assert!(run.stderr.contains("end of the run"), "{}", run.describe());
}

#[test]
fn a_crashed_redis_server_is_gone_before_the_check_runs() {
    let redis = require_tool("redis-server", "apt-get install redis-server");
    let dir = TestDir::new("fidelity-redis-daemon");
    fs::create_dir(dir.join("data")).unwrap();
    let script = format!(
        "{} --daemonize yes --port 0 --unixsocket {sock} --dir data --pidfile {pid} \
         --appendonly yes --appendfsync always --save '' && \
         until redis-cli -s {sock} set k v; do sleep 0.05; done",
        redis.display(),
        sock = dir.join("redis.sock").display(),
        pid = dir.join("redis.pid").display(),
    );
    let check = "pid=$(cat redis.pid); if [ -e /proc/$pid ]; then \
                 echo \"$pid alive: $(cut -d' ' -f3 /proc/$pid/stat)\"; exit 1; fi; echo gone";
    let run = Cmd::fault()
        .args([
            "--root",
            "data",
            "--crash-at",
            "end",
            "--check",
            check,
            "--",
        ])
        .args(["sh", "-c", &script])
        .cwd(dir.path())
        .timeout(Duration::from_secs(120))
        .run();
    assert!(run.stdout.contains("OK"), "{}", run.describe());
    run.assert_code(0);
    assert!(run.stdout.contains("gone"), "{}", run.describe());
}

/// `fault explore --crash` of `save_ack.py HOW` updating `data/file` from
/// v0 to v1 in a work copy; the run and its --json report.
fn explore_save(dir: &TestDir, how: &str, extra: &[&str]) -> (common::Outcome, serde_json::Value) {
    let work = dir.join("work");
    fs::create_dir_all(work.join("data")).unwrap();
    fs::write(work.join("data/file"), "v0\n").unwrap();
    let script = common::tests_dir().join("programs/python/save_ack.py");
    let python = python3();
    let check = format!(
        "{} {} --check data/file ack",
        python.display(),
        script.display()
    );
    let report = dir.join(&format!("{how}.json"));
    let run = Cmd::fault()
        .arg("explore")
        .args([
            "--workdir",
            "work",
            "--crash",
            "--root",
            "data",
            "--check",
            &check,
        ])
        .args(["--json", report.to_str().unwrap()])
        .args(extra)
        .arg("--")
        .arg(&python)
        .arg(&script)
        .args([how, "data/file", "ack", "v1"])
        .cwd(dir.path())
        .timeout(CAMPAIGN)
        .run();
    let json = serde_json::from_str(&fs::read_to_string(&report).unwrap_or_default())
        .unwrap_or(serde_json::Value::Null);
    (run, json)
}

#[test]
fn the_naive_save_with_one_update_is_found_and_the_careful_one_is_not() {
    let dir = TestDir::new("fidelity-naive-save");
    let (run, json) = explore_save(&dir, "naive", &[]);
    run.assert_code(1);
    let findings = json["findings"].as_array().cloned().unwrap_or_default();
    // After the program acknowledged v1 (its last call), v0 is back.
    let lost = findings.iter().find(|f| {
        f["detail"]
            .as_str()
            .is_some_and(|d| d.contains("holds v0, but v1 was acknowledged"))
    });
    let lost = lost.unwrap_or_else(|| panic!("{}", run.describe()));
    let replay = lost["replay"].as_str().unwrap();
    assert!(replay.contains("--crash-at end"), "{replay}");
    // Every file system can lose an unsynced update.
    assert!(
        lost["detail"]
            .as_str()
            .unwrap()
            .contains("reachable on posix, ext4, xfs and btrfs"),
        "{lost}"
    );
    assert!(
        run.stderr.contains("crash points: ") && run.stderr.contains("reorder states: "),
        "{}",
        run.describe()
    );

    let dir = TestDir::new("fidelity-careful-save");
    let (run, json) = explore_save(&dir, "careful", &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("no findings"), "{}", run.describe());
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(0));
}

#[test]
fn acknowledgements_are_crash_points() {
    let dir = TestDir::new("fidelity-ack");
    let (run, _) = explore_save(&dir, "careful", &["--ack", "ack", "--max-runs", "2"]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("1 acknowledgements"),
        "{}",
        run.describe()
    );
    // The standard output too: the program says nothing there.
    let dir = TestDir::new("fidelity-ack-stdout");
    let (run, _) = explore_save(&dir, "careful", &["--ack", "-", "--max-runs", "1"]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("0 acknowledgements"),
        "{}",
        run.describe()
    );
}

#[test]
fn each_crash_names_the_file_systems_that_can_leave_its_state() {
    let dir = TestDir::new("fidelity-profiles");
    let root = dir.path();
    // A new directory, and a file in it synced: POSIX alone may lose the
    // directory (it was never synced); ext4 and XFS commit it in their
    // journal, btrfs logs the names that reach the synced file.
    let script = "import os\n\
                  os.mkdir('d')\n\
                  fd = os.open('d/f', os.O_WRONLY | os.O_CREAT, 0o644)\n\
                  os.write(fd, b'synced\\n')\n\
                  os.fsync(fd)\n";
    let mut command = Command::new(python3());
    command.args(["-c", script]).current_dir(root);
    let reset = || {
        let _ = fs::remove_dir_all(root.join("d"));
    };
    reset();
    let posix = crash_run(
        &command,
        Crash::new(root, CrashMode::LoseUnsynced, 1).at_end(),
    );
    assert_eq!(posix.reachable_on, [Fs::Posix], "{:?}", posix.lines());
    assert!(
        posix
            .lines()
            .iter()
            .any(|l| l.contains("POSIX only: ext4, xfs and btrfs keep it")),
        "{:?}",
        posix.lines()
    );
    assert!(!root.join("d").exists());
    for fs in [Fs::Ext4, Fs::Xfs, Fs::Btrfs] {
        reset();
        let report = crash_run(
            &command,
            Crash::new(root, CrashMode::LoseUnsynced, 1).fs(fs).at_end(),
        );
        assert!(report.lost.is_empty(), "{fs}: {:?}", report.lines());
        assert_eq!(fs::read_to_string(root.join("d/f")).unwrap(), "synced\n");
    }

    // The textbook unsafe replace: on ext4 (auto_da_alloc) a surviving
    // rename keeps its data; on the others it may leave an empty file.
    let mut naive = Command::new(python3());
    naive
        .arg(common::tests_dir().join("programs/python/save_ack.py"))
        .args(["naive", "file", "ack", "v1"])
        .current_dir(root);
    let reset = || {
        fs::write(root.join("file"), "v0\n").unwrap();
        let _ = fs::remove_file(root.join("ack"));
    };
    let look = || fs::read_to_string(root.join("file")).unwrap();
    for fs in Fs::ALL {
        let states = every_state(&naive, root, fs, reset, look);
        let empty: Vec<&CrashReport> = states
            .iter()
            .filter(|(_, file)| file.is_empty())
            .map(|(report, _)| report)
            .collect();
        if fs == Fs::Ext4 {
            assert!(empty.is_empty(), "{:?}", empty[0].lines());
        } else {
            assert!(
                !empty.is_empty(),
                "{fs}: no empty file in {} states",
                states.len()
            );
            for report in empty {
                assert!(
                    !report.reachable_on.contains(&Fs::Ext4),
                    "{:?}",
                    report.lines()
                );
                assert!(report.reachable_on.contains(&fs), "{:?}", report.lines());
            }
        }
    }
}

/// `fault explore --crash --max-runs 6` of `crash_sqlite.py` committing
/// one row in `journal`/`sync` mode, its check looking for the
/// acknowledged row: the run.
fn explore_sqlite(dir: &TestDir, journal: &str, sync: &str) -> common::Outcome {
    let work = dir.join("work");
    fs::create_dir_all(work.join("db")).unwrap();
    let script = common::tests_dir().join("programs/python/crash_sqlite.py");
    let python = python3();
    let check = format!(
        "{} {} --check db/app.db ack",
        python.display(),
        script.display()
    );
    Cmd::fault()
        .arg("explore")
        .args([
            "--workdir",
            "work",
            "--crash",
            "--root",
            "db",
            "--check",
            &check,
        ])
        .args(["--max-runs", "6"])
        .arg("--")
        .arg(&python)
        .arg(&script)
        .args(["db/app.db", journal, sync, "1", "ack"])
        .cwd(dir.path())
        .timeout(CAMPAIGN)
        .run()
}

#[test]
fn sqlite_full_loses_its_last_commit_and_extra_and_wal_lose_nothing() {
    let dir = TestDir::new("fidelity-sqlite-full");
    let run = explore_sqlite(&dir, "delete", "full");
    run.assert_code(1);
    assert!(
        run.stdout.contains("acknowledged but lost: [1]"),
        "{}",
        run.describe()
    );
    for (journal, sync) in [("delete", "extra"), ("wal", "full")] {
        let dir = TestDir::new(&format!("fidelity-sqlite-{journal}-{sync}"));
        let run = explore_sqlite(&dir, journal, sync);
        run.assert_code(0);
        assert!(run.stdout.contains("no findings"), "{}", run.describe());
    }
}

/// A file replaced in place: truncated to zero, rewritten, closed (or not,
/// with `close` false: a marker file is written after), as the ext4
/// documentation's `fd = open("foo", O_TRUNC)/write(fd,..)/close(fd)`.
fn truncate_and_rewrite(root: &Path, close: bool) -> Command {
    let script = format!(
        "import os\n\
         fd = os.open('file', os.O_WRONLY | os.O_TRUNC)\n\
         os.write(fd, b'new\\n')\n\
         if {close}: os.close(fd)\n\
         marker = os.open('marker', os.O_WRONLY | os.O_CREAT, 0o644)\n\
         os.write(marker, b'.')\n",
        close = if close { "True" } else { "False" }
    );
    let mut command = Command::new(python3());
    command.args(["-c", &script]).current_dir(root);
    command
}

/// ext4's `auto_da_alloc` on replace-by-truncate: the last close of a file
/// truncated to zero writes its new data in the truncation's journal
/// commit, so a crash after the close leaves the old contents or the new,
/// never an empty file (nor a mix). Before the close, and on the other
/// profiles (XFS and btrfs only start the write-back at the close, which
/// orders nothing), the empty file is a reachable state, and its report says
/// ext4 keeps the data only when the close came first.
#[test]
fn a_truncated_file_closed_keeps_its_data_on_ext4() {
    let dir = TestDir::new("fidelity-truncate-close");
    let root = dir.path();
    let reset = || {
        fs::write(root.join("file"), "old contents\n").unwrap();
        let _ = fs::remove_file(root.join("marker"));
    };
    let look = || fs::read_to_string(root.join("file")).unwrap();
    // After the marker's write: the file's close has come (or not).
    let marker = format!("write:path={}", root.join("marker").display());
    let at_marker = |crash: Crash| crash.at_spec(&marker).unwrap();
    for close in [true, false] {
        let command = truncate_and_rewrite(root, close);
        for fs in Fs::ALL {
            let states = every_state_at(&command, root, fs, at_marker, reset, look);
            let contents: Vec<&str> = states.iter().map(|(_, file)| file.as_str()).collect();
            let empty: Vec<&CrashReport> = states
                .iter()
                .filter(|(_, file)| file.is_empty())
                .map(|(report, _)| report)
                .collect();
            if close && fs == Fs::Ext4 {
                assert!(
                    contents
                        .iter()
                        .all(|c| ["old contents\n", "new\n"].contains(c)),
                    "{contents:?}"
                );
                assert!(contents.contains(&"new\n"), "{contents:?}");
                continue;
            }
            assert!(!empty.is_empty(), "{fs} (close: {close}): {contents:?}");
            for report in empty {
                assert!(report.reachable_on.contains(&fs), "{:?}", report.lines());
                assert_eq!(
                    report.reachable_on.contains(&Fs::Ext4),
                    !close,
                    "{:?}",
                    report.lines()
                );
            }
        }
    }
}
