//! `fault explore`: find error-handling bugs without writing a rule.
//!
//! A campaign runs the program once under a recording [`probe::Probe`] to
//! list its fault points (every call of the explored set that touches the
//! program's files), then once per point and fault with exactly that call
//! failed, and classifies each run against the recording
//! ([`classify::Outcome`]). Findings are grouped by code path and each can
//! be replayed by id. Everything here is a client of [`Session`]: explore
//! never reaches into the engine.
//!
//! [`Session`]: crate::session::Session

mod check;
pub mod classify;
mod copy;
pub mod corruption;
pub mod events;
pub mod faults;
pub mod html;
mod jobs;
pub mod key;
mod links;
mod options;
pub mod plan;
pub mod power;
pub mod probe;
pub mod report;
mod rule;
pub mod running;
mod scratch;
mod shell;
mod streams;
pub mod trial;
pub mod uncaught;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::interrupt;
use crate::session::SessionError;
use classify::{classify, Baseline, Outcome};
use faults::Fault;
use jobs::run_jobs;
use key::{PointKey, RandomNames};
use options::RECORDING_LIMIT;
pub use options::{CrashOptions, ExploreError, Options};
use plan::{Plan, PlannedRun, Unnamed};
use probe::{Probe, ProbeMode, Scope};
use report::{Report, TriedPoint};
use scratch::Scratch;
pub use shell::shell_quote;
use trial::{Clock, Observed, RunDir};

/// The recording: the runs without faults, and the plan.
struct Recording {
    baseline: Baseline,
    plan: Plan,
    /// The frames of the plan's stacks, when they are not named yet.
    unnamed: Option<Unnamed>,
    timeout: Duration,
}

impl Options {
    fn check(&self) -> Result<(), ExploreError> {
        if self.program.argv.is_empty() {
            return Err(ExploreError::Invalid(
                "nothing to explore: give a command after --".into(),
            ));
        }
        if self.jobs == 0 {
            return Err(ExploreError::Invalid("--jobs must be at least 1".into()));
        }
        if self.jobs > 1 && self.program.workdir.is_none() {
            return Err(ExploreError::Invalid(
                "--jobs above 1 needs --workdir: runs in the current directory would share its files"
                    .into(),
            ));
        }
        if let Some(dir) = &self.program.workdir {
            if !dir.is_dir() {
                return Err(ExploreError::Invalid(format!(
                    "--workdir {}: not a directory",
                    dir.display()
                )));
            }
            links::check(dir).map_err(ExploreError::Invalid)?;
        }
        Ok(())
    }

    fn command_text(&self) -> Vec<String> {
        self.program
            .argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    /// The scope of a run working in `dir`, keying files with the `random`
    /// names.
    fn scope(&self, dir: &Path, random: &RandomNames) -> Result<Scope, ExploreError> {
        let paths = if self.paths.is_empty() {
            None
        } else {
            let mut set = GlobSetBuilder::new();
            for pattern in &self.paths {
                let absolute = if pattern.starts_with('/') {
                    pattern.clone()
                } else {
                    format!("{}/{pattern}", dir.display())
                };
                let glob = Glob::new(&absolute)
                    .map_err(|e| ExploreError::Invalid(format!("--path {pattern}: {e}")))?;
                set.add(glob);
            }
            let set: GlobSet = set
                .build()
                .map_err(|e| ExploreError::Invalid(format!("--path: {e}")))?;
            Some(Arc::new(set))
        };
        Ok(Scope {
            syscalls: self.syscalls.clone(),
            workdir: dir.to_path_buf(),
            paths,
            all_paths: self.all_paths,
            network: self.network,
            random: random.clone(),
        })
    }

    /// The command line that replays injection `id`.
    fn replay_command(&self, id: &str) -> String {
        let command: Vec<String> = self.command_text().iter().map(|a| shell_quote(a)).collect();
        format!(
            "{} --replay {id} -- {}",
            self.replay_prefix,
            command.join(" ")
        )
    }

    /// Refuse a campaign whose run without faults cannot be compared with:
    /// it did not end by itself, or the check already fails after it.
    fn judge_faultless(&self, run: &Observed, limit: Duration) -> Result<(), ExploreError> {
        match run.status {
            crate::session::Status::TimedOut => {
                return Err(ExploreError::Failed(format!(
                    "the run without faults did not end within {limit:?}"
                )))
            }
            crate::session::Status::Killed(signal) => {
                return Err(ExploreError::Failed(format!(
                    "the run without faults was killed by signal {signal}: nothing to compare with"
                )))
            }
            _ => {}
        }
        match &run.check_failed {
            Some(failure) => Err(ExploreError::Failed(format!(
                "--check fails after the run without faults, so it cannot tell a fault's damage: {failure}"
            ))),
            None => Ok(()),
        }
    }

    /// The time limit of an injected run: `--timeout`, or ten times the run
    /// without faults (at least 10 s).
    fn run_limit(&self, faultless: &Observed) -> Duration {
        self.timeout
            .unwrap_or_else(|| (faultless.duration * 10).max(Duration::from_secs(10)))
    }

    /// Run the program twice without faults, listing its points (keyed
    /// with the random names the two runs show).
    fn record(&self, scratch: &Path) -> Result<Recording, ExploreError> {
        let limit = self.timeout.unwrap_or(RECORDING_LIMIT);
        // The second run may move its clock: the plugin is made ready
        // beside the first (whose session does not wait for it).
        std::thread::spawn(|| crate::session::prepare_plugin(trial::CLOCK_AHEAD));
        self.note("recording: the run without faults");
        let mut baseline =
            self.run_recording(scratch, "record", limit, Clock::Real, ProbeMode::Record)?;
        self.judge_faultless(&baseline, limit)?;
        let seen = std::mem::take(&mut baseline.probe.points);
        let timeout = self.run_limit(&baseline);
        // A second run without faults tells what varies by itself (its
        // output, its files, its random names), in another second, so that
        // times in seconds vary too.
        self.note(&format!(
            "recorded {} calls in {:.1}s; a second run to see what varies by itself",
            seen.len(),
            baseline.duration.as_secs_f64()
        ));
        let mut again = self.interruptible(self.run_again(scratch, &baseline, limit))?;
        let paths = |points: &[probe::SeenPoint]| -> Vec<String> {
            points.iter().map(|point| point.path.clone()).collect()
        };
        let random = RandomNames::learn(&paths(&seen), &paths(&again.probe.points));
        again.probe.points.clear();
        let (plan, unnamed) = match &self.plan_file {
            Some(path) if path.exists() => {
                let plan = Plan::load(path).map_err(ExploreError::Invalid)?;
                if plan.command != self.command_text() {
                    return Err(ExploreError::Invalid(format!(
                        "--plan {}: recorded for `{}`, not this command",
                        path.display(),
                        plan.command.join(" ")
                    )));
                }
                (plan, None)
            }
            Some(path) => {
                let plan = Plan::new(self.command_text(), seen, random);
                plan.save(path).map_err(ExploreError::Failed)?;
                (plan, None)
            }
            None => {
                let (plan, unnamed) = Plan::unnamed(self.command_text(), seen, random);
                (plan, Some(unnamed))
            }
        };
        self.note(&format!(
            "planned {} runs at {} points",
            plan.runs().len(),
            plan.points.len()
        ));
        Ok(Recording {
            baseline: Baseline::new(baseline, &again),
            plan,
            unnamed,
            timeout,
        })
    }

    /// The second recording, in another second than the first (which took
    /// `first.duration`): made at once with its wall clock a second ahead
    /// when waiting for the next second would take longer than twice the
    /// first run (a moved clock slows a program by its clock readings, which
    /// all stop), else after the wait, if any.
    fn run_again(
        &self,
        scratch: &Path,
        first: &Observed,
        limit: Duration,
    ) -> Result<Observed, ExploreError> {
        let pause = until_another_second(first.duration, SystemTime::now());
        if pause > first.duration * 2 {
            match self.run_recording(scratch, "again", limit, Clock::Ahead, ProbeMode::Paths) {
                Err(ExploreError::Session(SessionError::Invalid(why))) => {
                    self.note(&format!("{why}: waiting for the next second instead"));
                }
                ahead => return ahead,
            }
        }
        let until = Instant::now() + until_another_second(first.duration, SystemTime::now());
        while !self.interrupt.is_raised() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(interrupt::POLL));
        }
        self.run_recording(scratch, "again", limit, Clock::Real, ProbeMode::Paths)
    }

    /// A run without faults that lists every call of the scope, as `mode`
    /// says (with its stack and result, or its path alone). A session
    /// error `Invalid` means that the clock could not be moved (the `clock`
    /// plugin did not load), and nothing ran.
    fn run_recording(
        &self,
        scratch: &Path,
        name: &str,
        limit: Duration,
        clock: Clock,
        mode: ProbeMode,
    ) -> Result<Observed, ExploreError> {
        let dir = RunDir::prepare(&self.program, scratch, name)
            .map_err(|e| ExploreError::Failed(format!("preparing the recording: {e}")))?;
        let (probe, report) = Probe::new(
            self.scope(dir.path(), &RandomNames::default())?,
            self.faults.clone(),
            mode,
        );
        let injector = trial::Injector::Probe(Box::new(probe), report, clock);
        Ok(trial::run(
            &self.program,
            &dir,
            injector,
            limit,
            &self.interrupt,
        )?)
    }

    /// Tell the reporter how the campaign goes.
    fn note(&self, what: &str) {
        self.progress.emit(&events::Event::Note { what });
    }

    /// When `--time-budget`, counted from now, runs out: no run starts
    /// after it, so the campaign ends within the budget and one run's time
    /// limit.
    fn deadline(&self) -> Option<Instant> {
        self.time_budget.map(|budget| Instant::now() + budget)
    }

    /// `result`, unless the interrupt was raised: then whatever went wrong
    /// came of it (a killed run), and the campaign ends.
    fn interruptible<T>(&self, result: Result<T, ExploreError>) -> Result<T, ExploreError> {
        match self.interrupt.signal() {
            Some(signal) => Err(ExploreError::Interrupted(signal)),
            None => result,
        }
    }

    /// The runs of `plan` this campaign makes.
    fn runs(&self, plan: &Plan) -> Vec<PlannedRun> {
        let done: std::collections::HashSet<&str> =
            self.done.iter().map(|point| point.id.as_str()).collect();
        let mut runs: Vec<PlannedRun> = plan
            .runs()
            .into_iter()
            .enumerate()
            .filter(|(n, _)| self.shard.is_none_or(|shard| shard.holds(*n)))
            .map(|(_, run)| run)
            .filter(|run| !done.contains(plan.points[run.point].key.id(run.fault).as_str()))
            .collect();
        if let Some(max) = self.max_runs {
            runs.truncate(max);
        }
        runs
    }
}

/// Run a campaign: record, inject every planned fault (within the budget),
/// classify, and report.
pub fn explore(options: &Options) -> Result<Report, ExploreError> {
    options.check()?;
    if let Some(crash) = &options.crash {
        return power::campaign(options, crash);
    }
    let deadline = options.deadline();
    let scratch = Scratch::new()?;
    let mut recording = options.interruptible(options.record(&scratch.0))?;
    let runs = options.runs(&recording.plan);
    let planned = recording.plan.runs().len();
    // The stacks are named beside the runs, which do not need them; the
    // report does.
    let naming = recording
        .unnamed
        .take()
        .map(|unnamed| std::thread::spawn(move || unnamed.name()));
    let mut points = run_jobs(options, deadline, &runs, |n, run| {
        options
            .inject(&recording, run, &scratch.0, n)
            .map(|point| vec![point])
    })?;
    if let Some(naming) = naming {
        let stacks = naming
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        recording.plan.name_stacks(stacks);
        let stacks: HashMap<&PointKey, &Vec<String>> = recording
            .plan
            .points
            .iter()
            .map(|point| (&point.key, &point.stack))
            .collect();
        for point in &mut points {
            if let Some(stack) = stacks.get(&point.key) {
                point.stack = (*stack).clone();
            }
        }
    }
    points.extend(options.done.iter().cloned());
    Ok(Report::new(
        options.command_text(),
        planned,
        points,
        &options.suppressions,
    ))
}

impl Options {
    /// Make run number `n`: inject `run`'s fault in a fresh directory and
    /// classify what happened.
    fn inject(
        &self,
        recording: &Recording,
        run: &PlannedRun,
        scratch: &Path,
        n: usize,
    ) -> Result<TriedPoint, ExploreError> {
        let planned = &recording.plan.points[run.point];
        let id = planned.key.id(run.fault);
        let observed = self.run_injected(
            &id,
            Some(&planned.key),
            &recording.plan.random,
            scratch,
            &format!("run-{n}"),
            recording.timeout,
        )?;
        let (outcome, detail) = classify(&recording.baseline, &observed, self.program.check_always);
        let dir = match &self.program.workdir {
            Some(workdir) => self.program.cwd.join(workdir),
            None => self.program.cwd.clone(),
        };
        let rule = planned.rule.as_ref().and_then(|target| {
            rule::command_line(
                target,
                &planned.key.syscall,
                run.fault,
                &dir,
                &self.command_text(),
            )
        });
        Ok(TriedPoint {
            loss: classify::loss(&recording.baseline, &observed),
            replay: self.replay_command(&id),
            rule: rule.unwrap_or_default(),
            id,
            key: planned.key.clone(),
            fault: run.fault,
            outcome,
            detail,
            stack: planned.stack.clone(),
        })
    }

    /// A run injecting `id` (at the point with key `expected`, if known),
    /// keying files with the `random` names. A run that does not reach its
    /// point is made again, up to [`TRIES_TO_REACH`] runs in all, unless
    /// the campaign was interrupted: the last run is the one told.
    fn run_injected(
        &self,
        id: &str,
        expected: Option<&PointKey>,
        random: &RandomNames,
        scratch: &Path,
        name: &str,
        timeout: Duration,
    ) -> Result<Observed, ExploreError> {
        let mut observed = self.run_injected_once(id, expected, random, scratch, name, timeout)?;
        for again in 1..TRIES_TO_REACH {
            if observed.probe.fired.is_some() || self.interrupt.is_raised() {
                break;
            }
            let name = format!("{name}-again-{again}");
            observed = self.run_injected_once(id, expected, random, scratch, &name, timeout)?;
        }
        Ok(observed)
    }

    /// One run injecting `id`, as [`Self::run_injected`] says.
    fn run_injected_once(
        &self,
        id: &str,
        expected: Option<&PointKey>,
        random: &RandomNames,
        scratch: &Path,
        name: &str,
        timeout: Duration,
    ) -> Result<Observed, ExploreError> {
        let dir = RunDir::prepare(&self.program, scratch, name)
            .map_err(|e| ExploreError::Failed(format!("preparing a run: {e}")))?;
        let (probe, report) = Probe::new(
            self.scope(dir.path(), random)?,
            self.faults.clone(),
            ProbeMode::Inject(id.to_string(), expected.cloned()),
        );
        let injector = trial::Injector::Probe(Box::new(probe), report, Clock::Real);
        Ok(trial::run(
            &self.program,
            &dir,
            injector,
            timeout,
            &self.interrupt,
        )?)
    }
}

/// How many runs try to reach a point before it is called not reached. A
/// program varies by itself: git names a commit by a hash over the time,
/// and in one run of about fifty its directory already exists, so the
/// `mkdir` the recording made does not happen. The next run reaches it.
const TRIES_TO_REACH: usize = 3;

/// What a replay showed.
#[derive(Debug)]
pub struct Replayed {
    /// The outcome against a fresh run without faults.
    pub outcome: Outcome,
    /// Why.
    pub detail: String,
    /// Where and what was injected, if it fired.
    pub fired: Option<(String, Fault, Vec<String>)>,
    /// The injected run's standard output and error (their starts).
    pub output: (String, String),
    /// How the program ended (`exit 0`, `SIGSEGV`).
    pub status: String,
    /// What the check said: `None` without a check.
    pub check: Option<String>,
}

/// Replay injection `id`: a run without faults to compare with, then the
/// run with that one fault.
pub fn replay(options: &Options, id: &str) -> Result<Replayed, ExploreError> {
    options.check()?;
    let scratch = Scratch::new()?;
    let recording = options.interruptible(options.record(&scratch.0))?;
    let expected = recording
        .plan
        .points
        .iter()
        .find(|point| point.faults.iter().any(|&fault| point.key.id(fault) == id))
        .map(|point| &point.key);
    let observed = options.interruptible(options.run_injected(
        id,
        expected,
        &recording.plan.random,
        &scratch.0,
        "replay",
        recording.timeout,
    ))?;
    let (outcome, detail) = classify(&recording.baseline, &observed, options.program.check_always);
    let fired = observed.probe.fired.as_ref().map(|fired| {
        let place = format!("{} {}", fired.key.syscall, fired.key.path);
        (
            place,
            fired.fault,
            crate::tracee::stack::symbolize(&fired.frames),
        )
    });
    let check = options
        .program
        .check
        .as_ref()
        .map(|_| match &observed.check_failed {
            Some(failure) => failure.clone(),
            None => "passed".to_string(),
        });
    Ok(Replayed {
        outcome,
        detail,
        fired,
        output: (observed.stdout.text(), observed.stderr.text()),
        status: classify::describe(observed.status),
        check,
    })
}

/// How long after a run that took `took` and ended at `now` the next one
/// waits, so that the times in seconds it reads differ from the first's:
/// until a second has passed since the first began (each moment of the
/// second run then reads a later second than the same moment of the first)
/// or, when that comes sooner, until the clock's next whole second (every
/// moment of it then reads a later second than any of the first), plus
/// [`COARSE_CLOCK`].
fn until_another_second(took: Duration, now: SystemTime) -> Duration {
    let into_second = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| Duration::from_nanos(since.subsec_nanos().into()))
        .unwrap_or_default();
    let to_next_second = Duration::from_secs(1) - into_second + COARSE_CLOCK;
    Duration::from_secs(1)
        .saturating_sub(took)
        .min(to_next_second)
}

/// How far behind the clock `time()` may read: it reads the kernel's
/// coarse clock, at most a timer tick behind.
const COARSE_CLOCK: Duration = Duration::from_millis(20);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_recording_waits_for_the_sooner_of_a_second_and_the_next_whole_second() {
        let at = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(1_000_000 + ms);
        let ms = Duration::from_millis;
        // A short run ended early in its second: the next second comes first.
        assert_eq!(until_another_second(ms(10), at(100)), ms(920));
        // Ended late in its second: the next second is near.
        assert_eq!(until_another_second(ms(10), at(990)), ms(30));
        // A run of most of a second: a second after its start comes first.
        assert_eq!(until_another_second(ms(990), at(500)), ms(10));
        // A run longer than a second: no wait.
        assert_eq!(until_another_second(ms(1500), at(500)), Duration::ZERO);
    }
}
