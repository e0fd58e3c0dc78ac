//! -P: rules limited to the files a call touches, through a path or an fd,
//! relative paths followed through cd, renames and other threads.
//!
//! Every run has a deadline: a hung fault fails its test instead of hanging it.

mod common;

use std::fs;

use common::*;

// ---------------------------------------------------------------------------
// 8. -P matches fds

#[test]
fn path_filter_matches_writes_through_an_fd() {
    let dir = TestDir::new("path-fd");
    let out = Cmd::fault()
        .args(["-e", "fault=write:error=ENOSPC", "-P"])
        .arg(dir.join("a"))
        .arg("--")
        .arg(c_program("two_files"))
        .arg(dir.path())
        .run();
    out.assert_code(0);
    out.ensure_eq(out.lines(), ["write a: ENOSPC", "write b: ok"]);
    assert_eq!(dir.read("a"), "");
    assert_eq!(dir.read("b"), "data for b\n");
    let logged = lines_with(&out.stderr, "(INJECTED)");
    out.ensure_eq(logged.len(), 1);
    out.ensure(
        logged[0].contains("write(")
            && logged[0].contains(&format!("<{}>", dir.join("a").display())),
        "the log shows the fd's path",
    );
    out.ensure(
        logged[0].contains("= -1 ENOSPC (No space left on device) (INJECTED)"),
        "",
    );
}

#[test]
fn path_filter_matches_msync_by_the_file_mapped_at_its_address() {
    let dir = TestDir::new("path-msync");
    let (mapped, other) = (dir.join("mapped"), dir.join("other"));
    fs::write(&mapped, "old contents here\n").unwrap();
    fs::write(&other, "").unwrap();
    for (path, fails) in [(&mapped, true), (&other, false)] {
        let out = Cmd::fault()
            .args(["-e", "fault=msync:error=EIO", "-P"])
            .arg(path)
            .arg("--")
            .arg(c_program("crash_mmap"))
            .arg(&mapped)
            .arg("sync")
            .run();
        if fails {
            out.assert_code(99);
            out.ensure_eq(out.lines(), ["FATAL msync: EIO"]);
        } else {
            out.assert_code(0);
            out.ensure_eq(out.lines(), ["done"]);
            out.assert_stderr_has("changed no call", "no msync touched the other file");
        }
    }
}

#[test]
fn relative_path_filter_is_taken_from_fis_directory() {
    let dir = TestDir::new("path-relative");
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "fault=write:error=ENOSPC", "-P", "b", "--"])
        .arg(c_program("two_files"))
        .arg(".")
        .run();
    out.assert_code(0);
    out.ensure_eq(out.lines(), ["write a: ok", "write b: ENOSPC"]);
}

#[test]
fn path_filter_counts_only_matching_calls() {
    // write a and two stdout writes come before write b: with when=1, b's
    // write is tampered with only if they were not counted.
    let dir = TestDir::new("path-when");
    let out = Cmd::fault()
        .args(["-e", "fault=write:error=ENOSPC:when=1", "-P"])
        .arg(dir.join("b"))
        .arg("--")
        .arg(c_program("two_files"))
        .arg(dir.path())
        .run();
    out.assert_code(0);
    out.ensure_eq(out.lines(), ["write a: ok", "write b: ENOSPC"]);
}

#[test]
fn path_filter_follows_symlinks() {
    let dir = TestDir::new("path-symlink");
    // Like strace, fi resolves -P paths when it starts: the file exists.
    fs::write(dir.join("a"), "").unwrap();
    std::os::unix::fs::symlink(dir.join("a"), dir.join("link")).unwrap();
    let out = Cmd::fault()
        .args(["-e", "fault=write:error=ENOSPC", "-P"])
        .arg(dir.join("link"))
        .arg("--")
        .arg(c_program("two_files"))
        .arg(dir.path())
        .run();
    out.assert_code(0);
    out.ensure_eq(out.lines(), ["write a: ENOSPC", "write b: ok"]);
}

/// Two directories, `A` and `B`, each holding a file `f`.
fn two_dirs(name: &str) -> TestDir {
    let dir = TestDir::new(name);
    for sub in ["A", "B"] {
        fs::create_dir(dir.join(sub)).unwrap();
        fs::write(dir.join(sub).join("f"), format!("{sub}\n")).unwrap();
    }
    dir
}

#[test]
fn relative_paths_follow_cd() {
    let dir = two_dirs("path-cd");
    let script = "cd A; read x < f; echo \"A: $?\"; cd ../B; read y < f; echo \"B: $?\"";
    let out = Cmd::fault()
        .cwd(dir.path())
        .args(["-e", "fault=openat:error=ENOENT", "-P"])
        .arg(dir.join("B/f"))
        .args(["--", "bash", "-c", script])
        .run();
    out.assert_code(0);
    out.ensure_eq(out.lines(), ["A: 0", "B: 1"]);
}

/// Run Python in `DIR/A` with `steps`, which call `open_f(label)` to open
/// `f` and print `label ok` or the error, under a rule failing every open
/// of `DIR/faulted`.
fn python_opening_f(dir: &TestDir, faulted: &str, steps: &str) -> Outcome {
    let script = format!(
        r#"
import os, threading
def open_f(label):
    try:
        open("f").close()
        print(label, "ok")
    except OSError as e:
        print(label, os.strerror(e.errno))
{steps}"#
    );
    Cmd::fault()
        .cwd(dir.join("A"))
        .args(["-e", "fault=openat:error=ENOENT", "-P"])
        .arg(dir.join(faulted))
        .arg("--")
        .arg(python3())
        .args(["-c", &script])
        .run()
}

#[test]
fn relative_paths_follow_another_threads_chdir_and_fchdir() {
    let dir = two_dirs("path-threads-cwd");
    let steps = r#"
open_f("A")
thread = threading.Thread(target=os.chdir, args=("../B",))
thread.start()
thread.join()
open_f("B, after another thread's chdir")
os.fchdir(os.open("../A", os.O_RDONLY))
open_f("A, after fchdir")
"#;
    let out = python_opening_f(&dir, "B/f", steps);
    out.assert_code(0);
    out.ensure_eq(
        out.lines(),
        [
            "A ok",
            "B, after another thread's chdir No such file or directory",
            "A, after fchdir ok",
        ],
    );
}

/// `openat` relative to a directory fd, as tar and find make them: a plain
/// -P path matches the file of its name in its own directory only, whether
/// named alone, through `..` or with a trailing `.` component.
#[test]
fn a_plain_path_matches_openat_relative_to_a_directory_fd_by_its_directory() {
    let dir = two_dirs("path-dirfd");
    fs::write(dir.join("B/g"), "g\n").unwrap();
    let steps = r#"
a = os.open("../A", os.O_RDONLY | os.O_DIRECTORY)
b = os.open("../B", os.O_RDONLY | os.O_DIRECTORY)
for label, name, at in [("A/f", "f", a), ("B/f", "f", b), ("B/g", "g", b),
                        ("B/../B/f", "../B/f", b), ("A/../B/f", "../B/f", a)]:
    try:
        os.close(os.open(name, os.O_RDONLY, dir_fd=at))
        print(label, "ok")
    except OSError as e:
        print(label, os.strerror(e.errno))
"#;
    let out = python_opening_f(&dir, "B/f", steps);
    out.assert_code(0);
    out.ensure_eq(
        out.lines(),
        [
            "A/f ok",
            "B/f No such file or directory",
            "B/g ok",
            "B/../B/f No such file or directory",
            "A/../B/f No such file or directory",
        ],
    );
}

#[test]
fn relative_paths_follow_a_rename_of_the_working_directory() {
    let dir = two_dirs("path-rename-cwd");
    let steps = r#"
open_f("A")
os.rename("../A", "../C")
open_f("C")
"#;
    let out = python_opening_f(&dir, "C/f", steps);
    out.assert_code(0);
    out.ensure_eq(out.lines(), ["A ok", "C No such file or directory"]);
}

#[test]
fn a_watched_directory_change_is_neither_logged_nor_counted() {
    let dir = two_dirs("path-cd-count");
    let out = Cmd::fault()
        .cwd(dir.path())
        .args([
            "-c",
            "-e",
            "trace=openat",
            "-e",
            "fault=openat:error=ENOENT",
            "-P",
        ])
        .arg(dir.join("B/f"))
        .args(["--", "bash", "-c", "cd A; cd ../B; read y < f"])
        .run();
    out.assert_code(1);
    // fault stops chdir to follow the directory, but -c counts only the
    // traced calls.
    let rows = |name: &str| {
        out.stderr
            .lines()
            .filter(|line| line.split_whitespace().last() == Some(name))
            .count()
    };
    assert_eq!(
        rows("openat"),
        1,
        "the summary counts openat\n{}",
        out.describe()
    );
    out.ensure(
        rows("chdir") == 0 && lines_with(&out.stderr, "chdir(").is_empty(),
        "a chdir no stage subscribed to was counted",
    );
}

#[test]
fn dash_p_takes_a_glob_and_a_directory_prefix() {
    let cat = require_tool("cat", "apt-get install coreutils");
    let dir = TestDir::new("path-globs");
    fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    for (name, text) in [
        ("app.log", "log\n"),
        ("notes.txt", "notes\n"),
        ("sub/deeper/x", "x\n"),
        ("subway", "subway\n"),
    ] {
        fs::write(dir.join(name), text).unwrap();
    }
    let cat_all = |pattern: &str| {
        Cmd::fault()
            .cwd(dir.path())
            .args(["-e", "fault=openat:error=EACCES", "-P", pattern, "--"])
            .arg(&cat)
            .args(["app.log", "notes.txt", "sub/deeper/x", "subway"])
            .run()
    };
    let out = cat_all("*.log");
    out.assert_code(1);
    out.ensure_eq(&out.stdout, "notes\nx\nsubway\n");
    out.assert_stderr_has("cat: app.log: Permission denied", "");

    let out = cat_all("sub/");
    out.assert_code(1);
    out.ensure_eq(&out.stdout, "log\nnotes\nsubway\n");
    out.assert_stderr_has("cat: sub/deeper/x: Permission denied", "");

    // A plain path keeps strace's exact meaning: not a prefix.
    let out = cat_all(&format!("{}/sub", dir.path().display()));
    out.assert_code(0);
    out.ensure_eq(&out.stdout, "log\nnotes\nx\nsubway\n");
}
