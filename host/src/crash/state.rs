//! Which unsynced changes survive the crash, by mode: the state a power
//! loss leaves, chosen among those the model allows.

use super::fs::Fs;
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

/// How many states `reorder` can leave with these changes on `fs`: every
/// subset of the data changes not yet durable there times every prefix of
/// such entry changes (a file system's journal commits entry changes in
/// order). `None` beyond 2^20 subsets.
pub(crate) fn reorder_states(log: &Log, fs: Fs) -> Option<u64> {
    let pending = pending_on(log, fs);
    let (data, entries) = counts(&pending);
    (data <= MAX_ENUMERATED as usize).then(|| (1u64 << data) * (entries as u64 + 1))
}

/// The reorder states in which what survives is a prefix of the changes
/// not durable on `fs`, in the order they were made (none, the first, the
/// first two, ... all): the states a file system that writes everything in
/// order reaches, which a campaign tries first. `None` when the states are
/// too many to enumerate.
pub(crate) fn prefix_states(log: &Log, fs: Fs) -> Option<Vec<u64>> {
    let pending = pending_on(log, fs);
    let (data, _) = counts(&pending);
    if data > MAX_ENUMERATED as usize {
        return None;
    }
    let mut states = vec![0];
    let (mut mask, mut entries) = (0u64, 0u64);
    let mut bit = 0;
    for (_, change) in &pending {
        match change {
            Change::Data(_) => {
                mask |= 1 << bit;
                bit += 1;
            }
            Change::Entry(_) => entries += 1,
        }
        states.push(entries << data | mask);
    }
    Some(states)
}

/// The changes of `log` not durable on `fs`, with their positions.
fn pending_on(log: &Log, fs: Fs) -> Vec<(usize, &Change)> {
    log.changes()
        .zip(log.persistence())
        .enumerate()
        .filter(|(_, (_, (durable, _)))| !durable.contains(fs))
        .map(|(i, (change, _))| (i, change))
        .collect()
}

fn counts(changes: &[(usize, &Change)]) -> (usize, usize) {
    let data = changes
        .iter()
        .filter(|(_, c)| matches!(c, Change::Data(_)))
        .count();
    (data, changes.len() - data)
}

/// The fate of each change of `log`, in order, on `fs`: those durable
/// there are kept, the others as `mode` says, then what a surviving change
/// needs there is kept too (ext4's `auto_da_alloc`: a replace-by-rename's
/// data, a closed truncated file's writes). An error for a `reorder=N`
/// beyond the states there are.
pub(crate) fn fates(log: &Log, fs: Fs, mode: CrashMode, seed: u64) -> Result<Vec<Fate>, String> {
    let pending = pending_on(log, fs);
    let chosen = choose(&pending, mode, seed)?;
    let mut fates = vec![Fate::Kept; log.len()];
    for ((i, _), fate) in pending.iter().zip(chosen) {
        fates[*i] = fate;
    }
    if fs.allocates_on_replace() {
        // What a surviving change needs survives whole, and so does what
        // that needs in turn (a truncation and its writes need each other).
        let persistence = log.persistence();
        let mut changed = true;
        while changed {
            changed = false;
            for (i, (_, needs)) in persistence.iter().enumerate() {
                if fates[i] == Fate::Lost {
                    continue;
                }
                for &j in needs {
                    if fates[j] != Fate::Kept {
                        fates[j] = Fate::Kept;
                        changed = true;
                    }
                }
            }
        }
    }
    Ok(fates)
}

/// The profiles on which the crash state `fates` can happen: what is
/// durable there is kept, a kept replace-by-rename keeps its data where
/// that flushes (and a closed truncated file's writes stand or fall with
/// its truncation), and where one journal commits entries, the kept entry
/// changes not yet durable are the first ones.
pub(crate) fn reachable_on(log: &Log, fates: &[Fate]) -> Vec<Fs> {
    let persistence = log.persistence();
    let entry: Vec<bool> = log
        .changes()
        .map(|c| matches!(c, Change::Entry(_)))
        .collect();
    Fs::ALL
        .into_iter()
        .filter(|&fs| {
            let durable_kept = persistence
                .iter()
                .zip(fates)
                .all(|((durable, _), fate)| !durable.contains(fs) || *fate == Fate::Kept);
            let ordered = !fs.allocates_on_replace()
                || persistence.iter().zip(fates).all(|((_, needs), fate)| {
                    *fate == Fate::Lost || needs.iter().all(|&j| fates[j] == Fate::Kept)
                });
            let prefix = !fs.journal_commits() || {
                let kept = (0..fates.len())
                    .filter(|&i| entry[i] && !persistence[i].0.contains(fs))
                    .map(|i| fates[i] == Fate::Kept);
                is_prefix(kept)
            };
            durable_kept && ordered && prefix
        })
        .collect()
}

/// Whether no `true` comes after a `false`.
fn is_prefix(flags: impl Iterator<Item = bool>) -> bool {
    let mut lost = false;
    for kept in flags {
        if kept && lost {
            return false;
        }
        lost |= !kept;
    }
    true
}

/// The fate of each of `changes` as `mode` says.
fn choose(changes: &[(usize, &Change)], mode: CrashMode, seed: u64) -> Result<Vec<Fate>, String> {
    let mut rng = SplitMix64(seed);
    let changes: Vec<&Change> = changes.iter().map(|(_, c)| *c).collect();
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
            let data = changes
                .iter()
                .filter(|c| matches!(c, Change::Data(_)))
                .count();
            let entries = changes.len() - data;
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
            let data = changes
                .iter()
                .filter(|c| matches!(c, Change::Data(_)))
                .count();
            let entries = changes.len() - data;
            if data > MAX_ENUMERATED as usize {
                return Err(
                    "too many unsynced changes to enumerate: use reorder with seeds".to_string(),
                );
            }
            let count = (1u64 << data) * (entries as u64 + 1);
            if state >= count {
                return Err(format!(
                    "reorder={state}: this crash point has {count} reorder states (0..{})",
                    count - 1
                ));
            }
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
