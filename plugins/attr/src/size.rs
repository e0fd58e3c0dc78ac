//! Reads, copies and seeks that agree with a size lie, so that a program
//! that reads to the end of the file finds the end where `stat` said.
//!
//! A file said to hold fewer bytes than it does ends at the lie: `read`,
//! `pread64`, `readv`, `preadv` and `preadv2` are cut at it (short at the
//! boundary, 0 after it), and so are `copy_file_range`, `sendfile` and
//! `splice` from it; `lseek` with `SEEK_END`, `SEEK_DATA` or `SEEK_HOLE`
//! answers for the lied size.
//!
//! A file said to hold more reads as a file of that size whose bytes past
//! the real end are a hole (zeros) where the call names its offset
//! (`pread64`, `preadv`, `preadv2`), and seeks agree. A `read` or `readv`
//! at the descriptor's offset, and a copy, still stop at the real end: the
//! bytes past it would have to move the descriptor's offset past the real
//! end, which a plugin cannot do; each file where that happens is logged
//! once.

use std::collections::BTreeSet;

use fi_sdk::{log, Call, Errno, ExitAction, FdKind, Glob, IoVec, Sysno, Verdict};

/// The calls whose results depend on the file's size.
pub const CALLS: [&str; 9] = [
    "read",
    "pread64",
    "readv",
    "preadv",
    "preadv2",
    "copy_file_range",
    "sendfile",
    "splice",
    "lseek",
];

/// The most `iovec`s a vectored call may pass (`IOV_MAX`).
const IOV_MAX: u64 = 1024;
/// Bytes of one `struct iovec`; its length is its second half.
const IOVEC: u64 = 16;
const SEEK_SET: u64 = 0;
const SEEK_END: u64 = 2;
const SEEK_DATA: u64 = 3;
const SEEK_HOLE: u64 = 4;
/// Zeros are written in pieces of at most this many bytes.
const ZERO_PIECE: u64 = 64 * 1024;

/// What a call changed at entry needs once it returned.
pub enum AtExit {
    /// A vectored read's `iovec` whose length was cut at the lie: the
    /// address of its length field and the length to put back.
    RestoreLength(u64, u64),
    /// A positioned read of a file said to be larger: zeros past the real
    /// end up to the lie.
    ZeroTail {
        buffers: Vec<IoVec>,
        offset: u64,
        real: u64,
        path: String,
    },
    /// `SEEK_DATA` (`false`) or `SEEK_HOLE` (`true`) below a smaller lie,
    /// whose answer may lie past it.
    Seek { hole: bool, path: String },
}

/// The data side of a size lie.
pub struct SizeLie {
    /// The size said.
    size: u64,
    /// The files it is said of.
    glob: Glob,
    /// Files whose bytes past the real end a call could not show, logged.
    told: BTreeSet<String>,
}

/// The file a call reads from, as it stands at entry.
struct Source {
    path: String,
    /// Its real size.
    real: u64,
    /// Where the call reads from.
    offset: u64,
}

impl SizeLie {
    /// A lie that files matching `glob` hold `size` bytes.
    pub fn new(size: u64, glob: Glob) -> SizeLie {
        SizeLie {
            size,
            glob,
            told: BTreeSet::new(),
        }
    }

    /// Decide a call of [`CALLS`] at entry: the verdict, and what its exit
    /// needs (`None`: nothing).
    pub fn enter(&mut self, call: &Call) -> (Verdict, Option<AtExit>) {
        match call.sysno() {
            Sysno::read | Sysno::pread64 | Sysno::readv | Sysno::preadv | Sysno::preadv2 => {
                self.read(call)
            }
            Sysno::copy_file_range => (self.copy(call, 0, 1, 4), None),
            Sysno::sendfile => (self.copy(call, 1, 2, 3), None),
            Sysno::splice => (self.copy(call, 0, 1, 4), None),
            Sysno::lseek => self.seek(call),
            _ => (Verdict::pass(), None),
        }
    }

    /// Finish a call [`SizeLie::enter`] changed.
    pub fn exit(&mut self, call: &Call, at_exit: AtExit, result: i64) -> ExitAction {
        match at_exit {
            AtExit::RestoreLength(address, len) => {
                if let Err(e) = call.write_memory(address, &len.to_le_bytes()) {
                    log(&format!("could not restore the caller's iovec: {e}"));
                }
                ExitAction::Keep
            }
            AtExit::ZeroTail {
                buffers,
                offset,
                real,
                path,
            } => self.zero_tail(call, &buffers, offset, real, &path, result),
            AtExit::Seek { hole, path } => {
                let Ok(answer) = u64::try_from(result) else {
                    return ExitAction::Keep;
                };
                if answer < self.size {
                    return ExitAction::Keep;
                }
                log(&format!(
                    "lseek {} of {path} answered for the {} bytes said (the descriptor's \
                     offset is at the real answer, {answer})",
                    if hole { "SEEK_HOLE" } else { "SEEK_DATA" },
                    self.size
                ));
                if hole {
                    ExitAction::Return(self.size as i64)
                } else {
                    ExitAction::Fail(Errno::ENXIO)
                }
            }
        }
    }

    /// The regular file said to be of the lied size behind `fd`, read
    /// from `offset` (the descriptor's offset if `None`).
    fn source(&self, call: &Call, fd: u64, offset: Option<u64>) -> Option<Source> {
        let info = call.fd_info(fd as i32)?;
        let path = info.path?;
        if info.kind != FdKind::Regular || !self.glob.matches(&path) {
            return None;
        }
        Some(Source {
            path,
            real: info.size,
            offset: offset.unwrap_or(info.position),
        })
    }

    fn read(&mut self, call: &Call) -> (Verdict, Option<AtExit>) {
        let sysno = call.sysno();
        let vectored = matches!(sysno, Sysno::readv | Sysno::preadv | Sysno::preadv2);
        let positioned = match sysno {
            Sysno::pread64 | Sysno::preadv => true,
            // preadv2 at offset -1 reads at the descriptor's offset.
            Sysno::preadv2 => call.arg(3) != u64::MAX,
            _ => false,
        };
        let Some(source) = self.source(call, call.arg(0), positioned.then(|| call.arg(3))) else {
            return (Verdict::pass(), None);
        };
        let buffers = if vectored {
            match call.read_iovecs(call.arg(1), call.arg(2).min(IOV_MAX) as u32) {
                Ok(buffers) => buffers,
                Err(_) => return (Verdict::pass(), None),
            }
        } else {
            vec![IoVec {
                base: call.arg(1),
                len: call.arg(2),
            }]
        };
        let asked = buffers
            .iter()
            .fold(0u64, |sum, buffer| sum.saturating_add(buffer.len));
        let end = source.offset.saturating_add(asked);
        if self.size < source.real {
            if end <= self.size {
                return (Verdict::pass(), None);
            }
            let left = self.size.saturating_sub(source.offset);
            log(&format!(
                "{} of {} cut at the {} bytes said: {left} of {asked} bytes from offset {}",
                call.name(),
                source.path,
                self.size,
                source.offset
            ));
            if left == 0 {
                return (Verdict::ret(0), None);
            }
            if !vectored {
                return (Verdict::rewrite_arg(2, left), None);
            }
            return cut_iovecs(call, &buffers, left);
        }
        if self.size > source.real && end > source.real {
            if positioned {
                return (
                    Verdict::pass().want_exit(),
                    Some(AtExit::ZeroTail {
                        buffers,
                        offset: source.offset,
                        real: source.real,
                        path: source.path,
                    }),
                );
            }
            self.not_shown(call, &source);
        }
        (Verdict::pass(), None)
    }

    /// A copy (`copy_file_range`, `sendfile`, `splice`) from the file in
    /// argument `fd`, its offset pointer in argument `offset` and its
    /// length in argument `len`.
    fn copy(&mut self, call: &Call, fd: usize, offset: usize, len: usize) -> Verdict {
        let at = match call.arg(offset) {
            0 => None,
            pointer => match call.read_memory(pointer, 8) {
                Ok(bytes) => Some(u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]))),
                Err(_) => return Verdict::pass(),
            },
        };
        let Some(source) = self.source(call, call.arg(fd), at) else {
            return Verdict::pass();
        };
        let asked = call.arg(len);
        let end = source.offset.saturating_add(asked);
        if self.size < source.real && end > self.size {
            let left = self.size.saturating_sub(source.offset);
            log(&format!(
                "{} from {} cut at the {} bytes said: {left} of {asked} bytes from offset {}",
                call.name(),
                source.path,
                self.size,
                source.offset
            ));
            return if left == 0 {
                Verdict::ret(0)
            } else {
                Verdict::rewrite_arg(len as u8, left)
            };
        }
        if self.size > source.real && end > source.real {
            self.not_shown(call, &source);
        }
        Verdict::pass()
    }

    fn seek(&mut self, call: &Call) -> (Verdict, Option<AtExit>) {
        let whence = call.arg(2);
        if !matches!(whence, SEEK_END | SEEK_DATA | SEEK_HOLE) {
            return (Verdict::pass(), None);
        }
        let Some(source) = self.source(call, call.arg(0), None) else {
            return (Verdict::pass(), None);
        };
        let offset = call.arg(1) as i64;
        if whence == SEEK_END {
            let Some(target) = (self.size as i64).checked_add(offset).filter(|t| *t >= 0) else {
                return (Verdict::fail(Errno::EINVAL), None);
            };
            return (
                Verdict::rewrite_arg(1, target as u64).and_rewrite_arg(2, SEEK_SET),
                None,
            );
        }
        let Ok(offset) = u64::try_from(offset) else {
            return (Verdict::pass(), None);
        };
        if self.size < source.real {
            if offset >= self.size {
                return (Verdict::fail(Errno::ENXIO), None);
            }
            return (
                Verdict::pass().want_exit(),
                Some(AtExit::Seek {
                    hole: whence == SEEK_HOLE,
                    path: source.path,
                }),
            );
        }
        if whence == SEEK_HOLE && source.real <= offset && offset < self.size {
            // Past the real end, a file said to be larger is a hole up to
            // the lie: the offset asked is where one starts.
            return (Verdict::rewrite_arg(2, SEEK_SET), None);
        }
        (Verdict::pass(), None)
    }

    /// A positioned read of a file said to be larger returned `result`:
    /// past the real end, zeros up to the lie.
    fn zero_tail(
        &mut self,
        call: &Call,
        buffers: &[IoVec],
        offset: u64,
        real: u64,
        path: &str,
        result: i64,
    ) -> ExitAction {
        let Ok(got) = u64::try_from(result) else {
            return ExitAction::Keep;
        };
        let asked = buffers
            .iter()
            .fold(0u64, |sum, buffer| sum.saturating_add(buffer.len));
        // Only a read that stopped at the real end (a regular file's reads
        // are short only there) is continued.
        let end = offset.saturating_add(asked).min(self.size);
        let from = offset + got;
        if got >= asked || from < real || end <= from {
            return ExitAction::Keep;
        }
        for (address, len) in IoVec::pieces(buffers, got, end - from) {
            let mut at = 0;
            while at < len {
                let n = (len - at).min(ZERO_PIECE);
                if let Err(e) = call.write_memory(address + at, &vec![0; n as usize]) {
                    log(&format!("could not write the zeros past the real end: {e}"));
                    return ExitAction::Keep;
                }
                at += n;
            }
        }
        log(&format!(
            "{} of {path} read zeros past its real end ({real}) up to offset {end}, of the {} \
             bytes said",
            call.name(),
            self.size
        ));
        ExitAction::Return((end - offset) as i64)
    }

    fn not_shown(&mut self, call: &Call, source: &Source) {
        if self.told.insert(source.path.clone()) {
            log(&format!(
                "{} of {} stops at its real end ({}), not at the {} bytes said: only reads \
                 that name their offset (pread64, preadv) read zeros past it",
                call.name(),
                source.path,
                source.real,
                self.size
            ));
        }
    }
}

/// Cut the `iovec`s of a vectored read to `left` bytes: fewer of them,
/// and the last one shorter in the caller's memory until the call returns.
fn cut_iovecs(call: &Call, buffers: &[IoVec], left: u64) -> (Verdict, Option<AtExit>) {
    let mut before = 0u64;
    for (index, buffer) in buffers.iter().enumerate() {
        let rest = left - before;
        if rest == 0 {
            return (Verdict::rewrite_arg(2, index as u64), None);
        }
        if rest < buffer.len {
            let field = call.arg(1) + index as u64 * IOVEC + 8;
            if let Err(e) = call.write_memory(field, &rest.to_le_bytes()) {
                log(&format!("could not cut the caller's iovec: {e}"));
                return (Verdict::pass(), None);
            }
            return (
                Verdict::rewrite_arg(2, index as u64 + 1).want_exit(),
                Some(AtExit::RestoreLength(field, buffer.len)),
            );
        }
        before += buffer.len;
    }
    (Verdict::pass(), None)
}
