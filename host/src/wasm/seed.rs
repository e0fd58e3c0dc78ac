//! The seed of a run's plugin randomness, and the one log line that names
//! it: written once, when the run ends, and only if a plugin drew a random
//! number (always in a JSON log), so that the run can be replayed with
//! `--seed`.

use std::cell::Cell;

use crate::output::Log;

/// The number every plugin's generators start from, and when the log
/// names it.
#[derive(Clone, Copy, Debug)]
pub struct Seed {
    /// The run's seed.
    pub value: u64,
    /// Name the seed at the end of the run even if no plugin drew a random
    /// number (for logs read by machines).
    pub always_logged: bool,
}

impl Seed {
    /// The seed given with `--seed`, or a fresh one from the system.
    pub fn given_or_fresh(given: Option<u64>, always_logged: bool) -> Seed {
        Seed {
            value: given.unwrap_or_else(fresh),
            always_logged,
        }
    }
}

/// The seed line of a run, shared by its plugins: the first plugin to end
/// that drew a random number (any plugin, with `always_logged`) writes it.
pub(super) struct SeedReport {
    seed: Seed,
    log: Log,
    written: Cell<bool>,
}

impl SeedReport {
    pub(super) fn new(seed: Seed, log: Log) -> SeedReport {
        SeedReport {
            seed,
            log,
            written: Cell::new(false),
        }
    }

    /// A plugin has ended; `drew` says whether it drew a random number.
    pub(super) fn plugin_finished(&self, drew: bool) {
        if (drew || self.seed.always_logged) && !self.written.replace(true) {
            self.log.note(
                "fi",
                &format!("plugins seeded with --seed {}", self.seed.value),
            );
        }
    }
}

/// A seed from the system's random source (the clock and pid without one).
fn fresh() -> u64 {
    let mut bytes = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_err()
    {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        bytes = (nanos ^ u64::from(std::process::id())).to_le_bytes();
    }
    u64::from_le_bytes(bytes)
}
