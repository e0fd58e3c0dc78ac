//! The backends a session chooses per syscall: a constant error answered by
//! the seccomp filter in the kernel, entry-only calls decided through seccomp
//! user notification, and ptrace stops for what needs them, in one run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use fi::backend::Kind;
use fi::model::{Action, Call, Need, Verdict};
use fi::policy::{Policy, PolicyError};
use fi::session::{Session, Status};
use fi::tracee::Tracee;
use syscalls::{Errno, Sysno, SysnoSet};

mod common;
use common::{proc_state, TestDir};

/// Cuts the first `write` of at least 3 bytes to 2: a rewrite, which needs
/// a ptrace stop (the default [`Need::Stop`]).
struct CutFirstWrite {
    done: bool,
}

impl Policy for CutFirstWrite {
    fn name(&self) -> &str {
        "cut-first-write"
    }

    fn subscription(&self) -> SysnoSet {
        SysnoSet::new(&[Sysno::write])
    }

    fn on_enter(&mut self, call: &mut Call, _: &Tracee) -> Result<Verdict, PolicyError> {
        if !self.done && call.args[2] >= 3 {
            self.done = true;
            call.args[2] = 2;
        }
        Ok(Verdict::PASS)
    }
}

/// Fails `openat` of paths ending in `secret` with EACCES after holding the
/// caller for `hold`; decides at entry only.
struct SlowDenial {
    hold: Duration,
}

impl Policy for SlowDenial {
    fn name(&self) -> &str {
        "slow-denial"
    }

    fn subscription(&self) -> SysnoSet {
        SysnoSet::new(&[Sysno::openat])
    }

    fn need(&self, _: Sysno) -> Need {
        Need::Entry {
            passes_changed: false,
        }
    }

    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError> {
        let secret = tracee
            .call_paths(call)
            .iter()
            .any(|path| path.ends_with("secret"));
        if !secret {
            return Ok(Verdict::PASS);
        }
        Ok(Verdict {
            delay_enter: self.hold,
            ..Verdict::action(Action::Fail(Errno::EACCES))
        })
    }
}

/// The processes whose command line names `needle`.
fn processes_naming(needle: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(needle))
        })
        .collect()
}

/// `sh -c 'echo hello > OUT; cat SECRET'` in `dir`.
fn write_then_open(dir: &TestDir) -> (Command, PathBuf) {
    let secret = dir.join("secret");
    std::fs::write(&secret, "x\n").unwrap();
    let mut command = Command::new("sh");
    command.arg("-c").arg(format!(
        "echo hello > {}/out; exec cat {}",
        dir.path().display(),
        secret.display()
    ));
    (command, secret)
}

/// Run the two policies over `write_then_open` on `kind`; the state of the
/// `cat` process while its `openat` was held, and the outcome.
fn run_held(kind: Kind, name: &str) -> (Option<(char, String)>, fi::session::Outcome) {
    let dir = TestDir::new(name);
    let (command, secret) = write_then_open(&dir);
    let (sender, receiver) = mpsc::channel();
    let session = thread::spawn(move || {
        let outcome = Session::command(&command)
            .backend(kind)
            .policy(CutFirstWrite { done: false })
            .policy(SlowDenial {
                hold: Duration::from_millis(1500),
            })
            .run()
            .unwrap();
        sender.send(outcome).unwrap();
    });
    common::wait_until(Duration::from_secs(10), || cat_state(&secret).is_some());
    // Well into the 1.5 s hold of its openat.
    thread::sleep(Duration::from_millis(700));
    let state = cat_state(&secret);
    let outcome = receiver.recv_timeout(Duration::from_secs(30)).unwrap();
    session.join().unwrap();
    (state, outcome)
}

/// The state and wait channel of the `cat` of `secret` once it has exec'd.
fn cat_state(secret: &Path) -> Option<(char, String)> {
    processes_naming(&secret.display().to_string())
        .into_iter()
        .filter(|&pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "cat")
        })
        .find_map(|pid| {
            let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
            Some((proc_state(pid)?, wchan))
        })
}

fn check_outcome(outcome: &fi::session::Outcome) {
    assert_eq!(outcome.status, Status::Exited(1), "cat saw EACCES");
    let write = outcome
        .calls_of("write")
        .next()
        .expect("the rewritten write is kept");
    assert_eq!(write.original.args[2], 6, "echo wrote hello\\n");
    assert_eq!(write.call.args[2], 2, "the count was cut");
    assert_eq!(
        write.result,
        Some(2),
        "the cut write ran and fi saw its exit"
    );
    let open = outcome
        .calls_of("openat")
        .find(|c| c.errno().is_some())
        .expect("the denied openat is kept");
    assert_eq!(open.errno(), Some(Errno::EACCES));
    assert_eq!(open.delay, Duration::from_millis(1500));
    assert!(outcome.fired("cut-first-write") && outcome.fired("slow-denial"));
}

#[test]
fn a_rewrite_gets_its_stop_while_entry_only_calls_wait_on_a_notification() {
    if !fi::backend::notify::supported() {
        eprintln!("skipped: this kernel has no seccomp user notification with killable waits");
        return;
    }
    let (state, outcome) = run_held(Kind::Auto, "backends-mixed");
    check_outcome(&outcome);
    // A thread waiting on a notification sleeps in the seccomp code (S,
    // switched to a killable wait only if a signal comes); a ptrace stop
    // would show as t.
    let (state, wchan) = state.expect("cat was seen");
    assert_eq!(state, 'S', "cat's openat waited on a notification");
    assert!(
        wchan == "0" || wchan.starts_with("seccomp_do_user_notification"),
        "{wchan}"
    );
}

#[test]
fn the_ptrace_backend_stops_every_decided_call() {
    let (state, outcome) = run_held(Kind::Ptrace, "backends-ptrace");
    check_outcome(&outcome);
    assert_eq!(
        state.map(|(state, _)| state),
        Some('t'),
        "cat's openat was held in a ptrace stop"
    );
}

/// `fsyncs N FILE` under `-e fault=fsync:error=EIO`, keeping `keep` calls.
fn fsync_run(keep_none: bool, kind: Kind) -> fi::session::Outcome {
    let dir = TestDir::new("backends-fsync");
    let mut command = Command::new(common::c_program("fsyncs"));
    command
        .arg("50")
        .arg(dir.join("file"))
        .stdout(std::process::Stdio::null());
    let mut session = Session::command(&command)
        .backend(kind)
        .rule("fault=fsync:error=EIO");
    if keep_none {
        session = session.keep_no_calls();
    }
    session.run().unwrap()
}

#[test]
fn a_constant_error_is_answered_in_the_kernel_when_no_call_is_kept() {
    let outcome = fsync_run(true, Kind::Auto);
    assert_eq!(outcome.status, Status::Exited(1), "every fsync failed");
    assert_eq!(outcome.summary.get("fsync"), None, "fi saw no fsync");
    let stage = &outcome.stages[0];
    let reason = stage.idle_reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("answered by the seccomp filter"),
        "{reason}"
    );
}

#[test]
fn a_constant_error_is_seen_when_calls_are_kept_or_on_ptrace() {
    for (keep_none, kind) in [(false, Kind::Auto), (true, Kind::Ptrace)] {
        let outcome = fsync_run(keep_none, kind);
        assert_eq!(outcome.status, Status::Exited(1));
        let counts = outcome.summary.get("fsync").expect("fsync counted");
        assert_eq!((counts.stops, counts.errors), (50, 50), "{kind:?}");
        assert!(outcome.fired("-e fault=fsync:error=EIO"));
    }
}

/// Fails every `fsync` with EIO and sends SIGUSR1 with it: an entry-only
/// verdict with a signal.
struct SignalOnFsync;

impl Policy for SignalOnFsync {
    fn name(&self) -> &str {
        "signal-on-fsync"
    }

    fn subscription(&self) -> SysnoSet {
        SysnoSet::new(&[Sysno::fsync])
    }

    fn need(&self, _: Sysno) -> Need {
        Need::Entry {
            passes_changed: false,
        }
    }

    fn on_enter(&mut self, _: &mut Call, _: &Tracee) -> Result<Verdict, PolicyError> {
        Ok(Verdict {
            signal: Some(libc::SIGUSR1),
            ..Verdict::action(Action::Fail(Errno::EIO))
        })
    }
}

#[test]
fn a_signal_on_a_notified_call_is_delivered_once_and_the_call_decided_once() {
    // The signal is sent while the caller waits on the notification fi
    // received: the wait is killable only, so the call is not interrupted
    // and restarted (decided twice); the handler runs once it returned.
    let dir = TestDir::new("backends-signal");
    let program = common::c_program("sigcount");
    let mut command = Command::new("sh");
    command.arg("-c").arg(format!(
        "exec {} 3 {}/file > {}/out",
        program.display(),
        dir.path().display(),
        dir.path().display()
    ));
    for kind in [Kind::Auto, Kind::Ptrace] {
        let outcome = Session::command(&command)
            .backend(kind)
            .policy(SignalOnFsync)
            .run()
            .unwrap();
        assert_eq!(outcome.status, Status::Exited(0), "{kind:?}");
        assert_eq!(
            dir.read("out"),
            "fsync 1: EIO\nfsync 2: EIO\nfsync 3: EIO\ndeliveries=3\n",
            "{kind:?}"
        );
        assert_eq!(outcome.calls_of("fsync").count(), 3, "{kind:?}");
    }
}
