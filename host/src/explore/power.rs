//! `explore --crash`: every durability point of a run (each call that
//! writes, syncs or changes a directory under the root) becomes a crash
//! point, tried in every mode of [`CrashMode`], and the user's check judges
//! what a power loss there leaves behind.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::classify::Outcome;
use super::faults::Fault;
use super::key::{path_class, PointKey};
use super::report::{Report, TriedPoint};
use super::trial::{self, Injector, Observed, RunDir};
use super::{run_jobs, shell_quote, ExploreError, Options, Scratch, RECORDING_LIMIT};
use crate::crash::{Crash, CrashMode, Tear};

/// Up to this many reorder states of a point are all tried; beyond, this
/// many spread over them.
const REORDER_STATES: u64 = 16;

/// How a crash campaign crashes.
#[derive(Clone, Debug)]
pub struct CrashOptions {
    /// The directory whose files are modelled (relative: in the run's
    /// working directory).
    pub root: PathBuf,
    /// Only this mode (`--crash-mode`); every mode without it.
    pub mode: Option<CrashMode>,
}

/// Run a crash campaign.
pub(super) fn campaign(options: &Options, crash: &CrashOptions) -> Result<Report, ExploreError> {
    if options.program.check.is_none() {
        return Err(ExploreError::Invalid(
            "--crash needs --check: only a check can tell what a power loss broke".into(),
        ));
    }
    let scratch = Scratch::new()?;
    let (points, timeout) = options.interruptible(count_points(options, crash, &scratch.0))?;
    let mut numbers: Vec<u64> = (1..=points)
        .filter(|n| {
            options
                .shard
                .is_none_or(|shard| shard.holds(*n as usize - 1))
        })
        .collect();
    if let Some(max) = options.max_runs {
        numbers.truncate(max);
    }
    let tried = run_jobs(options, &numbers, |_, &n| {
        crash_point(options, crash, &scratch.0, n, timeout)
    })?;
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

/// Run the program once without a crash: how many durability points it
/// has, and the time limit of a run.
fn count_points(
    options: &Options,
    crash: &CrashOptions,
    scratch: &Path,
) -> Result<(u64, Duration), ExploreError> {
    let dir = RunDir::prepare(&options.program, scratch, "record")
        .map_err(|e| ExploreError::Failed(format!("preparing the recording: {e}")))?;
    let counting = Crash::new(&crash.root, CrashMode::LoseUnsynced, 0);
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
    let points = run.crash.map_or(0, |report| report.durability_points);
    Ok((points, timeout))
}

/// Crash at durability point `n` in every mode (or the chosen one).
fn crash_point(
    options: &Options,
    crash: &CrashOptions,
    scratch: &Path,
    n: u64,
    timeout: Duration,
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
        let at = Crash::new(&crash.root, mode, n).at_durability_point(n);
        let run = trial::run(
            &options.program,
            &dir,
            Injector::Crash(at),
            timeout,
            &options.interrupt,
        )?;
        if index == 0 && crash.mode.is_none() {
            let states = run.crash.as_ref().and_then(|report| report.reorder_states);
            modes.extend(reorder_states(states));
        }
        tried.extend(tried_point(options, crash, &dir, n, mode, &run));
        index += 1;
    }
    Ok(tried)
}

/// The reorder states to try at a point that has `states` of them.
fn reorder_states(states: Option<u64>) -> Vec<CrashMode> {
    match states {
        Some(states) if states <= REORDER_STATES => {
            (0..states).map(CrashMode::ReorderState).collect()
        }
        Some(states) => (0..REORDER_STATES)
            .map(|k| CrashMode::ReorderState(k * states / REORDER_STATES))
            .collect(),
        None => vec![CrashMode::Reorder],
    }
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
            .map(|at| replay_command(options, crash, &at, mode, n))
            .unwrap_or_default(),
        key,
        fault,
        outcome,
        detail,
        stack: lost,
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
        "{} --crash-at {} --crash-mode {mode} --seed {seed} --root {} --check {} -- {}",
        crate::COMMAND,
        shell_quote(at),
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
