//! A plugin's stdout and stderr, collected so that fi can put each line in
//! its log, attributed to the plugin.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use super::output_cap;

/// Bytes a plugin wrote, shared between its WASI context and fi: at most
/// [`output_cap::BYTES`] unread; the rest is dropped and counted.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Buffer>>);

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    /// Lines (newlines) and bytes dropped for want of room.
    dropped: (u64, u64),
}

impl Captured {
    /// Take the count of lines and bytes dropped since the last call.
    pub fn take_dropped(&self) -> (u64, u64) {
        std::mem::take(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()).dropped)
    }

    /// Take the complete lines written so far (a partial last line waits).
    pub fn take_lines(&self) -> Vec<String> {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let buffer = &mut guard.bytes;
        let Some(end) = buffer.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let complete: Vec<u8> = buffer.drain(..=end).collect();
        String::from_utf8_lossy(&complete)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl IsTerminal for Captured {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Captured {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for Captured {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut buffer = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let room = (output_cap::BYTES as usize).saturating_sub(buffer.bytes.len());
        let (kept, dropped) = buf.split_at(buf.len().min(room));
        buffer.bytes.extend_from_slice(kept);
        buffer.dropped.0 += dropped.iter().filter(|&&b| b == b'\n').count() as u64;
        buffer.dropped.1 += dropped.len() as u64;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
