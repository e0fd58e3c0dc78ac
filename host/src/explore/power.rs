//! `explore --crash`: every durability point of a run (each call that
//! writes, syncs or changes a directory under the root), every
//! acknowledgement (a write to an `--ack` target) and the end of the run
//! (after the program's last call) become crash points, each tried in every
//! mode of [`CrashMode`], and the user's check judges what a power loss
//! there leaves behind.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use super::classify::Outcome;
use super::events::Event;
use super::faults::Fault;
use super::jobs::run_jobs;
use super::key::{path_class, PointKey};
use super::options::{CrashOptions, ExploreError, Options, RECORDING_LIMIT};
use super::report::{Report, TriedPoint};
use super::scratch::Scratch;
use super::shell::shell_quote;
use super::trial::{self, Injector, Observed, RunDir};
use crate::crash::{Crash, CrashMode, CrashReport, Tear};
use crate::rng::SplitMix64;

/// Up to this many reorder states of a point are all tried; beyond, this
/// many: the prefix states first (at most all but [`RANDOM_SEEDS`] of
/// them), then seeded random ones.
const REORDER_STATES: u64 = 16;

/// Seeded random reorder states tried at least at a point with more than
/// [`REORDER_STATES`].
const RANDOM_SEEDS: u64 = 4;

/// Where a crash campaign crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CrashPoint {
    /// After the Nth durability point.
    Durability(u64),
    /// After the Nth acknowledgement.
    Ack(u64),
    /// At the end of the run, after the last call.
    End,
}

impl CrashPoint {
    /// The crash, in `mode` seeded by `seed`, at this point.
    fn crash(self, options: &CrashOptions, mode: CrashMode, seed: u64) -> Crash {
        let crash = options.acks.iter().fold(
            Crash::new(&options.root, mode, seed).fs(options.fs),
            |c, ack| c.ack(ack),
        );
        match self {
            CrashPoint::Durability(n) => crash.at_durability_point(n),
            CrashPoint::Ack(n) => crash.at_ack(n),
            CrashPoint::End => crash.at_end(),
        }
    }
}

/// Run a crash campaign.
pub(super) fn campaign(options: &Options, crash: &CrashOptions) -> Result<Report, ExploreError> {
    if options.program.check.is_none() {
        return Err(ExploreError::Invalid(
            "--crash needs --check: only a check can tell what a power loss broke".into(),
        ));
    }
    let deadline = options.deadline();
    let scratch = Scratch::new()?;
    let (durable, acks, timeout) =
        options.interruptible(count_points(options, crash, &scratch.0))?;
    // The points after which a program told the world it was done come
    // first: a campaign cut short by --max-runs still tries them.
    let all: Vec<(u64, CrashPoint)> = std::iter::once(CrashPoint::End)
        .chain((1..=acks).rev().map(CrashPoint::Ack))
        .chain((1..=durable).map(CrashPoint::Durability))
        .enumerate()
        .map(|(i, point)| (i as u64 + 1, point))
        .collect();
    let mut points: Vec<(u64, CrashPoint)> = all
        .into_iter()
        .filter(|(n, _)| {
            options
                .shard
                .is_none_or(|shard| shard.holds(*n as usize - 1))
        })
        .collect();
    if let Some(max) = options.max_runs {
        points.truncate(max);
    }
    let sampled = Mutex::new(Vec::new());
    let tried = run_jobs(options, deadline, &points, |_, &(n, point)| {
        crash_point(options, crash, &scratch.0, n, point, timeout, &sampled)
    })?;
    if crash.mode.is_none() {
        let sampled = sampled.into_inner().unwrap_or_else(|e| e.into_inner());
        options.progress.emit(&Event::CrashCoverage {
            durability: durable,
            acknowledgements: acks,
            reorder: &coverage(&sampled),
        });
    }
    // How many runs a point takes is known only at the point (its reorder
    // states): the plan is the runs made.
    let planned = tried.len();
    Ok(Report::new(
        options.command_text(),
        planned,
        tried,
        &options.suppressions,
    ))
}

/// Run the program once without a crash: how many durability points and
/// acknowledgements it has, and the time limit of a run.
fn count_points(
    options: &Options,
    crash: &CrashOptions,
    scratch: &Path,
) -> Result<(u64, u64, Duration), ExploreError> {
    let dir = RunDir::prepare(&options.program, scratch, "record")
        .map_err(|e| ExploreError::Failed(format!("preparing the recording: {e}")))?;
    let counting = crash.acks.iter().fold(
        Crash::new(&crash.root, CrashMode::LoseUnsynced, 0),
        |c, ack| c.ack(ack),
    );
    let limit = options.timeout.unwrap_or(RECORDING_LIMIT);
    let run = trial::run(
        &options.program,
        &dir,
        Injector::Crash(counting),
        limit,
        &options.interrupt,
    )?;
    options.judge_faultless(&run, limit)?;
    let timeout = options.run_limit(&run);
    let (durable, acks) = run.crash.map_or((0, 0), |report| {
        (report.durability_points, report.ack_points)
    });
    Ok((durable, acks, timeout))
}

/// Crash at `point` (the campaign's `n`th) in every mode (or the chosen
/// one).
fn crash_point(
    options: &Options,
    crash: &CrashOptions,
    scratch: &Path,
    n: u64,
    point: CrashPoint,
    timeout: Duration,
    coverage: &Mutex<Vec<Sampled>>,
) -> Result<Vec<TriedPoint>, ExploreError> {
    let mut modes = match crash.mode {
        Some(mode) => vec![mode],
        None => vec![
            CrashMode::LoseUnsynced,
            CrashMode::Torn(Tear::Sector),
            CrashMode::Torn(Tear::Any),
        ],
    };
    let mut tried = Vec::new();
    let mut index = 0;
    while let Some(&mode) = modes.get(index) {
        let dir = RunDir::prepare(&options.program, scratch, &format!("crash-{n}-{index}"))
            .map_err(|e| ExploreError::Failed(format!("preparing a run: {e}")))?;
        // Seeded modes get a seed of their own at each run of the point.
        let at = point.crash(crash, mode, n << 8 | index as u64);
        let run = trial::run(
            &options.program,
            &dir,
            Injector::Crash(at),
            timeout,
            &options.interrupt,
        )?;
        if index == 0 && crash.mode.is_none() {
            let (reorder, sampled) = reorder_sample(run.crash.as_ref(), n);
            modes.extend(reorder);
            coverage
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(sampled);
        }
        tried.extend(tried_point(options, crash, &dir, n, mode, &run));
        index += 1;
    }
    Ok(tried)
}

/// The reorder states to try at a point, as its first run's `report`
/// counts them, and how many of how many that is.
fn reorder_sample(report: Option<&CrashReport>, seed: u64) -> (Vec<CrashMode>, Sampled) {
    let states = report.and_then(|r| r.reorder_states);
    let prefixes = report
        .map(|r| r.prefix_states.as_slice())
        .unwrap_or_default();
    let Some(states) = states else {
        // Too many to number: one seeded choice among them.
        let sampled = Sampled {
            states: None,
            prefix: 0,
            random: 1,
        };
        return (vec![CrashMode::Reorder], sampled);
    };
    if states <= REORDER_STATES {
        let modes = (0..states).map(CrashMode::ReorderState).collect();
        let prefix = prefixes.len() as u64;
        return (
            modes,
            Sampled {
                states: Some(states),
                prefix,
                random: states - prefix,
            },
        );
    }
    // The prefix states first (spread over them if too many), then seeded
    // random ones up to the budget.
    let mut chosen: Vec<u64> = spread(prefixes, REORDER_STATES - RANDOM_SEEDS);
    let prefix = chosen.len() as u64;
    let mut rng = SplitMix64(seed);
    let untried = states - prefix;
    let random = (REORDER_STATES - prefix).min(untried);
    while (chosen.len() as u64) < prefix + random {
        let state = rng.next() % states;
        if !chosen.contains(&state) {
            chosen.push(state);
        }
    }
    let modes = chosen.into_iter().map(CrashMode::ReorderState).collect();
    (
        modes,
        Sampled {
            states: Some(states),
            prefix,
            random,
        },
    )
}

/// At most `most` of `items`, evenly spread, first and last included.
fn spread(items: &[u64], most: u64) -> Vec<u64> {
    let len = items.len() as u64;
    if len <= most {
        return items.to_vec();
    }
    let mut picked: Vec<u64> = (0..most)
        .map(|k| items[(k * (len - 1) / (most - 1).max(1)) as usize])
        .collect();
    picked.dedup();
    picked
}

/// How many reorder states a campaign tried, of how many.
#[derive(Clone, Copy, Debug, Default)]
struct Sampled {
    /// The states there are (`None`: too many to number).
    states: Option<u64>,
    /// Prefix states tried.
    prefix: u64,
    /// Random states (or seeds) tried.
    random: u64,
}

/// The campaign's reorder coverage, for a person: "reorder states: 40 of
/// 2621440 tried (8 prefix states, 32 seeded random); 2 points with too
/// many to number: 16 random seeds".
fn coverage(sampled: &[Sampled]) -> String {
    let numbered: Vec<&Sampled> = sampled.iter().filter(|s| s.states.is_some()).collect();
    let total: u64 = numbered
        .iter()
        .filter_map(|s| s.states)
        .fold(0, u64::saturating_add);
    let prefix: u64 = numbered.iter().map(|s| s.prefix).sum();
    let random: u64 = numbered.iter().map(|s| s.random).sum();
    let mut line = format!(
        "reorder states: {} of {total} tried ({prefix} prefix states first, {random} others, \
         seeded)",
        prefix + random
    );
    let unnumbered: Vec<&Sampled> = sampled.iter().filter(|s| s.states.is_none()).collect();
    if !unnumbered.is_empty() {
        let seeds: u64 = unnumbered.iter().map(|s| s.random).sum();
        line.push_str(&format!(
            "; {} points with more than 2^20 states: {seeds} seeded random states",
            unnumbered.len()
        ));
    }
    line
}

/// The point a crash run tried, judged by the check.
fn tried_point(
    options: &Options,
    crash: &CrashOptions,
    dir: &RunDir,
    n: u64,
    mode: CrashMode,
    run: &Observed,
) -> Option<TriedPoint> {
    let report = run.crash.as_ref()?;
    let program = options
        .program
        .argv
        .first()
        .and_then(|p| Path::new(p).file_name())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (syscall, path, replay_at) = match &report.point {
        Some(at) => (
            at.syscall.clone(),
            at.paths
                .first()
                .map(|p| path_class(p, dir.path()))
                .unwrap_or_default(),
            Some(at.replay.clone()),
        ),
        None => (String::new(), String::new(), None),
    };
    let key = PointKey {
        program,
        syscall,
        path,
        site: Vec::new(),
        ordinal: n as u32,
    };
    let fault = Fault::Crash(mode);
    let lost: Vec<String> = report.lines().into_iter().take(6).collect();
    let (outcome, detail) = match (&report.point, &run.check_failed) {
        (None, _) => (Outcome::NotReached, "the crash point did not occur".into()),
        (Some(_), Some(failure)) => (Outcome::Corrupt, format!("{failure}; {}", lost.join("; "))),
        (Some(_), None) => (Outcome::Handled, "recovered".into()),
    };
    Some(TriedPoint {
        id: key.id(fault),
        replay: replay_at
            .map(|at| replay_command(options, crash, &at, mode, report.seed))
            .unwrap_or_default(),
        key,
        fault,
        outcome,
        detail,
        stack: lost,
        loss: String::new(),
        rule: String::new(),
    })
}

/// The plain command that crashes at the same call, in the same mode with
/// the same seed: in a fresh copy of the work directory, if there is one.
fn replay_command(
    options: &Options,
    crash: &CrashOptions,
    at: &str,
    mode: CrashMode,
    seed: u64,
) -> String {
    let program = &options.program;
    let argv: Vec<String> = program
        .argv
        .iter()
        .enumerate()
        .map(|(i, arg)| match i {
            0 => trial::resolve_program(arg, &program.cwd),
            _ => arg.clone(),
        })
        .map(|arg| shell_quote(&arg.to_string_lossy()))
        .collect();
    let fault = format!(
        "{} --crash-at {} --crash-mode {mode} --seed {seed} --fs {} --root {} --check {} -- {}",
        crate::COMMAND,
        shell_quote(at),
        crash.fs,
        shell_quote(&crash.root.to_string_lossy()),
        shell_quote(program.check.as_deref().unwrap_or("true")),
        argv.join(" ")
    );
    match &program.workdir {
        Some(dir) => format!(
            "cd \"$(mktemp -d)\" && cp -a {}/. . && {fault}",
            shell_quote(&dir.to_string_lossy())
        ),
        None => fault,
    }
}
