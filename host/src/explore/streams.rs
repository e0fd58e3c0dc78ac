//! The output streams of a run or a check, read as they fill on one thread
//! (the waiting one), not a thread each: each stream's hash, length and
//! head.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// How much of a stream is kept to show (all of it is hashed).
const KEPT_OUTPUT: usize = 64 * 1024;

/// A captured stream: its hash and its start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    /// SHA-256 of everything written.
    pub hash: [u8; 32],
    /// How many bytes were written.
    pub len: u64,
    /// The first bytes, to show.
    pub head: Vec<u8>,
}

impl Captured {
    /// The start of the stream as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.head).into_owned()
    }
}

/// One stream being read: the pipe (until its end) and what came so far.
struct Stream {
    pipe: Option<File>,
    hasher: Sha256,
    len: u64,
    head: Vec<u8>,
}

impl Stream {
    /// Read what is there (the pipe is ready): at its end, close it.
    fn read_ready(&mut self) {
        let Some(pipe) = &mut self.pipe else { return };
        let mut buf = [0u8; 8192];
        match pipe.read(&mut buf) {
            Ok(n @ 1..) => {
                self.hasher.update(&buf[..n]);
                self.len += n as u64;
                let room = KEPT_OUTPUT.saturating_sub(self.head.len());
                self.head.extend_from_slice(&buf[..n.min(room)]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            _ => self.pipe = None,
        }
    }
}

/// Streams read on the calling thread as they fill.
pub(super) struct Streams<const N: usize>([Stream; N]);

impl<const N: usize> Streams<N> {
    /// Read the pipes `pipes`, each to its end.
    pub fn new(pipes: [OwnedFd; N]) -> Streams<N> {
        Streams(pipes.map(|pipe| Stream {
            pipe: Some(File::from(pipe)),
            hasher: Sha256::new(),
            len: 0,
            head: Vec::new(),
        }))
    }

    /// Whether a stream has not ended yet.
    pub fn open(&self) -> bool {
        self.0.iter().any(|stream| stream.pipe.is_some())
    }

    /// Wait until a stream or `also` is ready (readable, or its other end
    /// closed) or `timeout` has passed (no timeout for `None`), and read the
    /// streams that are; whether `also` was. An interrupted wait is a short
    /// one.
    pub fn wait(&mut self, also: Option<RawFd>, timeout: Option<Duration>) -> bool {
        let mut polled: Vec<libc::pollfd> = self
            .0
            .iter()
            .map(|stream| stream.pipe.as_ref().map_or(-1, |pipe| pipe.as_raw_fd()))
            .chain([also.unwrap_or(-1)])
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let ms = timeout.map_or(-1, |t| {
            // Rounded up: a wait for 0.3 ms is not a busy loop.
            (t.as_micros().div_ceil(1000)).min(i32::MAX as u128) as i32
        });
        // SAFETY: polls descriptors of ours (a negative one is skipped).
        let ready = unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, ms) };
        if ready <= 0 {
            return false;
        }
        for (stream, polled) in self.0.iter_mut().zip(&polled) {
            if polled.revents != 0 {
                stream.read_ready();
            }
        }
        polled[N].revents != 0
    }

    /// Read every stream to its end.
    pub fn drain(&mut self) {
        while self.open() {
            self.wait(None, None);
        }
    }

    /// What each stream gave.
    pub fn finish(self) -> [Captured; N] {
        self.0.map(|stream| Captured {
            hash: stream.hasher.finalize().into(),
            len: stream.len,
            head: stream.head,
        })
    }
}
