//! The engine and the chain against a scripted backend: what the engine asks
//! of a backend for each kind of verdict, with no process traced.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use syscalls::{Errno, Sysno, SysnoSet};

use super::{Ending, Engine, OnStopSignal};
use crate::backend::{Backend, Capabilities, Event, Termination, Waited};
use crate::model::{Call, ExitVerdict, Verdict};
use crate::output::{Keep, Log, LogFormat, LogOptions};
use crate::policy::chain::{Chain, OnPolicyError};
use crate::policy::{Policy, PolicyError};
use crate::rules::{parse, RulePolicy};
use crate::tracee::Tracee;

/// What the engine asked of the fake backend, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Asked {
    Rewrite(i32, i64, [u64; 6]),
    Skip(i32, i64),
    SetResult(i32, i64),
    CallAgain(i32, i64, [u64; 6]),
    Resume(i32, bool),
    Signal(i32, i32),
}

/// A backend that replays `events` and records what it is asked.
struct Scripted {
    events: VecDeque<Event>,
    asked: Vec<Asked>,
}

impl Backend for Scripted {
    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    fn wait(&mut self, timeout: Option<Duration>, _held_due: bool) -> io::Result<Waited> {
        if let Some(timeout) = timeout {
            std::thread::sleep(timeout);
            return Ok(Waited::Nothing);
        }
        Ok(self
            .events
            .pop_front()
            .map_or(Waited::NoneLeft, Waited::Event))
    }

    fn rewrite(&mut self, tid: i32, nr: i64, args: [u64; 6]) {
        self.asked.push(Asked::Rewrite(tid, nr, args));
    }

    fn skip(&mut self, tid: i32, result: i64) {
        self.asked.push(Asked::Skip(tid, result));
    }

    fn set_result(&mut self, tid: i32, result: i64) {
        self.asked.push(Asked::SetResult(tid, result));
    }

    fn call_again(&mut self, _pid: i32, tid: i32, nr: i64, args: [u64; 6]) {
        self.asked.push(Asked::CallAgain(tid, nr, args));
    }

    fn resume(&mut self, tid: i32, stop_at_exit: bool) {
        self.asked.push(Asked::Resume(tid, stop_at_exit));
    }

    fn signal(&mut self, _pid: i32, tid: i32, signal: i32) {
        self.asked.push(Asked::Signal(tid, signal));
    }

    fn detach_all(&mut self, _held: &[i32]) {}

    fn kill_all(&mut self) {}
}

const TID: i32 = 4242;

fn entry(nr: Sysno) -> Event {
    Event::Entry {
        tid: TID,
        nr: nr.id() as i64,
        args: [1, 0x1000, 8, 0, 0, 0],
        notified: false,
    }
}

fn rule(text: &str) -> Box<dyn Policy> {
    Box::new(RulePolicy::new(parse::parse_expr(text).unwrap(), None))
}

/// A log that keeps records and writes lines nowhere.
fn quiet_log() -> Log {
    Log::new(LogOptions {
        out: None,
        format: LogFormat::Text,
        trace_all: false,
        summary: true,
        timed: false,
        keep: Keep::Tampered,
        end_to_stderr: false,
    })
}

/// Run `events` through an engine over `policies`; what it asked, the
/// ending, and the log's records.
fn run(policies: Vec<Box<dyn Policy>>, events: Vec<Event>) -> (Vec<Asked>, Ending, Log) {
    let mut chain = Chain::new(policies, OnPolicyError::Abort);
    let log = quiet_log();
    let mut backend = Scripted {
        events: events.into(),
        asked: Vec::new(),
    };
    let ending = {
        let mut engine = Engine::new(
            &mut backend,
            &mut chain,
            log.clone(),
            TID,
            &[(TID, TID)],
            OnStopSignal::Ignore,
        );
        engine.run().unwrap()
    };
    (backend.asked, ending, log)
}

#[test]
fn a_failed_call_is_skipped_with_its_errno_and_resumed_without_an_exit_stop() {
    let exited = Event::ThreadExited {
        tid: TID,
        status: Termination::Exit(3),
    };
    let (asked, ending, log) = run(
        vec![rule("fault=write:error=EIO")],
        vec![entry(Sysno::write), exited],
    );
    let eio = -i64::from(Errno::EIO.into_raw());
    assert_eq!(asked, [Asked::Skip(TID, eio), Asked::Resume(TID, false)]);
    assert_eq!(ending, Ending::Exited(Some(Termination::Exit(3))));
    let records = log.finish(&[], false).records;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].result, Some(eio));
    assert_eq!(records[0].policies, ["-e fault=write:error=EIO"]);
}

#[test]
fn when_counts_per_thread_and_passes_the_calls_it_does_not_select() {
    let (asked, _, _) = run(
        vec![rule("fault=fsync:error=EIO:when=2")],
        vec![
            entry(Sysno::fsync),
            entry(Sysno::fsync),
            Event::Exit {
                tid: TID,
                result: 0,
            },
            entry(Sysno::fsync),
        ],
    );
    let eio = -i64::from(Errno::EIO.into_raw());
    assert_eq!(
        asked,
        [
            Asked::Resume(TID, false),
            Asked::Skip(TID, eio),
            Asked::Resume(TID, false),
            // An exit nobody asked for is let go.
            Asked::Resume(TID, false),
            Asked::Resume(TID, false),
        ]
    );
}

#[test]
fn a_substituted_call_is_rewritten_and_its_result_overridden_at_exit() {
    let (asked, _, log) = run(
        vec![rule("inject=chdir:syscall=gettid:retval=7")],
        vec![
            entry(Sysno::chdir),
            Event::Exit {
                tid: TID,
                result: 4242,
            },
        ],
    );
    assert_eq!(
        asked,
        [
            Asked::Rewrite(TID, Sysno::gettid.id() as i64, [1, 0x1000, 8, 0, 0, 0]),
            Asked::Resume(TID, true),
            Asked::SetResult(TID, 7),
            Asked::Resume(TID, false),
        ]
    );
    let records = log.finish(&[], false).records;
    assert_eq!(records[0].result, Some(7));
    assert_eq!(records[0].original.nr, Sysno::chdir.id() as i64);
}

#[test]
fn a_signal_is_sent_and_a_delay_holds_the_thread_before_it_resumes() {
    let started = std::time::Instant::now();
    let (asked, _, _) = run(
        vec![rule("inject=getpid:signal=USR1:delay_enter=20ms:retval=1")],
        vec![entry(Sysno::getpid)],
    );
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert_eq!(
        asked,
        [
            Asked::Signal(TID, libc::SIGUSR1),
            Asked::Skip(TID, 1),
            Asked::Resume(TID, false),
        ]
    );
}

/// A native policy that doubles every read's result at exit.
struct Doubler;

impl Policy for Doubler {
    fn name(&self) -> &str {
        "doubler"
    }

    fn subscription(&self) -> SysnoSet {
        SysnoSet::new(&[Sysno::read])
    }

    fn on_enter(&mut self, _call: &mut Call, _tracee: &Tracee) -> Result<Verdict, PolicyError> {
        Ok(Verdict {
            want_exit: true,
            ..Verdict::PASS
        })
    }

    fn on_exit(
        &mut self,
        _call: &Call,
        result: &mut i64,
        _tracee: &Tracee,
    ) -> Result<ExitVerdict, PolicyError> {
        *result *= 2;
        Ok(ExitVerdict::KEEP)
    }
}

#[test]
fn exit_stages_run_inside_out_and_unsubscribed_stages_never_see_the_call() {
    let (asked, _, log) = run(
        vec![rule("fault=write:error=EIO"), Box::new(Doubler)],
        vec![
            entry(Sysno::read),
            Event::Exit {
                tid: TID,
                result: 5,
            },
        ],
    );
    assert_eq!(
        asked,
        [
            Asked::Resume(TID, true),
            Asked::SetResult(TID, 10),
            Asked::Resume(TID, false),
        ]
    );
    let records = log.finish(&[], false).records;
    assert_eq!(records[0].policies, ["doubler"]);
}

/// A native policy that turns a write into an lseek, has a getpid made
/// once a call it saw returned, and shows the caller what getpid returned
/// plus 100.
struct Follower;

impl Policy for Follower {
    fn name(&self) -> &str {
        "follower"
    }

    fn subscription(&self) -> SysnoSet {
        SysnoSet::new(&[Sysno::write])
    }

    fn on_enter(&mut self, call: &mut Call, _tracee: &Tracee) -> Result<Verdict, PolicyError> {
        call.nr = Sysno::lseek.id() as i64;
        Ok(Verdict {
            want_exit: true,
            ..Verdict::PASS
        })
    }

    fn on_exit(
        &mut self,
        call: &Call,
        result: &mut i64,
        _tracee: &Tracee,
    ) -> Result<ExitVerdict, PolicyError> {
        if call.sysno() == Some(Sysno::getpid) {
            *result += 100;
            return Ok(ExitVerdict::KEEP);
        }
        Ok(ExitVerdict {
            then: Some(Call {
                nr: Sysno::getpid.id() as i64,
                args: [0; 6],
                ..*call
            }),
            ..ExitVerdict::KEEP
        })
    }
}

/// What the engine asks of the backend for [`Follower`] when the call it
/// replaced runs and returns, then getpid returns 7.
fn followed_asks() -> Vec<Asked> {
    vec![
        Asked::CallAgain(TID, Sysno::getpid.id() as i64, [0; 6]),
        Asked::Resume(TID, true),
        Asked::SetResult(TID, 107),
        Asked::Resume(TID, false),
    ]
}

#[test]
fn a_replaced_call_runs_then_the_call_asked_at_its_exit_whose_exit_decides_the_result() {
    let returned = |result| Event::Exit { tid: TID, result };
    let (asked, _, log) = run(
        vec![Box::new(Follower)],
        vec![entry(Sysno::write), returned(5), returned(7)],
    );
    let lseek = Sysno::lseek.id() as i64;
    let mut want = vec![
        Asked::Rewrite(TID, lseek, [1, 0x1000, 8, 0, 0, 0]),
        Asked::Resume(TID, true),
    ];
    want.extend(followed_asks());
    assert_eq!(asked, want);
    let records = log.finish(&[], false).records;
    assert_eq!((records[0].call.nr, records[0].result), (lseek, Some(107)));
    assert!(records[0].injected);
}

#[test]
fn a_call_asked_after_a_skipped_one_runs_in_its_place() {
    // A later stage fails the lseek Follower made of the write: Follower
    // sees the failure at once, and the getpid it asks for runs instead.
    let (asked, _, _) = run(
        vec![Box::new(Follower), rule("fault=lseek:error=EIO")],
        vec![
            entry(Sysno::write),
            Event::Exit {
                tid: TID,
                result: 7,
            },
        ],
    );
    let getpid = Sysno::getpid.id() as i64;
    assert_eq!(
        asked,
        [
            Asked::Rewrite(TID, getpid, [0; 6]),
            Asked::Resume(TID, true),
            Asked::SetResult(TID, 107),
            Asked::Resume(TID, false),
        ]
    );
}

#[test]
fn a_user_notification_of_a_call_under_way_is_let_run_undecided() {
    // The lseek a write became meets the filter again, which sends it to a
    // user notification: it is let run, and the write's exit comes after.
    let notified = Event::Entry {
        tid: TID,
        nr: Sysno::lseek.id() as i64,
        args: [1, 0x1000, 8, 0, 0, 0],
        notified: true,
    };
    let returned = |result| Event::Exit { tid: TID, result };
    let (asked, _, _) = run(
        vec![Box::new(Follower)],
        vec![entry(Sysno::write), notified, returned(5), returned(7)],
    );
    assert_eq!(asked[2], Asked::Resume(TID, false));
    assert_eq!(asked[3..], followed_asks()[..]);
}

#[test]
fn a_thread_that_dies_in_its_call_is_logged_without_a_result() {
    let (_, ending, log) = run(
        vec![Box::new(Doubler)],
        vec![
            entry(Sysno::read),
            Event::ThreadExited {
                tid: TID,
                status: Termination::Signal(libc::SIGKILL),
            },
        ],
    );
    assert_eq!(
        ending,
        Ending::Exited(Some(Termination::Signal(libc::SIGKILL)))
    );
    // Doubler changed nothing: the call is counted, not kept.
    let gathered = log.finish(&[], false);
    assert!(gathered.records.is_empty());
    assert_eq!(gathered.summary.unwrap().get("read").unwrap().stops, 1);
}

/// Capabilities a backend lacks name what a stage needed.
#[test]
fn a_missing_capability_is_named() {
    let none = Capabilities {
        rewrite: false,
        results: false,
        delay_exit: false,
    };
    let substitutes = RulePolicy::new(
        parse::parse_expr("inject=chdir:syscall=gettid:retval=0").unwrap(),
        None,
    );
    assert_eq!(
        none.missing(&substitutes.needs()),
        Some("rewriting arguments")
    );
    let fails = RulePolicy::new(parse::parse_expr("fault=chdir").unwrap(), None);
    assert_eq!(none.missing(&fails.needs()), None);
}
