//! Nothing of the user's is lost: a simulated power loss rewrites only what
//! is under its root and reports only what it really undid, and explore's
//! runs never write their `--workdir`. Each test runs a reproduction on real
//! files (bash's `mv`, `ln`, `echo` under `fault --crash-at`, and `fault
//! explore`) and compares the bytes outside the root, or in the work
//! directory, with what the program left there.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

use common::{python3, Cmd, Outcome, TestDir};

/// `fault --root R --crash-at 'mkdir:path=*/CRASH' ARGS -- bash -c SCRIPT`
/// in `dir`: the reproductions crash just after `mkdir R/CRASH`.
fn crash(dir: &TestDir, args: &[&str], script: &str) -> Outcome {
    Cmd::fault()
        .args(["--root", "R", "--crash-at", "mkdir:path=*/CRASH"])
        .args(args)
        .args(["--", "bash", "-c", script])
        .cwd(dir.path())
        .run()
}

/// The report's `lost:` lines, without the prefix.
fn lost(run: &Outcome) -> Vec<&str> {
    run.stderr
        .lines()
        .filter_map(|line| line.split_once("  lost: ").map(|(_, what)| what))
        .collect()
}

/// The report's `problem:` lines, without the prefix.
fn problems(run: &Outcome) -> Vec<&str> {
    run.stderr
        .lines()
        .filter_map(|line| line.split_once("  problem: ").map(|(_, what)| what))
        .collect()
}

/// A directory with `R/` (the root) and `out/` beside it.
fn root_and_outside(name: &str) -> TestDir {
    let dir = TestDir::new(name);
    fs::create_dir_all(dir.join("R")).unwrap();
    fs::create_dir_all(dir.join("out")).unwrap();
    dir
}

fn write(dir: &TestDir, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn inode(path: &Path) -> u64 {
    fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .ino()
}

/// The contents of whichever of the two names exists (both must not be
/// missing).
fn under_either(dir: &TestDir, a: &str, b: &str) -> String {
    fs::read_to_string(dir.join(a))
        .or_else(|_| fs::read_to_string(dir.join(b)))
        .unwrap_or_else(|_| panic!("neither {a} nor {b} exists"))
}

#[test]
fn a_file_or_directory_moved_into_the_root_never_vanishes() {
    // The reproduction: both were gone from both places.
    let dir = root_and_outside("moved-in");
    write(&dir, "out/o2", "precious\n");
    write(&dir, "out/sub/file", "tree\n");
    let run = crash(&dir, &[], "mv out/o2 R/o2; mv out/sub R/sub; mkdir R/CRASH");
    run.assert_code(128 + 9);
    assert_eq!(under_either(&dir, "R/o2", "out/o2"), "precious\n");
    assert_eq!(under_either(&dir, "R/sub/file", "out/sub/file"), "tree\n");
    assert!(!dir.join("R/CRASH").exists(), "{}", run.describe());
    assert_eq!(lost(&run), ["CRASH: creation undone"], "{}", run.describe());
    assert!(
        run.stderr.contains("into the root from outside"),
        "{}",
        run.describe()
    );

    // Nor when a directory created in the root holds it, or a name created
    // in the root was replaced by it: those creations are not undone.
    let dir = root_and_outside("moved-in-held");
    write(&dir, "out/o2", "precious\n");
    write(&dir, "out/o4", "four\n");
    let run = crash(
        &dir,
        &[],
        "mkdir R/d; mv out/o2 R/d/o2; echo mine > R/o; mv out/o4 R/o; mkdir R/CRASH",
    );
    run.assert_code(128 + 9);
    assert_eq!(under_either(&dir, "R/d/o2", "out/o2"), "precious\n");
    assert_eq!(under_either(&dir, "R/o", "out/o4"), "four\n");
    assert_eq!(lost(&run), ["CRASH: creation undone"], "{}", run.describe());
    let kept: Vec<&str> = problems(&run)
        .into_iter()
        .filter(|p| p.contains("was moved into the root from outside, and would be lost"))
        .collect();
    assert_eq!(kept.len(), 2, "{}", run.describe());
}

#[test]
fn a_name_put_back_in_the_root_never_shares_a_file_outside_it() {
    // The reproduction: R/f came back as a hard link to out/f, and
    // the check's write to R/f changed out/f.
    let dir = root_and_outside("put-back");
    write(&dir, "R/f", "v1\n");
    let run = crash(
        &dir,
        &["--check", "echo RECOVERY > R/f"],
        "mv R/f out/f; mkdir R/CRASH",
    );
    run.assert_code(0);
    assert_eq!(dir.read("out/f"), "v1\n", "{}", run.describe());
    assert_eq!(dir.read("R/f"), "RECOVERY\n");
    assert_ne!(inode(&dir.join("R/f")), inode(&dir.join("out/f")));
    assert_eq!(
        lost(&run),
        ["f: removal undone", "CRASH: creation undone"],
        "{}",
        run.describe()
    );

    // Written before it left: the name outside keeps what the program
    // wrote, the name put back has the write undone.
    let dir = root_and_outside("put-back-written");
    write(&dir, "R/f", "v1\n");
    let run = crash(&dir, &[], "echo more >> R/f; mv R/f out/f; mkdir R/CRASH");
    run.assert_code(128 + 9);
    assert_eq!(dir.read("out/f"), "v1\nmore\n", "{}", run.describe());
    assert_eq!(dir.read("R/f"), "v1\n");
    assert_eq!(fs::metadata(dir.join("out/f")).unwrap().nlink(), 1);
    assert_eq!(
        lost(&run),
        [
            "f: bytes 3..8 (5 bytes, write)",
            "f: removal undone",
            "CRASH: creation undone"
        ],
        "{}",
        run.describe()
    );

    // Replaced by a rename, a name hard-linked from outside comes back with
    // its own copy of the file: the check's write leaves out/x alone.
    let dir = root_and_outside("put-back-replaced");
    write(&dir, "out/x", "shared\n");
    fs::hard_link(dir.join("out/x"), dir.join("R/t")).unwrap();
    let run = crash(
        &dir,
        &["--check", "echo RECOVERY > R/t"],
        "echo new > R/new; mv R/new R/t; mkdir R/CRASH",
    );
    run.assert_code(0);
    assert_eq!(dir.read("out/x"), "shared\n", "{}", run.describe());
    assert_eq!(dir.read("R/t"), "RECOVERY\n");
    assert!(!dir.join("R/new").exists());
    assert_eq!(
        lost(&run),
        [
            "new: creation undone",
            "new: bytes 0..4 (4 bytes, write)",
            "rename new -> t undone",
            "CRASH: creation undone"
        ],
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("own copy: t"), "{}", run.describe());
}

#[test]
fn a_file_hard_linked_from_outside_is_never_rewritten_through_the_link() {
    const ORIGINAL: &str = "OUTSIDE-3-original-content\n";
    const WRITTEN: &str = "HARDLINK-TRUNC\n";
    let linked = |name: &str| {
        let dir = root_and_outside(name);
        write(&dir, "out/o3", ORIGINAL);
        fs::hard_link(dir.join("out/o3"), dir.join("R/o3link")).unwrap();
        dir
    };
    let script = "echo HARDLINK-TRUNC > R/o3link; mkdir R/CRASH";

    // The reproduction: out/o3 was left empty.
    let dir = linked("hardlink-reorder");
    let run = crash(&dir, &["--crash-mode", "reorder", "--seed", "1"], script);
    run.assert_code(128 + 9);
    assert_eq!(dir.read("out/o3"), WRITTEN, "{}", run.describe());
    if run.stderr.contains("own copy: o3link") {
        assert_ne!(inode(&dir.join("R/o3link")), inode(&dir.join("out/o3")));
    }

    // Every unsynced change lost: the name in the root gets the crash state
    // in a copy of its own; the name outside keeps what the program wrote.
    let dir = linked("hardlink-lose");
    let run = crash(&dir, &[], script);
    run.assert_code(128 + 9);
    assert_eq!(dir.read("out/o3"), WRITTEN, "{}", run.describe());
    assert_eq!(dir.read("R/o3link"), ORIGINAL);
    assert_ne!(inode(&dir.join("R/o3link")), inode(&dir.join("out/o3")));
    assert!(
        run.stderr.contains(
            "own copy: o3link: its file also had a name outside the root, which keeps \
             what the program wrote"
        ),
        "{}",
        run.describe()
    );
    assert_eq!(
        lost(&run),
        [
            "o3link: size 0 back to 27",
            "o3link: bytes 0..15 (15 bytes, write)",
            "CRASH: creation undone"
        ],
        "{}",
        run.describe()
    );

    // Unlinked in the root: it comes back as a copy of its own.
    let dir = linked("hardlink-unlinked");
    let run = crash(&dir, &[], "rm R/o3link; mkdir R/CRASH");
    run.assert_code(128 + 9);
    assert_eq!(dir.read("R/o3link"), ORIGINAL, "{}", run.describe());
    assert_eq!(dir.read("out/o3"), ORIGINAL);
    assert_eq!(fs::metadata(dir.join("out/o3")).unwrap().nlink(), 1);
    assert!(
        run.stderr.contains("own copy: o3link"),
        "{}",
        run.describe()
    );

    // A linked file the crash does not change keeps its link.
    let dir = linked("hardlink-untouched");
    let run = crash(&dir, &[], "echo other > R/other; mkdir R/CRASH");
    run.assert_code(128 + 9);
    assert_eq!(inode(&dir.join("R/o3link")), inode(&dir.join("out/o3")));
    assert!(!run.stderr.contains("own copy"), "{}", run.describe());
}

#[test]
fn explore_never_writes_its_workdir_through_a_symlink() {
    // The reproduction: every run appended to wd/real.log. The
    // check passes only if both links lead to the copy's real.log.
    let dir = TestDir::new("workdir-links");
    write(&dir, "wd/real.log", "ORIGINAL\n");
    let absolute = dir.join("wd/real.log");
    symlink(&absolute, dir.join("wd/log")).unwrap();
    symlink("real.log", dir.join("wd/rel")).unwrap();
    let run = Cmd::fault()
        .args(["explore", "--workdir", "wd", "--jobs", "2"])
        .args(["--check", "grep -qx run real.log && grep -qx rel real.log"])
        .args([
            "--",
            "bash",
            "-c",
            "echo run >> log && echo rel >> rel && sync",
        ])
        .cwd(dir.path())
        .run();
    run.assert_code(0);
    assert!(run.stdout.contains("no findings"), "{}", run.describe());
    assert_eq!(dir.read("wd/real.log"), "ORIGINAL\n", "{}", run.describe());
    assert_eq!(fs::read_link(dir.join("wd/log")).unwrap(), absolute);
    assert_eq!(
        fs::read_link(dir.join("wd/rel")).unwrap(),
        Path::new("real.log")
    );

    // A link to a directory above the work directory could reach it
    // through any name: refused, in one line, before anything runs.
    symlink(dir.path(), dir.join("wd/up")).unwrap();
    let run = Cmd::fault()
        .args(["explore", "--workdir", "wd", "--jobs", "2"])
        .args(["--", "bash", "-c", "echo run >> up/wd/real.log"])
        .cwd(dir.path())
        .run();
    run.assert_code(125);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.describe());
    assert!(
        run.stderr
            .contains("which holds the work directory: a run could write the original"),
        "{}",
        run.describe()
    );
    assert_eq!(dir.read("wd/real.log"), "ORIGINAL\n");
}

#[test]
fn the_report_lists_only_what_was_undone_and_nothing_outside_is_removed() {
    // The root renamed away and a symlink put in its place: its files now
    // live outside the root. Nothing is rewritten, nothing reported lost,
    // and the program's symlink (in the root's parent) stays.
    let dir = root_and_outside("root-renamed");
    write(&dir, "R/a", "a\n");
    let run = crash(
        &dir,
        &[],
        "echo new > R/new; mv R gone; ln -s gone R; mkdir R/CRASH",
    );
    run.assert_code(128 + 9);
    assert_eq!(
        fs::read_link(dir.join("R")).unwrap(),
        Path::new("gone"),
        "{}",
        run.describe()
    );
    assert_eq!(dir.read("gone/new"), "new\n");
    assert_eq!(dir.read("gone/a"), "a\n");
    assert!(dir.join("gone/CRASH").is_dir());
    assert!(lost(&run).is_empty(), "{}", run.describe());
    assert!(
        problems(&run)
            .iter()
            .any(|p| p.contains("was renamed or replaced during the run: nothing was rewritten")),
        "{}",
        run.describe()
    );

    // The same with a new directory in its place.
    let dir = root_and_outside("root-replaced");
    write(&dir, "R/a", "a\n");
    let run = crash(
        &dir,
        &[],
        "echo new >> R/a; mv R R.old; mkdir R; mkdir R/CRASH",
    );
    run.assert_code(128 + 9);
    assert_eq!(dir.read("R.old/a"), "a\nnew\n", "{}", run.describe());
    assert!(lost(&run).is_empty(), "{}", run.describe());

    // `mv R/d out/d`: what was made in d is not undone, so not reported.
    let dir = root_and_outside("moved-out");
    write(&dir, "R/e/f", "old\n");
    let run = crash(
        &dir,
        &[],
        "mkdir R/d; echo x > R/d/f; mv R/d out/d; echo new >> R/e/f; mv R/e out/e; mkdir R/CRASH",
    );
    run.assert_code(128 + 9);
    assert_eq!(dir.read("out/d/f"), "x\n", "{}", run.describe());
    assert_eq!(dir.read("out/e/f"), "old\nnew\n");
    assert_eq!(lost(&run), ["CRASH: creation undone"], "{}", run.describe());
    assert!(
        run.stderr.contains("moved the directory"),
        "{}",
        run.describe()
    );
    let gone = format!(
        "changes under {} are not undone: it is no longer there",
        dir.join("R/d").display()
    );
    assert!(
        problems(&run).iter().any(|p| p.contains(&gone)),
        "{}",
        run.describe()
    );
}

#[test]
fn a_directory_replaced_by_a_symlink_to_outside_is_not_followed() {
    // R/a/f is created, R/a moved out and replaced by a symlink to where it
    // went, and only R's own entries synced: the creation of R/a/f is
    // unsynced, and undoing it through the symlink would remove out/a/f.
    let dir = root_and_outside("symlinked-dir");
    let python = python3();
    let script = format!(
        "mkdir R/a; echo x > R/a/f; mv R/a out/a; ln -s {out} R/a; \
         {python} -c 'import os; os.fsync(os.open(\"R\", os.O_RDONLY))'; mkdir R/CRASH",
        out = dir.join("out/a").display(),
        python = python.display()
    );
    let run = crash(&dir, &[], &script);
    run.assert_code(128 + 9);
    assert_eq!(dir.read("out/a/f"), "x\n", "{}", run.describe());
    assert!(fs::symlink_metadata(dir.join("R/a"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(lost(&run), ["CRASH: creation undone"], "{}", run.describe());
    assert!(
        problems(&run)
            .iter()
            .any(|p| p.contains("outside the root")),
        "{}",
        run.describe()
    );
}
