//! Timing the `latency` plugin from inside a program: a C program that times
//! each of its calls with `CLOCK_MONOTONIC` (`tests/programs/c/latency_calls.c`)
//! runs under fault, and the helpers here read its lines. Shared by the
//! `latency` and `latency_percentiles` tests.

#![allow(dead_code)]

use std::time::Duration;

use crate::common::*;

/// fault with the compiled-plugin cache kept warm across tests.
pub fn fault() -> Cmd {
    Cmd::fault().env("XDG_CACHE_HOME", tmp_root().join("cache"))
}

/// One timed call of `latency_calls`: when it started (from the first),
/// how long it took, in seconds, and to which of its files (1 or 2).
#[derive(Clone, Copy, Debug)]
pub struct Timed {
    pub start: f64,
    pub took: f64,
    pub file: u8,
}

/// Runs `latency_calls ARGS...` under `--seed 1` and one
/// `--plugin latency:syscalls=write:CONFIG` per item of `configs`, and
/// returns its timed calls.
pub fn timed_writes(configs: &[&str], args: &[&str]) -> Vec<Timed> {
    let mut cmd =
        fault()
            .timeout(Duration::from_secs(180))
            .args(["--seed", "1", "-o", "/dev/null"]);
    for config in configs {
        cmd = cmd
            .arg("--plugin")
            .arg(format!("latency:syscalls=write:{config}"));
    }
    let out = cmd
        .arg("--")
        .arg(c_program("latency_calls"))
        .args(args)
        .run();
    out.assert_code(0);
    let timed: Vec<Timed> = out
        .stdout
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let [start, took, file] = fields[..] else {
                panic!("not START TOOK FILE: {line}\n{}", out.describe());
            };
            Timed {
                start: start.parse::<f64>().unwrap() / 1e9,
                took: took.parse::<f64>().unwrap() / 1e9,
                file: file.parse().unwrap(),
            }
        })
        .collect();
    assert!(!timed.is_empty(), "{}", out.describe());
    timed
}

/// The value a fraction `p` of `values` stay at or under.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// How long the calls to file 1 or 2 took.
pub fn durations(timed: &[Timed], file: u8) -> Vec<f64> {
    timed
        .iter()
        .filter(|t| t.file == file)
        .map(|t| t.took)
        .collect()
}

/// The calls to /dev/null of [`measured_delays`], in seconds.
pub struct Measured {
    /// How long each took, as the program measured it.
    pub took: Vec<f64>,
    /// Each one's time less what fault added to the /dev/zero call after it
    /// beyond its 1ms (the exit stop, and waking the held thread up, which
    /// on a loaded VM can come a millisecond late).
    pub delays: Vec<f64>,
    /// The median of what fault added to a /dev/zero call.
    pub overhead: f64,
}

/// Runs `calls` writes to /dev/null under `config`, each followed by one to
/// /dev/zero under a fixed 1ms delay, and measures the first. The two kinds
/// of call take turns, so that each pair sees the same load.
pub fn measured_delays(config: &str, calls: usize) -> Measured {
    let timed = timed_writes(
        &[
            &format!("path=/dev/null:{config}"),
            "path=/dev/zero:delay=1ms",
        ],
        &[&calls.to_string(), "/dev/null", "0", "/dev/zero"],
    );
    let costs: Vec<f64> = durations(&timed, 2)
        .into_iter()
        .map(|took| took - 0.001)
        .collect();
    let took = durations(&timed, 1);
    let delays = took
        .iter()
        .zip(&costs)
        .map(|(took, cost)| took - cost)
        .collect();
    Measured {
        took,
        delays,
        overhead: percentile(&costs, 0.5),
    }
}
