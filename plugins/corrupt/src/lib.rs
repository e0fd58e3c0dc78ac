//! `corrupt`: the faults a disk does not report. Reads return flipped bits
//! or zeros; writes reach the file with flipped bits, not at all, or at
//! another offset, while the program is told they succeeded.
//!
//! Reads (`on=read`): after a matching `read`, `pread64`, `readv` or
//! `preadv` of a regular file returned, the bytes it placed in the caller's
//! buffers are changed: bits flipped, zeroed, or (`mode=stale`) put back to
//! what the file held before the program's last unsynced write to them,
//! which fault keeps for the plugin (`Subscription::keep_unsynced`). Writes (`on=write`): before a matching `write`,
//! `pwrite64`, `writev` or `pwritev` runs, its bytes are flipped in the
//! caller's buffers and put back once it returned (`mode=flip`), or the
//! call writes nothing and reports every byte written (`mode=lost`), or its
//! bytes land `shift=` bytes away (`mode=misdirect`). A `write` or `writev`
//! at the descriptor's offset leaves that offset where the write would
//! have: a lost one becomes an `lseek` past its bytes, a misdirected one a
//! `pwrite64` or `pwritev` at the other offset followed by that `lseek`.
//! An `O_APPEND` descriptor puts every write at the end, so its writes can
//! be lost but not misdirected.
//!
//! Which bytes change is drawn from fault's seeded generator, so a run with
//! the same `--seed` makes the same change; every change is logged.

mod buffers;
mod range;

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use fi_sdk::{
    log, random, Call, Config, ConfigError, Description, ExitAction, Glob, Invocation, Policy,
    Subscription, Sysno, Trigger, Verdict,
};

use buffers::Transfer;
use range::OffsetRange;

/// The calls `on=read` corrupts.
const READS: [&str; 5] = ["read", "pread64", "readv", "preadv", "preadv2"];
/// The calls `on=write` corrupts.
const WRITES: [&str; 5] = ["write", "pwrite64", "writev", "pwritev", "pwritev2"];
/// The most bits one call may have flipped (`bits=`).
const MAX_BITS: u32 = 4096;
/// Zeros are written in pieces of at most this many bytes.
const ZERO_PIECE: u64 = 64 * 1024;
/// The most bytes one write moves (the kernel's `MAX_RW_COUNT`): a lost
/// write reports no more.
const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// `lseek`'s whence for an offset from the current one.
const SEEK_CUR: u64 = 1;

/// Which calls are corrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Read,
    Write,
}

impl FromStr for Side {
    type Err = String;

    fn from_str(text: &str) -> Result<Side, String> {
        match text {
            "read" => Ok(Side::Read),
            "write" => Ok(Side::Write),
            _ => Err("expected read or write".into()),
        }
    }
}

/// What happens to the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Flip,
    Zero,
    Stale,
    Lost,
    Misdirect,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Mode, String> {
        match text {
            "flip" => Ok(Mode::Flip),
            "zero" => Ok(Mode::Zero),
            "stale" => Ok(Mode::Stale),
            "lost" => Ok(Mode::Lost),
            "misdirect" => Ok(Mode::Misdirect),
            _ => Err("expected flip, zero, stale, lost or misdirect".into()),
        }
    }
}

/// What a thread's current call waits for at its exit.
enum Pending {
    /// A read whose returned bytes are to be corrupted.
    Read(Transfer),
    /// A write whose flipped bytes go back to the caller's buffers:
    /// (address, original byte).
    Restore(Vec<(u64, u8)>),
    /// A write at the descriptor's offset made at another one: the offset
    /// is then moved past the bytes written.
    MoveOffset,
    /// A write whose bytes went elsewhere or nowhere, once the descriptor's
    /// offset moved past them: the caller is told this many were written.
    Report(i64),
}

struct Corrupt {
    side: Side,
    mode: Mode,
    trigger: Trigger,
    range: OffsetRange,
    bits: u32,
    shift: i64,
    pending: HashMap<i32, Pending>,
    /// Calls changed, and writes let through because they could not be.
    changed: u64,
    not_covered: u64,
}

impl Policy for Corrupt {
    fn describe() -> Description {
        Description::new(
            "corrupt",
            "Corrupt data silently: flip, zero or make stale the bytes reads return; flip, lose or misdirect writes that report success",
        )
        .key("path", "glob of the files whose data is corrupted (* also matches /); required")
        .key("on", "read (read, pread64, readv, preadv, preadv2) or write (write, pwrite64, writev, pwritev, pwritev2); default read")
        .key("mode", "flip (bits), zero (reads: the whole offset= range they return), stale (reads: the bytes before the last unsynced write), lost or misdirect (writes); default flip")
        .key("bits", "bits flipped per call (mode=flip), 1 to 4096; default 1")
        .key("offset", OffsetRange::HELP)
        .key("shift", "bytes a misdirected write lands away from its offset (negative: before); default 4096")
        .key("when", fi_sdk::When::HELP)
        .key("probability", fi_sdk::Probability::HELP)
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        config.require::<Glob>("path")?;
        let side = config.parse("on")?.unwrap_or(Side::Read);
        let mode = config.parse("mode")?.unwrap_or(Mode::Flip);
        let allowed = match side {
            Side::Read => matches!(mode, Mode::Flip | Mode::Zero | Mode::Stale),
            Side::Write => matches!(mode, Mode::Flip | Mode::Lost | Mode::Misdirect),
        };
        if !allowed {
            let value = config.get("mode").unwrap_or_default();
            return Err(ConfigError::invalid(
                "mode",
                value,
                match side {
                    Side::Read => "only flip, zero or stale for on=read",
                    Side::Write => "only flip, lost or misdirect for on=write",
                },
            ));
        }
        let bits: u32 = config.parse("bits")?.unwrap_or(1);
        if !(1..=MAX_BITS).contains(&bits) {
            return Err(ConfigError::invalid(
                "bits",
                config.get("bits").unwrap_or_default(),
                format!("must be 1 to {MAX_BITS}"),
            ));
        }
        for (key, needs) in [("bits", Mode::Flip), ("shift", Mode::Misdirect)] {
            if config.get(key).is_some() && mode != needs {
                return Err(ConfigError::new(format!(
                    "{key}= applies only to mode={}",
                    match needs {
                        Mode::Flip => "flip",
                        _ => "misdirect",
                    }
                )));
            }
        }
        let shift: i64 = config.parse("shift")?.unwrap_or(4096);
        if shift == 0 {
            return Err(ConfigError::invalid(
                "shift",
                "0",
                "a write 0 bytes away is not misdirected",
            ));
        }
        let policy = Corrupt {
            side,
            mode,
            trigger: Trigger::from_config(config)?,
            range: config.parse("offset")?.unwrap_or(OffsetRange::ALL),
            bits,
            shift,
            pending: HashMap::new(),
            changed: 0,
            not_covered: 0,
        };
        let calls = match side {
            Side::Read => READS,
            Side::Write => WRITES,
        };
        let mut subscription = Subscription::syscalls(calls).paths(policy.trigger.path());
        if mode == Mode::Stale {
            subscription = subscription.keep_unsynced();
        }
        Ok((policy, subscription))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        self.pending.remove(&call.tid());
        let Some(transfer) = Transfer::of(call) else {
            return Verdict::pass();
        };
        if self.range.window(transfer.offset, transfer.len()).is_none() || !self.trigger.fires(call)
        {
            return Verdict::pass();
        }
        match (self.side, self.mode) {
            (Side::Read, _) => {
                self.pending.insert(call.tid(), Pending::Read(transfer));
                Verdict::pass().want_exit()
            }
            (Side::Write, Mode::Flip) => self.flip_write(call, &transfer),
            (Side::Write, Mode::Lost) => self.lose_write(call, &transfer),
            (Side::Write, _) if transfer.append => {
                self.not_covered(call, "the descriptor appends: every write goes to the end")
            }
            (Side::Write, _) => self.misdirect_write(call, &transfer),
        }
    }

    fn on_exit(&mut self, call: &Call, result: i64) -> ExitAction {
        match self.pending.remove(&call.tid()) {
            Some(Pending::MoveOffset) if result >= 0 => {
                self.pending.insert(call.tid(), Pending::Report(result));
                return ExitAction::Then(move_offset(call, result as u64));
            }
            Some(Pending::Report(written)) if result >= 0 => return ExitAction::Return(written),
            Some(Pending::Read(transfer)) if result > 0 => {
                self.corrupt_read(call, &transfer, result as u64);
            }
            Some(Pending::Restore(originals)) => {
                for (address, byte) in originals {
                    if let Err(e) = call.write_memory(address, &[byte]) {
                        log(&format!("could not restore the caller's buffer: {e}"));
                    }
                }
            }
            _ => {}
        }
        ExitAction::Keep
    }

    fn thread_exited(&mut self, tid: i32) {
        self.pending.remove(&tid);
        self.trigger.forget_thread(tid);
    }

    fn finish(&mut self) {
        if self.not_covered > 0 {
            log(&format!(
                "{} calls corrupted; {} writes let through unchanged (see the log above)",
                self.changed, self.not_covered
            ));
        }
    }
}

impl Corrupt {
    /// Write nothing and report every byte written: a call that names its
    /// offset, or appends, leaves the descriptor's offset alone and just
    /// returns; one at the descriptor's offset becomes an `lseek` past its
    /// bytes, and reports them at its exit.
    fn lose_write(&mut self, call: &Call, transfer: &Transfer) -> Verdict {
        let written = transfer.len().min(MAX_RW_COUNT);
        self.changed += 1;
        log(&format!(
            "lost write: {written} bytes at offset {} of {} not written, reported written",
            transfer.offset, transfer.path
        ));
        if transfer.positioned || transfer.append {
            return Verdict::ret(written as i64);
        }
        self.pending
            .insert(call.tid(), Pending::Report(written as i64));
        Verdict::replace(move_offset(call, written)).want_exit()
    }

    /// Write the bytes `shift=` away from their offset: a call that names
    /// its offset gets another; one at the descriptor's offset becomes a
    /// `pwrite64` or `pwritev` at the other offset, after which the
    /// descriptor's offset moves past the bytes written.
    fn misdirect_write(&mut self, call: &Call, transfer: &Transfer) -> Verdict {
        let Some(to) = transfer.offset.checked_add_signed(self.shift) else {
            return self.not_covered(call, "it would land before the start of the file");
        };
        self.changed += 1;
        log(&format!(
            "misdirected write: {} bytes for offset {} of {} written at offset {to}",
            transfer.len(),
            transfer.offset,
            transfer.path
        ));
        if transfer.positioned {
            return Verdict::rewrite_arg(3, to);
        }
        let positioned = if call.sysno() == Sysno::writev {
            Sysno::pwritev
        } else {
            Sysno::pwrite64
        };
        self.pending.insert(call.tid(), Pending::MoveOffset);
        Verdict::replace(
            Invocation::new(positioned)
                .arg(0, call.arg(0))
                .arg(1, call.arg(1))
                .arg(2, call.arg(2))
                .arg(3, to),
        )
        .want_exit()
    }

    /// Flip bits of a write's bytes in the caller's buffers, to be put
    /// back when it returns.
    fn flip_write(&mut self, call: &Call, transfer: &Transfer) -> Verdict {
        let Some((first, len)) = self.range.window(transfer.offset, transfer.len()) else {
            return Verdict::pass();
        };
        let flips = draw_flips(first, len, self.bits);
        let mut originals = Vec::new();
        let mut changes = Vec::new();
        for (index, mask) in flips {
            let Some(address) = transfer.address(index) else {
                continue;
            };
            let Ok(old) = call.read_memory(address, 1) else {
                continue;
            };
            let new = old[0] ^ mask;
            if call.write_memory(address, &[new]).is_ok() {
                originals.push((address, old[0]));
                changes.push(Change {
                    offset: transfer.offset + index,
                    old: old[0],
                    new,
                });
            }
        }
        self.report("write", transfer, &changes);
        self.pending.insert(call.tid(), Pending::Restore(originals));
        Verdict::pass().want_exit()
    }

    /// Change the `returned` bytes a read placed in the caller's buffers.
    fn corrupt_read(&mut self, call: &Call, transfer: &Transfer, returned: u64) {
        let Some((first, len)) = self.range.window(transfer.offset, returned) else {
            return;
        };
        if self.mode == Mode::Stale {
            self.stale_read(call, transfer, first, len);
            return;
        }
        if self.mode == Mode::Zero {
            for (address, piece) in transfer.pieces(first, len) {
                let mut at = 0;
                while at < piece {
                    let n = (piece - at).min(ZERO_PIECE);
                    if let Err(e) = call.write_memory(address + at, &vec![0; n as usize]) {
                        log(&format!("could not zero the read's bytes: {e}"));
                        return;
                    }
                    at += n;
                }
            }
            self.changed += 1;
            log(&format!(
                "read: zeroed offsets {}..{} of {}",
                transfer.offset + first,
                transfer.offset + first + len,
                transfer.path
            ));
            return;
        }
        let mut changes = Vec::new();
        for (index, mask) in draw_flips(first, len, self.bits) {
            let Some(address) = transfer.address(index) else {
                continue;
            };
            let Ok(old) = call.read_memory(address, 1) else {
                continue;
            };
            let new = old[0] ^ mask;
            if call.write_memory(address, &[new]).is_ok() {
                changes.push(Change {
                    offset: transfer.offset + index,
                    old: old[0],
                    new,
                });
            }
        }
        self.report("read", transfer, &changes);
    }

    /// Put back, in the `len` bytes from index `first` a read returned,
    /// those the program's last unsynced writes overwrote.
    fn stale_read(&mut self, call: &Call, transfer: &Transfer, first: u64, len: u64) {
        let fd = call.arg(0) as i32;
        let mut differ = 0u64;
        let mut at = first;
        while at < first + len {
            let n = (first + len - at).min(ZERO_PIECE);
            if let Some(stale) = call.unsynced_before(fd, transfer.offset + at, n as u32) {
                match self.put_back(call, transfer, at, &stale) {
                    Ok(changed) => differ += changed,
                    Err(e) => {
                        log(&format!("could not put the stale bytes back: {e}"));
                        return;
                    }
                }
            }
            at += n;
        }
        if differ > 0 {
            self.changed += 1;
            log(&format!(
                "read: stale data of {}: offsets {}..{} as before the last unsynced write ({} bytes differ)",
                transfer.path,
                transfer.offset + first,
                transfer.offset + first + len,
                differ
            ));
        }
    }

    /// Write `stale` over the read's bytes from index `at` where they
    /// differ; how many did.
    fn put_back(
        &self,
        call: &Call,
        transfer: &Transfer,
        at: u64,
        stale: &[u8],
    ) -> Result<u64, fi_sdk::TraceeError> {
        let mut differ = 0;
        let mut done = 0usize;
        for (address, piece) in transfer.pieces(at, stale.len() as u64) {
            let now = call.read_memory(address, piece as u32)?;
            let then = &stale[done..done + piece as usize];
            let changed = now.iter().zip(then).filter(|(a, b)| a != b).count();
            if changed > 0 {
                call.write_memory(address, then)?;
                differ += changed as u64;
            }
            done += piece as usize;
        }
        Ok(differ)
    }

    fn report(&mut self, what: &str, transfer: &Transfer, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        self.changed += 1;
        let list: Vec<String> = changes.iter().map(Change::to_string).collect();
        log(&format!(
            "{what}: flipped {} of {}: {}",
            if changes.len() == 1 {
                "a byte"
            } else {
                "bytes"
            },
            transfer.path,
            list.join(", ")
        ));
    }

    /// Let a write go unchanged that cannot be misdirected, saying `why`.
    fn not_covered(&mut self, call: &Call, why: &str) -> Verdict {
        self.not_covered += 1;
        log(&format!(
            "{} of {} let through: a misdirected write cannot be moved because {why}",
            call.name(),
            call.path().unwrap_or("?"),
        ));
        Verdict::pass()
    }
}

/// `lseek(fd, by, SEEK_CUR)` on the descriptor of `call`: its offset moves
/// on as a write of `by` bytes moves it.
fn move_offset(call: &Call, by: u64) -> Invocation {
    Invocation::new(Sysno::lseek)
        .arg(0, call.arg(0))
        .arg(1, by)
        .arg(2, SEEK_CUR)
}

/// One changed byte.
struct Change {
    offset: u64,
    old: u8,
    new: u8,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "offset {} 0x{:02x} -> 0x{:02x}",
            self.offset, self.old, self.new
        )
    }
}

/// `bits` distinct bits among the `len` bytes from index `first`, drawn
/// from fault's seeded generator: (byte index, mask of its flipped bits),
/// by index.
fn draw_flips(first: u64, len: u64, bits: u32) -> Vec<(u64, u8)> {
    let wanted = u64::from(bits).min(len.saturating_mul(8));
    let mut chosen = BTreeSet::new();
    while (chosen.len() as u64) < wanted {
        chosen.insert(random() % (len * 8));
    }
    let mut flips: Vec<(u64, u8)> = Vec::new();
    for bit in chosen {
        let index = first + bit / 8;
        let mask = 1u8 << (bit % 8);
        match flips.last_mut() {
            Some((last, flipped)) if *last == index => *flipped |= mask,
            _ => flips.push((index, mask)),
        }
    }
    flips
}

fi_sdk::export_policy!(Corrupt);
