//! Which unsynced changes survive the crash, by mode: the state a power
//! loss leaves, chosen among those the model allows.

use super::log::{Change, Log};
use super::{CrashMode, Tear};
use crate::rng::SplitMix64;

/// The most data changes for which `reorder` states are counted (and so
/// enumerable by a campaign): 2^20 subsets.
const MAX_ENUMERATED: u32 = 20;

/// The size of a disk sector: what `torn` with [`Tear::Sector`] keeps whole.
pub(crate) const SECTOR: u64 = 512;

/// What becomes of one unsynced change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// It reached the disk.
    Kept,
    /// It did not.
    Lost,
    /// Only its first bytes reached the disk (a data write).
    Prefix(u64),
}

/// How many states `reorder` can leave with these changes: every subset of
/// the data changes times every prefix of the entry changes (a file
/// system's journal commits entry changes in order). `None` beyond 2^20.
pub(crate) fn reorder_states(log: &Log) -> Option<u64> {
    let (data, entries) = counts(log);
    (data <= MAX_ENUMERATED as usize).then(|| (1u64 << data) * (entries as u64 + 1))
}

fn counts(log: &Log) -> (usize, usize) {
    let data = log
        .changes()
        .filter(|c| matches!(c, Change::Data(_)))
        .count();
    (data, log.len() - data)
}

/// The fate of each change of `log`, in order; an error for a
/// `reorder=N` beyond the states there are.
pub(crate) fn fates(log: &Log, mode: CrashMode, seed: u64) -> Result<Vec<Fate>, String> {
    let mut rng = SplitMix64(seed);
    let changes: Vec<&Change> = log.changes().collect();
    Ok(match mode {
        CrashMode::LoseUnsynced => vec![Fate::Lost; changes.len()],
        CrashMode::Torn(tear) => {
            let last_write = changes
                .iter()
                .rposition(|c| matches!(c, Change::Data(d) if d.content));
            changes
                .iter()
                .enumerate()
                .map(|(i, change)| match change {
                    Change::Entry(_) => Fate::Kept,
                    Change::Data(d) if Some(i) == last_write => {
                        Fate::Prefix(tear_at(tear, d.offset, d.len, &mut rng))
                    }
                    Change::Data(_) => Fate::Lost,
                })
                .collect()
        }
        CrashMode::Reorder => {
            let (_, entries) = counts(log);
            let prefix = (rng.next() % (entries as u64 + 1)) as usize;
            let mut data_fate = || {
                if rng.next() & 1 == 1 {
                    Fate::Kept
                } else {
                    Fate::Lost
                }
            };
            with_entry_prefix(&changes, prefix, &mut data_fate)
        }
        CrashMode::ReorderState(state) => {
            let count = reorder_states(log).ok_or_else(|| {
                "too many unsynced changes to enumerate: use reorder with seeds".to_string()
            })?;
            if state >= count {
                return Err(format!(
                    "reorder={state}: this crash point has {count} reorder states (0..{})",
                    count - 1
                ));
            }
            let (data, _) = counts(log);
            let mask = state & ((1u64 << data) - 1);
            let prefix = (state >> data) as usize;
            let mut bit = 0;
            let mut data_fate = || {
                let kept = mask >> bit & 1 == 1;
                bit += 1;
                if kept {
                    Fate::Kept
                } else {
                    Fate::Lost
                }
            };
            with_entry_prefix(&changes, prefix, &mut data_fate)
        }
    })
}

/// The first `prefix` entry changes kept, the rest lost; data changes as
/// `data_fate` says, in order.
fn with_entry_prefix(
    changes: &[&Change],
    prefix: usize,
    data_fate: &mut dyn FnMut() -> Fate,
) -> Vec<Fate> {
    let mut entries = 0;
    changes
        .iter()
        .map(|change| match change {
            Change::Data(_) => data_fate(),
            Change::Entry(_) => {
                entries += 1;
                if entries <= prefix {
                    Fate::Kept
                } else {
                    Fate::Lost
                }
            }
        })
        .collect()
}

/// How many bytes of a write of `len` at `offset` a torn write keeps: up to
/// a sector boundary inside it (none if it has none), or any length short
/// of the whole.
fn tear_at(tear: Tear, offset: u64, len: u64, rng: &mut SplitMix64) -> u64 {
    match tear {
        Tear::Sector => {
            let first = (offset / SECTOR + 1) * SECTOR;
            let end = offset + len;
            if first >= end {
                return 0;
            }
            let boundaries = (end - 1 - first) / SECTOR + 1;
            first + rng.next() % boundaries * SECTOR - offset
        }
        Tear::Any if len > 1 => 1 + rng.next() % (len - 1),
        Tear::Any => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sector_tears_end_on_a_sector_inside_the_write() {
        let mut rng = SplitMix64(7);
        for _ in 0..100 {
            let kept = tear_at(Tear::Sector, 100, 2000, &mut rng);
            assert!(kept > 0 && kept < 2000, "{kept}");
            assert_eq!((100 + kept) % SECTOR, 0);
        }
        assert_eq!(tear_at(Tear::Sector, 0, 512, &mut rng), 0);
        assert_eq!(tear_at(Tear::Sector, 10, 20, &mut rng), 0);
        let any = tear_at(Tear::Any, 10, 20, &mut rng);
        assert!((1..20).contains(&any));
    }
}
