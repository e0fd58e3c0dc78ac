//! Power loss without FUSE or root: a durability model of the files under a
//! root directory, kept from the calls the program makes, and a crash at a
//! chosen call after which the files are rewritten to a state a power cut
//! may leave.
//!
//! The model ([`model`]) follows, under the root, every change to a file's
//! data or size (the write family, `ftruncate`, `fallocate`,
//! `copy_file_range`, `sendfile`, `splice`, `O_TRUNC`) since that file's
//! last `fsync`/`fdatasync` (writes through `O_SYNC`/`O_DSYNC` descriptors
//! or with `RWF_SYNC`/`RWF_DSYNC` are durable at once), and every change to
//! a directory's entries (create, link, symlink, mkdir, mknod, rename,
//! unlink, rmdir) since that directory's last `fsync`, and shared writable
//! mappings (their range counts as rewritten until `msync(MS_SYNC)` or an
//! fsync); `sync` and `syncfs` make everything durable. Before a change runs it keeps what undoes it:
//! the bytes a write overwrites (in memory up to a budget, then in a spill
//! file), a hard link to a file a rename replaces or an unlink removes.
//!
//! A [`Crash`] is added to a [`Session`](crate::session::Session) with
//! [`Session::crash`](crate::session::Session::crash). At the crash point,
//! just after the chosen call returns, the engine kills the whole traced
//! tree with SIGKILL; when every process is gone the files are rewritten as
//! the [`CrashMode`] says and the [`CrashReport`] (in the outcome's
//! [`crash`](crate::session::Outcome::crash)) says what was lost.
//! `docs/power-loss.md` explains the model and its limits.

mod fs;
mod log;
mod model;
mod names;
mod point;
mod policy;
mod restore;
mod state;
mod store;
mod unsynced;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use syscalls::SysnoSet;

pub use fs::Fs;
use point::Ack;
pub use point::{CrashAt, Point, Predicate};
pub(crate) use policy::{CrashPolicy, ReportSlot};
pub(crate) use unsynced::UnsyncedWrites;

use crate::model::Call;
use crate::tracee::Tracee;

/// The most losses [`CrashReport::lines`] lists one by one.
const MAX_LINES: usize = 50;

/// Memory the model keeps old bytes in before it spills to disk (16 MiB).
const DEFAULT_MEMORY: u64 = 16 << 20;

/// What state the files are left in, after LazyFS's faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CrashMode {
    /// Every unsynced change is undone, data and directory entries: the
    /// files as they were at their last sync.
    LoseUnsynced,
    /// Directory changes survive (as a journal commits them), unsynced data
    /// is lost, except that the last unsynced write keeps a prefix.
    Torn(Tear),
    /// A subset of the unsynced data changes survives, and a prefix of the
    /// unsynced directory changes (in the order they were made), chosen by
    /// the seed.
    Reorder,
    /// Reorder state N of [`CrashReport::reorder_states`] (data changes
    /// kept as the low bits of N say, the oldest first; the number of
    /// directory changes kept is N >> the number of data changes): for a
    /// campaign that tries them all.
    ReorderState(u64),
}

/// Where a torn write ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tear {
    /// On a 512-byte sector boundary inside the write (chosen by the seed;
    /// nothing of a write inside one sector).
    Sector,
    /// After any number of bytes short of the whole (chosen by the seed).
    Any,
}

impl FromStr for CrashMode {
    type Err = String;

    /// `lose-unsynced`, `torn` (sector-aligned), `torn-any`, `reorder` or
    /// `reorder=N`.
    fn from_str(text: &str) -> Result<CrashMode, String> {
        Ok(match text {
            "lose-unsynced" => CrashMode::LoseUnsynced,
            "torn" => CrashMode::Torn(Tear::Sector),
            "torn-any" => CrashMode::Torn(Tear::Any),
            "reorder" => CrashMode::Reorder,
            _ => match text.strip_prefix("reorder=").map(str::parse) {
                Some(Ok(n)) => CrashMode::ReorderState(n),
                _ => {
                    return Err(format!(
                        "unknown crash mode '{text}' (expected lose-unsynced, torn, torn-any, \
                         reorder or reorder=N)"
                    ))
                }
            },
        })
    }
}

impl fmt::Display for CrashMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CrashMode::LoseUnsynced => f.write_str("lose-unsynced"),
            CrashMode::Torn(Tear::Sector) => f.write_str("torn"),
            CrashMode::Torn(Tear::Any) => f.write_str("torn-any"),
            CrashMode::Reorder => f.write_str("reorder"),
            CrashMode::ReorderState(n) => write!(f, "reorder={n}"),
        }
    }
}

/// A crash to simulate in a run: the root whose files are modelled, the
/// mode, the seed of its choices and the crash point. Without a crash
/// point the run only counts its durability points.
pub struct Crash {
    pub(crate) root: PathBuf,
    pub(crate) mode: CrashMode,
    pub(crate) seed: u64,
    pub(crate) point: Option<Predicate>,
    pub(crate) point_calls: SysnoSet,
    pub(crate) name: String,
    pub(crate) scratch: Option<PathBuf>,
    pub(crate) memory: u64,
    pub(crate) acks: Vec<Ack>,
    pub(crate) fs: Fs,
}

impl Crash {
    /// A crash in `mode` (choices seeded by `seed`) of the files under
    /// `root`, which must be an existing directory when the run starts. A
    /// relative root is taken in the program's working directory (the
    /// command's, or fi's).
    pub fn new(root: impl Into<PathBuf>, mode: CrashMode, seed: u64) -> Crash {
        Crash {
            root: root.into(),
            mode,
            seed,
            point: None,
            point_calls: SysnoSet::empty(),
            name: "crash".into(),
            scratch: None,
            memory: DEFAULT_MEMORY,
            acks: Vec::new(),
            fs: Fs::Posix,
        }
    }

    /// What the file system keeps of unsynced changes ([`Fs`]; default
    /// [`Fs::Posix`], the strictest: a program that survives it survives
    /// every profile, and each crash report says which profiles can leave
    /// its state, [`CrashReport::reachable_on`]).
    pub fn fs(mut self, fs: Fs) -> Crash {
        self.fs = fs;
        self
    }

    /// Crash after the first call the model follows (the write family,
    /// syncs, opens, directory changes) that `predicate` accepts.
    pub fn at(
        self,
        predicate: impl FnMut(&Call, &Tracee, &Point) -> bool + Send + 'static,
    ) -> Crash {
        self.at_calls(SysnoSet::empty(), predicate)
    }

    /// As [`Crash::at`], with the calls of `calls` shown to the predicate
    /// too (stopped for its sake).
    pub fn at_calls(
        mut self,
        calls: SysnoSet,
        predicate: impl FnMut(&Call, &Tracee, &Point) -> bool + Send + 'static,
    ) -> Crash {
        self.point = Some(Box::new(predicate));
        self.point_calls = calls;
        self
    }

    /// Crash after the `n`th durability point (1 for the first): the `n`th
    /// call that writes, syncs or changes a directory entry under the root.
    pub fn at_durability_point(self, n: u64) -> Crash {
        let name = format!("crash at durability point {n}");
        let mut crash = self.at(move |_, _, point| point.durability_point == Some(n));
        crash.name = name;
        crash
    }

    /// Writes to `target` acknowledge what the program made safe: each is
    /// an acknowledgement point ([`Point::ack_point`]). `-` or
    /// `/dev/stdout` is the main process's standard output; a relative path
    /// is taken in the main process's working directory. What the program
    /// acknowledged is what a power loss must not take back, so a campaign
    /// crashes just after each.
    pub fn ack(mut self, target: &str) -> Crash {
        self.acks.push(Ack::parse(target));
        self
    }

    /// Crash after the `n`th acknowledgement ([`Crash::ack`]).
    pub fn at_ack(self, n: u64) -> Crash {
        let name = format!("crash at acknowledgement {n}");
        let mut crash = self.at(move |_, _, point| point.ack_point == Some(n));
        crash.name = name;
        crash
    }

    /// Crash at the end of the run: when the program's main process calls
    /// `exit_group`, after its last call (a power cut just after the
    /// program said it was done). The rest of the tree is killed with it.
    pub fn at_end(self) -> Crash {
        let calls = SysnoSet::new(&[syscalls::Sysno::exit_group]);
        let mut crash = self.at_calls(calls, |_, _, point| point.end);
        crash.name = "crash at the end of the run".into();
        crash
    }

    /// Crash where `--crash-at SET[:when=EXPR][:path=GLOB]` says
    /// ([`CrashAt`]), or at the end of the run for `end`; an error names
    /// the wrong part.
    pub fn at_spec(self, spec: &str) -> Result<Crash, String> {
        if spec == "end" {
            return Ok(self.at_end());
        }
        let mut at = CrashAt::parse(spec)?;
        let calls = at.syscalls.clone();
        let mut crash = self.at_calls(calls, move |call, tracee, _| at.matches(call, tracee));
        crash.name = format!("--crash-at {spec}");
        Ok(crash)
    }

    /// Keep the spill file and the files a rename replaces or an unlink
    /// removes in a new directory inside `dir` (default: the system's
    /// temporary directory). On the root's file system, kept files are hard
    /// links rather than copies.
    pub fn scratch_in(mut self, dir: impl Into<PathBuf>) -> Crash {
        self.scratch = Some(dir.into());
        self
    }

    /// Keep at most `bytes` of old contents in memory (default 16 MiB);
    /// the rest goes to the spill file.
    pub fn memory_budget(mut self, bytes: u64) -> Crash {
        self.memory = bytes;
        self
    }
}

/// The call after which the crash came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashedAt {
    /// The call as it entered.
    pub call: Call,
    /// Its name (`rename`).
    pub syscall: String,
    /// Its number among the durability points, if it is one.
    pub durability_point: Option<u64>,
    /// Its number among the acknowledgements, if it is one.
    pub ack_point: Option<u64>,
    /// The paths it touched (path arguments, then files behind its fds).
    pub paths: Vec<PathBuf>,
    /// The `--crash-at` that crashes after the same call of the same run
    /// (`rename:when=2`: its syscall, counted over the whole run; `end`
    /// for the end of the run).
    pub replay: String,
}

/// One change that did not survive the crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lost {
    /// Bytes written to `path` (its name when written) in `range` are back
    /// to what they held before (a hole past the old end).
    Bytes {
        /// The file.
        path: PathBuf,
        /// The file offsets.
        range: Range<u64>,
        /// The call that wrote them.
        syscall: String,
    },
    /// A size change of `path` is undone.
    Size {
        /// The file.
        path: PathBuf,
        /// The size the change gave it.
        was: u64,
        /// The size it has again.
        back_to: u64,
    },
    /// A name created is gone.
    Created {
        /// The name.
        path: PathBuf,
    },
    /// A name removed is back.
    Removed {
        /// The name.
        path: PathBuf,
    },
    /// A rename is undone: `to` names what it named before (or nothing).
    Renamed {
        /// The old name, which names the file again.
        from: PathBuf,
        /// The new name.
        to: PathBuf,
    },
}

impl Lost {
    /// One line for a person, with paths relative to `root` if given.
    pub fn describe(&self, root: Option<&Path>) -> String {
        let show = |p: &Path| relative(p, root);
        match self {
            Lost::Bytes {
                path,
                range,
                syscall,
            } => format!(
                "{}: bytes {}..{} ({} bytes, {syscall})",
                show(path),
                range.start,
                range.end,
                range.end - range.start
            ),
            Lost::Size { path, was, back_to } => {
                format!("{}: size {was} back to {back_to}", show(path))
            }
            Lost::Created { path } => format!("{}: creation undone", show(path)),
            Lost::Removed { path } => format!("{}: removal undone", show(path)),
            Lost::Renamed { from, to } => {
                format!("rename {} -> {} undone", show(from), show(to))
            }
        }
    }
}

/// `path` relative to `root` if it is under it, for a person.
fn relative(path: &Path, root: Option<&Path>) -> String {
    root.and_then(|r| path.strip_prefix(r).ok())
        .filter(|rel| !rel.as_os_str().is_empty())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// What a crash did, or why there was none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashReport {
    /// The root modelled (absolute).
    pub root: PathBuf,
    /// The mode.
    pub mode: CrashMode,
    /// The persistence profile the crash state was chosen on.
    pub fs: Fs,
    /// The profiles on which a power loss can leave that state (empty
    /// without a crash).
    pub reachable_on: Vec<Fs>,
    /// The seed of the mode's choices.
    pub seed: u64,
    /// The crash point; `None` when the run ended before reaching it (the
    /// files are then as the program left them).
    pub point: Option<CrashedAt>,
    /// Durability points seen up to the crash (or in the whole run).
    pub durability_points: u64,
    /// Acknowledgements ([`Crash::ack`]) seen up to the crash (or in the
    /// whole run).
    pub ack_points: u64,
    /// Unsynced changes at the crash (or at the end of the run).
    pub unsynced: usize,
    /// How many states [`CrashMode::ReorderState`] can choose from at this
    /// point; `None` when too many to enumerate.
    pub reorder_states: Option<u64>,
    /// The reorder states that keep a prefix of the unsynced changes in
    /// the order they were made (the first none, one, two ... all), which
    /// a campaign tries first; empty when too many to enumerate.
    pub prefix_states: Vec<u64>,
    /// What did not survive, oldest change first: only what the rewrite
    /// really undid.
    pub lost: Vec<Lost>,
    /// Names under the root whose file also had a name outside it (a hard
    /// link): each was given its own copy of the file before it was
    /// rewritten, so that the name outside keeps what the program wrote.
    pub own_copies: Vec<PathBuf>,
    /// Bytes of old contents that went to the spill file over the run.
    pub spilled_bytes: u64,
    /// Steps of the rewrite that failed, and calls the model could not
    /// follow.
    pub problems: Vec<String>,
}

impl CrashReport {
    /// Which profiles can leave this state, for a person: "reachable on
    /// posix, ext4, xfs and btrfs", "POSIX only: ext4, xfs and btrfs keep
    /// it".
    pub fn reachability(&self) -> String {
        let keep: Vec<Fs> = Fs::ALL
            .into_iter()
            .filter(|fs| !self.reachable_on.contains(fs))
            .collect();
        match self.reachable_on.as_slice() {
            [Fs::Posix] => format!("POSIX only: {} keep it", fs::listed(&keep)),
            reachable if keep.is_empty() => {
                format!("reachable on {}", fs::listed(reachable))
            }
            reachable => format!(
                "reachable on {}; {} keep it",
                fs::listed(reachable),
                fs::listed(&keep)
            ),
        }
    }

    /// The report as lines for a person (the command prints them).
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        match &self.point {
            None => lines.push(format!(
                "no crash: the run ended before the crash point ({} durability points, {} \
                 changes unsynced at the end)",
                self.durability_points, self.unsynced
            )),
            Some(at) => {
                let point = match (at.durability_point, at.ack_point) {
                    (Some(n), _) => format!(", durability point {n}"),
                    (None, Some(n)) => format!(", acknowledgement {n}"),
                    (None, None) if at.replay == "end" => ", end of the run".into(),
                    (None, None) => String::new(),
                };
                let on = if at.paths.is_empty() {
                    String::new()
                } else {
                    let shown: Vec<String> = at
                        .paths
                        .iter()
                        .map(|p| relative(p, Some(&self.root)))
                        .collect();
                    format!(" on {}", shown.join(", "))
                };
                let states = self
                    .reorder_states
                    .map(|n| format!(", {n} reorder states"))
                    .unwrap_or_default();
                lines.push(format!(
                    "crash ({}, seed {}) after {}{on} [pid {}{point}]: {} unsynced \
                     changes{states}, {} lost",
                    self.mode,
                    self.seed,
                    at.syscall,
                    at.call.pid,
                    self.unsynced,
                    self.lost.len()
                ));
                if !self.lost.is_empty() {
                    lines.push(format!("  file systems: {}", self.reachability()));
                }
                lines.push(format!(
                    "  replay: --crash-at {} --crash-mode {} --seed {} --fs {}",
                    at.replay, self.mode, self.seed, self.fs
                ));
                if self.spilled_bytes > 0 {
                    lines.push(format!(
                        "  {} bytes of old contents were spilled to disk",
                        self.spilled_bytes
                    ));
                }
                lines.extend(
                    self.lost
                        .iter()
                        .take(MAX_LINES)
                        .map(|l| format!("  lost: {}", l.describe(Some(&self.root)))),
                );
                if self.lost.len() > MAX_LINES {
                    lines.push(format!("  ... and {} more", self.lost.len() - MAX_LINES));
                }
                lines.extend(self.own_copies.iter().map(|path| {
                    format!(
                        "  own copy: {}: its file also had a name outside the root, which keeps \
                         what the program wrote",
                        relative(path, Some(&self.root))
                    )
                }));
            }
        }
        lines.extend(self.problems.iter().map(|p| format!("  problem: {p}")));
        lines
    }
}
