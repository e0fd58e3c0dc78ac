//! The `latency` plugin on real programs: `tests/programs/c/latency_calls.c`,
//! which times each of its calls, and `dd` for throughput. The machine is a
//! small shared VM, so the tests compare runs with each other (ratios, a
//! baseline subtracted) rather than with absolute times. The percentile
//! acceptance test runs alone, in `latency_percentiles.rs`.

mod common;
mod latency_measure;

use common::*;
use latency_measure::*;

/// A uniform delay between 2ms and 6ms: no call is faster than the lower
/// bound, and the median lands in the middle.
#[test]
fn uniform_delays_stay_within_their_bounds() {
    let Measured { took, delays, .. } = measured_delays("dist=uniform:min=2ms:max=6ms", 300);
    let fastest = percentile(&took, 0.0);
    let median = percentile(&delays, 0.5);
    assert!(fastest >= 0.002, "a call took {fastest}s, under min=2ms");
    assert!(
        (median / 0.004 - 1.0).abs() <= 0.10,
        "median delay {:.3}ms, expected about 4ms",
        median * 1e3
    );
}

/// The delays come from fi's seeded generator: the same `--seed` draws the
/// same delay for every call (fault's JSON log records each), another seed
/// other delays.
#[test]
fn the_seed_replays_the_same_delays() {
    let program = c_program("latency_calls");
    let dir = TestDir::new("latency-seed");
    let delays = |seed: &str, log: &str| -> Vec<u64> {
        let log = dir.join(log);
        fault()
            .args(["--seed", seed, "--log-format", "json", "-o"])
            .arg(&log)
            .args([
                "--plugin",
                "latency:syscalls=write:path=/dev/null:dist=pareto:min=100us:alpha=2",
                "--",
            ])
            .arg(&program)
            .args(["50", "/dev/null"])
            .run()
            .assert_code(0);
        let text = std::fs::read_to_string(&log).unwrap();
        let delays: Vec<u64> = text
            .lines()
            .filter(|line| line.contains("\"syscall\":\"write\""))
            .map(|line| {
                let at = line.find("\"delay_ns\":").expect("delay_ns") + "\"delay_ns\":".len();
                let digits: String = line[at..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse().unwrap()
            })
            .collect();
        assert_eq!(delays.len(), 50, "{text}");
        delays
    };
    let first = delays("7", "a.json");
    assert!(first.iter().all(|&d| d >= 100_000), "{first:?}");
    assert_eq!(first, delays("7", "b.json"));
    assert_ne!(first, delays("8", "c.json"));
}

/// `path=` picks the calls: writes to another file, made in turn with the
/// delayed ones, run at full speed.
#[test]
fn only_calls_on_matching_paths_are_delayed() {
    let dir = TestDir::new("latency-path");
    let out = arg(&dir.join("out"));
    let timed = timed_writes(
        &[&format!("delay=5ms:path={}/*", dir.path().display())],
        &["100", &out, "0", "/dev/zero"],
    );
    let delayed = percentile(&durations(&timed, 1), 0.5);
    let elsewhere = percentile(&durations(&timed, 2), 0.5);
    assert!(delayed >= 0.005, "median {delayed}s under delay=5ms");
    assert!(
        elsewhere * 5.0 < delayed,
        "writes to a file path= does not match took {elsewhere}s, delayed ones {delayed}s"
    );
}

/// Stall episodes every 200ms for 100ms, under a program that writes
/// every millisecond: in each episode one call blocks until the episode
/// ends (the next comes after it), so those calls end 200ms apart, and none
/// waits longer than an episode.
#[test]
fn stalled_calls_wait_for_the_end_of_their_episode() {
    let timed = timed_writes(
        &["path=/dev/null:stall-every=200ms:stall-for=100ms"],
        &["600", "/dev/null", "1000"],
    );
    let stalled: Vec<Timed> = timed.iter().filter(|t| t.took > 0.020).copied().collect();
    let ends: Vec<f64> = stalled.iter().map(|t| t.start + t.took).collect();
    assert!(
        stalled.len() >= 3,
        "expected a stalled call per episode, got {stalled:?}"
    );
    for pair in ends.windows(2) {
        let apart = pair[1] - pair[0];
        assert!(
            (apart / 0.200 - 1.0).abs() <= 0.10,
            "stalled calls ended {apart}s apart, not 200ms: {stalled:?}"
        );
    }
    let longest = stalled.iter().map(|t| t.took).fold(0.0, f64::max);
    assert!(
        longest <= 0.115,
        "a call waited {longest}s, longer than stall-for=100ms"
    );
}

/// `rate=`: dd's own measure of its time is what the cap allows for its
/// bytes, and twice the cap takes half the time.
#[test]
fn dd_is_held_to_the_rate_cap() {
    let dir = TestDir::new("latency-rate");
    let seconds = |rate: &str| -> f64 {
        let out = fault()
            .args(["-o", "/dev/null", "--plugin"])
            .arg(format!(
                "latency:syscalls=write:path={}/*:rate={rate}",
                dir.path().display()
            ))
            .args(["--", "dd", "if=/dev/zero", "bs=64K", "count=32"])
            .arg(format!("of={}", dir.join("out").display()))
            .run();
        out.assert_code(0);
        // 2097152 bytes (2.1 MB, 2.0 MiB) copied, 0.524 s, 4.0 MB/s
        let copied = out
            .stderr
            .split_once("copied, ")
            .unwrap_or_else(|| panic!("no dd summary\n{}", out.describe()))
            .1;
        copied.split(' ').next().unwrap().parse().unwrap()
    };
    let capped = seconds("4MB/s");
    let twice = seconds("8MB/s");
    let expected = f64::from(32 * 65536) / 4e6;
    assert!(
        (capped / expected - 1.0).abs() <= 0.15,
        "2MiB at 4MB/s took {capped}s, expected {expected}s"
    );
    assert!(
        (capped / twice / 2.0 - 1.0).abs() <= 0.15,
        "4MB/s took {capped}s, 8MB/s {twice}s: not half"
    );
}

/// A wrong configuration is refused before anything runs, naming the key.
#[test]
fn bad_configuration_names_the_key() {
    let dir = TestDir::new("latency-config");
    let marker = dir.join("ran");
    for (config, named) in [
        ("dist=gamma", "dist=gamma"),
        ("p50=5ms:p99=1ms", "p99=1ms"),
        ("dist=uniform:min=1ms", "max="),
        ("delay=3h", "delay=3h"),
        ("stall-every=1s:stall-for=2s", "stall-for=2s"),
        ("rate=10MB", "rate=10MB: expected bytes per second"),
        ("path=/data/*", "nothing to delay by"),
    ] {
        let out = fault()
            .args(["--plugin", &format!("latency:{config}"), "--", "touch"])
            .arg(&marker)
            .run();
        assert_refused(&out, named, &marker);
    }
}

/// `fault plugins` lists the plugin with its keys.
#[test]
fn fault_plugins_lists_the_keys() {
    let out = fault().arg("plugins").run();
    out.assert_code(0);
    let listing = &out.stdout[out.stdout.find("latency").expect("latency listed")..];
    for key in [
        "dist", "p50", "p99", "sigma", "alpha", "cap", "path", "syscalls",
    ] {
        assert!(listing.contains(key), "{key} missing\n{}", out.describe());
    }
}
