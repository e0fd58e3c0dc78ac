//! `offset=`: the bytes of a file the corruption may touch.

use std::str::FromStr;

/// A range of file offsets, `START..END` (END excluded) or `START..` (to
/// the end of the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetRange {
    /// The first offset in the range.
    pub start: u64,
    /// The first offset past it (`u64::MAX` for no end).
    pub end: u64,
}

impl OffsetRange {
    /// One line for the `offset` key's help.
    pub const HELP: &'static str =
        "file offsets to corrupt, START..END (END excluded) or START..; default the whole file";

    /// The whole file.
    pub const ALL: OffsetRange = OffsetRange {
        start: 0,
        end: u64::MAX,
    };

    /// The part of the `len` bytes at file offset `at` inside the range,
    /// as (first byte's index in them, count); `None` if none is.
    pub fn window(self, at: u64, len: u64) -> Option<(u64, u64)> {
        let first = at.max(self.start);
        let past = at.saturating_add(len).min(self.end);
        (first < past).then(|| (first - at, past - first))
    }
}

impl FromStr for OffsetRange {
    type Err = String;

    fn from_str(text: &str) -> Result<OffsetRange, String> {
        let (start, end) = text
            .split_once("..")
            .ok_or_else(|| format!("'{text}' is not a range: write START..END or START.."))?;
        let number = |part: &str| {
            part.parse::<u64>()
                .map_err(|_| format!("'{part}' is not a byte offset"))
        };
        let start = number(start)?;
        let end = if end.is_empty() {
            u64::MAX
        } else {
            number(end)?
        };
        if end <= start {
            return Err(format!("'{text}' is empty: END must be above START"));
        }
        Ok(OffsetRange { start, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_closed_and_open_ranges() {
        assert_eq!(
            "4096..8192".parse(),
            Ok(OffsetRange {
                start: 4096,
                end: 8192
            })
        );
        assert_eq!("10..".parse::<OffsetRange>().unwrap().end, u64::MAX);
        assert!("8..8".parse::<OffsetRange>().unwrap_err().contains("empty"));
        assert!("8"
            .parse::<OffsetRange>()
            .unwrap_err()
            .contains("not a range"));
        assert!("a..9".parse::<OffsetRange>().unwrap_err().contains("'a'"));
    }

    #[test]
    fn windows_are_the_overlap() {
        let range = OffsetRange {
            start: 100,
            end: 200,
        };
        assert_eq!(range.window(0, 50), None);
        assert_eq!(range.window(90, 20), Some((10, 10)));
        assert_eq!(range.window(150, 100), Some((0, 50)));
        assert_eq!(OffsetRange::ALL.window(7, 3), Some((0, 3)));
        assert_eq!(OffsetRange::ALL.window(7, 0), None);
    }
}
