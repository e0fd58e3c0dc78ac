//! Nothing lost, nothing left behind: stop signals end a campaign with a
//! partial report, fault's scratch directories never outlive it, a plugin
//! cannot hang or flood a run, a program's own seccomp filter keeps its
//! meaning, and errors say what they mean with the documented status.
//! Ends with fault killed (SIGKILL) or stopped (SIGTERM) at random moments.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

/// The prefixes of fault's scratch directories (`fi::leftovers::PREFIXES`).
const SCRATCH_PREFIXES: [&str; 2] = ["fi-crash-", "fault-explore-"];

/// A test directory with a temporary directory of its own, which fault is
/// given as `TMPDIR`, so that what it leaves there is this test's alone.
struct Place {
    dir: TestDir,
    tmp: PathBuf,
}

impl Place {
    fn new(name: &str) -> Place {
        let dir = TestDir::new(name);
        let tmp = dir.join("tmp");
        fs::create_dir(&tmp).unwrap();
        Place { dir, tmp }
    }

    /// `fault ARGS` in the test directory, with its own `TMPDIR`.
    fn fault(&self) -> Cmd {
        Cmd::fault()
            .cwd(self.dir.path())
            .env("TMPDIR", &self.tmp)
            .env("XDG_CACHE_HOME", tmp_root().join("cache"))
    }

    /// fault's scratch directories in the temporary directory.
    fn scratch(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.tmp)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| SCRATCH_PREFIXES.iter().any(|p| name.starts_with(p)))
            .collect();
        names.sort();
        names
    }

    /// Start fault once more (the next start sweeps what dead ones left)
    /// and return what is still in the temporary directory.
    fn scratch_after_next_start(&self) -> Vec<String> {
        self.fault().args(["--", "true"]).run().assert_code(0);
        self.scratch()
    }
}

/// The processes, fault itself aside, whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<i32> {
    let own = std::process::id() as i32;
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != own)
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let line = String::from_utf8_lossy(&c);
                line.contains(marker) && !line.starts_with(FAULT)
            })
        })
        .collect()
}

/// Fail unless every process with `marker` is gone within 3 s.
#[track_caller]
fn assert_no_process_with(marker: &str, what: &str) {
    let gone = wait_until(Duration::from_secs(3), || processes_with(marker).is_empty());
    assert!(gone, "{what}: processes left: {:?}", processes_with(marker));
}

/// Every file under `dir` with its contents, sorted.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                pending.push(path);
            } else {
                files.push((path.clone(), fs::read(&path).unwrap_or_default()));
            }
        }
    }
    files.sort();
    files
}

/// A marker unique to this test run, put in a program's command line.
fn marker(name: &str) -> String {
    format!("fi-nothing-left-{name}-{}", std::process::id())
}

/// The --json report as a value.
fn report(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Wait until fault has made a copy of the work directory for a run.
fn wait_for_runs(place: &Place, running: &mut Running, at_least: usize) {
    let ok = wait_until(Duration::from_secs(30), || {
        let runs = place
            .scratch()
            .iter()
            .filter_map(|name| fs::read_dir(place.tmp.join(name)).ok())
            .flat_map(|entries| entries.flatten())
            .filter(|e| e.file_name().to_string_lossy().starts_with("run-"))
            .count();
        runs >= at_least || !running.running()
    });
    assert!(
        ok && running.running(),
        "no run started\n{}",
        running.describe()
    );
}

/// A work directory of a few files, and a program that reads and writes
/// there, slowly enough for a campaign to take seconds.
fn slow_campaign(place: &Place, mark: &str) -> Vec<String> {
    let wd = place.dir.join("wd");
    fs::create_dir(&wd).unwrap();
    fs::write(wd.join("data"), "original data\n").unwrap();
    fs::write(wd.join("notes.txt"), "keep me\n").unwrap();
    vec![
        "--workdir".into(),
        "wd".into(),
        "--jobs".into(),
        "2".into(),
        "--".into(),
        "sh".into(),
        "-c".into(),
        format!(
            "for f in alpha beta gamma; do cat data > $f; sleep 0.3; done; echo done >> log # {mark}"
        ),
    ]
}

// ---------------------------------------------------------------------------
// 6. SIGTERM and SIGINT end a campaign

#[test]
fn sigterm_ends_a_campaign_with_a_partial_report_that_resume_finishes() {
    let place = Place::new("nl-explore-sigterm");
    let mark = marker("sigterm");
    let mut args = vec![
        "explore".to_string(),
        "--json".into(),
        "report.json".into(),
        "--plan".into(),
        "plan.json".into(),
    ];
    args.extend(slow_campaign(&place, &mark));
    let original = contents(&place.dir.join("wd"));
    let mut running = place
        .fault()
        .args(&args)
        .timeout(Duration::from_secs(120))
        .spawn();
    wait_for_runs(&place, &mut running, 2);
    let asked = Instant::now();
    running.signal(libc::SIGTERM);
    let out = running.wait_within(Duration::from_secs(10));
    let took = asked.elapsed();
    out.assert_code(143);
    assert!(
        took < Duration::from_secs(3),
        "took {took:?}\n{}",
        out.describe()
    );
    assert!(
        out.stderr.contains("interrupted by SIGTERM"),
        "{}",
        out.describe()
    );
    assert_no_process_with(&mark, "after SIGTERM");
    assert_eq!(place.scratch(), Vec::<String>::new(), "copies left");
    assert_eq!(
        contents(&place.dir.join("wd")),
        original,
        "the workdir changed"
    );

    let partial = report(&place.dir.join("report.json"));
    assert_eq!(partial["interrupted"], "SIGTERM", "{partial:#}");
    let planned = partial["planned"].as_u64().unwrap();
    let made = partial["points"].as_array().unwrap().len() as u64;
    assert!(made < planned, "{made} of {planned}: nothing was cut short");

    // --resume makes the rest and only the rest.
    let mut resumed = vec!["explore".to_string(), "--resume".into()];
    resumed.extend(args[1..].iter().cloned());
    let out = place
        .fault()
        .args(&resumed)
        .timeout(Duration::from_secs(120))
        .run();
    assert!(matches!(out.code(), Some(0 | 1)), "{}", out.describe());
    let full = report(&place.dir.join("report.json"));
    assert!(full.get("interrupted").is_none(), "{full:#}");
    let points = full["points"].as_array().unwrap();
    assert_eq!(points.len() as u64, planned, "{full:#}");
    let mut ids: Vec<&str> = points.iter().map(|p| p["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len() as u64, planned, "a run was made twice");
    assert_eq!(
        contents(&place.dir.join("wd")),
        original,
        "the workdir changed"
    );
    assert_eq!(place.scratch(), Vec::<String>::new());
}

#[test]
fn sigint_during_the_recording_ends_it_with_130_and_leaves_nothing() {
    let place = Place::new("nl-explore-sigint");
    let mark = marker("sigint");
    let wd = place.dir.join("wd");
    fs::create_dir(&wd).unwrap();
    fs::write(wd.join("data"), "x\n").unwrap();
    let original = contents(&wd);
    let running = place
        .fault()
        .args(["explore", "--workdir", "wd", "--json", "report.json", "--"])
        .args(["sh", "-c", &format!("cat data > copy; sleep 30 # {mark}")])
        .spawn();
    let started = wait_until(Duration::from_secs(10), || {
        !processes_with(&mark).is_empty()
    });
    assert!(started, "{}", running.describe());
    running.signal(libc::SIGINT);
    let out = running.wait_within(Duration::from_secs(5));
    out.assert_code(130);
    assert!(out.stderr.contains("SIGINT"), "{}", out.describe());
    assert_no_process_with(&mark, "after SIGINT");
    assert_eq!(place.scratch(), Vec::<String>::new(), "copies left");
    assert_eq!(contents(&wd), original);
}

/// The processes working under `dir`, each with its name.
fn processes_under(dir: &Path) -> Vec<(i32, String)> {
    let dir = fs::canonicalize(dir).unwrap();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(&dir))
        })
        .map(|pid| {
            let name = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            (pid, name.trim().to_string())
        })
        .collect()
}

#[test]
fn a_check_running_when_fault_is_killed_dies_with_it() {
    let place = Place::new("nl-check-killed");
    let wd = place.dir.join("wd");
    fs::create_dir(&wd).unwrap();
    fs::write(wd.join("data"), "x\n").unwrap();
    let running = place
        .fault()
        .args(["explore", "--workdir", "wd", "--check", "exec sleep 30"])
        .args(["--", "sh", "-c", "cat data > copy"])
        .spawn();
    let checking = wait_until(Duration::from_secs(10), || {
        processes_under(&place.tmp)
            .iter()
            .any(|(_, name)| name == "sleep")
    });
    assert!(checking, "no check started\n{}", running.describe());
    running.signal(libc::SIGKILL);
    let _killed = running.wait_within(Duration::from_secs(5));
    let gone = wait_until(Duration::from_secs(3), || {
        processes_under(&place.tmp).is_empty()
    });
    assert!(
        gone,
        "left running after fault was killed: {:?}",
        processes_under(&place.tmp)
    );
}

// ---------------------------------------------------------------------------
// 7. Nothing left in the temporary directory

#[test]
fn a_killed_crash_run_leaves_scratch_that_the_next_start_sweeps() {
    let place = Place::new("nl-crash-kill");
    let mark = marker("crash-kill");
    fs::create_dir(place.dir.join("R")).unwrap();
    let running = place
        .fault()
        .args(["--root", "R", "--crash-at", "mkdir:path=*/NEVER", "--"])
        .args(["sh", "-c", &format!("echo a > R/f; sleep 30 # {mark}")])
        .spawn();
    let made = wait_until(Duration::from_secs(10), || {
        !place.scratch().is_empty() && !processes_with(&mark).is_empty()
    });
    assert!(made, "no scratch directory\n{}", running.describe());
    let left = place.scratch();
    running.signal(libc::SIGKILL);
    let _ = running.wait_within(Duration::from_secs(5));
    assert_no_process_with(&mark, "after SIGKILL");
    assert_eq!(
        place.scratch(),
        left,
        "SIGKILL runs no code: the directory stays"
    );
    assert_eq!(place.scratch_after_next_start(), Vec::<String>::new());
}

#[test]
fn the_sweep_leaves_live_processes_and_other_files_alone() {
    let place = Place::new("nl-sweep");
    let live = std::process::id();
    let kept = [
        format!("fi-crash-{live}-0"),
        format!("fault-explore-{live}-00000001"),
        "fi-crash-notapid-0".to_string(),
        "fi-cache-1".to_string(),
    ];
    for name in &kept {
        fs::create_dir(place.tmp.join(name)).unwrap();
        fs::write(place.tmp.join(name).join("f"), "x").unwrap();
    }
    // A file, not a directory, with a dead process's name.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    let dead = child.id();
    fs::write(place.tmp.join(format!("fi-crash-{dead}-0")), "user file").unwrap();
    fs::create_dir(place.tmp.join(format!("fault-explore-{dead}-0"))).unwrap();
    place.fault().args(["--", "true"]).run().assert_code(0);
    for name in &kept {
        assert!(place.tmp.join(name).join("f").exists(), "{name} removed");
    }
    assert_eq!(
        fs::read_to_string(place.tmp.join(format!("fi-crash-{dead}-0"))).unwrap(),
        "user file"
    );
    assert!(!place.tmp.join(format!("fault-explore-{dead}-0")).exists());
}

// ---------------------------------------------------------------------------
// 8. A plugin cannot hang or flood a run

/// fault with the hostile test plugin configured by `config`, over a
/// python3 program that writes `f` and fsyncs it, then prints `synced`.
fn fsyncing(place: &Place, config: &str, extra: &[&str]) -> Cmd {
    let plugin = test_plugin("hostile");
    place
        .fault()
        .arg("--plugin")
        .arg(format!("{}:{config}", plugin.display()))
        .args(extra)
        .arg("--")
        .arg(python3())
        .args([
            "-c",
            "import os,sys; fd=os.open('f', os.O_CREAT|os.O_WRONLY); os.write(fd, b'x'); \
             os.fsync(fd); print('synced', flush=True)",
        ])
}

#[test]
fn a_delay_past_max_delay_is_the_plugins_error() {
    let place = Place::new("nl-delay-max");
    let started = Instant::now();
    let out = fsyncing(&place, "mode=delay", &[]).run();
    out.assert_code(124);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        out.stderr.contains("--max-delay") && out.stderr.contains("fsync"),
        "{}",
        out.describe()
    );
    assert!(!out.stdout.contains("synced"), "{}", out.describe());
}

#[test]
fn sigterm_ends_a_run_held_in_a_plugins_delay_at_once() {
    let place = Place::new("nl-delay-sigterm");
    let running = fsyncing(
        &place,
        "mode=delay:ns=60000000000",
        &["--max-delay", "120s"],
    )
    .spawn();
    let held = wait_until(Duration::from_secs(20), || place.dir.join("f").exists());
    assert!(held, "{}", running.describe());
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    running.signal(libc::SIGTERM);
    let out = running.wait_within(Duration::from_secs(10));
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    out.assert_code(143);
}

#[test]
fn a_flooding_plugin_is_cut_off_with_the_count_of_what_was_dropped() {
    let place = Place::new("nl-flood");
    let out = fsyncing(&place, "mode=flood:lines=50000", &[]).run();
    out.assert_code(0);
    let flood = lines_with(&out.stderr, "flood line").len();
    assert!((1..=10_000).contains(&flood), "{flood} lines logged");
    assert!(
        out.stderr.contains("dropped from here")
            && out.stderr.contains("40000 lines (")
            && out.stderr.contains("of output dropped"),
        "{}",
        &out.stderr[out.stderr.len().saturating_sub(2000)..]
    );
}

#[test]
fn a_signal_no_kernel_has_is_the_plugins_error() {
    let place = Place::new("nl-signal");
    let out = fsyncing(&place, "mode=signal", &[]).run();
    out.assert_code(124);
    assert!(out.stderr.contains("signal 255"), "{}", out.describe());
    let out = fsyncing(&place, "mode=signal:signal=65", &[]).run();
    out.assert_code(124);
    let out = fsyncing(&place, "mode=signal:signal=10", &[]).run();
    assert_eq!(
        out.code(),
        Some(128 + 10),
        "SIGUSR1 kills python\n{}",
        out.describe()
    );
}

#[test]
fn a_huge_init_error_is_cut_to_a_readable_length() {
    let place = Place::new("nl-init-error");
    let out = fsyncing(&place, "mode=init-error", &[]).run();
    out.assert_code(125);
    assert!(out.stderr.len() < 4096, "{} bytes", out.stderr.len());
    assert!(out.stderr.contains("more bytes cut"), "{}", out.describe());
    assert!(!place.dir.join("f").exists(), "the program ran");
}

#[test]
fn a_trap_after_the_start_is_124_with_its_backtrace_only_when_verbose() {
    let place = Place::new("nl-trap");
    let out = fsyncing(&place, "mode=trap", &[]).run();
    out.assert_code(124);
    assert!(!out.stderr.contains("wasm backtrace"), "{}", out.describe());
    assert!(out.stderr.contains("--verbose"), "{}", out.describe());
    let out = fsyncing(&place, "mode=trap", &["--verbose"]).run();
    out.assert_code(124);
    assert!(out.stderr.contains("wasm backtrace"), "{}", out.describe());
}

// ---------------------------------------------------------------------------
// 9. A program's own seccomp filter

#[test]
fn a_programs_own_ret_trace_means_enosys_under_fault_too() {
    let program = c_program("own_seccomp");
    let native = Cmd::new(&program).arg("trace").run();
    native.assert_code(0);
    assert_eq!(native.lines(), ["getppid: ENOSYS", "getpid: ok"]);
    // fault's own filter stops getpid (a rule) and the program's getppid
    // (the program's filter): only its own stops are fault's.
    for extra in [&[][..], &["--no-seccomp"][..], &["--backend", "ptrace"][..]] {
        let out = Cmd::fault()
            .args(extra)
            .args([
                "-e",
                "inject=getpid:retval=7",
                "--",
                &arg(&program),
                "trace",
            ])
            .run();
        out.assert_code(0);
        assert_eq!(out.lines(), native.lines(), "{extra:?}\n{}", out.describe());
    }
    let out = Cmd::fault().args(["--", &arg(&program), "trace"]).run();
    assert_eq!(out.lines(), native.lines(), "{}", out.describe());
}

#[test]
fn strict_mode_works_without_the_filter() {
    let program = c_program("own_seccomp");
    let native = Cmd::new(&program).arg("strict").run();
    assert_eq!(native.lines(), ["strict: ok"]);
    let out = Cmd::fault()
        .args(["--no-seccomp", "--", &arg(&program), "strict"])
        .run();
    out.assert_code(0);
    assert_eq!(out.lines(), native.lines(), "{}", out.describe());
}

// ---------------------------------------------------------------------------
// 10. Errors and exit codes

#[test]
fn bad_values_get_one_line_and_start_nothing() {
    let place = Place::new("nl-bad-values");
    let marker = place.dir.join("marker");
    let touch = ["--", "touch", "marker"];
    let cases: [(&[&str], &str); 8] = [
        (&["--plugin-timeout", "5"], "no unit"),
        (&["--plugin-timeout", "0s"], "more than 0"),
        (&["--max-delay", "10"], "no unit"),
        (&["-e", "-0"], "-e -0"),
        (
            &["--crash-at", "mkdir", "--crash-mode", "sideways"],
            "--crash-mode",
        ),
        (&["--no-such-option"], "--no-such-option"),
        (&["explore", "--timeout", "5"], "no unit"),
        (&["explore", "--time-budget", "0ms"], "more than 0"),
    ];
    for (args, named) in cases {
        let out = place.fault().args(args).args(touch).run();
        assert_refused(&out, named, &marker);
        assert_eq!(
            out.stderr.lines().count(),
            1,
            "one line\n{}",
            out.describe()
        );
    }
}

#[test]
fn help_shows_the_one_exit_status_table() {
    for args in [&["--help"][..], &["explore", "--help"][..]] {
        let out = Cmd::fault().args(args).run();
        out.assert_code(0);
        for status in ["124", "125", "126", "127", "130, 143"] {
            assert!(out.stdout.contains(status), "{status}\n{}", out.describe());
        }
    }
    let readme = fs::read_to_string(tests_dir().join("../README.md")).unwrap();
    for status in ["| 124 |", "| 125 |", "| 130, 143 |"] {
        assert!(readme.contains(status), "README.md lacks {status}");
    }
}

// ---------------------------------------------------------------------------
// Random kills

/// A small deterministic generator (xorshift), seeded from the clock and
/// printed, so that a failure can be repeated with `FI_KILL_SEED`.
struct Dice(u64);

impl Dice {
    fn new() -> Dice {
        let seed = std::env::var("FI_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("FI_KILL_SEED={seed}");
        Dice(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// How many tries each random-kill test makes (`FI_KILL_TRIES`, default 30).
fn tries() -> usize {
    std::env::var("FI_KILL_TRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30)
}

/// Start `command` (built for try `n`) `tries()` times, kill it with SIGKILL
/// or SIGTERM at a random moment within `window`, and check that no process
/// with the try's marker is left, nothing is left in the temporary
/// directory after the next start, and the files of `kept` are unchanged.
fn kill_at_random(
    name: &str,
    window: Duration,
    setup: impl Fn(&Place) -> PathBuf,
    command: impl Fn(&Place, &str) -> Cmd,
) {
    let mut dice = Dice::new();
    let mut failures = Vec::new();
    for n in 0..tries() {
        let place = Place::new(&format!("{name}-{n}"));
        let kept = setup(&place);
        let before = contents(&kept);
        let mark = marker(&format!("{name}-{n}"));
        let running = command(&place, &mark)
            .timeout(Duration::from_secs(60))
            .spawn();
        let at = Duration::from_millis(dice.below(window.as_millis() as u64));
        let signal = if dice.below(2) == 0 {
            libc::SIGKILL
        } else {
            libc::SIGTERM
        };
        std::thread::sleep(at);
        running.signal(signal);
        let out = running.wait_within(Duration::from_secs(20));
        let what = format!(
            "try {n}: signal {signal} after {at:?} (status {})",
            out.status
        );
        if !wait_until(Duration::from_secs(3), || processes_with(&mark).is_empty()) {
            failures.push(format!(
                "{what}: processes left {:?}",
                processes_with(&mark)
            ));
        }
        let left = place.scratch_after_next_start();
        if !left.is_empty() {
            failures.push(format!("{what}: left {left:?}"));
        }
        if contents(&kept) != before {
            failures.push(format!("{what}: {} changed", kept.display()));
        }
    }
    eprintln!("{name}: {} tries, {} failures", tries(), failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn random_kills_of_a_plain_run_leave_nothing() {
    kill_at_random(
        "nl-kill-plain",
        Duration::from_millis(600),
        |place| {
            let kept = place.dir.join("kept");
            fs::create_dir(&kept).unwrap();
            fs::write(kept.join("precious"), "precious\n").unwrap();
            kept
        },
        |place, mark| {
            place
                .fault()
                .args(["-e", "inject=write:delay_enter=10ms", "--", "sh", "-c"])
                .arg(format!(
                    "i=0; while [ $i -lt 40 ]; do echo $i >> own.log; i=$((i+1)); done # {mark}"
                ))
        },
    );
}

#[test]
fn random_kills_of_a_crash_run_leave_nothing() {
    kill_at_random(
        "nl-kill-crash",
        Duration::from_millis(600),
        |place| {
            fs::create_dir(place.dir.join("R")).unwrap();
            fs::write(place.dir.join("R/synced"), "synced before\n").unwrap();
            let kept = place.dir.join("out");
            fs::create_dir(&kept).unwrap();
            fs::write(kept.join("precious"), "outside the root\n").unwrap();
            kept
        },
        |place, mark| {
            place
                .fault()
                .args([
                    "--root",
                    "R",
                    "--crash-at",
                    "mkdir:path=*/CRASH",
                    "--",
                    "sh",
                    "-c",
                ])
                .arg(format!(
                    "i=0; while [ $i -lt 40 ]; do echo $i >> R/log; i=$((i+1)); done; \
                     cat out/precious > R/copy; mkdir R/CRASH # {mark}"
                ))
        },
    );
}

#[test]
fn random_kills_of_a_campaign_leave_nothing() {
    kill_at_random(
        "nl-kill-explore",
        Duration::from_millis(2500),
        |place| {
            let wd = place.dir.join("wd");
            fs::create_dir(&wd).unwrap();
            fs::write(wd.join("data"), "original data\n").unwrap();
            wd
        },
        |place, mark| {
            place
                .fault()
                .args([
                    "explore",
                    "--workdir",
                    "wd",
                    "--jobs",
                    "2",
                    "--timeout",
                    "5s",
                ])
                .args([
                    "--check",
                    &format!("test -s copy # {mark}"),
                    "--",
                    "sh",
                    "-c",
                ])
                .arg(format!("cat data > copy; echo run >> log # {mark}"))
        },
    );
}
