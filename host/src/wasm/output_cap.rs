//! The most a plugin may put in the log over a run: [`LINES`] lines or
//! [`BYTES`] bytes, whichever comes first. Past it its lines are dropped,
//! counted, and the log says so once when it starts and with the count at
//! the end.

/// Lines one plugin may log in a run.
pub const LINES: u64 = 10_000;
/// Bytes one plugin may log in a run (and the most of its unread output fi
/// keeps at once).
pub const BYTES: u64 = 1 << 20;

/// What one plugin has logged and dropped.
#[derive(Debug, Default)]
pub struct OutputCap {
    lines: u64,
    bytes: u64,
    dropped_lines: u64,
    dropped_bytes: u64,
}

/// What to do with a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    /// Log it.
    Log,
    /// Drop it, and say that the limit was reached (the first line dropped).
    DropFirst,
    /// Drop it.
    Drop,
}

impl OutputCap {
    /// Whether `line` goes to the log.
    pub fn admit(&mut self, line: &str) -> Admit {
        let size = line.len() as u64 + 1;
        if self.dropped_bytes == 0 && self.lines < LINES && self.bytes + size <= BYTES {
            self.lines += 1;
            self.bytes += size;
            return Admit::Log;
        }
        if self.drop(1, size) {
            Admit::DropFirst
        } else {
            Admit::Drop
        }
    }

    /// Whether the plugin has written anything (logged or dropped).
    pub fn wrote(&self) -> bool {
        self.lines + self.dropped_lines > 0
    }

    /// Count output dropped (also before it became lines); whether it is
    /// the first dropped, after which the log says the limit was reached.
    pub fn drop(&mut self, lines: u64, bytes: u64) -> bool {
        let first = self.dropped_bytes == 0 && bytes > 0;
        self.dropped_lines += lines;
        self.dropped_bytes += bytes;
        first
    }

    /// The line that says the limit was reached.
    pub fn limit_notice() -> String {
        format!(
            "output over {LINES} lines or {} MiB dropped from here",
            BYTES >> 20
        )
    }

    /// The line that says how much was dropped, if anything was.
    pub fn dropped_notice(&self) -> Option<String> {
        (self.dropped_bytes > 0).then(|| {
            format!(
                "{} lines ({} bytes) of output dropped, over the limit of {LINES} lines or {} MiB",
                self.dropped_lines,
                self.dropped_bytes,
                BYTES >> 20
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_limit_are_dropped_and_counted() {
        let mut cap = OutputCap::default();
        for _ in 0..LINES {
            assert_eq!(cap.admit("x"), Admit::Log);
        }
        assert_eq!(cap.dropped_notice(), None);
        assert_eq!(cap.admit("yy"), Admit::DropFirst);
        assert_eq!(cap.admit("z"), Admit::Drop);
        let notice = cap.dropped_notice().unwrap();
        assert!(notice.starts_with("2 lines (5 bytes)"), "{notice}");
    }

    #[test]
    fn bytes_count_too() {
        let mut cap = OutputCap::default();
        let big = "b".repeat((BYTES / 2) as usize);
        assert_eq!(cap.admit(&big), Admit::Log);
        assert_eq!(cap.admit(&big), Admit::DropFirst);
        assert_eq!(
            cap.admit("small"),
            Admit::Drop,
            "nothing after the first drop"
        );
    }

    #[test]
    fn output_dropped_before_it_became_lines_counts_once() {
        let mut cap = OutputCap::default();
        assert!(!cap.drop(0, 0));
        assert!(cap.drop(3, 30));
        assert!(!cap.drop(1, 10));
        assert_eq!(cap.admit("x"), Admit::Drop);
        assert!(cap
            .dropped_notice()
            .unwrap()
            .starts_with("5 lines (42 bytes)"));
    }
}
