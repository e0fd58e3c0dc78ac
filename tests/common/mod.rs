//! Helpers shared by fi's integration tests: building the programs they
//! trace, running fault (and native programs) with a deadline, per-test
//! directories, and looking at processes through /proc.
//!
//! A missing toolchain fails the test that needs it, with the install step.

#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The `fault` binary under test.
pub const FAULT: &str = env!("CARGO_BIN_EXE_fault");

/// The same command under its second name, `fi`.
pub const FI: &str = env!("CARGO_BIN_EXE_fi");

/// How long one run may take unless a test says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The top-level `tests/` folder.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests")
}

/// Where the tests build programs and keep their files.
pub fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

// ---------------------------------------------------------------------------
// Per-test directories

/// A fresh directory for one test, under `CARGO_TARGET_TMPDIR`; removed when
/// the test passes, kept for a look when it fails.
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    /// A new, empty directory whose name starts with `name`.
    pub fn new(name: &str) -> TestDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = tmp_root()
            .join("fi-tests")
            .join(format!("{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        // Absolute and free of symlinks, as the tracee will see it.
        let path = path.canonicalize().expect("canonicalize test dir");
        TestDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The contents of a file inside the directory ("" if it is missing).
    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.join(name)).unwrap_or_default()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if !thread::panicking() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

// ---------------------------------------------------------------------------
// Toolchains and programs

/// The processes whose command line (arguments joined by spaces) holds
/// `text`, from `/proc`.
pub fn processes_running(text: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let line: Vec<u8> = cmdline
            .split(|&b| b == 0)
            .filter(|arg| !arg.is_empty())
            .collect::<Vec<_>>()
            .join(&b' ');
        if String::from_utf8_lossy(&line).contains(text) {
            found.push(pid);
        }
    }
    found
}

/// `tool` from `$PATH`, or a failed test naming the install step.
pub fn require_tool(tool: &str, install: &str) -> PathBuf {
    find_in_path(tool).unwrap_or_else(|| panic!("{tool} not found: {install}"))
}

fn find_in_path(tool: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Run a build command to completion; panic with its output if it fails.
fn build(mut command: Command, what: &str) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {:?}: {e}", command.get_program()));
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Build once per test run (per process), whatever the number of tests
/// asking in parallel; a failed build fails every test that needs it.
fn build_once(key: String, make: impl FnOnce() -> PathBuf) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let result = built.entry(key.clone()).or_insert_with(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(make)).map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| format!("building {key} failed"))
        })
    });
    match result {
        Ok(path) => path.clone(),
        Err(message) => panic!("{message}"),
    }
}

/// Move a freshly built `tmp` into place atomically (another test binary may
/// be running the old one).
fn install(tmp: &Path, dest: &Path) {
    fs::rename(tmp, dest)
        .unwrap_or_else(|e| panic!("rename {} -> {}: {e}", tmp.display(), dest.display()));
}

/// The C program `tests/programs/c/NAME.c` (NAME may name a subfolder,
/// `parity/poke`), compiled with `cc`; a first line `// link: FLAGS` adds
/// linker flags (`-luring`).
pub fn c_program(name: &str) -> PathBuf {
    build_once(format!("c/{name}"), || {
        let cc = require_tool("cc", "apt-get install gcc");
        let src_dir = tests_dir().join("programs/c");
        let source = src_dir.join(format!("{name}.c"));
        assert!(source.is_file(), "no such program: {}", source.display());
        let dest = tmp_root().join("programs/c").join(name);
        let out_dir = dest.parent().unwrap().to_path_buf();
        fs::create_dir_all(&out_dir).unwrap();
        let base = dest.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = out_dir.join(format!(".{base}.{}", std::process::id()));
        let mut command = Command::new(cc);
        command
            .args(["-O1", "-g", "-Wall", "-pthread", "-I"])
            .arg(&src_dir)
            .arg("-o")
            .arg(&tmp)
            .arg(&source);
        let text = fs::read_to_string(&source).unwrap();
        if let Some(flags) = text.lines().next().and_then(|l| l.strip_prefix("// link:")) {
            command.args(flags.split_whitespace());
        }
        build(command, &format!("cc {}", source.display()));
        install(&tmp, &dest);
        dest
    })
}

/// The Go program `tests/programs/go/NAME/main.go`, built with `go build`.
pub fn go_program(name: &str) -> PathBuf {
    build_once(format!("go/{name}"), || {
        let go = require_tool("go", "apt-get install golang-go");
        let source = tests_dir().join(format!("programs/go/{name}/main.go"));
        assert!(source.is_file(), "no such program: {}", source.display());
        let out_dir = tmp_root().join("programs/go");
        fs::create_dir_all(&out_dir).unwrap();
        let dest = out_dir.join(name);
        let tmp = out_dir.join(format!(".{name}.{}", std::process::id()));
        let mut command = Command::new(go);
        command
            .arg("build")
            .arg("-o")
            .arg(&tmp)
            .arg(&source)
            .current_dir(source.parent().unwrap())
            .env("GOCACHE", tmp_root().join("go/cache"))
            .env("GOPATH", tmp_root().join("go/path"))
            .env("GOFLAGS", "")
            .env("GO111MODULE", "on")
            .env("CGO_ENABLED", "0");
        build(command, &format!("go build {}", source.display()));
        install(&tmp, &dest);
        dest
    })
}

/// The classes of `tests/programs/java/*.java`, compiled with `javac`; run
/// them with `java -cp DIR CLASS`.
pub fn java_classes() -> PathBuf {
    build_once("java".into(), || {
        let javac = require_tool("javac", "apt-get install openjdk-17-jdk-headless");
        let src_dir = tests_dir().join("programs/java");
        let sources: Vec<PathBuf> = fs::read_dir(&src_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension() == Some(OsStr::new("java")))
            .collect();
        let out_dir = tmp_root().join(format!("programs/java-{}", std::process::id()));
        let _ = fs::remove_dir_all(&out_dir);
        fs::create_dir_all(&out_dir).unwrap();
        let mut command = Command::new(javac);
        command.arg("-d").arg(&out_dir).args(&sources);
        build(command, "javac");
        out_dir
    })
}

/// The `java` launcher.
pub fn java() -> PathBuf {
    require_tool("java", "apt-get install openjdk-17-jre-headless")
}

/// The real python3 interpreter (not a version manager's shim script).
pub fn python3() -> PathBuf {
    build_once("python3".into(), || {
        let python = require_tool("python3", "apt-get install python3");
        let output = Command::new(&python)
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
        let real = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && real.is_file() {
            real
        } else {
            python
        }
    })
}

/// A program's source under `tests/programs/`, e.g. `python/fsync_two.py`.
pub fn program_source(relative: &str) -> String {
    let path = tests_dir().join("programs").join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// Running fault and other programs

/// How a run ended and what it printed.
#[derive(Debug)]
pub struct Outcome {
    /// The command line, for messages.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// The exit code (`None` if killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Everything about the run, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "command: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--------------",
            self.command, self.status, self.stdout, self.stderr
        )
    }

    /// Panic unless the run exited with `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            Some(code),
            "unexpected exit status\n{}",
            self.describe()
        );
        self
    }

    /// The stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Panic unless `holds`, saying `what` went wrong (if anything is
    /// said) and showing the run.
    #[track_caller]
    pub fn ensure(&self, holds: bool, what: &str) -> &Self {
        let what = if what.is_empty() {
            "assertion failed"
        } else {
            what
        };
        assert!(holds, "{what}\n{}", self.describe());
        self
    }

    /// Panic unless `left == right`, showing both and the run.
    #[track_caller]
    pub fn ensure_eq<L, R>(&self, left: L, right: R) -> &Self
    where
        L: PartialEq<R> + std::fmt::Debug,
        R: std::fmt::Debug,
    {
        assert_eq!(left, right, "{}", self.describe());
        self
    }

    /// Panic unless standard error holds `needle`; `what` says what its
    /// absence means.
    #[track_caller]
    pub fn assert_stderr_has(&self, needle: &str, what: &str) -> &Self {
        self.ensure(
            self.stderr.contains(needle),
            &because(&format!("standard error lacks {needle:?}"), what),
        )
    }

    /// Panic if standard error holds `needle`.
    #[track_caller]
    pub fn assert_stderr_lacks(&self, needle: &str, what: &str) -> &Self {
        self.ensure(
            !self.stderr.contains(needle),
            &because(&format!("standard error holds {needle:?}"), what),
        )
    }

    /// Panic unless standard output holds `needle`.
    #[track_caller]
    pub fn assert_stdout_has(&self, needle: &str, what: &str) -> &Self {
        self.ensure(
            self.stdout.contains(needle),
            &because(&format!("standard output lacks {needle:?}"), what),
        )
    }

    /// Panic if standard output holds `needle`.
    #[track_caller]
    pub fn assert_stdout_lacks(&self, needle: &str, what: &str) -> &Self {
        self.ensure(
            !self.stdout.contains(needle),
            &because(&format!("standard output holds {needle:?}"), what),
        )
    }
}

/// `fact`, and what it means if that is said.
fn because(fact: &str, meaning: &str) -> String {
    if meaning.is_empty() {
        fact.to_string()
    } else {
        format!("{fact}: {meaning}")
    }
}

/// A command to run with a deadline.
pub struct Cmd {
    command: Command,
    shown: Vec<OsString>,
    timeout: Duration,
}

impl Cmd {
    /// `fault` with no arguments yet.
    pub fn fault() -> Cmd {
        Cmd::new(FAULT)
    }

    /// Any program.
    pub fn new(program: impl AsRef<OsStr>) -> Cmd {
        let mut command = Command::new(program.as_ref());
        command.stdin(Stdio::null());
        Cmd {
            command,
            shown: vec![program.as_ref().to_owned()],
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.command.arg(arg.as_ref());
        self.shown.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    /// Run in `dir`.
    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.command.current_dir(dir.as_ref());
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Cmd {
        self.command.env(key, value);
        self
    }

    /// How long the run may take before it is killed and the test fails.
    pub fn timeout(mut self, timeout: Duration) -> Cmd {
        self.timeout = timeout;
        self
    }

    /// The command line as typed, for messages.
    pub fn shown(&self) -> String {
        self.shown
            .iter()
            .map(|a| {
                let a = a.to_string_lossy();
                if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$|;&".contains(c))
                {
                    format!("'{}'", a.replace('\'', "'\\''"))
                } else {
                    a.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Start it, capturing stdout and stderr.
    pub fn spawn(mut self) -> Running {
        let shown = self.shown();
        let mut child = self
            .command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            reader(child.stdout.take().unwrap(), stdout.clone()),
            reader(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Running {
            child: Some(child),
            command: shown,
            stdout,
            stderr,
            readers,
            timeout: self.timeout,
            started: Instant::now(),
        }
    }

    /// Run to the end (or fail the test at the deadline).
    pub fn run(self) -> Outcome {
        self.spawn().wait()
    }
}

fn reader(mut pipe: impl Read + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => sink.lock().unwrap().extend_from_slice(&buf[..n]),
            }
        }
    })
}

/// A started command.
pub struct Running {
    child: Option<Child>,
    command: String,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
    timeout: Duration,
    started: Instant,
}

impl Running {
    /// Its process id.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// Send it `signal`.
    pub fn signal(&self, signal: i32) {
        send_signal(self.pid(), signal);
    }

    /// What it has printed on stdout so far.
    pub fn stdout_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// What it has printed on stderr so far.
    pub fn stderr_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Everything so far, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "command: {}\n--- stdout so far ---\n{}\n--- stderr so far ---\n{}\n--------------",
            self.command,
            self.stdout_so_far(),
            self.stderr_so_far()
        )
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.as_mut().unwrap().try_wait(), Ok(None))
    }

    /// Wait until `done` holds for the output so far, failing the test with
    /// `what` after `timeout` (or if the process ends first).
    #[track_caller]
    pub fn wait_for_stdout(&mut self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.stdout_so_far()) {
                return;
            }
            if !self.running() {
                thread::sleep(Duration::from_millis(50));
                if done(&self.stdout_so_far()) {
                    return;
                }
                panic!("ended before {what}\n{}", self.describe());
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}\n{}",
                    self.describe()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait for the end within what is left of the command's timeout.
    pub fn wait(self) -> Outcome {
        let left = self.timeout.saturating_sub(self.started.elapsed());
        self.wait_within(left)
    }

    /// Wait for the end within `timeout`; kill it and fail the test after.
    pub fn wait_within(mut self, timeout: Duration) -> Outcome {
        let deadline = Instant::now() + timeout;
        let mut child = self.child.take().unwrap();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    self.finish_readers(Duration::from_secs(2));
                    panic!("timed out after {timeout:?}\n{}", self.describe());
                }
                Err(e) => panic!("waiting for {}: {e}", self.command),
            }
        };
        // Whatever the program left behind could keep the pipes open; do not
        // wait for it forever.
        self.finish_readers(Duration::from_secs(5));
        Outcome {
            command: self.command.clone(),
            status,
            stdout: self.stdout_so_far(),
            stderr: self.stderr_so_far(),
        }
    }

    fn finish_readers(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.readers.iter().any(|r| !r.is_finished()) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        for reader in self.readers.drain(..) {
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// Processes

/// `kill(pid, signal)`; false if it failed.
pub fn send_signal(pid: i32, signal: i32) -> bool {
    // SAFETY: plain kill.
    unsafe { libc::kill(pid, signal) == 0 }
}

/// The state letter of `/proc/PID/stat` (R, S, D, T, t, Z, X...), `None` if
/// the process is gone.
pub fn proc_state(pid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}

/// Poll `cond` every 10ms until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The pid a program wrote (with a trailing newline) to `path`, waiting up
/// to `timeout` for it to appear.
#[track_caller]
pub fn read_pid_file(path: &Path, timeout: Duration) -> i32 {
    let mut pid = None;
    let found = wait_until(timeout, || {
        pid = fs::read_to_string(path)
            .ok()
            .filter(|text| text.ends_with('\n'))
            .and_then(|text| text.trim().parse().ok());
        pid.is_some()
    });
    assert!(found, "no pid in {} after {timeout:?}", path.display());
    pid.unwrap()
}

/// The lines of `text` that contain `needle`.
pub fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

/// A path as a command-line argument.
pub fn arg(path: &Path) -> String {
    path.to_str().expect("test paths are UTF-8").to_owned()
}

/// A test plugin under `tests/programs/plugins/NAME/`, built with cargo for
/// wasm32-wasip2; returns the component's path.
pub fn test_plugin(name: &str) -> PathBuf {
    build_once(format!("plugin-{name}"), || {
        let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
        let manifest = tests_dir().join(format!("programs/plugins/{name}/Cargo.toml"));
        let target = tmp_root().join("plugins-target");
        let mut command = Command::new(cargo);
        command
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target);
        build(command, &format!("cargo build {}", manifest.display()));
        target.join(format!(
            "wasm32-wasip2/release/{}.wasm",
            name.replace('-', "_")
        ))
    })
}

/// A usage error: exit status 125, a message from fault naming `named`, and
/// the command (which would have created `marker`) never started.
pub fn assert_refused(out: &Outcome, named: &str, marker: &Path) {
    out.assert_code(125);
    assert!(
        out.stderr.contains("fault: "),
        "the message must come from fault\n{}",
        out.describe()
    );
    assert!(
        out.stderr.contains(named),
        "the message must name {named:?}\n{}",
        out.describe()
    );
    assert!(!marker.exists(), "the command ran\n{}", out.describe());
}

// ---------------------------------------------------------------------------
// The rules' runs

/// A rule on a syscall the program makes, limited to a path it never
/// touches: it must change nothing.
pub const NO_MATCH: [&str; 4] = [
    "-e",
    "inject=fsync,write:error=EIO",
    "-P",
    "/nonexistent/fi-test",
];

/// The 1-based numbers of the calls a program reported as failed in lines
/// `PREFIX N: RESULT`, where RESULT is `ok` or an errno name; each failure
/// must carry `errno`.
#[track_caller]
pub fn failed_calls(out: &Outcome, prefix: &str, errno: &str) -> BTreeSet<u32> {
    let mut failed = BTreeSet::new();
    for line in out.stdout.lines().filter(|l| l.starts_with(prefix)) {
        let rest = &line[prefix.len()..];
        let (number, result) = rest
            .split_once(": ")
            .unwrap_or_else(|| panic!("bad line {line:?}\n{}", out.describe()));
        let number: u32 = number.trim().parse().unwrap();
        let result = result.split_whitespace().next().unwrap_or("");
        if result != "ok" {
            assert_eq!(
                result,
                errno,
                "call {number} failed with the wrong errno\n{}",
                out.describe()
            );
            failed.insert(number);
        }
    }
    failed
}

pub fn set(numbers: &[u32]) -> BTreeSet<u32> {
    numbers.iter().copied().collect()
}

/// The thread id at the start of a text log line: `[pid   1234] ...`.
#[track_caller]
pub fn log_pid(line: &str) -> i32 {
    line.strip_prefix("[pid ")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(pid, _)| pid.trim().parse().ok())
        .unwrap_or_else(|| panic!("not a log line: {line:?}"))
}

/// The version of the plugin contract, from `package fi:policy@VERSION;`
/// in wit/policy.wit.
pub fn contract_version() -> String {
    let wit = std::fs::read_to_string(tests_dir().join("../wit/policy.wit")).unwrap();
    wit.lines()
        .find_map(|line| line.strip_prefix("package fi:policy@"))
        .and_then(|rest| rest.strip_suffix(';'))
        .expect("wit/policy.wit declares its package")
        .to_string()
}
