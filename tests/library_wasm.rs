//! WebAssembly plugins in a process that runs many sessions, through the
//! public API alone: every session's plugins keep their time limit, a plugin
//! loaded again behaves the same (its state is the session's own, not left
//! over from the last one), and sessions on several threads at once each get
//! their own plugin's verdicts.
//!
//! (That a plugin is compiled once per process, however many sessions load
//! it, is checked by the unit tests of `fi::wasm`, which can see where its
//! compiled code lies.)

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use fi::session::{Outcome, Session, SessionError, Status};
use syscalls::Errno;

mod common;
use common::{python3, test_plugin, tests_dir, TestDir};

/// How long one session may take before the test fails instead of hanging.
const WATCHDOG: Duration = Duration::from_secs(20);

/// `session` run on a thread of its own; the test fails if it has not
/// returned after [`WATCHDOG`].
#[track_caller]
fn run_watched(what: &str, session: Session) -> Result<Outcome, SessionError> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let _ = sender.send(session.run());
    });
    receiver
        .recv_timeout(WATCHDOG)
        .unwrap_or_else(|_| panic!("{what}: the session had not returned after {WATCHDOG:?}"))
}

/// Python opening, writing and fsyncing `a.db` and `b.db` in `dir`.
fn fsync_two(dir: &TestDir) -> Command {
    let mut command = Command::new(python3());
    command
        .arg(tests_dir().join("programs/python/fsync_two.py"))
        .arg(dir.join("a.db"))
        .arg(dir.join("b.db"))
        .stdout(Stdio::null());
    command
}

#[test]
fn every_session_of_the_process_stops_a_looping_plugin_at_its_time_limit() {
    let plugin = test_plugin("hostile");
    let spec = format!("{}:mode=loop", plugin.display());
    for round in 1..=2 {
        let dir = TestDir::new(&format!("library-wasm-loop-{round}"));
        let session = Session::command(&fsync_two(&dir))
            .plugin(&spec)
            .plugin_timeout(Duration::from_millis(200));
        let error = run_watched(&format!("session {round}"), session).unwrap_err();
        assert!(
            matches!(&error, SessionError::Stopped(message)
                if message.contains("ran longer than 200ms") && message.contains("fsync")),
            "session {round}: {error:?}"
        );
    }
}

/// A shell appending `1,` to `20,` to `out` with one write each, and what
/// failed to `failed`; `chaos` fails half the calls touching `out`, drawing
/// from the session's seed.
fn chaos_session(dir: &TestDir) -> Session {
    let mut sh = Command::new("sh");
    sh.current_dir(dir.path()).arg("-c").arg(
        "i=1; while [ $i -le 20 ]; do \
             printf $i, 2>/dev/null >> out || printf $i, >> failed; i=$((i+1)); \
         done",
    );
    Session::command(&sh)
        .plugin("chaos:syscalls=openat,write:probability=0.5:path=*/out")
        .seed(7)
}

/// What a user compares between two runs: the status, each changed call
/// (pids aside, which differ), the stages and the files written.
fn summary(outcome: &Outcome, dir: &TestDir) -> String {
    let calls: Vec<String> = outcome
        .calls
        .iter()
        .map(|record| {
            format!(
                "{} {:?} {:?} {:?}",
                record.original.name(),
                record.action,
                record.result,
                record.policies
            )
        })
        .collect();
    format!(
        "status {:?}\ncalls {calls:#?}\nstages {:?}\nout {:?}\nfailed {:?}",
        outcome.status,
        outcome.stages,
        dir.read("out"),
        dir.read("failed")
    )
}

#[test]
fn a_plugin_loaded_again_by_the_next_session_gives_the_same_outcome() {
    let first_dir = TestDir::new("library-wasm-again-1");
    let first = run_watched("first session", chaos_session(&first_dir)).unwrap();
    let second_dir = TestDir::new("library-wasm-again-2");
    let second = run_watched("second session", chaos_session(&second_dir)).unwrap();
    assert_eq!(first.status, Status::Exited(0));
    assert!(first.fired("chaos"), "{:?}", first.stages);
    let failed = first_dir.read("failed");
    assert!(
        !failed.is_empty() && !first_dir.read("out").is_empty(),
        "some writes fail, some do not: out {:?}, failed {failed:?}",
        first_dir.read("out")
    );
    assert_eq!(
        summary(&first, &first_dir),
        summary(&second, &second_dir),
        "the same seed must give the same run"
    );
}

/// One of four sessions at once: `cat` of its own file, which `path-errno`
/// fails with its own error.
fn cat_failed_with(dir: &Path, index: usize, errno: Errno) {
    let file = dir.join(format!("data-{index}.txt"));
    fs::write(&file, "contents\n").unwrap();
    // The shell becomes `cat`, its error message silenced.
    let mut cat = Command::new("sh");
    cat.arg("-c")
        .arg(format!("exec cat {} >/dev/null 2>&1", file.display()));
    let spec = format!(
        "path-errno:path={}:errno={}",
        file.display(),
        errno.name().unwrap()
    );
    let session = Session::command(&cat).plugin(&spec).seed(index as u64);
    let outcome = run_watched(&format!("session {index}"), session).unwrap();
    assert_eq!(outcome.status, Status::Exited(1), "session {index}");
    let opens: Vec<_> = outcome.calls_of("openat").collect();
    assert_eq!(opens.len(), 1, "session {index}: {:?}", outcome.calls);
    assert_eq!(opens[0].errno(), Some(errno), "session {index}");
    assert_eq!(opens[0].policies, ["path-errno"], "session {index}");
}

#[test]
fn four_sessions_at_once_each_get_their_own_plugin_s_verdicts() {
    let dir = TestDir::new("library-wasm-parallel");
    let errnos = [Errno::EROFS, Errno::EACCES, Errno::ENOSPC, Errno::EIO];
    for round in 0..3 {
        thread::scope(|scope| {
            let sessions: Vec<_> = errnos
                .iter()
                .enumerate()
                .map(|(index, &errno)| {
                    let dir = dir.path();
                    scope.spawn(move || cat_failed_with(dir, round * 4 + index, errno))
                })
                .collect();
            for session in sessions {
                session.join().unwrap();
            }
        });
    }
}
