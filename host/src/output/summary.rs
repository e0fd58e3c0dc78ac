//! The `-c` table: per syscall, the time its calls took (as strace's `-c -w`
//! measures it: from entry to return, for the calls fi saw return), how many
//! calls fi stopped, tampered with, and saw fail.

use foldhash::HashMap;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::record::CallRecord;
use crate::model::Call;
use crate::policy::chain::StageReport;

/// What happened to the calls of one syscall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls fi stopped.
    pub stops: u64,
    /// Calls a policy changed.
    pub tampered: u64,
    /// Calls that failed (as the caller saw them).
    pub errors: u64,
    /// The time the calls fi saw return took, from entry to return.
    pub time: Duration,
    /// How many calls `time` covers.
    pub timed: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.stops += other.stops;
        self.tampered += other.tampered;
        self.errors += other.errors;
        self.time += other.time;
        self.timed += other.timed;
    }

    /// The mean time of a timed call, in microseconds.
    fn usecs_per_call(&self) -> u128 {
        self.time.as_micros() / u128::from(self.timed.max(1))
    }
}

/// Counters for every syscall fi stopped.
#[derive(Debug, Default)]
pub struct Summary {
    /// By syscall number: counting costs no name lookup per call.
    by_number: HashMap<i64, Counts>,
}

impl Summary {
    /// Count one finished call.
    pub fn count(&mut self, record: &CallRecord) {
        let counts = self.by_number.entry(record.original.nr).or_default();
        counts.stops += 1;
        counts.tampered += u64::from(record.tampered());
        counts.errors += u64::from(record.result.is_some_and(|r| (-4095..0).contains(&r)));
        if let Some(took) = record.took {
            counts.time += took;
            counts.timed += 1;
        }
    }

    /// The counts of the syscall named `syscall`, if fi stopped any.
    pub fn get(&self, syscall: &str) -> Option<Counts> {
        let nr = syscall.parse::<syscalls::Sysno>().ok()?.id();
        self.by_number.get(&i64::from(nr)).copied()
    }

    /// Every counted syscall by name, sorted by name.
    pub fn rows(&self) -> BTreeMap<String, Counts> {
        self.by_number
            .iter()
            .map(|(&nr, &counts)| (Call::name_of(nr), counts))
            .collect()
    }
}

impl Summary {
    /// The table as one JSON object: `{"summary": [{"syscall": ..., "stops":
    /// ..., "tampered": ..., "errors": ..., "seconds": ..., "timed": ...},
    /// ...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        let rows: Vec<_> = self
            .rows()
            .iter()
            .map(|(name, c)| {
                serde_json::json!({
                    "syscall": name,
                    "stops": c.stops,
                    "tampered": c.tampered,
                    "errors": c.errors,
                    "seconds": c.time.as_secs_f64(),
                    "timed": c.timed,
                })
            })
            .collect();
        serde_json::json!({ "summary": rows })
    }
}

impl fmt::Display for Summary {
    /// strace's `-c` layout, most time first, with fault's columns:
    /// `% time  seconds  usecs/call  stops  tampered  errors  syscall`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = self.rows();
        let mut total = Counts::default();
        rows.values().for_each(|counts| total.add(counts));
        let mut by_time: Vec<(&String, &Counts)> = rows.iter().collect();
        by_time.sort_by(|(a, x), (b, y)| y.time.cmp(&x.time).then(a.cmp(b)));
        let line = |f: &mut fmt::Formatter<'_>| {
            writeln!(
                f,
                "{:->6} {:->11} {:->11} {:->10} {:->10} {:->10} {:-<20}",
                "", "", "", "", "", "", ""
            )
        };
        writeln!(
            f,
            "{:>6} {:>11} {:>11} {:>10} {:>10} {:>10} syscall",
            "% time", "seconds", "usecs/call", "stops", "tampered", "errors"
        )?;
        line(f)?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, counts: &Counts| {
            let share = match total.time.is_zero() {
                true => 0.0,
                false => 100.0 * counts.time.as_secs_f64() / total.time.as_secs_f64(),
            };
            writeln!(
                f,
                "{share:>6.2} {:>11.6} {:>11} {:>10} {:>10} {:>10} {name}",
                counts.time.as_secs_f64(),
                counts.usecs_per_call(),
                counts.stops,
                counts.tampered,
                counts.errors
            )
        };
        for (name, counts) in by_time {
            row(f, name, counts)?;
        }
        line(f)?;
        row(f, "total", &total)
    }
}

/// The per-stage rows of the end-of-run JSON object: `[{"stage": ...,
/// "changed": ...}, ...]`.
pub fn stages_json(stages: &[StageReport]) -> serde_json::Value {
    stages
        .iter()
        .map(|stage| serde_json::json!({"stage": stage.name, "changed": stage.changed}))
        .collect()
}

/// The `-c` table of how many calls each stage changed, in command-line
/// order, then an empty line (nothing without stages).
pub struct StageTable<'a>(pub &'a [StageReport]);

impl fmt::Display for StageTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        let width = self
            .0
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(0)
            .max(20);
        writeln!(f, "{:<width$} {:>10}", "stage", "changed")?;
        writeln!(f, "{:-<width$} {:->10}", "", "")?;
        for stage in self.0 {
            writeln!(f, "{:<width$} {:>10}", stage.name, stage.changed)?;
        }
        writeln!(f)
    }
}
