//! Power loss without FUSE or root (`--crash-at`, `fi::crash`): real C, Go
//! and Python programs crash at chosen calls, and the files under the root
//! are checked as recovery code would find them.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{c_program, go_program, python3, Cmd, TestDir};
use fi::crash::{Crash, CrashMode, CrashReport, Lost, Tear};
use fi::session::{Session, Status};

const OLD: &str = "old version\n";

/// The 1000 bytes `crash_rename` writes.
fn new_version() -> String {
    "new version\n".repeat(84)[..1000].to_string()
}

/// `root` as it is before each run of `crash_rename`: the old data.txt,
/// no data.tmp.
fn reset(root: &Path) {
    fs::write(root.join("data.txt"), OLD).unwrap();
    let _ = fs::remove_file(root.join("data.tmp"));
}

fn rename_program(root: &Path, how: &str) -> Command {
    let mut command = Command::new(c_program("crash_rename"));
    command.arg(how).current_dir(root);
    command
}

/// One library run of `command` with `crash`; its crash report.
fn crash_run(command: &Command, crash: Crash) -> CrashReport {
    let outcome = Session::command(command).crash(crash).run().unwrap();
    outcome.crash.expect("a crash report")
}

/// Every mode of a campaign at one point: the three fixed ones, then each
/// reorder state the point has.
fn modes_at(command: &Command, root: &Path, point: u64) -> Vec<CrashMode> {
    reset(root);
    let probe = crash_run(
        command,
        Crash::new(root, CrashMode::LoseUnsynced, 1).at_durability_point(point),
    );
    let states = probe.reorder_states.expect("few changes: enumerable");
    let mut modes = vec![
        CrashMode::LoseUnsynced,
        CrashMode::Torn(Tear::Sector),
        CrashMode::Torn(Tear::Any),
    ];
    modes.extend((0..states).map(CrashMode::ReorderState));
    modes
}

/// Every state `crash_rename HOW` can be left in, at every durability
/// point in every mode: (point, mode, data.txt, report).
fn campaign(how: &str) -> Vec<(u64, CrashMode, String, CrashReport)> {
    let dir = TestDir::new(&format!("crash-campaign-{how}"));
    let root = dir.path();
    let command = rename_program(root, how);
    reset(root);
    let dry = crash_run(&command, Crash::new(root, CrashMode::LoseUnsynced, 1));
    assert!(dry.point.is_none());
    assert_eq!(
        dir.read("data.txt"),
        new_version(),
        "no crash: the new version"
    );
    let points = dry.durability_points;
    assert!(points >= 3, "create, write, rename at least: {dry:?}");
    let mut states = Vec::new();
    for point in 1..=points {
        for mode in modes_at(&command, root, point) {
            reset(root);
            let report = crash_run(
                &command,
                Crash::new(root, mode, point).at_durability_point(point),
            );
            assert!(report.problems.is_empty(), "{:?}", report.lines());
            assert_eq!(report.point.as_ref().unwrap().durability_point, Some(point));
            states.push((point, mode, dir.read("data.txt"), report));
        }
    }
    states
}

#[test]
fn rename_without_fsync_can_leave_neither_version() {
    let states = campaign("unsafe");
    let torn: Vec<_> = states
        .iter()
        .filter(|(_, _, data, _)| *data != OLD && *data != new_version())
        .collect();
    assert!(
        !torn.is_empty(),
        "no state without a whole version: {:?}",
        states.iter().map(|s| (s.0, s.1, &s.2)).collect::<Vec<_>>()
    );
    // The rename persisted and the data did not: data.txt empty, in a
    // reorder state after the rename; torn keeps a sector-aligned prefix.
    assert!(torn
        .iter()
        .any(|(_, mode, data, _)| matches!(mode, CrashMode::ReorderState(_)) && data.is_empty()));
    assert!(torn.iter().any(|(_, mode, data, _)| {
        *mode == CrashMode::Torn(Tear::Sector)
            && data.len() == 512
            && new_version().starts_with(data.as_str())
    }));
    // A state found by durability point replays through --crash-at's spec.
    let (point, mode, data, report) = torn
        .iter()
        .find(|(_, mode, _, _)| *mode == CrashMode::Torn(Tear::Any))
        .expect("a torn-any state without a whole version");
    let dir = TestDir::new("crash-replay");
    reset(dir.path());
    let replay = &report.point.as_ref().unwrap().replay;
    let again = crash_run(
        &rename_program(dir.path(), "unsafe"),
        Crash::new(dir.path(), *mode, *point)
            .at_spec(replay)
            .unwrap(),
    );
    assert_eq!(
        again.point.unwrap().durability_point,
        Some(*point),
        "{replay}"
    );
    assert_eq!(&dir.read("data.txt"), data, "{replay}");
    // Losing every unsynced change always leaves the old version.
    for (point, mode, data, _) in &states {
        if *mode == CrashMode::LoseUnsynced {
            assert_eq!(data, OLD, "lose-unsynced at point {point}");
        }
    }
}

#[test]
fn fsync_file_rename_fsync_dir_keeps_a_whole_version_at_every_point() {
    let states = campaign("safe");
    assert!(states.len() > 10, "{} states tried", states.len());
    for (point, mode, data, report) in &states {
        assert!(
            *data == OLD || *data == new_version(),
            "point {point}, {mode}: data.txt is {data:?}\n{}",
            report.lines().join("\n")
        );
    }
    // After the directory's fsync nothing is left to lose.
    let (_, _, data, report) = states.last().unwrap();
    assert_eq!(*data, new_version());
    assert!(report.lost.is_empty(), "{:?}", report.lines());
}

#[test]
fn the_command_reports_what_was_lost_and_exits_with_the_check() {
    let dir = TestDir::new("crash-cli");
    reset(dir.path());
    let outside = TestDir::new("crash-cli-outside");
    fs::write(outside.join("keep.txt"), "not the program's\n").unwrap();
    fs::write(dir.join("untouched.txt"), "untouched\n").unwrap();
    let run = Cmd::fault()
        .args([
            "--crash-at",
            "rename",
            "--check",
            "cat data.txt; test -e data.tmp",
        ])
        .arg("--")
        .arg(c_program("crash_rename"))
        .arg("unsafe")
        .arg(outside.join("written.txt"))
        .cwd(dir.path())
        .run();
    // The check ran in the working directory after the crash: the old
    // version is back and data.tmp is gone, so `test -e` fails.
    run.assert_code(1);
    assert_eq!(run.stdout, OLD, "{}", run.describe());
    for line in [
        "after rename",
        "lost: data.tmp: creation undone",
        "lost: data.tmp: bytes 0..1000 (1000 bytes, write)",
        "lost: rename data.tmp -> data.txt undone",
        "--check exited with status 1",
    ] {
        assert!(run.stderr.contains(line), "no {line:?} in:\n{}", run.stderr);
    }
    assert!(
        !run.stdout.contains("done"),
        "killed before it could say so"
    );
    // Outside the root: what the program wrote stays, the rest is untouched.
    assert_eq!(outside.read("written.txt"), "outside\n");
    assert_eq!(outside.read("keep.txt"), "not the program's\n");
    assert_eq!(dir.read("untouched.txt"), "untouched\n");
}

#[test]
fn without_a_check_the_status_is_the_killed_programs() {
    let dir = TestDir::new("crash-status");
    reset(dir.path());
    let run = Cmd::fault()
        .args([
            "--crash-at",
            "write:when=1:path=data.tmp",
            "--crash-mode",
            "torn",
        ])
        .arg("--")
        .arg(c_program("crash_rename"))
        .arg("unsafe")
        .cwd(dir.path())
        .run();
    run.assert_code(128 + 9);
    assert!(run.stderr.contains("crash (torn, seed"), "{}", run.stderr);
    assert_eq!(dir.read("data.txt"), OLD);
    // The torn write (1000 bytes) kept its first sector, in data.tmp.
    assert_eq!(dir.read("data.tmp"), new_version()[..512]);
}

#[test]
fn bad_crash_options_are_refused_before_anything_runs() {
    let dir = TestDir::new("crash-bad");
    for (args, message) in [
        (
            &["--crash-at", "nosuchcall"][..],
            "unknown syscall 'nosuchcall'",
        ),
        (
            &["--crash-at", "write:when=0"][..],
            "--crash-at write:when=0: invalid when= '0'",
        ),
        (
            &["--crash-at", "write:error=EIO"][..],
            "unknown option 'error=EIO'",
        ),
        (
            &["--crash-at", "write", "--root", "/no/such/dir"][..],
            "--root /no/such/dir",
        ),
        (
            &["--crash-at", "write", "--crash-mode", "gone"][..],
            "unknown crash mode 'gone'",
        ),
        (&["--check", "true"][..], "--crash-at"),
    ] {
        let run = Cmd::fault()
            .args(args)
            .args(["--", "sh", "-c", "echo started > started.txt"])
            .cwd(dir.path())
            .run();
        run.assert_code(125);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(
            !dir.join("started.txt").exists(),
            "{args:?} started the program"
        );
    }
}

/// Run a writer (`PROGRAM... FILE sync|nosync ACK`) that replaces data.txt,
/// crashing just after it writes its acknowledgement outside the root.
fn writer_crash(program: &[PathBuf], sync: &str) -> (String, Vec<Lost>) {
    let dir = TestDir::new(&format!("crash-writer-{sync}"));
    let root = dir.join("root");
    fs::create_dir(&root).unwrap();
    fs::write(root.join("data.txt"), "version 1\n").unwrap();
    let ack = dir.join("ack");
    let mut command = Command::new(&program[0]);
    command
        .args(&program[1..])
        .arg(root.join("data.txt"))
        .arg(sync)
        .arg(&ack);
    let spec = format!("write:path={}", ack.display());
    let outcome = Session::command(&command)
        .crash(
            Crash::new(&root, CrashMode::LoseUnsynced, 7)
                .at_spec(&spec)
                .unwrap(),
        )
        .run()
        .unwrap();
    assert_eq!(outcome.status, Status::Killed(9));
    let report = outcome.crash.unwrap();
    assert!(report.point.is_some(), "{:?}", report.lines());
    assert_eq!(
        fs::read_to_string(&ack).unwrap(),
        "ack\n",
        "outside the root: kept"
    );
    (
        fs::read_to_string(root.join("data.txt")).unwrap(),
        report.lost,
    )
}

fn check_writer(program: &[PathBuf]) {
    let (data, lost) = writer_crash(program, "sync");
    assert_eq!(data, "version 2\n".repeat(100));
    assert!(lost.is_empty(), "fsynced, yet lost: {lost:?}");
    let (data, lost) = writer_crash(program, "nosync");
    assert_eq!(data, "version 1\n", "the write was not synced");
    assert!(
        lost.iter()
            .any(|l| matches!(l, Lost::Bytes { range, .. } if *range == (0..1000))),
        "{lost:?}"
    );
    assert!(
        lost.iter().any(|l| matches!(
            l,
            Lost::Size {
                was: 0,
                back_to: 10,
                ..
            }
        )),
        "the truncation is undone: {lost:?}"
    );
}

#[test]
fn a_python_writer_loses_its_data_exactly_without_fsync() {
    let script = common::tests_dir().join("programs/python/crash_writer.py");
    check_writer(&[python3(), script]);
}

#[test]
fn a_go_writer_loses_its_data_exactly_without_fsync() {
    check_writer(&[go_program("crash_writer")]);
}

#[test]
fn writing_a_gibibyte_spills_to_disk_and_keeps_memory_small() {
    const REGION_MIB: usize = 32;
    let dir = TestDir::new("crash-big");
    let file = dir.join("big.dat");
    fs::write(&file, vec![0xffu8; REGION_MIB << 20]).unwrap();
    let mut child = Command::new(common::FAULT)
        .args(["--crash-at", "pwrite64:when=1024", "--"])
        .arg(c_program("crash_bigwrite"))
        .arg(&file)
        .args(["1024", &REGION_MIB.to_string()])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());
    // fault's own high-water mark, read until it exits (the rusage of a
    // child would count the test process it was forked from).
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(kib) = high_water_kib(pid) {
            peak_kib = kib;
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = reader.join().unwrap();
    assert_eq!(status.code(), Some(128 + 9), "{stderr}");
    assert!(stderr.contains("after pwrite64"), "{stderr}");
    // The last pass (31) was never synced: every byte is back to pass 30.
    let data = fs::read(&file).unwrap();
    assert_eq!(data.len(), REGION_MIB << 20);
    assert!(data.iter().all(|&b| b == 30), "{stderr}");
    assert!(
        stderr.contains("bytes of old contents were spilled to disk"),
        "{stderr}"
    );
    let peak_mib = peak_kib / 1024;
    assert!(
        peak_mib > 0 && peak_mib < 80,
        "fault used {peak_mib} MiB for 1 GiB of writes\n{stderr}"
    );
}

/// `VmHWM` of process `pid`, in KiB.
fn high_water_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Run `crash_sqlite.py` committing 3 rows under `journal` and `sync`,
/// crashing right after it acknowledges row `acked`, then its check; the
/// check's exit status and output.
fn sqlite_crash(journal: &str, sync: &str, acked: u32) -> (i32, String) {
    let dir = TestDir::new(&format!("crash-sqlite-{journal}-{sync}"));
    fs::create_dir(dir.join("db")).unwrap();
    fs::write(dir.join("ack"), "").unwrap();
    let script = common::tests_dir().join("programs/python/crash_sqlite.py");
    let python = python3();
    let check = format!(
        "{} {} --check db/app.db ack",
        python.display(),
        script.display()
    );
    let run = Cmd::fault()
        .args(["--root", "db", "--crash-at"])
        .arg(format!(
            "write:path={}:when={acked}",
            dir.join("ack").display()
        ))
        .args(["--check", &check, "--"])
        .arg(&python)
        .arg(&script)
        .args(["db/app.db", journal, sync, "3", "ack"])
        .cwd(dir.path())
        .run();
    assert!(run.stderr.contains("after write"), "{}", run.describe());
    (run.code().unwrap(), run.stdout.clone())
}

#[test]
fn sqlite_loses_acknowledged_commits_exactly_where_its_documentation_says() {
    for acked in 1..=3 {
        // synchronous=OFF: nothing is ever synced.
        let (code, out) = sqlite_crash("delete", "off", acked);
        assert_eq!(code, 1, "OFF after commit {acked}: {out}");
        // FULL in rollback-journal mode: the unlink of the journal that
        // commits is not followed by a directory fsync; the journal comes
        // back, hot, and the last commit is rolled back.
        let (code, out) = sqlite_crash("delete", "full", acked);
        assert_eq!(code, 1, "FULL after commit {acked}: {out}");
        assert!(
            out.contains(&format!(
                "integrity: ok; rows: {}; acknowledged: {acked}; acknowledged but lost: [{acked}]",
                acked - 1
            )),
            "{out}"
        );
        // EXTRA (and FULL in WAL mode) lose nothing.
        for (journal, sync) in [("delete", "extra"), ("wal", "full")] {
            let (code, out) = sqlite_crash(journal, sync, acked);
            assert_eq!(code, 0, "{journal} {sync} after commit {acked}: {out}");
            assert!(out.contains("integrity: ok"), "{out}");
        }
    }
}

#[test]
fn the_crash_kills_every_process_of_the_tree_at_once() {
    let dir = TestDir::new("crash-tree");
    let started = std::time::Instant::now();
    let run = Cmd::fault()
        .args(["--crash-at", "write:path=f"])
        .args([
            "--",
            "sh",
            "-c",
            "sleep 30 & echo x > f; wait; echo after > g",
        ])
        .cwd(dir.path())
        .timeout(Duration::from_secs(20))
        .run();
    run.assert_code(128 + 9);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the sleep survived"
    );
    assert!(
        !dir.join("f").exists(),
        "the unsynced creation of f is undone"
    );
    assert!(!dir.join("g").exists(), "nothing ran after the crash");
    assert!(run.stderr.contains("f: creation undone"), "{}", run.stderr);
}

#[test]
fn writes_through_a_shared_mapping_survive_only_an_msync() {
    for (how, expect_new, lost) in [
        ("nosync", false, true),
        ("sync", true, false),
        ("none", false, false),
    ] {
        let dir = TestDir::new(&format!("crash-mmap-{how}"));
        let old = "a".repeat(4096);
        fs::write(dir.join("map.dat"), &old).unwrap();
        let mut command = Command::new(c_program("crash_mmap"));
        command.arg(dir.join("map.dat")).arg(how);
        let report = crash_run(
            &command,
            Crash::new(dir.path(), CrashMode::LoseUnsynced, 3)
                .at_spec("getpid")
                .unwrap(),
        );
        assert!(report.point.is_some(), "{how}: {:?}", report.lines());
        let data = dir.read("map.dat");
        let new = format!("new contents{}", &old[12..]);
        assert_eq!(data == new, expect_new, "{how}: {:?}", report.lines());
        assert!(data == old || data == new, "{how}");
        let mapped = report
            .lost
            .iter()
            .any(|l| matches!(l, Lost::Bytes { syscall, .. } if syscall == "mmap"));
        assert_eq!(mapped, lost, "{how}: {:?}", report.lines());
    }
}
