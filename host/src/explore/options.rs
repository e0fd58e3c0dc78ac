//! What a campaign is asked to do, and why it could not be done.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use syscalls::SysnoSet;

use super::events;
use super::faults::FaultChoice;
use super::plan::Shard;
use super::report::{Suppressions, TriedPoint};
use super::trial::Program;
use crate::crash::{CrashMode, Fs};
use crate::interrupt::Interrupt;

/// The time limit of the recording run when none is given.
pub(super) const RECORDING_LIMIT: Duration = Duration::from_secs(600);

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
    pub crash: Option<CrashOptions>,
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

/// How a crash campaign crashes.
#[derive(Clone, Debug)]
pub struct CrashOptions {
    /// The directory whose files are modelled (relative: in the run's
    /// working directory).
    pub root: PathBuf,
    /// Only this mode (`--crash-mode`); every mode without it.
    pub mode: Option<CrashMode>,
    /// Where the program acknowledges what it made safe (`--ack`).
    pub acks: Vec<String>,
    /// The file system whose persistence crashes follow (`--fs`).
    pub fs: Fs,
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
