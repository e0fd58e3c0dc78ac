//! The `-c` table: per syscall, how many calls fi stopped, tampered with, and
//! saw fail.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

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
    /// ..., "tampered": ..., "errors": ...}, ...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        let rows: Vec<_> = self
            .rows()
            .iter()
            .map(|(name, c)| {
                serde_json::json!({"syscall": name, "stops": c.stops, "tampered": c.tampered, "errors": c.errors})
            })
            .collect();
        serde_json::json!({ "summary": rows })
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>10} {:>10} {:>10}",
            "syscall", "stops", "tampered", "errors"
        )?;
        writeln!(f, "{:-<20} {:->10} {:->10} {:->10}", "", "", "", "")?;
        let mut total = Counts::default();
        for (name, counts) in &self.rows() {
            writeln!(
                f,
                "{name:<20} {:>10} {:>10} {:>10}",
                counts.stops, counts.tampered, counts.errors
            )?;
            total.stops += counts.stops;
            total.tampered += counts.tampered;
            total.errors += counts.errors;
        }
        writeln!(f, "{:-<20} {:->10} {:->10} {:->10}", "", "", "", "")?;
        writeln!(
            f,
            "{:<20} {:>10} {:>10} {:>10}",
            "total", total.stops, total.tampered, total.errors
        )
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
