//! Silent data corruption and lying metadata on real programs: the
//! `corrupt` built-in (flipped and zeroed reads; flipped, lost and
//! misdirected writes), the `attr` built-in (false sizes, times, modes,
//! link counts and free space), and `fault explore --faults corrupt` on a
//! store with checksums, the same store without them, and sqlite3.

use std::fs;
use std::path::Path;
use std::time::Duration;

mod common;
use common::{c_program, python3, require_tool, tests_dir, tmp_root, Cmd, TestDir};

/// A campaign can make dozens of runs.
const CAMPAIGN: Duration = Duration::from_secs(600);

fn fault() -> Cmd {
    Cmd::fault().env("XDG_CACHE_HOME", tmp_root().join("cache"))
}

/// 4096 bytes that differ from one another.
fn pattern() -> Vec<u8> {
    (0..4096u32).map(|i| (i * 7 + i / 256) as u8).collect()
}

/// How many bits differ between `a` and `b` (of the same length).
fn bits_differing(a: &[u8], b: &[u8]) -> u32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// `dd` copies `data.bin` to `out-NAME.bin` through read and write, under
/// `plugin`, with `seed`; the copy's bytes and fault's log.
fn copy_under(dir: &TestDir, plugin: &str, seed: u64, name: &str) -> (Vec<u8>, String) {
    let out = dir.join(&format!("out-{name}.bin"));
    let run = fault()
        .args(["--seed", &seed.to_string(), "--plugin", plugin, "--"])
        .args(["dd", "if=data.bin", "bs=65536", "status=none"])
        .arg(format!("of={}", out.display()))
        .cwd(dir.path())
        .run();
    run.assert_code(0);
    (fs::read(&out).unwrap(), run.stderr)
}

#[test]
fn flipped_reads_replay_byte_for_byte_with_the_same_seed() {
    let dir = TestDir::new("corrupt-flip");
    fs::write(dir.join("data.bin"), pattern()).unwrap();
    let plugin = "corrupt:path=*/data.bin:bits=8";
    let (first, log) = copy_under(&dir, plugin, 7, "a");
    let (again, _) = copy_under(&dir, plugin, 7, "b");
    let (other, _) = copy_under(&dir, plugin, 8, "c");
    // dd read the file in one read: eight bits of it changed, and the log
    // names each changed byte.
    assert_eq!(bits_differing(&first, &pattern()), 8, "{log}");
    assert!(
        log.contains("read: flipped") && log.contains("data.bin"),
        "{log}"
    );
    assert_eq!(
        first, again,
        "the same seed must replay the same corruption"
    );
    assert_ne!(first, other, "another seed flips other bits");
    assert_eq!(
        fs::read(dir.join("data.bin")).unwrap(),
        pattern(),
        "the file itself is untouched"
    );
}

#[test]
fn zeroed_reads_cover_exactly_the_offset_range() {
    let dir = TestDir::new("corrupt-zero");
    fs::write(dir.join("data.bin"), pattern()).unwrap();
    let (copy, log) = copy_under(
        &dir,
        "corrupt:path=*/data.bin:mode=zero:offset=100..300",
        1,
        "z",
    );
    let mut want = pattern();
    want[100..300].fill(0);
    assert_eq!(copy, want, "{log}");
    assert!(log.contains("zeroed offsets 100..300"), "{log}");
}

/// `tests/programs/python/corrupt_writes.py HOW data.bin` under `plugin`.
fn writes_under(dir: &TestDir, plugin: &str, how: &str) -> common::Outcome {
    let script = tests_dir().join("programs/python/corrupt_writes.py");
    fault()
        .args(["--seed", "3", "--plugin", plugin, "--"])
        .arg(python3())
        .arg(script)
        .args([how, "data.bin"])
        .cwd(dir.path())
        .run()
}

#[test]
fn a_flipped_write_reaches_the_file_while_the_program_keeps_its_bytes() {
    let dir = TestDir::new("corrupt-write-flip");
    let out = writes_under(
        &dir,
        "corrupt:path=*/data.bin:on=write:bits=4:when=2",
        "positioned",
    );
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "returned 4096",
            "buffer intact True",
            "at 0: new with 4 bits flipped",
            "size 4096"
        ],
        "{}",
        out.describe()
    );
    let on_disk = fs::read(dir.join("data.bin")).unwrap();
    assert_eq!(bits_differing(&on_disk, &[b'N'; 4096]), 4);
}

#[test]
fn a_lost_write_reports_success_and_a_later_read_sees_the_old_bytes() {
    let dir = TestDir::new("corrupt-lost");
    let out = writes_under(
        &dir,
        "corrupt:path=*/data.bin:on=write:mode=lost:when=2",
        "positioned",
    );
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "returned 4096",
            "buffer intact True",
            "at 0: old",
            "size 4096"
        ],
        "{}",
        out.describe()
    );
    assert!(
        out.stderr.contains("lost write: 4096 bytes at offset 0"),
        "{}",
        out.describe()
    );
    // On an O_APPEND descriptor too: the second line never reaches the file.
    let dir = TestDir::new("corrupt-lost-append");
    let out = writes_under(
        &dir,
        "corrupt:path=*/data.bin:on=write:mode=lost:when=2",
        "append",
    );
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "returned 6",
            "returned 7",
            "returned 6",
            "file b'first\\nthird\\n'"
        ],
        "{}",
        out.describe()
    );
}

/// `plain_writes [--writev] data.bin` (A, B and C, 1000 bytes each, at
/// the descriptor's offset) under `plugin` with `--backend BACKEND`, and
/// `extra` arguments to fault before the command.
fn plain_writes_under(
    dir: &TestDir,
    plugin: &str,
    backend: &str,
    writev: bool,
    extra: &[&str],
) -> common::Outcome {
    fault()
        .args(["--backend", backend, "--plugin", plugin])
        .args(extra)
        .arg("--")
        .arg(c_program("plain_writes"))
        .args(writev.then_some("--writev"))
        .arg("data.bin")
        .cwd(dir.path())
        .run()
}

/// What `plain_writes` prints when every write reports success and the
/// descriptor ends at 3000, followed by the file as runs of equal bytes.
fn written_in_full(runs: &str) -> Vec<String> {
    [
        "wrote 1000",
        "wrote 1000",
        "wrote 1000",
        "offset 3000",
        runs,
    ]
    .map(String::from)
    .to_vec()
}

/// `plain_writes` under `plugin` with each backend, with `write` and with
/// `writev`: it prints what [`written_in_full`] says of `runs`, and fault's
/// log has `logged`.
fn writes_on_both_backends(name: &str, plugin: &str, runs: &str, logged: &[&str]) {
    let dir = TestDir::new(name);
    for backend in ["auto", "ptrace"] {
        for writev in [false, true] {
            let out = plain_writes_under(&dir, plugin, backend, writev, &[]);
            out.assert_code(0);
            assert_eq!(
                out.lines(),
                written_in_full(runs),
                "{backend} writev={writev}: {}",
                out.describe()
            );
            for line in logged {
                out.assert_stderr_has(line, "corrupt's log line");
            }
        }
    }
}

#[test]
fn a_lost_write_at_the_descriptor_offset_reports_success_and_moves_the_offset_past_a_hole() {
    // B never reached the file, C landed right after where it should have:
    // the program saw every write succeed.
    writes_on_both_backends(
        "corrupt-plain-lost",
        "corrupt:path=*/data.bin:on=write:mode=lost:when=2",
        "A x 1000, 0 x 1000, C x 1000",
        &["lost write: 1000 bytes at offset 1000 of"],
    );
}

#[test]
fn a_misdirected_write_at_the_descriptor_offset_lands_elsewhere_and_the_next_one_lands_right() {
    // B landed 3000 bytes past its offset, at 4000; C right after where B
    // should have been.
    writes_on_both_backends(
        "corrupt-plain-misdirect",
        "corrupt:path=*/data.bin:on=write:mode=misdirect:shift=3000:when=2",
        "A x 1000, 0 x 1000, C x 1000, 0 x 1000, B x 1000",
        &[
            "misdirected write: 1000 bytes for offset 1000 of",
            "written at offset 4000",
        ],
    );
}

#[test]
fn an_attached_program_loses_and_misdirects_writes_at_its_descriptor_offset() {
    // Attached, fault stops every call at its entry and exit
    // (PTRACE_SYSCALL): the lseek made after a misdirected write is one
    // more entry and exit of the thread.
    let dir = TestDir::new("corrupt-plain-attach");
    for (mode, runs) in [
        ("lost", "A x 1000, 0 x 1000, C x 1000"),
        (
            "misdirect",
            "A x 1000, 0 x 1000, C x 1000, 0 x 2096, B x 1000",
        ),
    ] {
        let program = Cmd::new(c_program("plain_writes"))
            .args(["--writev", "--traced", "data.bin"])
            .cwd(dir.path())
            .spawn();
        let attached = fault()
            .arg("-p")
            .arg(program.pid().to_string())
            .args(["--plugin"])
            .arg(format!(
                "corrupt:path=*/data.bin:on=write:mode={mode}:when=2"
            ))
            .run();
        attached.assert_code(0);
        let out = program.wait_within(Duration::from_secs(10));
        out.assert_code(0);
        assert_eq!(
            out.lines(),
            written_in_full(runs),
            "{}\n{}",
            out.describe(),
            attached.describe()
        );
    }
}

#[test]
fn the_calls_corrupt_makes_pass_a_user_notification_of_another_plugins_lseek() {
    // delay decides lseek at entry only: with no log line kept, the seccomp
    // filter sends lseek to a user notification, which also sees the lseek
    // a lost write becomes and the one a misdirected write makes after its
    // pwrite64. Each runs once, undecided again; the program's own lseek
    // is delayed as usual.
    let dir = TestDir::new("corrupt-plain-notified");
    let quiet = [
        "--plugin",
        "delay:syscalls=lseek:enter=1ms",
        "-o",
        "/dev/null",
    ];
    for (mode, runs) in [
        ("lost", "A x 1000, 0 x 1000, C x 1000"),
        (
            "misdirect",
            "A x 1000, 0 x 1000, C x 1000, 0 x 2096, B x 1000",
        ),
    ] {
        let plugin = format!("corrupt:path=*/data.bin:on=write:mode={mode}:when=2");
        let out = plain_writes_under(&dir, &plugin, "auto", false, &quiet);
        out.assert_code(0);
        assert_eq!(out.lines(), written_in_full(runs), "{}", out.describe());
    }
}

#[test]
fn dd_loses_writes_that_cmp_then_sees_and_the_same_seed_loses_the_same_ones() {
    let dir = TestDir::new("corrupt-dd-lost");
    let data: Vec<u8> = pattern().repeat(16);
    fs::write(dir.join("data.bin"), &data).unwrap();
    let copy = |seed: u64, name: &str| {
        let out = dir.join(name);
        fs::write(&out, vec![b'O'; data.len()]).unwrap();
        let run = fault()
            .args(["--seed", &seed.to_string(), "--plugin"])
            .arg("corrupt:path=*/out-*:on=write:mode=lost:probability=0.25")
            .args(["--", "dd", "if=data.bin", "bs=4096", "conv=notrunc"])
            .arg(format!("of={name}"))
            .cwd(dir.path())
            .run();
        run.assert_code(0);
        // dd was told every block was written.
        run.assert_stderr_has("16+0 records out", "dd's count");
        // The offsets of the lost blocks, from corrupt's log lines.
        let lost = run
            .stderr
            .lines()
            .filter_map(|line| line.split("lost write: 4096 bytes at offset ").nth(1))
            .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
            .collect::<Vec<_>>();
        (fs::read(&out).unwrap(), lost)
    };
    let (first, lost) = copy(11, "out-a.bin");
    let (again, lost_again) = copy(11, "out-b.bin");
    assert!(!lost.is_empty() && lost.len() < 16, "{lost:?}");
    // Every block is the new one or, where its write was lost, the old
    // one: the offset moved on past each lost block.
    for (index, block) in first.chunks(4096).enumerate() {
        let was_lost = lost.contains(&(index * 4096));
        let want: &[u8] = if was_lost {
            &[b'O'; 4096]
        } else {
            &data[index * 4096..(index + 1) * 4096]
        };
        assert!(block == want, "block {index} (lost: {was_lost})");
    }
    assert_eq!(first, again, "the same seed loses the same writes");
    assert_eq!(lost, lost_again);
    // A later reader sees the loss.
    let cmp = Cmd::new("cmp")
        .args(["data.bin", "out-a.bin"])
        .cwd(dir.path())
        .run();
    assert_eq!(cmp.code(), Some(1), "{}", cmp.describe());
    assert!(cmp.stdout.contains("differ"), "{}", cmp.describe());
}

#[test]
fn a_misdirected_write_lands_elsewhere_and_leaves_the_old_bytes() {
    let dir = TestDir::new("corrupt-misdirect");
    let out = writes_under(
        &dir,
        "corrupt:path=*/data.bin:on=write:mode=misdirect:shift=4096:when=2",
        "positioned",
    );
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "returned 4096",
            "buffer intact True",
            "at 0: old",
            "at 4096: new",
            "size 8192"
        ],
        "{}",
        out.describe()
    );
}

#[test]
fn bad_corrupt_and_attr_settings_stop_fault_with_one_line() {
    let cases = [
        ("corrupt:on=read", "missing required key 'path'"),
        (
            "corrupt:path=/x:on=sideways",
            "on=sideways: expected read or write",
        ),
        (
            "corrupt:path=/x:mode=lost",
            "mode=lost: only flip, zero or stale for on=read",
        ),
        (
            "corrupt:path=/x:on=write:mode=zero",
            "mode=zero: only flip, lost or misdirect for on=write",
        ),
        ("corrupt:path=/x:bits=0", "bits=0: must be 1 to 4096"),
        (
            "corrupt:path=/x:offset=9..3",
            "offset=9..3: '9..3' is empty",
        ),
        (
            "corrupt:path=/x:shift=8",
            "shift= applies only to mode=misdirect",
        ),
        ("attr:path=/x", "nothing to lie about"),
        (
            "attr:path=/x:mode=999",
            "mode=999: expected octal permission bits",
        ),
        ("attr:path=/x:size=-1", "size=-1"),
    ];
    let dir = TestDir::new("corrupt-config");
    let marker = dir.join("marker");
    for (plugin, message) in cases {
        let out = fault()
            .args(["--plugin", plugin, "--", "touch"])
            .arg(&marker)
            .run();
        out.assert_code(125);
        assert!(out.stderr.contains(message), "{plugin}: {}", out.describe());
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.describe());
        assert!(!marker.exists(), "the program must not have run");
    }
}

#[test]
fn fault_plugins_lists_corrupt_and_attr_with_their_keys() {
    let out = fault().arg("plugins").run();
    out.assert_code(0);
    let names: Vec<&str> = out
        .stdout
        .lines()
        .filter(|line| !line.starts_with(' '))
        .filter_map(|line| line.split(": ").next())
        .collect();
    assert!(
        names.contains(&"corrupt") && names.contains(&"attr"),
        "{}",
        out.describe()
    );
    for needle in [
        "corrupt: Corrupt data silently",
        "attr: Make stat, fstat",
        "    shift          bytes a misdirected write lands",
        "    nlink          report this many hard links",
        "    free           statfs: report this many bytes free",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.describe());
    }
}

/// `command` under `attr:ATTR` (its `path=` glob matching `data.txt`).
fn lied_to(dir: &TestDir, attr: &str, command: &[&str]) -> common::Outcome {
    let run = fault()
        .args(["--plugin", &format!("attr:path=*/data.txt:{attr}"), "--"])
        .args(command)
        .cwd(dir.path())
        .run();
    run.assert_code(0);
    run
}

#[test]
fn a_stale_read_returns_what_the_file_held_before_the_unsynced_write() {
    let dir = TestDir::new("corrupt-stale");
    let program = c_program("stale_read");
    let run = |plugin: Option<&str>| {
        let mut cmd = fault();
        if let Some(plugin) = plugin {
            cmd = cmd.args(["--plugin", plugin]);
        }
        let run = cmd
            .arg("--")
            .arg(&program)
            .arg("data.bin")
            .cwd(dir.path())
            .run();
        run.assert_code(0);
        run
    };
    // Without the plugin the read sees the last write, B.
    assert_eq!(run(None).stdout, "B x 4096\n");
    // With it, the bytes before the unsynced write: the synced A.
    let stale = run(Some("corrupt:path=*/data.bin:mode=stale"));
    assert_eq!(stale.stdout, "A x 4096\n", "{}", stale.describe());
    assert!(
        stale.stderr.contains("read: stale data of ")
            && stale
                .stderr
                .contains("offsets 0..4096 as before the last unsynced write (4096 bytes differ)"),
        "{}",
        stale.describe()
    );
    // Only the read was changed: the file holds B.
    assert_eq!(fs::read(dir.join("data.bin")).unwrap(), vec![b'B'; 4096]);
    // With offset=, only that part of the read is stale.
    let part = run(Some("corrupt:path=*/data.bin:mode=stale:offset=0..100"));
    assert_eq!(part.stdout, "A x 100, B x 3996\n", "{}", part.describe());
    // Another file's writes are not the data file's: nothing to put back.
    let other = run(Some("corrupt:path=*/other.bin:mode=stale"));
    assert_eq!(other.stdout, "B x 4096\n", "{}", other.describe());
}

#[test]
fn a_stale_read_takes_each_byte_from_before_the_last_unsynced_write_to_it() {
    let dir = TestDir::new("corrupt-stale-layers");
    let program = c_program("stale_read");
    let run = |plugin: &[&str]| {
        let run = fault()
            .args(plugin)
            .arg("--")
            .arg(&program)
            .args(["--layers", "data.bin"])
            .cwd(dir.path())
            .run();
        run.assert_code(0);
        run.stdout
    };
    // A synced; then, unsynced, B over it all, C over the first half and
    // D appended past the end.
    assert_eq!(run(&[]), "C x 2048, B x 2048, D x 1024\n");
    // Before C the first half held B; before B the second half held the
    // synced A; before D the file had no bytes there: zeros.
    assert_eq!(
        run(&["--plugin", "corrupt:path=*/data.bin:mode=stale"]),
        "B x 2048, A x 2048, 0 x 1024\n"
    );
}

#[test]
fn a_smaller_size_lie_makes_cat_cp_and_seeks_see_a_file_of_that_size() {
    let dir = TestDir::new("attr-size");
    let content = "0123456789".repeat(10);
    fs::write(dir.join("data.txt"), &content).unwrap();
    let read_by_size = c_program("read_by_size");
    let read_by_size = read_by_size.to_str().unwrap();
    // A 100-byte file said to hold 10: stat, a program that reads st_size
    // bytes, and the ones that read to the end of the file (cat through
    // read, cp through copy_file_range, dd through read at a seeked-to
    // offset) all see a 10-byte file.
    let small = "size=10";
    assert_eq!(
        lied_to(&dir, small, &["stat", "-c", "%s %b", "data.txt"]).stdout,
        "10 1\n"
    );
    let trusting = lied_to(&dir, small, &[read_by_size, "data.txt"]);
    assert_eq!(trusting.stdout, "0123456789", "{}", trusting.describe());
    let cat = lied_to(&dir, small, &["cat", "data.txt"]);
    assert_eq!(cat.stdout, "0123456789", "{}", cat.describe());
    assert!(
        cat.stderr.contains("read of ") && cat.stderr.contains("cut at the 10 bytes said"),
        "{}",
        cat.describe()
    );
    let cp = lied_to(&dir, small, &["cp", "data.txt", "copy.txt"]);
    assert_eq!(dir.read("copy.txt"), "0123456789", "{}", cp.describe());
    assert!(
        cp.stderr.contains("copy_file_range from "),
        "{}",
        cp.describe()
    );
    // Reads at offsets that name them stop there too.
    let positioned = lied_to(&dir, small, &[read_by_size, "--pread", "data.txt"]);
    assert_eq!(positioned.stdout, "0123456789", "{}", positioned.describe());
    // tail -c 4 seeks to st_size minus 4 and reads to the end: the last
    // four bytes of a real 10-byte file. dd skipping 8 bytes reads 2.
    assert_eq!(
        lied_to(&dir, small, &["tail", "-c", "4", "data.txt"]).stdout,
        "6789"
    );
    assert_eq!(
        lied_to(
            &dir,
            small,
            &["dd", "if=data.txt", "bs=1", "skip=8", "status=none"]
        )
        .stdout,
        "89"
    );
    // python3 finds the end where stat said, by SEEK_END, and reads
    // nothing past it; with readv, the vectored read is cut at 10 too.
    let script = "import os\n\
                  fd = os.open('data.txt', os.O_RDONLY)\n\
                  end = os.lseek(fd, 0, os.SEEK_END)\n\
                  os.lseek(fd, 4, os.SEEK_SET)\n\
                  a, b = bytearray(3), bytearray(50)\n\
                  n = os.readv(fd, [a, b])\n\
                  print(end, n, bytes(a + b[:n - 3]).decode(), os.read(fd, 10))\n";
    let python = python3();
    let seen = lied_to(&dir, small, &[python.to_str().unwrap(), "-c", script]);
    assert_eq!(seen.stdout, "10 6 456789 b''\n", "{}", seen.describe());
    // Only the program was told: the file is as it was.
    assert_eq!(dir.read("data.txt"), content);
}

#[test]
fn a_larger_size_lie_reads_zeros_past_the_real_end_where_the_offset_is_named() {
    let dir = TestDir::new("attr-size-larger");
    let content = "0123456789".repeat(10);
    fs::write(dir.join("data.txt"), &content).unwrap();
    let read_by_size = c_program("read_by_size");
    let read_by_size = read_by_size.to_str().unwrap();
    // A 100-byte file said to hold 1000: pread64 reads it as a file of
    // 1000 bytes whose last 900 are a hole.
    let large = "size=1000";
    assert_eq!(
        lied_to(&dir, large, &["stat", "-c", "%s", "data.txt"]).stdout,
        "1000\n"
    );
    let positioned = lied_to(&dir, large, &[read_by_size, "--pread", "data.txt"]);
    assert_eq!(
        positioned.stdout,
        format!("{content}{}", "\0".repeat(900)),
        "{}",
        positioned.describe()
    );
    assert!(
        positioned.stderr.contains("st_size 1000, read 1000")
            && positioned
                .stderr
                .contains("read zeros past its real end (100)"),
        "{}",
        positioned.describe()
    );
    // Reads at the descriptor's offset stop at the real end, and fault
    // says so once: a plugin cannot move the offset past it.
    let trusting = lied_to(&dir, large, &[read_by_size, "data.txt"]);
    assert_eq!(trusting.stdout, content);
    assert!(
        trusting.stderr.contains("st_size 1000, read 100")
            && trusting
                .stderr
                .matches("stops at its real end (100), not at the 1000 bytes said")
                .count()
                == 1,
        "{}",
        trusting.describe()
    );
    let cat = lied_to(&dir, large, &["cat", "data.txt"]);
    assert_eq!(cat.stdout, content);
    // Seeks agree with the lie: SEEK_END is at 1000, SEEK_HOLE past the
    // real end finds the hole where it asks, SEEK_DATA there finds none.
    let script = "import os\n\
                  fd = os.open('data.txt', os.O_RDONLY)\n\
                  print(os.lseek(fd, -4, os.SEEK_END), os.lseek(fd, 500, os.SEEK_HOLE))\n\
                  try:\n    os.lseek(fd, 500, os.SEEK_DATA)\n\
                  except OSError as e:\n    print(e.strerror)\n";
    let python = python3();
    let seen = lied_to(&dir, large, &[python.to_str().unwrap(), "-c", script]);
    assert_eq!(
        seen.stdout,
        "996 500\nNo such device or address\n",
        "{}",
        seen.describe()
    );
    assert_eq!(dir.read("data.txt"), content);
}

#[test]
fn mtime_mode_nlink_and_free_space_lie_to_stat_and_make() {
    let dir = TestDir::new("attr-other");
    fs::write(dir.join("data.txt"), "x").unwrap();
    let stat =
        |attr: &str, format: &str| lied_to(&dir, attr, &["stat", "-c", format, "data.txt"]).stdout;
    assert_eq!(stat("mtime=1000000000", "%Y"), "1000000000\n");
    assert_eq!(stat("mode=0600", "%a %F"), "600 regular file\n");
    assert_eq!(stat("nlink=7", "%h"), "7\n");
    // Free space: statfs reports it in blocks of the file system's size.
    let out = lied_to(
        &dir,
        "free=1048576",
        &["stat", "-f", "-c", "%a %f %S", "data.txt"],
    )
    .stdout;
    let fields: Vec<u64> = out.split_whitespace().map(|f| f.parse().unwrap()).collect();
    assert_eq!(
        (fields[0], fields[1]),
        (1048576 / fields[2], 1048576 / fields[2]),
        "{out}"
    );
    // make skips work whose target is newer than its input: told the input
    // is from 2001, it does not rebuild the target.
    require_tool("make", "apt-get install make");
    fs::write(
        dir.join("Makefile"),
        "out.txt: data.txt\n\tcp data.txt out.txt\n",
    )
    .unwrap();
    fs::write(dir.join("out.txt"), "old").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    fs::write(dir.join("data.txt"), "new").unwrap();
    let make = lied_to(&dir, "mtime=1000000000", &["make"]);
    assert!(make.stdout.contains("up to date"), "{}", make.describe());
    assert_eq!(dir.read("out.txt"), "old");
    // Without the lie, make rebuilds it.
    Cmd::new("make").cwd(dir.path()).run().assert_code(0);
    assert_eq!(dir.read("out.txt"), "new");
}

/// `store.db`, written by `crc_store write`, in `DIR/work`.
fn crc_store_work(dir: &TestDir) -> std::path::PathBuf {
    let work = dir.join("work");
    fs::create_dir_all(&work).unwrap();
    Cmd::new(c_program("crc_store"))
        .arg("write")
        .cwd(&work)
        .run()
        .assert_code(0);
    work
}

#[test]
fn the_store_reports_a_flipped_bit_unless_its_checksums_are_off() {
    let dir = TestDir::new("corrupt-crc");
    let work = crc_store_work(&dir);
    let truth = Cmd::new(c_program("crc_store"))
        .arg("read")
        .cwd(&work)
        .run()
        .stdout;
    // The second record's body (offsets 89 to 162) gets one flipped bit.
    let plugin = "corrupt:path=*/store.db:offset=89..163";
    let checked = fault()
        .args(["--seed", "5", "--plugin", plugin, "--"])
        .arg(c_program("crc_store"))
        .arg("read")
        .cwd(&work)
        .run();
    checked.assert_code(3);
    assert!(
        checked.stderr.contains("record 1: checksum mismatch"),
        "{}",
        checked.describe()
    );
    let unchecked = fault()
        .args(["--seed", "5", "--plugin", plugin, "--"])
        .arg(c_program("crc_store"))
        .args(["read", "--no-checksum"])
        .cwd(&work)
        .run();
    unchecked.assert_code(0);
    assert_ne!(unchecked.stdout, truth, "{}", unchecked.describe());
    assert!(
        unchecked.stderr.contains("read: flipped a byte"),
        "{}",
        unchecked.describe()
    );
}

fn explore(work: &Path, args: &[&str], command: &[&str]) -> common::Outcome {
    fault()
        .args(["explore", "--faults", "corrupt", "--workdir"])
        .arg(work)
        .args(args)
        .arg("--")
        .args(command)
        .cwd(work.parent().unwrap())
        .timeout(CAMPAIGN)
        .run()
}

/// The `points` and `findings` of a --json report.
fn report(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn explore_corrupt_finds_nothing_in_the_store_that_checks_and_a_bug_in_the_one_that_does_not() {
    let dir = TestDir::new("explore-corrupt-crc");
    let work = crc_store_work(&dir);
    let store = c_program("crc_store");
    let store = store.to_str().unwrap();
    let json = dir.join("checked.json");
    let run = explore(&work, &["--json", json.to_str().unwrap()], &[store, "read"]);
    let checked = report(&json);
    let points = checked["points"].as_array().unwrap();
    // Three records: a header and a body read each, every one corrupted.
    assert_eq!(points.len(), 6, "{}", run.describe());
    assert!(
        checked["findings"].as_array().unwrap().is_empty(),
        "{}",
        run.describe()
    );
    for point in points {
        assert_eq!(point["outcome"], "handled", "{point}");
        assert_eq!(point["fault"], "corrupt", "{point}");
        assert!(
            point["detail"].as_str().unwrap().contains("flipped"),
            "{point}"
        );
    }
    let json = dir.join("unchecked.json");
    let run = explore(
        &work,
        &["--json", json.to_str().unwrap()],
        &[store, "read", "--no-checksum"],
    );
    let unchecked = report(&json);
    let findings = unchecked["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{}", run.describe());
    let finding = &findings[0];
    assert_eq!(
        (&finding["outcome"], &finding["syscall"], &finding["path"]),
        (
            &"corrupt".into(),
            &"pread64".into(),
            &"{workdir}/store.db".into()
        ),
        "{finding}"
    );
    let detail = finding["detail"].as_str().unwrap();
    assert!(
        detail.contains("silent wrong result") && detail.contains("flipped"),
        "{detail}"
    );
    // Every body read is found corrupt: the program prints the flipped byte.
    let corrupt: Vec<&serde_json::Value> = unchecked["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["outcome"] == "corrupt")
        .collect();
    assert!(corrupt.len() >= 3, "{}", run.describe());
    // A replay of the finding flips the same bit of the same byte.
    let point = corrupt[0];
    let id = point["id"].as_str().unwrap();
    let replay = explore(&work, &["--replay", id], &[store, "read", "--no-checksum"]);
    let flipped = point["detail"]
        .as_str()
        .unwrap()
        .rsplit("; ")
        .next()
        .unwrap();
    assert!(
        replay.stdout.contains(flipped),
        "{flipped}\n{}",
        replay.describe()
    );
}

#[test]
fn sqlite3_returns_a_flipped_row_silently_and_reports_a_flipped_structure() {
    let sqlite3 = require_tool("sqlite3", "apt-get install sqlite3");
    let dir = TestDir::new("explore-corrupt-sqlite");
    let work = dir.join("work");
    fs::create_dir_all(&work).unwrap();
    // A table over several pages: rows of text, as most of a page is.
    let rows: Vec<String> = (0..120)
        .map(|n| {
            format!("INSERT INTO t VALUES({n}, 'row {n} of the table, padded to fill its pages');")
        })
        .collect();
    Cmd::new(&sqlite3)
        .arg(work.join("test.db"))
        .arg(format!(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT); {}",
            rows.join(" ")
        ))
        .run()
        .assert_code(0);
    let json = dir.join("report.json");
    let sqlite3 = sqlite3.to_str().unwrap();
    let run = explore(
        &work,
        &["--json", json.to_str().unwrap()],
        &[sqlite3, "test.db", "SELECT * FROM t"],
    );
    let report = report(&json);
    let points = report["points"].as_array().unwrap();
    assert!(points.len() >= 3, "{}", run.describe());
    let with = |outcome: &str| -> Vec<&serde_json::Value> {
        points.iter().filter(|p| p["outcome"] == outcome).collect()
    };
    // SQLite keeps no page checksums by default (only the optional
    // checksum VFS adds them): a bit flipped in a row comes back as a
    // wrong row, exit 0, reported nowhere. explore finds that.
    let corrupt = with("corrupt");
    assert!(!corrupt.is_empty(), "{}", run.describe());
    for point in &corrupt {
        assert_eq!(point["key"]["syscall"], "pread64", "{point}");
        assert!(
            point["detail"]
                .as_str()
                .unwrap()
                .contains("silent wrong result"),
            "{point}"
        );
    }
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .all(|f| f["outcome"] == "corrupt" && f["path"] == "{workdir}/test.db"),
        "{}",
        run.describe()
    );
    // Every other point is handled: SQLite's sanity checks caught the flip
    // and it said so (exit 1), or the flipped bit changed nothing.
    for point in points {
        let outcome = point["outcome"].as_str().unwrap();
        assert!(outcome == "corrupt" || outcome == "handled", "{point}");
    }
}

#[test]
fn vectored_reads_are_corrupted_across_their_buffers_inside_the_offset_range() {
    let dir = TestDir::new("corrupt-readv");
    fs::write(dir.join("zeros.bin"), [0u8; 300]).unwrap();
    // readv into three 100-byte buffers, then preadv2 of 100 bytes at 120:
    // print the file offsets of the bytes that came back non-zero, and how
    // many bits they hold.
    let script = "
import os
fd = os.open('zeros.bin', os.O_RDONLY)
bufs = [bytearray(100) for _ in range(3)]
os.readv(fd, bufs)
got = bytes(b''.join(bufs))
print('readv', [i for i, x in enumerate(got) if x], sum(bin(x).count('1') for x in got))
one = bytearray(100)
os.preadv(fd, [one], 120)
print('preadv', [120 + i for i, x in enumerate(one) if x], sum(bin(x).count('1') for x in one))
";
    let out = fault()
        .args(["--seed", "4", "--plugin"])
        .arg("corrupt:path=*/zeros.bin:bits=6:offset=50..250")
        .arg("--")
        .arg(python3())
        .args(["-c", script])
        .cwd(dir.path())
        .run();
    out.assert_code(0);
    for (line, first, past) in [(0, 50, 250), (1, 120, 220)] {
        let text = out.lines()[line];
        let (offsets, bits) = text
            .split_once(" [")
            .and_then(|(_, rest)| rest.split_once("] "))
            .unwrap_or_else(|| panic!("{}", out.describe()));
        assert_eq!(bits, "6", "{}", out.describe());
        for offset in offsets.split(", ") {
            let offset: u64 = offset.parse().unwrap();
            assert!((first..past).contains(&offset), "{}", out.describe());
        }
    }
}
