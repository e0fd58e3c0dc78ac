//! Calls on file descriptors decided by the descriptor's file (a `-P` rule,
//! a plugin that declares `paths`): fault lets them run unstopped until a
//! process opens such a file, and must still decide every one of them on
//! such a file, however the file came to be open.
//!
//! Every run has a deadline: a hung fault fails its test instead of hanging it.

mod common;

use std::fs;
use std::os::unix::fs::symlink;

use common::*;

/// A directory holding `data` (`hello`), `other` (`other`), `link` (a
/// symlink to `data`) and `sub/`.
fn files(name: &str) -> TestDir {
    let dir = TestDir::new(name);
    fs::write(dir.join("data"), "hello").unwrap();
    fs::write(dir.join("other"), "other").unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    symlink(dir.join("data"), dir.join("link")).unwrap();
    dir
}

/// `bash -c script` in `dir` under a rule failing every read of `dir/data`
/// with EIO; `head` prints `failed` when its read fails.
fn reading_data(dir: &TestDir, script: &str) -> Outcome {
    Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "fault=read:error=EIO", "-o", "/dev/null", "-P"])
        .arg(dir.join("data"))
        .args(["--", "bash", "-c", script])
        .run()
}

#[test]
fn reads_of_a_file_opened_in_the_run_fail_however_it_was_named() {
    let dir = files("fd-paths-opened");
    let script = "for f in other data link sub/../data; do \
                      head -c 5 $f 2>/dev/null || printf failed; echo \" $f\"; \
                  done";
    let out = reading_data(&dir, script);
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "other other",
            "failed data",
            "failed link",
            "failed sub/../data"
        ],
        "{}",
        out.describe()
    );
}

#[test]
fn futimens_on_a_file_is_a_call_on_that_file() {
    // touch opens the file, then sets its times through the descriptor:
    // utimensat(fd, NULL, ...), a call on the file with no path of its own.
    // Under user notification it runs unstopped when its path is NULL
    // until its descriptor's file is one -P names, as the fd calls do; under
    // ptrace every call stops and its path is the descriptor's.
    let dir = files("fd-paths-futimens");
    let rule = ["-e", "fault=utimensat:error=EIO"];
    let with_read = ["-e", "fault=read,utimensat:error=EIO"];
    let ptrace = ["--backend", "ptrace", "-e", "fault=utimensat:error=EIO"];
    for options in [&rule[..], &with_read, &ptrace] {
        let touch = |name: &str| {
            Cmd::fault()
                .cwd(dir.path())
                .args(options)
                .args(["-o", "/dev/null", "-P"])
                .arg(dir.join("data"))
                .args(["--", "touch", name])
                .run()
        };
        let out = touch("data");
        out.assert_code(1);
        assert!(
            out.stderr.contains("Input/output error"),
            "{options:?}: {}",
            out.describe()
        );
        touch("other").assert_code(0);
    }
}

#[test]
fn reads_of_a_descriptor_a_child_inherits_fail() {
    // bash opens the file; head, forked after, reads the descriptor.
    let dir = files("fd-paths-forked");
    let out = reading_data(&dir, "exec 3<data; head -c 5 <&3 || echo failed");
    out.assert_code(0);
    assert_eq!(out.lines(), ["failed"], "{}", out.describe());
}

#[test]
fn reads_of_a_descriptor_fault_was_started_with_fail() {
    let dir = files("fd-paths-inherited");
    let script = format!(
        "exec 3<data; exec {} -e fault=read:error=EIO -o /dev/null -P {} -- \
         bash -c 'head -c 5 <&3 || echo failed'",
        arg(std::path::Path::new(FAULT)),
        arg(&dir.join("data"))
    );
    let out = Cmd::new("bash").cwd(dir.path()).args(["-c", &script]).run();
    out.assert_code(0);
    assert_eq!(out.lines(), ["failed"], "{}", out.describe());
}

#[test]
fn reads_in_one_thread_of_a_file_another_thread_opened_fail() {
    let dir = files("fd-paths-threads");
    let script = r#"
import os, threading
fds = []
opener = threading.Thread(target=lambda: fds.append(os.open("data", os.O_RDONLY)))
opener.start()
opener.join()
try:
    os.read(fds[0], 5)
    print("read")
except OSError as e:
    print(os.strerror(e.errno))
"#;
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "fault=read:error=EIO", "-o", "/dev/null", "-P"])
        .arg(dir.join("data"))
        .arg("--")
        .arg(python3())
        .args(["-c", script])
        .run();
    out.assert_code(0);
    assert_eq!(out.lines(), ["Input/output error"], "{}", out.describe());
}

#[test]
fn a_process_reading_other_files_is_left_alone() {
    let dir = files("fd-paths-other");
    let out = reading_data(
        &dir,
        "head -c 5 other; echo; head -c 5 /dev/null; echo done",
    );
    out.assert_code(0);
    assert_eq!(out.lines(), ["other", "done"], "{}", out.describe());
}

#[test]
fn a_plugin_deciding_fd_calls_by_their_file_sees_reads_of_a_file_opened_in_the_run() {
    // path-errno declares its path= as its paths; with when=2+ the open
    // (the first openat on the path) and the first read pass, the second
    // read fails.
    let dir = files("fd-paths-plugin");
    let script = r#"
import os
fd = os.open("data", os.O_RDONLY)
for n in (1, 2):
    try:
        os.read(fd, 2)
        print(n, "read")
    except OSError as e:
        print(n, os.strerror(e.errno))
"#;
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-o", "/dev/null", "--plugin"])
        .arg(format!(
            "path-errno:path={}:when=2+",
            dir.join("data").display()
        ))
        .arg("--")
        .arg(python3())
        .args(["-c", script])
        .run();
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["1 read", "2 Permission denied"],
        "{}",
        out.describe()
    );
}

#[test]
fn reads_through_a_symlinked_directory_swapped_in_the_run_fail() {
    // fault keeps each directory's real path while it sees every call that
    // could change one (path-errno subscribes to %file): `ln -sfn` swapping
    // `way` from `decoy` to `real` must make it read `way` afresh.
    let dir = TestDir::new("fd-paths-swapped-way");
    for (sub, text) in [("real", "hello"), ("decoy", "decoy")] {
        fs::create_dir(dir.join(sub)).unwrap();
        fs::write(dir.join(sub).join("data"), text).unwrap();
    }
    symlink(dir.join("decoy"), dir.join("way")).unwrap();
    let script = "head -c 5 way/data || printf failed; echo ' before'; \
                  ln -sfn real way; \
                  head -c 5 way/data 2>/dev/null || printf failed; echo ' after'";
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-o", "/dev/null", "--plugin"])
        .arg(format!("path-errno:path={}/*", dir.join("real").display()))
        .args(["--", "bash", "-c", script])
        .run();
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["decoy before", "failed after"],
        "{}",
        out.describe()
    );
}

/// Python in `dir` under a rule failing every read of the files of
/// `dir/many/` with EIO; `script` prints what happened.
fn python_reading(dir: &TestDir, script: &str) -> Outcome {
    fs::create_dir_all(dir.join("many")).unwrap();
    for n in 0..12 {
        fs::write(dir.join("many").join(n.to_string()), "x").unwrap();
    }
    Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "fault=read:error=EIO", "-o", "/dev/null", "-P"])
        .arg(format!("{}/", dir.join("many").display()))
        .arg("--")
        .arg(python3())
        .args(["-c", script])
        .run()
}

#[test]
fn reads_through_a_copy_of_a_descriptor_fail() {
    let dir = files("fd-paths-copies");
    let script = r#"
import fcntl, os
def read(label, fd):
    try:
        os.read(fd, 1)
        print(label, "read")
    except OSError as e:
        print(label, os.strerror(e.errno))
fd = os.open("many/0", os.O_RDONLY)
copy = os.dup(fd)
os.close(fd)
read("dup", copy)
os.dup2(copy, 40)
read("dup2", 40)
read("F_DUPFD", fcntl.fcntl(40, fcntl.F_DUPFD, 50))
read("other", os.open("data", os.O_RDONLY))
"#;
    let out = python_reading(&dir, script);
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "dup Input/output error",
            "dup2 Input/output error",
            "F_DUPFD Input/output error",
            "other read"
        ],
        "{}",
        out.describe()
    );
}

#[test]
fn reads_of_many_open_files_fail() {
    // Past a few descriptors, one filter stops every read of the process.
    let dir = files("fd-paths-many");
    let script = r#"
import os
fds = [os.open(f"many/{n}", os.O_RDONLY) for n in range(12)]
failed = 0
for fd in fds:
    try:
        os.read(fd, 1)
    except OSError:
        failed += 1
print(failed, "of", len(fds), "failed")
print(os.read(os.open("data", os.O_RDONLY), 5).decode())
"#;
    let out = python_reading(&dir, script);
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["12 of 12 failed", "hello"],
        "{}",
        out.describe()
    );
}

#[test]
fn reads_of_a_fifo_opened_before_its_writer_fail() {
    // The reader's open waits for a writer: the interruption that lets
    // fault add the filter as the open returns cuts it short instead.
    let dir = files("fd-paths-fifo");
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "fault=read:error=EIO", "-o", "/dev/null", "-P"])
        .arg(&fifo)
        .args([
            "--",
            "bash",
            "-c",
            "(sleep 0.3; echo hi > fifo) & head -c 2 fifo || echo failed; wait",
        ])
        .run();
    out.assert_code(0);
    assert_eq!(out.lines(), ["failed"], "{}", out.describe());
}
