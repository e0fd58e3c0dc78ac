//! fi as a library: sessions built and run through the public API alone (no
//! command line), checking what a user of the library checks — the program's
//! status, which calls were changed and whether each policy fired — and that
//! sessions on many threads of one process keep out of each other's way and
//! out of the way of the process's own children.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::thread;

use fi::model::{Action, Call, Verdict};
use fi::policy::{Policy, PolicyError};
use fi::session::{Session, SessionError, Status};
use fi::tracee::Tracee;
use syscalls::{Errno, Sysno, SysnoSet};

mod common;
use common::TestDir;

fn cat(path: &std::path::Path) -> Command {
    let mut command = Command::new("cat");
    command.arg(path).stdout(std::process::Stdio::null());
    command
}

fn a_file(dir: &TestDir) -> PathBuf {
    let file = dir.join("data.txt");
    fs::write(&file, "contents\n").unwrap();
    file
}

#[test]
fn a_rule_fires_and_the_outcome_names_the_call_it_failed() {
    let dir = TestDir::new("library-rule");
    let file = a_file(&dir);
    let outcome = Session::command(&cat(&file))
        .rule("fault=openat:error=EACCES")
        .path(&file)
        .run()
        .unwrap();
    assert_eq!(outcome.status, Status::Exited(1), "cat saw the failure");
    assert!(outcome.fired("-e fault=openat:error=EACCES"));
    let failed: Vec<_> = outcome.calls_of("openat").collect();
    assert_eq!(failed.len(), 1, "{:?}", outcome.calls);
    assert_eq!(failed[0].action, Action::Fail(Errno::EACCES));
    assert_eq!(failed[0].errno(), Some(Errno::EACCES));
    assert_eq!(outcome.summary.get("openat").unwrap().tampered, 1);
}

#[test]
fn a_rule_that_matches_nothing_did_not_fire() {
    let dir = TestDir::new("library-quiet");
    let file = a_file(&dir);
    let outcome = Session::command(&cat(&file))
        .rule("fault=openat:error=EACCES")
        .path(dir.join("elsewhere"))
        .run()
        .unwrap();
    assert_eq!(outcome.status, Status::Exited(0));
    assert!(!outcome.fired("-e fault=openat:error=EACCES"));
    assert!(outcome.calls.is_empty());
}

#[test]
fn a_built_in_plugin_fires() {
    let dir = TestDir::new("library-plugin");
    let file = a_file(&dir);
    let spec = format!("path-errno:path={}:errno=EROFS", file.display());
    let outcome = Session::command(&cat(&file))
        .plugin(&spec)
        .seed(1)
        .run()
        .unwrap();
    assert_eq!(outcome.status, Status::Exited(1));
    assert!(outcome.fired("path-errno"), "{:?}", outcome.stages);
    assert!(outcome
        .calls
        .iter()
        .any(|c| c.errno() == Some(Errno::EROFS) && c.policies == ["path-errno"]));
}

/// A native Rust policy: every `read` of the traced program returns 0 (end
/// of file) without running.
struct EmptyReads;

impl Policy for EmptyReads {
    fn name(&self) -> &str {
        "empty-reads"
    }

    fn subscription(&self) -> SysnoSet {
        SysnoSet::new(&[Sysno::read])
    }

    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError> {
        // Only reads of the data file: the dynamic loader reads libraries.
        let reads_data = tracee
            .fd_path(call.args[0] as i32)
            .is_some_and(|path| path.ends_with("data.txt"));
        Ok(match reads_data {
            true => Verdict::action(Action::Return(0)),
            false => Verdict::PASS,
        })
    }
}

#[test]
fn a_native_policy_fires_and_the_program_sees_its_verdict() {
    let dir = TestDir::new("library-native");
    let file = a_file(&dir);
    let copy = dir.join("copy.txt");
    // The shell's `read` builtin reads the file with read(2).
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(format!(
        "read line < {}; echo \"[$line]\" > {}",
        file.display(),
        copy.display()
    ));
    let outcome = Session::command(&sh).policy(EmptyReads).run().unwrap();
    assert!(outcome.fired("empty-reads"), "{:?}", outcome.stages);
    assert_eq!(outcome.status, Status::Exited(0));
    assert_eq!(
        fs::read_to_string(&copy).unwrap(),
        "[]\n",
        "the shell read nothing"
    );
}

/// A native policy that changes nothing but asks for every open of a file
/// named `data.txt` to be logged.
struct Watcher;

impl Policy for Watcher {
    fn name(&self) -> &str {
        "watcher"
    }

    fn subscription(&self) -> SysnoSet {
        SysnoSet::new(&[Sysno::openat])
    }

    fn on_enter(&mut self, call: &mut Call, tracee: &Tracee) -> Result<Verdict, PolicyError> {
        let data = tracee
            .call_paths(call)
            .iter()
            .any(|path| path.ends_with("data.txt"));
        Ok(Verdict {
            log: data,
            ..Verdict::PASS
        })
    }
}

/// A log sink the test can read afterwards.
#[derive(Clone, Default)]
struct SharedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_policy_can_ask_for_an_unchanged_call_to_be_logged() {
    let dir = TestDir::new("library-log-call");
    let file = a_file(&dir);
    let log = SharedLog::default();
    let outcome = Session::command(&cat(&file))
        .policy(Watcher)
        .log_to(Box::new(log.clone()), fi::output::LogFormat::Text)
        .run()
        .unwrap();
    assert_eq!(outcome.status, Status::Exited(0));
    assert!(!outcome.fired("watcher"), "it changed nothing");
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("openat(")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].contains("data.txt\", O_RDONLY) = 3") && !lines[0].contains("INJECTED"),
        "the real result, nothing injected: {text}"
    );
    let kept: Vec<_> = outcome.calls_of("openat").collect();
    assert_eq!(kept.len(), 1, "{:?}", outcome.calls);
    assert_eq!(kept[0].result, Some(3));
}

#[test]
fn bad_parts_are_named_and_nothing_runs() {
    let dir = TestDir::new("library-bad");
    let marker = dir.join("ran");
    let mut touch = Command::new("touch");
    touch.arg(&marker);
    let error = Session::command(&touch)
        .rule("fault=openat:when=0")
        .run()
        .unwrap_err();
    assert!(
        matches!(&error, SessionError::Invalid(m) if m.contains("when=0")),
        "{error}"
    );
    let error = Session::command(&Command::new("/nonexistent/program"))
        .run()
        .unwrap_err();
    assert!(matches!(error, SessionError::NotFound(_)), "{error}");
    assert!(!marker.exists(), "nothing may run");
}

#[test]
fn the_command_s_environment_and_directory_reach_the_program() {
    let dir = TestDir::new("library-env");
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("echo \"$FI_LIBRARY_TEST\" > here.txt")
        .env("FI_LIBRARY_TEST", "from the session")
        .current_dir(dir.path());
    let outcome = Session::command(&sh).run().unwrap();
    assert_eq!(outcome.status, Status::Exited(0));
    assert_eq!(dir.read("here.txt"), "from the session\n");
}

/// One session's work: the shell writes a file with two writes (`printf`
/// is a builtin: one thread); a rule fails the second. The outcome must show
/// exactly that, whatever the other sessions of the process are doing.
fn one_session(dir: &std::path::Path, index: usize) {
    let out = dir.join(format!("out-{index}"));
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(format!(
        "printf a > {0} && printf b >> {0} || exit 7",
        out.display()
    ));
    let outcome = Session::command(&sh)
        .rule("fault=write:error=ENOSPC:when=2")
        .path(&out)
        .run()
        .unwrap();
    assert_eq!(outcome.status, Status::Exited(7), "session {index}");
    let failed: Vec<_> = outcome.calls_of("write").collect();
    assert_eq!(failed.len(), 1, "session {index}: {:?}", outcome.calls);
    assert_eq!(failed[0].errno(), Some(Errno::ENOSPC));
    assert_eq!(fs::read_to_string(&out).unwrap(), "a", "session {index}");
}

/// A thread of the process that spawns and reaps its own children, checking
/// that each child's status reaches it.
fn own_children(rounds: usize) {
    for round in 0..rounds {
        let code = (round % 50) as i32 + 1;
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("exit {code}"))
            .status()
            .unwrap();
        assert_eq!(
            status.code(),
            Some(code),
            "a child of the process was taken"
        );
    }
}

#[test]
fn eight_sessions_at_once_beside_the_process_s_own_children_twenty_times() {
    let dir = TestDir::new("library-parallel");
    for round in 0..20 {
        thread::scope(|scope| {
            let children: Vec<_> = (0..2).map(|_| scope.spawn(|| own_children(10))).collect();
            let sessions: Vec<_> = (0..8)
                .map(|index| {
                    let dir = dir.path();
                    scope.spawn(move || one_session(dir, round * 8 + index))
                })
                .collect();
            for handle in sessions.into_iter().chain(children) {
                handle.join().unwrap();
            }
        });
    }
}

#[test]
fn a_time_limit_kills_the_whole_program_and_says_so() {
    // A shell whose child sleeps: both must go at the limit.
    let mut command = Command::new("sh");
    command.args(["-c", "sleep 30; echo late"]);
    let started = std::time::Instant::now();
    let outcome = Session::command(&command)
        .rule("fault=chdir")
        .time_limit(std::time::Duration::from_millis(500))
        .run()
        .unwrap();
    assert_eq!(outcome.status, Status::TimedOut);
    assert_eq!(outcome.status.shell_code(), 124);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn the_program_s_standard_streams_can_be_given() {
    let dir = TestDir::new("library-stdio");
    let out = fs::File::create(dir.join("out.txt")).unwrap();
    let err = fs::File::create(dir.join("err.txt")).unwrap();
    let mut command = Command::new("sh");
    command.args(["-c", "read line; echo \"got [$line]\"; echo oops >&2"]);
    let outcome = Session::command(&command)
        .rule("fault=chdir")
        .stdin(fs::File::open("/dev/null").unwrap())
        .stdout(out)
        .stderr(err)
        .run()
        .unwrap();
    assert_eq!(outcome.status, Status::Exited(0));
    assert_eq!(dir.read("out.txt"), "got []\n");
    assert_eq!(dir.read("err.txt"), "oops\n");
}

/// The README's capture example: the program's stderr through a pipe read
/// on another thread.
#[test]
fn what_the_program_prints_is_captured_through_a_pipe() {
    use std::io::Read;

    let mut cat = Command::new("cat");
    cat.arg("/etc/hostname");
    let (mut reader, writer) = std::io::pipe().unwrap();
    let reading = thread::spawn(move || {
        let mut printed = String::new();
        reader.read_to_string(&mut printed).map(|_| printed)
    });
    let outcome = Session::command(&cat)
        .rule("fault=openat:error=EACCES")
        .path("/etc/hostname")
        .stderr(writer)
        .run()
        .unwrap();
    let printed = reading.join().unwrap().unwrap();
    assert_eq!(outcome.status, Status::Exited(1));
    assert!(
        printed.contains("cat: /etc/hostname: Permission denied"),
        "{printed:?}"
    );
}
