//! The example plugins in `plugins/examples/`: one policy, `fsync-eio`,
//! written in Rust, C, Python, JavaScript and WAT. Each is built from source
//! by its own `build.sh` (once per test run, into `CARGO_TARGET_TMPDIR`), then
//! run by fi against the same program, `tests/examples/fsync_two.py`, and
//! checked with `fault plugin check`.
//! All five must behave alike, down to the wording of their errors.
//!
//! A missing toolchain fails the tests of that language, naming the install
//! step; `plugins/examples/install-toolchains.sh` installs them all.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

const FAULT: &str = env!("CARGO_BIN_EXE_fault");

/// How long one traced run or `fault plugin check` may take, the component
/// being compiled already.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a build may take, including fi's first compilation of the
/// component (minutes for the Python and JavaScript ones, which carry an
/// interpreter, in a debug build of fi).
const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);

const INSTALL_ALL: &str = "or run plugins/examples/install-toolchains.sh";

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples")
}

fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("examples")
}

// ---------------------------------------------------------------------------
// Running commands

/// Run `command` to the end, killing it (and failing the test) at `timeout`.
fn run(mut command: Command, timeout: Duration) -> Output {
    let shown = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{shown} still running after {timeout:?}; killed");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn describe(what: &str, output: &Output) -> String {
    format!(
        "{what}\nstatus: {}\n--- stdout ---\n{}--- stderr ---\n{}--------------",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// fault with its compiled-plugin cache in the target directory, so a run of
/// the tests neither reads nor fills the user's.
fn fault() -> Command {
    let mut command = Command::new(FAULT);
    command.env("XDG_CACHE_HOME", tmp_root().join("cache"));
    command
}

/// `tool` from `$PATH`, or a failed test naming the install step.
fn require_tool(tool: &str, install: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
    assert!(found, "{tool} not found: {install} ({INSTALL_ALL})");
}

/// The real python3 interpreter, not a version manager's shim script.
fn python3() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            require_tool("python3", "apt-get install python3");
            let output = Command::new("python3")
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .expect("running python3");
            let real = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
            assert!(
                real.is_file(),
                "{}",
                describe("python3 -c sys.executable", &output)
            );
            real
        })
        .clone()
}

/// A fresh directory for one test, free of symlinks as the tracee sees it.
fn test_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = tmp_root().join(format!("{name}-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

// ---------------------------------------------------------------------------
// The languages

#[derive(Clone, Copy)]
struct Language {
    /// Its slot among the builds.
    index: usize,
    /// The folder under plugins/examples/.
    dir: &'static str,
    /// How its describe() summary names it.
    shown: &'static str,
    /// Checks that its toolchain is installed, naming the install step.
    toolchain: fn(),
}

const RUST: Language = Language {
    index: 0,
    dir: "rust",
    shown: "Rust",
    toolchain: || require_tool("cargo", "install Rust with rustup"),
};

const C: Language = Language {
    index: 1,
    dir: "c",
    shown: "C",
    toolchain: || {
        let apt = "apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32";
        require_tool("clang", apt);
        require_tool("wasm-ld", apt);
        assert!(
            Path::new("/usr/include/wasm32-wasi/stdlib.h").is_file(),
            "wasi-libc not found: apt-get install wasi-libc ({INSTALL_ALL})"
        );
    },
};

const PYTHON: Language = Language {
    index: 2,
    dir: "python",
    shown: "Python",
    toolchain: || require_tool("componentize-py", "pip install componentize-py==0.25.1"),
};

const JAVASCRIPT: Language = Language {
    index: 3,
    dir: "javascript",
    shown: "JavaScript",
    toolchain: || {
        require_tool("node", "apt-get install nodejs");
        require_tool("npm", "apt-get install npm");
    },
};

const WAT: Language = Language {
    index: 4,
    dir: "wat",
    shown: "WAT",
    toolchain: require_wasm_tools,
};

fn require_wasm_tools() {
    let install = "cargo install --locked wasm-tools --version 1.263.0 --no-default-features \
                   --features component,metadata,parse,print,validate";
    require_tool("wasm-tools", install);
    let parse = Command::new("wasm-tools")
        .args(["parse", "--help"])
        .output();
    assert!(
        parse.is_ok_and(|o| o.status.success()),
        "wasm-tools lacks its `parse` command: {install} ({INSTALL_ALL})"
    );
}

/// Build `language`'s example with its build.sh, once per test run, and
/// compile it into fi's cache (so that the tests, which start together, do
/// not all compile it at once). Returns the component. Languages build in
/// parallel; the tests of one language wait for its build.
fn built(language: Language) -> PathBuf {
    static BUILT: [OnceLock<Result<PathBuf, String>>; 5] = [const { OnceLock::new() }; 5];
    let result = BUILT[language.index].get_or_init(|| {
        std::panic::catch_unwind(|| build(language)).map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| format!("building the {} example failed", language.dir))
        })
    });
    match result {
        Ok(path) => path.clone(),
        Err(message) => panic!("{message}"),
    }
}

fn build(language: Language) -> PathBuf {
    (language.toolchain)();
    // Out of the source tree: host/build.rs watches plugins/ for changes.
    let out = tmp_root().join("build").join(language.dir);
    let wasm = out.join("fsync_eio.wasm");
    let _ = fs::remove_file(&wasm);
    let mut command = Command::new("bash");
    command
        .arg(examples_dir().join(language.dir).join("build.sh"))
        .arg(&out)
        // The fault under test, for `fault plugin build`.
        .env("FAULT", FAULT)
        // Not the target directory or target of the build running the tests.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET");
    if language.dir == "c" {
        // `fault plugin build` needs clang and nothing else: not
        // wit-bindgen, not wasm-tools, wherever those are installed.
        let path = "/usr/bin:/bin";
        for absent in ["wit-bindgen", "wasm-tools"] {
            let found = std::env::split_paths(path).find(|dir| dir.join(absent).exists());
            assert!(found.is_none(), "{absent} is in {found:?}");
        }
        command.env("PATH", path);
    }
    let output = run(command, BUILD_TIMEOUT);
    let what = format!("plugins/examples/{}/build.sh", language.dir);
    assert!(
        output.status.success(),
        "{}",
        describe(&format!("{what} failed"), &output)
    );
    assert!(wasm.is_file(), "{what} made no {}", wasm.display());

    let mut check = fault();
    check
        .args(["plugin", "check"])
        .arg(format!("{}:path=/x", wasm.display()));
    let output = run(check, BUILD_TIMEOUT);
    assert!(
        output.status.success(),
        "{}",
        describe("fault plugin check", &output)
    );
    wasm
}

// ---------------------------------------------------------------------------
// The checks every language passes

/// Run fsync_two.py under fi with `plugin` configured by `config`; return
/// fi's output and the lines the program printed.
fn trace(plugin: &Path, config: &str, dir: &Path, program_args: &[&str]) -> (Output, Vec<String>) {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/examples/fsync_two.py");
    let mut command = fault();
    command
        .arg("--plugin")
        .arg(format!("{}:{config}", plugin.display()))
        .arg("--")
        .arg(python3())
        .arg(program)
        .arg(dir)
        .args(program_args);
    let output = run(command, RUN_TIMEOUT);
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    (output, lines)
}

/// path=DIR/a*: the fsync of `a` fails with EIO, that of `b` passes, and
/// the program, which handles EIO, exits 0. The summary reaches fi's log.
fn fails_fsync_of_matching_files(plugin: &Path) {
    let dir = test_dir("fsync");
    let config = format!("path={}/a*", dir.display());
    let (output, lines) = trace(plugin, &config, &dir, &[]);
    let what = describe(
        &format!("fault --plugin {}:{config}", plugin.display()),
        &output,
    );
    assert_eq!(output.status.code(), Some(0), "{what}");
    assert_eq!(lines, ["a: EIO", "b: ok"], "{what}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("fsync-eio: failed 1 calls"), "{what}");
    fs::remove_dir_all(dir).unwrap();
}

/// when=2: a thread's first fdatasync of a matching file passes, every one
/// after fails; `b` never matches.
fn fails_from_the_when_th_call_on(plugin: &Path) {
    let dir = test_dir("when");
    let config = format!("path={}/a*:when=2", dir.display());
    let (output, lines) = trace(plugin, &config, &dir, &["3", "fdatasync"]);
    let what = describe(
        &format!("fault --plugin {}:{config}", plugin.display()),
        &output,
    );
    assert_eq!(output.status.code(), Some(0), "{what}");
    assert_eq!(
        lines,
        ["a: ok", "b: ok", "a: EIO", "b: ok", "a: EIO", "b: ok"],
        "{what}"
    );
    fs::remove_dir_all(dir).unwrap();
}

/// `fault plugin check` says the plugin implements the world, with its name,
/// summary and subscription; a bad configuration is refused with exit
/// status 125 and the plugin's own message.
fn checks_its_configuration(plugin: &Path, language: Language) {
    let check = |config: &str| {
        let spec = match config {
            "" => plugin.display().to_string(),
            _ => format!("{}:{config}", plugin.display()),
        };
        let mut command = fault();
        command.args(["plugin", "check"]).arg(&spec);
        let output = run(command, RUN_TIMEOUT);
        let what = describe(&format!("fault plugin check {spec}"), &output);
        (output, what)
    };

    let (output, what) = check("path=/data/*:when=3");
    assert_eq!(output.status.code(), Some(0), "{what}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in [
        // Every language implements the one contract, wit/policy.wit.
        format!("implements fi:policy/plugin@{}", contract_version()),
        "name: fsync-eio".to_string(),
        format!("(written in {})", language.shown),
        "subscribes to 2 syscalls: fsync, fdatasync".to_string(),
    ] {
        assert!(stdout.contains(&line), "no '{line}' in\n{what}");
    }

    for (config, message) in [
        ("nokey=1", "unknown key 'nokey' (known: path, when)"),
        ("path=/x:path=/y", "key 'path' is given twice"),
        ("", "missing required key 'path'"),
        ("when=2", "missing required key 'path'"),
        ("path=", "path=: the pattern is empty"),
        ("path=/x:when=0", "when=0: expected a whole number from 1"),
        (
            "path=/x:when=abc",
            "when=abc: expected a whole number from 1",
        ),
        ("path=/x:when=-1", "when=-1: expected a whole number from 1"),
        (
            "path=/x:when=4294967296",
            "when=4294967296: expected a whole number from 1",
        ),
    ] {
        let (output, what) = check(config);
        assert_eq!(output.status.code(), Some(125), "{what}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "no '{message}' in\n{what}");
    }
}

macro_rules! language_tests {
    ($module:ident, $language:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn fails_fsync_of_matching_files() {
                super::fails_fsync_of_matching_files(&built($language));
            }

            #[test]
            fn fails_from_the_when_th_call_on() {
                super::fails_from_the_when_th_call_on(&built($language));
            }

            #[test]
            fn checks_its_configuration() {
                super::checks_its_configuration(&built($language), $language);
            }
        }
    };
}

language_tests!(rust, RUST);
language_tests!(c, C);
language_tests!(python, PYTHON);
language_tests!(javascript, JAVASCRIPT);
language_tests!(wat, WAT);

/// fi loads the hand-written plugin as text, no assembler needed.
#[test]
fn wat_loads_from_text() {
    let source = examples_dir().join("wat/fsync_eio.wat");
    fails_fsync_of_matching_files(&source);
}

/// The version of the contract, from `package fi:policy@VERSION;` in
/// wit/policy.wit.
fn contract_version() -> String {
    let wit = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/policy.wit"))
        .unwrap();
    wit.lines()
        .find_map(|line| line.strip_prefix("package fi:policy@"))
        .and_then(|rest| rest.strip_suffix(';'))
        .expect("wit/policy.wit declares its package")
        .to_string()
}
