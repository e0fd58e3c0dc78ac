//! fault's log: --trace, the JSON lines, -c's summary, the text decoding of
//! flags, and what the end of a run says about the rules that fired.
//!
//! Every run has a deadline: a hung fault fails its test instead of hanging it.

mod common;

use std::fs;

use common::*;

// ---------------------------------------------------------------------------
// 18. The log: --trace, JSON, -c

#[test]
fn trace_logs_every_stopped_call() {
    let dir = TestDir::new("trace");
    let out = Cmd::fault()
        .args(["--trace", "-e", "inject=fsync:error=EIO:when=2", "--"])
        .arg(c_program("fsyncs"))
        .arg("3")
        .arg(dir.join("file"))
        .run();
    out.assert_code(1);
    let logged = lines_with(&out.stderr, "fsync(");
    out.ensure_eq(logged.len(), 3);
    out.ensure(logged[0].ends_with("= 0"), "");
    out.ensure(
        logged[1].contains("= -1 EIO (Input/output error) (INJECTED)"),
        "",
    );
    out.ensure(logged[2].ends_with("= 0"), "");
}

#[test]
fn json_log_describes_the_injected_call() {
    let dir = TestDir::new("json");
    let log = dir.join("log.json");
    let out = Cmd::fault()
        .args(["--log-format", "json", "-o"])
        .arg(&log)
        .args([
            "-e",
            "fault=openat:error=EACCES",
            "-P",
            "/etc/hostname",
            "--",
            "cat",
            "/etc/hostname",
        ])
        .run();
    out.assert_code(1);
    let text = fs::read_to_string(&log).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}\n{text}"))
        })
        .collect();
    for record in &records {
        assert!(record.is_object(), "{record}");
        assert!(record["time"].is_number(), "{record}");
        let call = record.get("syscall").is_some();
        let message = record.get("source").is_some() && record["message"].is_string();
        let stages = record["stages"].is_array();
        assert!(
            call || message || stages,
            "neither a call, a message nor the stage counts: {record}"
        );
    }
    let opens: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["syscall"] == "openat")
        .collect();
    assert_eq!(opens.len(), 1, "{text}");
    let open = opens[0];
    assert!(open["pid"].as_i64().is_some_and(|p| p > 0), "{open}");
    assert_eq!(open["tid"], open["pid"], "{open}");
    assert_eq!(open["nr"], 257, "{open}");
    assert_eq!(open["args"].as_array().map(Vec::len), Some(6), "{open}");
    assert!(
        open["paths"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "/etc/hostname"),
        "{open}"
    );
    assert_eq!(open["verdict"], "fail", "{open}");
    assert_eq!(open["injected"], true, "{open}");
    assert_eq!(open["result"], -13, "{open}");
    assert_eq!(open["errno"], "EACCES", "{open}");
    assert_eq!(open["delay_ns"], 0, "{open}");
    assert_eq!(open["signals"], serde_json::json!([]), "{open}");
    assert!(
        open["policies"].as_array().unwrap().iter().any(|p| p
            .as_str()
            .is_some_and(|s| s.contains("fault=openat:error=EACCES"))),
        "{open}"
    );
    out.assert_stderr_lacks("openat", "-o must take the log off stderr");
}

#[test]
fn json_log_of_a_delayed_call() {
    let dir = TestDir::new("json-delay");
    let log = dir.join("log.json");
    let out = Cmd::fault()
        .args(["--log-format", "json", "-o"])
        .arg(&log)
        .args(["-e", "inject=fsync:delay_enter=50ms:when=1", "--"])
        .arg(c_program("fsyncs"))
        .arg("1")
        .arg(dir.join("file"))
        .run();
    out.assert_code(0);
    let text = fs::read_to_string(&log).unwrap();
    let record: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["syscall"] == "fsync")
        .unwrap_or_else(|| panic!("no fsync record:\n{text}"));
    assert_eq!(record["verdict"], "pass", "{record}");
    assert_eq!(record["injected"], false, "{record}");
    assert_eq!(record["result"], 0, "{record}");
    assert_eq!(record["errno"], serde_json::Value::Null, "{record}");
    assert_eq!(record["delay_ns"], 50_000_000u64, "{record}");
    assert_eq!(
        record["paths"],
        serde_json::json!([dir.join("file").to_str().unwrap()]),
        "{record}"
    );
}

/// The numbers of the `-c` row for `name`: stops, tampered, errors, and
/// its seconds.
fn summary_row(log: &str, name: &str) -> Option<([u64; 3], f64)> {
    log.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 7 || fields[6] != name {
            return None;
        }
        let n = |i: usize| fields[i].parse::<u64>().ok();
        Some(([n(3)?, n(4)?, n(5)?], fields[1].parse().ok()?))
    })
}

#[test]
fn summary_counts_the_injected_calls() {
    let dir = TestDir::new("summary");
    let out = Cmd::fault()
        .args(["-c", "-e", "inject=fsync:error=EIO:when=2+", "--"])
        .arg(c_program("fsyncs"))
        .arg("5")
        .arg(dir.join("file"))
        .run();
    out.assert_code(1);
    let header = out.stderr.lines().find(|l| {
        l.split_whitespace().collect::<Vec<_>>()
            == [
                "%",
                "time",
                "seconds",
                "usecs/call",
                "stops",
                "tampered",
                "errors",
                "syscall",
            ]
    });
    out.ensure(header.is_some(), "no table header");
    let (fsync, _) = summary_row(&out.stderr, "fsync").unwrap_or_default();
    out.ensure_eq(fsync, [5, 4, 4]);
    let last = out.stderr.lines().last().unwrap_or("");
    out.ensure(last.ends_with(" total"), "the total row ends the log");
    let (total, _) = summary_row(&out.stderr, "total").unwrap();
    // -c counts every call, as strace's does: the program's writes and
    // opens too.
    out.ensure(total[0] > 5 && total[1] == 4 && total[2] >= 4, "");
    out.ensure(
        summary_row(&out.stderr, "openat").is_some(),
        "openat counted",
    );
}

#[test]
fn summary_times_each_syscall_from_entry_to_return() {
    let dir = TestDir::new("summary-time");
    let out = Cmd::fault()
        .args(["-c", "-e", "trace=fsync,write", "-e"])
        .arg("inject=fsync:delay_enter=30ms:when=2")
        .arg("--")
        .arg(c_program("fsyncs"))
        .arg("3")
        .arg(dir.join("file"))
        .run();
    out.assert_code(0);
    let (fsync, seconds) = summary_row(&out.stderr, "fsync").unwrap_or_default();
    out.ensure_eq(fsync, [3, 1, 0]);
    // The second fsync was held 30 ms before it ran.
    out.ensure(
        (0.030..2.0).contains(&seconds),
        "fsync's 30 ms in its seconds",
    );
    let (write, _) = summary_row(&out.stderr, "write").unwrap_or_default();
    out.ensure(write[0] >= 3, "each fsync's line written");
    out.ensure(
        summary_row(&out.stderr, "openat").is_none(),
        "only the traced calls",
    );
    let first_row = out
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("% time"))
        .nth(2)
        .unwrap_or("");
    out.ensure(first_row.ends_with(" fsync"), "the most time first");
}

// ---------------------------------------------------------------------------
// 21. Did the fault fire? Stage counts and warnings at the end of a run

/// A file of `size` bytes in `dir`, for `cp` to copy.
fn source_file(dir: &TestDir, size: usize) -> std::path::PathBuf {
    let path = dir.join("src");
    fs::write(&path, vec![b'x'; size]).unwrap();
    path
}

#[test]
fn a_rule_that_never_fires_is_reported_with_the_syscall_the_program_used() {
    let cp = require_tool("cp", "apt-get install coreutils");
    let dir = TestDir::new("idle-cp");
    source_file(&dir, 100_000);
    // cp copies with copy_file_range: a write rule on dst never fires, and
    // cp's status alone would read as "cp handled the fault".
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "inject=write:error=EIO", "-P", "dst", "--"])
        .arg(&cp)
        .args(["src", "dst"])
        .run();
    out.assert_code(0);
    let warnings = lines_with(&out.stderr, "changed no call");
    out.ensure_eq(warnings,
        ["[fault] warning: -e inject=write:error=EIO: changed no call; -P dst: no write call touched it"]);
    // With a stage that stops copy_file_range (and never fires either), the
    // write rule can tell which call it missed.
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "inject=write:error=EIO"])
        .args(["-e", "inject=copy_file_range:error=EIO:when=1000"])
        .args(["-P", "dst", "--"])
        .arg(&cp)
        .args(["src", "dst"])
        .run();
    out.assert_code(0);
    let warnings = lines_with(&out.stderr, "changed no call");
    out.ensure_eq(warnings.len(), 2);
    out.ensure(warnings[0].ends_with(
            "-P dst: no write call touched it; cp used copy_file_range on dst, which the rule does not name"
        ), "");
    out.ensure(warnings[1].starts_with("[fault] warning: -e inject=copy_file_range:error=EIO:when=1000: changed no call; when= selected none of its "), "");
}

#[test]
fn an_idle_rule_keeps_the_programs_status() {
    let true_ = require_tool("true", "apt-get install coreutils");
    let out = Cmd::fault()
        .args(["-e", "inject=write:error=EIO", "-P", "/nonexistent", "--"])
        .arg(&true_)
        .run();
    out.assert_code(0);
    out.ensure_eq(lines_with(&out.stderr, "warning"),
        ["[fault] warning: -e inject=write:error=EIO: changed no call; -P /nonexistent: no write call touched it"]);
}

#[test]
fn a_rule_that_fired_gets_no_warning_and_is_counted_per_stage() {
    let cat = require_tool("cat", "apt-get install coreutils");
    let dir = TestDir::new("stage-counts");
    let file = dir.join("secret");
    fs::write(&file, "hidden\n").unwrap();
    let other = dir.join("other");
    fs::write(&other, "shown\n").unwrap();
    let out = Cmd::fault()
        .args(["-c", "-e", "fault=openat:error=EACCES"])
        .args(["-e", "inject=fsync:error=EIO", "-P"])
        .arg(&file)
        .arg("--")
        .arg(&cat)
        .arg(&file)
        .arg(&other)
        .arg(&file)
        .run();
    out.assert_code(1);
    out.ensure_eq(&out.stdout, "shown\n");
    let warnings = lines_with(&out.stderr, "changed no call");
    out.ensure_eq(warnings,
        [format!(
            "[fault] warning: -e inject=fsync:error=EIO: changed no call; -P {}: no fsync call touched it",
            file.display()
        )]);
    let row = |stage: &str| -> Vec<String> {
        let line = out
            .stderr
            .lines()
            .find(|line| line.starts_with(stage))
            .unwrap_or_else(|| panic!("no -c row for {stage}\n{}", out.describe()));
        line[stage.len()..]
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    assert_eq!(row("-e fault=openat:error=EACCES"), ["2"]);
    assert_eq!(row("-e inject=fsync:error=EIO"), ["0"]);

    let log = dir.join("log.json");
    Cmd::fault()
        .args(["--log-format", "json", "-o"])
        .arg(&log)
        .args(["-e", "fault=openat:error=EACCES", "-P"])
        .arg(&file)
        .arg("--")
        .arg(&cat)
        .arg(&file)
        .arg(&file)
        .arg(&file)
        .run()
        .assert_code(1);
    let text = fs::read_to_string(&log).unwrap();
    let stages: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter_map(|value| value.get("stages").cloned())
        .collect();
    assert_eq!(
        stages,
        [serde_json::json!([{"stage": "-e fault=openat:error=EACCES", "changed": 3}])],
        "{text}"
    );
    assert!(!text.contains("changed no call"), "{text}");
}

#[test]
fn text_log_decodes_open_flags_and_mode_like_strace() {
    let sh = require_tool("sh", "apt-get install dash");
    let dir = TestDir::new("decoded-flags");
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "fault=openat:error=EACCES", "-P", "out", "--"])
        .arg(&sh)
        .args(["-c", "echo hi > out"])
        .run();
    out.assert_code(2);
    let lines = lines_with(&out.stderr, "openat(");
    out.ensure_eq(lines.len(), 1);
    out.ensure(lines[0].contains(
            "openat(AT_FDCWD, \"out\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = -1 EACCES (Permission denied) (INJECTED)"
        ), "");
    // JSON keeps the raw numbers.
    let log = dir.join("log.json");
    Cmd::fault()
        .cwd(dir.path())
        .args(["--log-format", "json", "-o"])
        .arg(&log)
        .args(["-e", "fault=openat:error=EACCES", "-P", "out", "--"])
        .arg(&sh)
        .args(["-c", "echo hi > out"])
        .run()
        .assert_code(2);
    let text = fs::read_to_string(&log).unwrap();
    let call: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let flags = (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC) as u64;
    assert_eq!(call["args"][2], flags, "{text}");
    assert_eq!(call["args"][3], 0o666, "{text}");
}
