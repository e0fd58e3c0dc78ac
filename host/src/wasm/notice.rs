//! The line a slow first compile of a plugin prints on standard error (not
//! into the `-o` log), with a spinner when standard error is a terminal:
//! an 18 MB component takes seconds to compile, and silence looks like a
//! hang. Cache hits and small components print nothing.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Components at least this large get the line: about a second of
/// compiling in a release build, several in a debug one.
pub const NOTICE_BYTES: usize = 1 << 20;

/// The line of one compile, shown from [`CompileNotice::start`] until it is
/// dropped.
pub struct CompileNotice {
    line: String,
    started: Instant,
    spinner: Option<ProgressBar>,
}

impl CompileNotice {
    /// Announce the compile of the plugin `name` of `size` bytes, unless it
    /// is small; `cached` says whether the result will be kept on disk.
    pub fn start(name: &str, size: usize, cached: bool) -> Option<CompileNotice> {
        if size < NOTICE_BYTES {
            return None;
        }
        let line = format!(
            "fault: compiling plugin {name} ({:.0} MB) for this machine{}",
            size as f64 / 1e6,
            if cached {
                "; cached for next runs"
            } else {
                " (no cache directory: set XDG_CACHE_HOME or HOME to keep it)"
            }
        );
        let spinner = std::io::stderr().is_terminal().then(|| {
            let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            spinner.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .expect("a valid template"),
            );
            spinner.set_message(line.clone());
            spinner.enable_steady_tick(Duration::from_millis(100));
            spinner
        });
        if spinner.is_none() {
            eprintln!("{line}");
        }
        Some(CompileNotice {
            line,
            started: Instant::now(),
            spinner,
        })
    }
}

impl Drop for CompileNotice {
    /// On a terminal, leave the line in place with the time it took.
    fn drop(&mut self) {
        if let Some(spinner) = &self.spinner {
            spinner.set_style(ProgressStyle::with_template("{msg}").expect("a valid template"));
            spinner.finish_with_message(format!(
                "{} (took {:.1} s)",
                self.line,
                self.started.elapsed().as_secs_f64()
            ));
        }
    }
}
