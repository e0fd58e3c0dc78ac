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

pub mod classify;
pub mod events;
pub mod faults;
pub mod html;
pub mod key;
mod links;
pub mod plan;
pub mod power;
pub mod probe;
pub mod report;
pub mod running;
pub mod trial;
pub mod uncaught;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use globset::{Glob, GlobSet, GlobSetBuilder};
use syscalls::SysnoSet;

use crate::interrupt::{self, Interrupt};
use classify::{classify, Baseline, Outcome};
use faults::{Fault, FaultChoice};
use key::{PointKey, RandomNames};
use plan::{Plan, PlannedRun, Shard};
use probe::{Probe, ProbeMode, Scope};
use report::{Report, Suppressions, TriedPoint};
use trial::{Observed, Program, RunDir};

/// The time limit of the recording run when none is given.
const RECORDING_LIMIT: Duration = Duration::from_secs(600);

/// A campaign's settings.
#[derive(Debug)]
pub struct Options {
    /// What to run, where, and the check.
    pub program: Program,
    /// The explored syscalls (default: [`faults::default_syscalls`]).
    pub syscalls: SysnoSet,
    /// Socket calls are points too.
    pub network: bool,
    /// Path globs that set the scope instead of the working directory
    /// (relative ones are taken in the run's working directory).
    pub paths: Vec<String>,
    /// Every call of the explored syscalls is a point.
    pub all_paths: bool,
    /// The faults to try.
    pub faults: FaultChoice,
    /// A run still going after this is a hang (default: ten times the
    /// recording's duration, at least 10 s).
    pub timeout: Option<Duration>,
    /// Try at most this many runs (0: record the plan only).
    pub max_runs: Option<usize>,
    /// Start no run after this much time.
    pub time_budget: Option<Duration>,
    /// Runs at once (needs a work directory to copy).
    pub jobs: usize,
    /// Try only this slice of the runs.
    pub shard: Option<Shard>,
    /// Read the plan from this file if it exists, or save it there.
    pub plan_file: Option<PathBuf>,
    /// Findings to leave out.
    pub suppressions: Suppressions,
    /// Crash at every durability point instead of failing calls
    /// (`--crash`).
    pub crash: Option<power::CrashOptions>,
    /// Runs an earlier, interrupted campaign already made (`--resume`):
    /// not made again, and part of the report.
    pub done: Vec<TriedPoint>,
    /// The command line that repeats this campaign's scope, before
    /// `--replay ID -- CMD` (`fault explore --workdir d`), shell-quoted.
    pub replay_prefix: String,
    /// Who hears of the runs' progress.
    pub progress: events::Reporter,
    /// Raised, it ends the campaign: no run starts, the running ones are
    /// killed and left out, and the points already tried are returned.
    pub interrupt: Arc<Interrupt>,
}

/// Why a campaign could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// The options do not make a campaign.
    #[error("{0}")]
    Invalid(String),
    /// The run without faults failed in a way that makes comparison
    /// meaningless, or a run could not be made.
    #[error("{0}")]
    Failed(String),
    /// The program could not be started.
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
    /// The campaign's interrupt was raised (by this signal) before it had
    /// anything to report: during the recording.
    #[error("interrupted by signal {0} during the recording")]
    Interrupted(i32),
}

/// The scratch directory of a campaign (its runs' copies), removed at the
/// end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, ExploreError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let path =
            std::env::temp_dir().join(format!("fault-explore-{}-{nanos:08x}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|e| ExploreError::Failed(format!("creating {}: {e}", path.display())))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The recording: the runs without faults, and the plan.
struct Recording {
    baseline: Baseline,
    plan: Plan,
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
        self.note("recording: the run without faults");
        let mut baseline = self.run_recording(scratch, "record", limit)?;
        self.judge_faultless(&baseline, limit)?;
        let seen = std::mem::take(&mut baseline.probe.points);
        let timeout = self.run_limit(&baseline);
        // A second run without faults tells what varies by itself (its
        // output, its files, its random names); it starts in another
        // second, so that times in seconds vary too.
        self.note(&format!(
            "recorded {} calls in {:.1}s; a second run to see what varies by itself",
            seen.len(),
            baseline.duration.as_secs_f64()
        ));
        let pause = Instant::now() + Duration::from_secs(1).saturating_sub(baseline.duration);
        while Instant::now() < pause && !self.interrupt.is_raised() {
            std::thread::sleep(interrupt::POLL);
        }
        let mut again = self.interruptible(self.run_recording(scratch, "again", limit))?;
        let paths = |points: &[probe::SeenPoint]| -> Vec<String> {
            points.iter().map(|point| point.path.clone()).collect()
        };
        let random = RandomNames::learn(&paths(&seen), &paths(&again.probe.points));
        again.probe.points.clear();
        let plan = match &self.plan_file {
            Some(path) if path.exists() => {
                let plan = Plan::load(path).map_err(ExploreError::Invalid)?;
                if plan.command != self.command_text() {
                    return Err(ExploreError::Invalid(format!(
                        "--plan {}: recorded for `{}`, not this command",
                        path.display(),
                        plan.command.join(" ")
                    )));
                }
                plan
            }
            Some(path) => {
                let plan = Plan::new(self.command_text(), seen, random);
                plan.save(path).map_err(ExploreError::Failed)?;
                plan
            }
            None => Plan::new(self.command_text(), seen, random),
        };
        self.note(&format!(
            "planned {} runs at {} points",
            plan.runs().len(),
            plan.points.len()
        ));
        Ok(Recording {
            baseline: Baseline::new(baseline, &again),
            plan,
            timeout,
        })
    }

    /// A run without faults that lists every call of the scope.
    fn run_recording(
        &self,
        scratch: &Path,
        name: &str,
        limit: Duration,
    ) -> Result<Observed, ExploreError> {
        let dir = RunDir::prepare(&self.program, scratch, name)
            .map_err(|e| ExploreError::Failed(format!("preparing the recording: {e}")))?;
        let (probe, report) = Probe::new(
            self.scope(dir.path(), &RandomNames::default())?,
            self.faults.clone(),
            ProbeMode::Record,
        );
        let injector = trial::Injector::Probe(Box::new(probe), report);
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
    let recording = options.interruptible(options.record(&scratch.0))?;
    let runs = options.runs(&recording.plan);
    let planned = recording.plan.runs().len();
    let mut points = run_jobs(options, deadline, &runs, |n, run| {
        options
            .inject(&recording, run, &scratch.0, n)
            .map(|point| vec![point])
    })?;
    points.extend(options.done.iter().cloned());
    Ok(Report::new(
        options.command_text(),
        planned,
        points,
        &options.suppressions,
    ))
}

/// Make `work(n, item)` for every item on `options.jobs` threads, starting
/// none after `deadline`, showing progress; the points they tried. The
/// first error stops the campaign. Once the interrupt is raised no item
/// starts, and the items then running are left out (their runs were killed).
fn run_jobs<T: Sync>(
    options: &Options,
    deadline: Option<Instant>,
    items: &[T],
    work: impl Fn(usize, &T) -> Result<Vec<TriedPoint>, ExploreError> + Sync,
) -> Result<Vec<TriedPoint>, ExploreError> {
    let progress = Progress::new(items.len(), &options.progress);
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    let failure: Mutex<Option<ExploreError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.min(items.len().max(1)) {
            let sender = sender.clone();
            let (next, failure, work) = (&next, &failure, &work);
            scope.spawn(move || loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let over_budget = deadline.is_some_and(|deadline| Instant::now() >= deadline);
                let Some(item) = items.get(n) else { break };
                if over_budget || options.interrupt.is_raised() {
                    break;
                }
                let done = work(n, item);
                if options.interrupt.is_raised() {
                    break;
                }
                match done {
                    Ok(points) => {
                        if sender.send(points).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        failure
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(e);
                        next.store(items.len(), Ordering::Relaxed);
                        break;
                    }
                }
            });
        }
        drop(sender);
        for points in receiver.iter() {
            progress.advance(points);
        }
    });
    progress.finish();
    if let Some(error) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(error);
    }
    Ok(progress.into_points())
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
        Ok(TriedPoint {
            loss: classify::loss(&recording.baseline, &observed),
            replay: self.replay_command(&id),
            id,
            key: planned.key.clone(),
            fault: run.fault,
            outcome,
            detail,
            stack: planned.stack.clone(),
        })
    }

    /// A run injecting `id` (at the point with key `expected`, if known),
    /// keying files with the `random` names.
    fn run_injected(
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
        let injector = trial::Injector::Probe(Box::new(probe), report);
        Ok(trial::run(
            &self.program,
            &dir,
            injector,
            timeout,
            &self.interrupt,
        )?)
    }
}

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

/// Quote `text` for a POSIX shell, if it needs it.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The campaign's progress: the points tried so far, told to the reporter
/// as each run ends.
struct Progress<'a> {
    reporter: &'a events::Reporter,
    total: usize,
    done: AtomicUsize,
    points: Mutex<Vec<TriedPoint>>,
}

impl Progress<'_> {
    fn new(total: usize, reporter: &events::Reporter) -> Progress<'_> {
        reporter.emit(&events::Event::Started { total });
        Progress {
            reporter,
            total,
            done: AtomicUsize::new(0),
            points: Mutex::new(Vec::new()),
        }
    }

    /// One item done, with the points it tried.
    fn advance(&self, tried: Vec<TriedPoint>) {
        let mut points = self.points.lock().unwrap_or_else(|e| e.into_inner());
        points.extend(tried.iter().cloned());
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let findings = points.iter().filter(|p| p.outcome.is_finding()).count();
        self.reporter.emit(&events::Event::RunDone {
            tried: &tried,
            done,
            total: self.total,
            findings,
        });
    }

    fn finish(&self) {
        self.reporter.emit(&events::Event::Finished);
    }

    fn into_points(self) -> Vec<TriedPoint> {
        self.points.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}
