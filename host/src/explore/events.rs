//! What a campaign tells whoever shows its progress. The library prints
//! nothing: the campaign emits [`Event`]s to the [`Reporter`] in its
//! options, and the command line renders them (a bar on a terminal, a line
//! per tenth of the runs otherwise), as nextest's runner and reporter do.

use std::fmt;
use std::sync::Arc;

use super::report::TriedPoint;

/// One step of a campaign's injected runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// How the campaign goes before its runs, in a line: recording,
    /// planning.
    Note {
        /// What is happening.
        what: &'a str,
    },
    /// The runs start: `total` of them (a crash campaign's: its crash
    /// points).
    Started {
        /// How many runs the campaign makes.
        total: usize,
    },
    /// One run is done.
    RunDone {
        /// The points it tried.
        tried: &'a [TriedPoint],
        /// The runs done so far, this one included.
        done: usize,
        /// How many runs the campaign makes.
        total: usize,
        /// The findings so far, this run's included.
        findings: usize,
    },
    /// A power-loss campaign's runs are over: how many crash points of each
    /// kind it had, and how it sampled their reorder states.
    CrashCoverage {
        /// Calls that write, sync or change an entry under the root.
        durability: u64,
        /// Writes that acknowledge (`--ack`).
        acknowledgements: u64,
        /// How the reorder states were sampled, in a line.
        reorder: &'a str,
    },
    /// The runs are over (all made, or the campaign stopped).
    Finished,
}

/// What hears the events: a function of each.
type Hear = dyn Fn(&Event) + Send + Sync;

/// Whoever hears of a campaign's [`Event`]s; by default no one.
#[derive(Clone, Default)]
pub struct Reporter(Option<Arc<Hear>>);

impl Reporter {
    /// A reporter that calls `hear` with every event, on the thread that
    /// runs the campaign.
    pub fn new(hear: impl Fn(&Event) + Send + Sync + 'static) -> Reporter {
        Reporter(Some(Arc::new(hear)))
    }

    /// Tell the reporter of `event`.
    pub fn emit(&self, event: &Event) {
        if let Some(hear) = &self.0 {
            hear(event);
        }
    }
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Reporter"
        } else {
            "Reporter(none)"
        })
    }
}
