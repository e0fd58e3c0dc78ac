//! The plan: the fault points a recording found, with the faults to try at
//! each, in the order a campaign tries them. Saved as JSON (`--plan`), so a
//! campaign can be repeated or split across machines exactly.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::faults::Fault;
use std::collections::HashMap;

use super::key::{PointKey, RandomNames};
use super::probe::SeenPoint;
use super::rule::{self, RuleTarget};
use crate::tracee::stack::{Frame, Namer};

/// The plan's format version.
const PLAN_VERSION: u32 = 1;

/// One point of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedPoint {
    /// Its key.
    pub key: PointKey,
    /// The faults to try there.
    pub faults: Vec<Fault>,
    /// Its call stack, named where symbols allow.
    pub stack: Vec<String>,
    /// Which call it is to a plain rule, where a rule can select it.
    #[serde(default)]
    pub rule: Option<RuleTarget>,
}

/// The recorded points of a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The format version.
    pub version: u32,
    /// The explored command.
    pub command: Vec<String>,
    /// The points, in the order the recording made their calls.
    pub points: Vec<PlannedPoint>,
    /// The random file names the recordings showed, which every run's keys
    /// use.
    #[serde(default)]
    pub random: RandomNames,
}

/// The frames of an unnamed plan's points, in order.
pub struct Unnamed(Vec<Vec<Frame>>);

impl Unnamed {
    /// The stacks' names, with one namer for all of them: the modules'
    /// symbols are read once.
    pub fn name(self) -> Vec<Vec<String>> {
        let namer = Namer::new();
        self.0.iter().map(|frames| namer.name(frames)).collect()
    }
}

/// One run to make: a point and a fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRun {
    /// Index of the point in the plan.
    pub point: usize,
    /// The fault to inject.
    pub fault: Fault,
}

impl Plan {
    /// The plan of a recording's calls, keyed with the `random` names: the
    /// points with faults to try whose call did not fail there already,
    /// their stacks named.
    pub fn new(command: Vec<String>, seen: Vec<SeenPoint>, random: RandomNames) -> Plan {
        let (mut plan, unnamed) = Plan::unnamed(command, seen, random);
        plan.name_stacks(unnamed.name());
        plan
    }

    /// The plan as [`Plan::new`] makes it, but with its stacks not named
    /// yet (empty), and their frames, to name apart (reading the modules'
    /// symbols takes longer than the rest of the planning).
    pub fn unnamed(
        command: Vec<String>,
        seen: Vec<SeenPoint>,
        random: RandomNames,
    ) -> (Plan, Unnamed) {
        let mut counts: HashMap<PointKey, u32> = HashMap::new();
        let rules = rule::targets(&seen, &random);
        let mut frames = Vec::new();
        let points = seen
            .into_iter()
            .zip(rules)
            .filter_map(|(point, rule)| {
                let mut key = PointKey {
                    path: random.class(&point.path),
                    ordinal: 0,
                    ..point.key
                };
                let count = counts.entry(key.clone()).or_insert(0);
                *count += 1;
                key.ordinal = *count;
                (!point.failed && !point.faults.is_empty()).then(|| {
                    frames.push(point.frames);
                    PlannedPoint {
                        stack: Vec::new(),
                        key,
                        faults: point.faults,
                        rule,
                    }
                })
            })
            .collect();
        let plan = Plan {
            version: PLAN_VERSION,
            command,
            points,
            random,
        };
        (plan, Unnamed(frames))
    }

    /// Give the points their stacks' names, in order (from [`Unnamed::name`]).
    pub fn name_stacks(&mut self, stacks: Vec<Vec<String>>) {
        for (point, stack) in self.points.iter_mut().zip(stacks) {
            point.stack = stack;
        }
    }

    /// Read a plan saved with [`Plan::save`].
    pub fn load(path: &Path) -> Result<Plan, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("--plan {}: {e}", path.display()))?;
        let plan: Plan = serde_json::from_str(&text)
            .map_err(|e| format!("--plan {}: not a plan: {e}", path.display()))?;
        if plan.version != PLAN_VERSION {
            return Err(format!(
                "--plan {}: plan version {} (this fault reads {PLAN_VERSION})",
                path.display(),
                plan.version
            ));
        }
        Ok(plan)
    }

    /// Write the plan as JSON.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("a plan serializes");
        std::fs::write(path, text).map_err(|e| format!("--plan {}: {e}", path.display()))
    }

    /// Every run of the plan, in the order to try them: points near a call
    /// of the fsync family first (where crash-consistency bugs cluster),
    /// then in call order.
    pub fn runs(&self) -> Vec<PlannedRun> {
        let syncs: Vec<usize> = (0..self.points.len())
            .filter(|&i| is_sync(&self.points[i].key.syscall))
            .collect();
        let distance = |i: usize| {
            syncs
                .iter()
                .map(|&s| s.abs_diff(i))
                .min()
                .unwrap_or(usize::MAX)
        };
        let mut order: Vec<usize> = (0..self.points.len()).collect();
        order.sort_by_key(|&i| (distance(i).min(2), i));
        order
            .into_iter()
            .flat_map(|point| {
                self.points[point]
                    .faults
                    .iter()
                    .map(move |&fault| PlannedRun { point, fault })
            })
            .collect()
    }
}

fn is_sync(syscall: &str) -> bool {
    matches!(
        syscall,
        "fsync" | "fdatasync" | "msync" | "sync_file_range" | "syncfs"
    )
}

/// A slice `index` of `count` (`--shard I/N`, 1-based) of a campaign's runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This slice, from 1.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl Shard {
    /// Read `I/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {text}: expected I/N with 1 <= I <= N, as in 2/4");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = index.trim().parse().map_err(|_| bad())?;
        let count: usize = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether run number `n` (in plan order) belongs to this slice.
    pub fn holds(&self, n: usize) -> bool {
        n % self.count == self.index - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_runs() {
        let shards: Vec<Shard> = (1..=4)
            .map(|i| Shard::parse(&format!("{i}/4")).unwrap())
            .collect();
        for n in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.holds(n)).count(), 1);
        }
        for bad in ["0/4", "5/4", "1/0", "x", "1/"] {
            assert!(Shard::parse(bad).unwrap_err().contains(bad));
        }
    }
}
