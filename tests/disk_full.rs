//! The `disk-full` plugin on real programs: a Python writer that fills the
//! quota (`tests/programs/python/disk_full_writer.py`), `dd`, `df`,
//! `truncate`, `fallocate` and `touch`.

mod common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use common::*;

/// fault with the compiled-plugin cache kept warm across tests.
fn fault() -> Cmd {
    Cmd::fault().env("XDG_CACHE_HOME", tmp_root().join("cache"))
}

/// `--plugin disk-full:path=DIR/*:CONFIG`.
fn plugin(dir: &TestDir, config: &str) -> String {
    format!("disk-full:path={}/*:{config}", dir.path().display())
}

/// Runs `script` with `sh -c` in `dir` under the plugin.
fn shell(dir: &TestDir, config: &str, script: &str) -> Outcome {
    fault()
        .cwd(dir.path())
        .args(["--plugin", &plugin(dir, config), "--", "sh", "-c", script])
        .run()
}

/// The unit `statvfs` counts blocks in on the file system of `dir`: what
/// the quota's sizes are rounded down to.
fn block_unit(dir: &Path) -> u64 {
    let path = CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid path and a zeroed struct for the kernel to fill in.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(path.as_ptr(), &mut st) }, 0);
    st.f_frsize
}

/// `bytes` as `statvfs` reports them: whole blocks.
fn in_blocks(bytes: u64, unit: u64) -> u64 {
    bytes / unit * unit
}

/// The writer: it writes until ENOSPC and the file then holds
/// exactly the quota; `statvfs` reports the quota; deleting the file frees
/// its bytes, so a second write succeeds.
#[test]
fn python_writer_fills_the_quota_exactly() {
    let dir = TestDir::new("disk-full-python");
    let unit = block_unit(dir.path());
    let out = fault()
        .args(["--plugin", &plugin(&dir, "size=1M"), "--"])
        .arg(python3())
        .arg(tests_dir().join("programs/python/disk_full_writer.py"))
        .arg(dir.path())
        .arg("100000")
        .run();
    out.assert_code(0);
    let statvfs = |free: u64| {
        format!(
            "statvfs: size={} free={}",
            in_blocks(1 << 20, unit),
            in_blocks(free, unit)
        )
    };
    let expected = [
        statvfs(1 << 20),
        "first: wrote 1048576 bytes, then ENOSPC: No space left on device".into(),
        "first: size 1048576".into(),
        statvfs(0),
        statvfs(1 << 20),
        "second: size 100000".into(),
        statvfs((1 << 20) - 100_000),
    ];
    assert_eq!(out.lines(), expected, "{}", out.describe());
    // The last write that fit only in part was cut, not refused.
    assert!(
        out.stderr
            .contains("48576 /* was 100000 */) = 48576 (INJECTED)"),
        "{}",
        out.describe()
    );
}

/// `errno=EDQUOT`: dd stops with "Disk quota exceeded" after exactly the
/// quota's bytes: the block the limit falls in is written in part, and dd's
/// retry of the rest fails.
#[test]
fn dd_sees_the_chosen_errno_after_exactly_the_quota() {
    let dir = TestDir::new("disk-full-dd");
    let out = shell(
        &dir,
        "size=1000000:errno=EDQUOT",
        "dd if=/dev/zero of=f bs=64K count=32",
    );
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("dd: error writing 'f': Disk quota exceeded")
            && out
                .stderr
                .contains("1000000 bytes (1.0 MB, 977 KiB) copied"),
        "{}",
        out.describe()
    );
    assert_eq!(std::fs::metadata(dir.join("f")).unwrap().len(), 1_000_000);
}

/// `df` on the directory shows the quota's size, and what the program
/// wrote there as used.
#[test]
fn df_shows_the_quota() {
    let dir = TestDir::new("disk-full-df");
    let unit = block_unit(dir.path());
    let out = shell(
        &dir,
        "size=1M",
        "dd if=/dev/zero of=f bs=64K count=4 status=none && df -B1 --output=size,used,avail .",
    );
    out.assert_code(0);
    let numbers: Vec<u64> = out
        .lines()
        .last()
        .copied()
        .unwrap_or_default()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let size = in_blocks(1 << 20, unit);
    let avail = in_blocks((1 << 20) - (256 << 10), unit);
    assert_eq!(numbers, [size, size - avail, avail], "{}", out.describe());
}

/// Truncating a file gives its bytes back; growing one with `truncate` or
/// `fallocate` past the quota fails; a full quota takes no new file but
/// lets existing ones be opened.
#[test]
fn truncate_fallocate_and_new_files() {
    let dir = TestDir::new("disk-full-truncate");
    let out = shell(
        &dir,
        "size=1M",
        "dd if=/dev/zero of=f bs=64K count=16 status=none
         touch new || echo 'new: refused'
         touch f && echo 'f: opened'
         truncate -s 2M g || echo 'truncate g: refused'
         truncate -s 256K f && echo 'truncate f: ok'
         fallocate -l 512K g && echo 'fallocate g: ok'
         fallocate -l 512K h || echo 'fallocate h: refused'
         df -B1 --output=avail . | tail -n 1",
    );
    out.assert_code(0);
    let unit = block_unit(dir.path());
    let expected = [
        "new: refused".to_string(),
        "f: opened".into(),
        "truncate g: refused".into(),
        "truncate f: ok".into(),
        "fallocate g: ok".into(),
        "fallocate h: refused".into(),
        in_blocks(256 << 10, unit).to_string(),
    ];
    let lines: Vec<&str> = out.lines().iter().map(|l| l.trim()).collect();
    assert_eq!(lines, expected, "{}", out.describe());
    let reported: Vec<&str> = lines_with(&out.stderr, "No space left on device")
        .into_iter()
        .filter(|line| !line.starts_with("[pid"))
        .collect();
    assert_eq!(
        reported.len(),
        3,
        "touch, truncate and fallocate each report it\n{}",
        out.describe()
    );
    assert_eq!(std::fs::metadata(dir.join("f")).unwrap().len(), 256 << 10);
    assert!(!dir.join("new").exists());
    // As on a full disk, fallocate(1) created h before its call failed.
    assert_eq!(std::fs::metadata(dir.join("h")).unwrap().len(), 0);
}

/// The quota counts what files grow by: dd rewriting a full file in place
/// (`conv=notrunc`) costs nothing, appending to it fails.
#[test]
fn rewriting_in_place_costs_nothing() {
    let dir = TestDir::new("disk-full-rewrite");
    let out = shell(
        &dir,
        "size=1M",
        "dd if=/dev/zero of=f bs=64K count=16 status=none
         dd if=/dev/zero of=f bs=64K count=16 conv=notrunc status=none && echo 'rewrite: ok'
         dd if=/dev/zero of=f bs=64K count=1 oflag=append conv=notrunc status=none || echo 'append: refused'",
    );
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["rewrite: ok", "append: refused"],
        "{}",
        out.describe()
    );
    assert_eq!(std::fs::metadata(dir.join("f")).unwrap().len(), 1 << 20);
}

/// A wrong configuration is refused before anything runs, naming the key.
#[test]
fn bad_configuration_names_the_key() {
    let dir = TestDir::new("disk-full-config");
    let marker = dir.join("ran");
    for (config, named) in [
        ("disk-full:path=/d/*:size=1X", "size=1X: unknown unit 'X'"),
        ("disk-full:path=/d/*", "missing required key 'size'"),
        ("disk-full:size=1M", "missing required key 'path'"),
        ("disk-full:path=/d/*:size=1M:errno=EBOGUS", "errno=EBOGUS"),
    ] {
        let out = fault()
            .args(["--plugin", config, "--", "touch"])
            .arg(&marker)
            .run();
        assert_refused(&out, named, &marker);
    }
}
