//! What fi tells the user: one line per tampered call (every stopped call
//! with `--trace`), in strace's style or as JSON, and the `-c` table.

mod decode;
mod flags;
mod record;
mod summary;
mod words;

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::model::{Action, Record};
use crate::policy::chain::StageReport;
pub use record::CallRecord;
pub use summary::Summary;
pub use words::count;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// strace-style text lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Which decided calls a run keeps as typed [`Record`]s for its outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Keep {
    /// None (the command line, which only prints).
    #[default]
    Nothing,
    /// Every call a policy changed.
    Tampered,
    /// Every call fi stopped.
    All,
}

/// Where a run's log goes and what it keeps.
pub struct LogOptions {
    /// Where lines go; `None` throws them away without formatting them.
    pub out: Option<Box<dyn Write + Send>>,
    /// The lines' format.
    pub format: LogFormat,
    /// Log untampered calls too.
    pub trace_all: bool,
    /// Count calls per syscall (for `-c` and a session's outcome).
    pub summary: bool,
    /// See every stopped call return, to time it and count its errors
    /// (`-c`'s table).
    pub timed: bool,
    /// Which calls to keep as records.
    pub keep: Keep,
    /// When lines go nowhere, write the end of the log (warnings, tables)
    /// to standard error instead (the command line's `-o /dev/null`).
    pub end_to_stderr: bool,
}

/// What a log gathered over a run.
#[derive(Default)]
pub struct Gathered {
    /// The kept records, in the order the calls finished.
    pub records: Vec<Record>,
    /// The per-syscall counters, if asked for.
    pub summary: Option<Summary>,
}

/// The log sink, the `-c` counters and the kept records: a cheap handle,
/// shared by the engine and the plugins that log through it.
#[derive(Clone)]
pub struct Log {
    inner: Rc<RefCell<Sink>>,
    trace_all: bool,
    timed: bool,
    keep: Keep,
}

struct Sink {
    /// Where lines go; `None` when they would be thrown away (`-o /dev/null`),
    /// so fi does not decode and format them at all.
    out: Option<Box<dyn Write + Send>>,
    format: LogFormat,
    gathered: Gathered,
    end_to_stderr: bool,
    /// `-e trace=SET`: with `--trace`, only these calls are logged.
    traced: Option<syscalls::SysnoSet>,
}

impl Log {
    /// A log as `options` say.
    pub fn new(options: LogOptions) -> Log {
        let sink = Sink {
            out: options.out,
            format: options.format,
            gathered: Gathered {
                records: Vec::new(),
                summary: options.summary.then(Summary::default),
            },
            end_to_stderr: options.end_to_stderr,
            traced: None,
        };
        Log {
            inner: Rc::new(RefCell::new(sink)),
            trace_all: options.trace_all,
            timed: options.timed,
            keep: options.keep,
        }
    }

    /// A log that writes lines to `out` in `format` and keeps nothing.
    pub fn lines_to(out: Box<dyn Write + Send>, format: LogFormat) -> Log {
        Log::new(LogOptions {
            out: Some(out),
            format,
            trace_all: false,
            summary: false,
            timed: false,
            keep: Keep::Nothing,
            end_to_stderr: false,
        })
    }

    /// With `--trace`, log only the untampered calls of `set` (`-e trace=`).
    pub fn trace_only(&self, set: syscalls::SysnoSet) {
        self.inner.borrow_mut().traced = Some(set);
    }

    /// Whether every stopped call needs its result (logged, timed or kept),
    /// not only the tampered ones.
    pub fn traces_all(&self) -> bool {
        (self.trace_all && self.writes_lines()) || self.timed || self.keep == Keep::All
    }

    /// Whether a tampered call's result matters: it is logged or kept.
    pub fn keeps_lines(&self) -> bool {
        self.keep != Keep::Nothing || self.writes_lines()
    }

    /// Whether finished calls matter at all: logged, counted or kept.
    pub fn keeps_records(&self) -> bool {
        self.keeps_lines() || self.inner.borrow().gathered.summary.is_some()
    }

    /// Whether log lines go anywhere.
    pub fn writes_lines(&self) -> bool {
        self.inner.borrow().out.is_some()
    }

    /// Record one finished call.
    pub fn call(&self, record: &CallRecord) {
        let mut sink = self.inner.borrow_mut();
        if let Some(summary) = &mut sink.gathered.summary {
            summary.count(record);
        }
        let tampered = record.tampered();
        let wanted = tampered || record.logged;
        if self.keep == Keep::All || (self.keep == Keep::Tampered && wanted) {
            sink.gathered.records.push(record.to_record());
        }
        let traced = || {
            sink.traced.as_ref().is_none_or(|set| {
                record
                    .original
                    .sysno()
                    .is_some_and(|sysno| set.contains(sysno))
            })
        };
        if !(wanted || (self.trace_all && traced())) {
            return;
        }
        let format = sink.format;
        let Some(out) = &mut sink.out else {
            return;
        };
        let line = match format {
            LogFormat::Text => decode::text_line(record),
            LogFormat::Json => json_line(record).to_string(),
        };
        report_write_error(writeln!(out, "{line}"));
    }

    /// A message from fi or a plugin, attributed to `source`.
    pub fn note(&self, source: &str, message: &str) {
        let mut sink = self.inner.borrow_mut();
        let format = sink.format;
        let Some(out) = &mut sink.out else {
            return;
        };
        let line = match format {
            LogFormat::Text => format!("[{source}] {message}"),
            LogFormat::Json => note_json(source, message).to_string(),
        };
        report_write_error(writeln!(out, "{line}"));
    }

    /// End the log: one warning line per stage in `stages` that changed no
    /// call, the per-stage counts (one object in JSON), the `-c` tables (per
    /// stage, then per syscall) when `print_summary`; then flush, and hand
    /// over what was gathered. What would go nowhere (`-o /dev/null`) goes to
    /// standard error.
    pub fn finish(&self, stages: &[StageReport], print_summary: bool) -> Gathered {
        let mut sink = self.inner.borrow_mut();
        let format = sink.format;
        let gathered = std::mem::take(&mut sink.gathered);
        let mut stderr = io::stderr();
        let end_to_stderr = sink.end_to_stderr;
        let out: &mut dyn Write = match &mut sink.out {
            Some(out) => out,
            None if end_to_stderr => &mut stderr,
            None => return gathered,
        };
        for warning in stages.iter().filter_map(idle_warning) {
            report_write_error(match format {
                LogFormat::Text => writeln!(out, "[{}] warning: {warning}", crate::COMMAND),
                LogFormat::Json => writeln!(out, "{}", note_json(crate::COMMAND, &warning)),
            });
        }
        if format == LogFormat::Json && !stages.is_empty() {
            let line = json!({"time": now(), "stages": summary::stages_json(stages)});
            report_write_error(writeln!(out, "{line}"));
        }
        if let Some(summary) = gathered.summary.as_ref().filter(|_| print_summary) {
            report_write_error(match format {
                LogFormat::Text => write!(out, "{}{summary}", summary::StageTable(stages)),
                LogFormat::Json => writeln!(out, "{}", summary.to_json()),
            });
        }
        report_write_error(out.flush());
        gathered
    }
}

/// `-e inject=...: changed no call; why`, for a stage that changed none and
/// did not report on the run itself.
fn idle_warning(stage: &StageReport) -> Option<String> {
    (stage.changed == 0 && !stage.reported).then(|| match &stage.idle_reason {
        Some(reason) => format!("{}: changed no call; {reason}", stage.name),
        None => format!("{}: changed no call", stage.name),
    })
}

fn note_json(source: &str, message: &str) -> serde_json::Value {
    json!({"time": now(), "source": source, "message": message})
}

fn report_write_error(result: io::Result<()>) {
    if let Err(error) = result {
        eprintln!("{}: writing the log: {error}", crate::COMMAND);
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn json_line(record: &CallRecord) -> serde_json::Value {
    let call = record.call;
    let verdict = match record.action {
        Action::Fail(_) => "fail",
        Action::Return(_) => "return",
        Action::Pass if call != record.original => "rewrite",
        Action::Pass if record.injected => "override",
        Action::Pass => "pass",
    };
    let errno = record
        .result
        .filter(|r| (-4095..0).contains(r))
        .and_then(|r| syscalls::Errno::new(-r as i32).name());
    json!({
        "time": now(),
        "pid": record.tracee.pid,
        "tid": record.tracee.tid,
        "syscall": call.name(),
        "nr": call.nr,
        "args": call.args,
        "original_args": (call != record.original).then_some(record.original.args),
        "paths": record.tracee.call_paths(call),
        "verdict": verdict,
        "injected": record.injected,
        "result": record.result,
        "errno": errno,
        "delay_ns": record.delay_ns as u64,
        "signals": record.signals,
        "policies": record.policies,
    })
}
