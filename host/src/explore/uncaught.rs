//! What a language runtime printed when a program died of an uncaught
//! error, and whether that error is the injected fault or a bug of the
//! error path.
//!
//! Each runtime is recognised by the shape of its own report, never by a
//! phrase another language's program may print: a Go panic has a
//! `goroutine N [...]:` trace, a Java exception an `Exception in thread`
//! line, a Python one a `Traceback (most recent call last):` block, a Rust
//! panic a `thread '...' panicked at` line, Node's a `Node.js v` trailer. A C
//! program's own "fatal error: read failure" is none of them.

use super::faults::Fault;

/// An uncaught error a runtime reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uncaught {
    /// The runtime's report, in a line (the exception and its message).
    pub error: String,
    /// The error is the injected fault, passed up: an I/O exception of the
    /// runtime, or a message naming the errno.
    pub names_fault: bool,
}

/// The uncaught error `output` (a run's standard error and output) reports,
/// if a runtime reported one; judged against the injected `fault`.
pub fn uncaught(output: &str, fault: Fault) -> Option<Uncaught> {
    let lines: Vec<&str> = output.lines().collect();
    if output.contains("ERROR: AddressSanitizer") {
        return Some(bug("AddressSanitizer"));
    }
    go(&lines, fault)
        .or_else(|| java(&lines, fault))
        .or_else(|| python(&lines, fault))
        .or_else(|| rust(&lines, fault))
        .or_else(|| node(&lines, fault))
}

fn bug(error: &str) -> Uncaught {
    Uncaught {
        error: error.to_string(),
        names_fault: false,
    }
}

/// `text` names the errno of `fault`: its name (`EIO`), its C library
/// text in any case (`Input/output error`, Go's `input/output error`), or
/// Python's `[Errno 5]`.
pub fn mentions_fault(text: &str, fault: Fault) -> bool {
    if fault == Fault::Corrupt {
        let text = text.to_lowercase();
        return ["corrupt", "checksum", "crc", "malformed"]
            .iter()
            .any(|word| text.contains(word));
    }
    let Fault::Errno(errno) = fault else {
        return false;
    };
    let code = errno.into_raw();
    let described = std::io::Error::from_raw_os_error(code).to_string();
    let described = described
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let name = errno.name().unwrap_or_default();
    text.to_lowercase().contains(&described)
        || text.contains(&format!("[Errno {code}]"))
        || text.contains(&format!("Os {{ code: {code},"))
        || (!name.is_empty()
            && text
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|word| word == name))
}

/// A Go panic or fatal error: the message line and a goroutine trace.
fn go(lines: &[&str], fault: Fault) -> Option<Uncaught> {
    if !lines.iter().any(|line| line.starts_with("goroutine ")) {
        return None;
    }
    let line = lines.iter().find(|line| {
        line.starts_with("panic: ")
            || line.starts_with("fatal error: ")
            || line.starts_with("[signal SIG")
    })?;
    // A runtime error (nil dereference, index out of range) or a fatal
    // runtime error is a bug whatever it says; a panic with an error value
    // is the program giving up on that error.
    let runtime = line.starts_with("panic: runtime error") || !line.starts_with("panic: ");
    Some(Uncaught {
        error: line.to_string(),
        names_fault: !runtime && mentions_fault(line, fault),
    })
}

/// The exception classes of the JDK that carry an I/O error up: the
/// `java.io` and `java.nio.file` exceptions the runtime makes of an errno.
const JAVA_IO: &[&str] = &[
    "IOException",
    "IOError",
    "UncheckedIOException",
    "FileSystemException",
    "AccessDeniedException",
    "NoSuchFileException",
    "FileAlreadyExistsException",
    "DirectoryNotEmptyException",
    "NotDirectoryException",
    "AtomicMoveNotSupportedException",
    "FileSystemLoopException",
    "FileNotFoundException",
    "EOFException",
    "SyncFailedException",
    "InterruptedIOException",
    "ClosedChannelException",
];

/// A Java exception that reached the top of a thread: its class, or one it
/// was caused by, is an I/O exception.
fn java(lines: &[&str], fault: Fault) -> Option<Uncaught> {
    let start = lines
        .iter()
        .position(|line| line.starts_with("Exception in thread \""))?;
    let top = lines[start];
    let thrown = top.splitn(3, '"').nth(2).unwrap_or_default().trim();
    let causes = lines[start..]
        .iter()
        .filter_map(|line| line.trim_start().strip_prefix("Caused by: "));
    let names_fault = std::iter::once(thrown)
        .chain(causes)
        .any(|exception| java_io(exception) || mentions_fault(exception, fault));
    Some(Uncaught {
        error: thrown.to_string(),
        names_fault,
    })
}

fn java_io(exception: &str) -> bool {
    let class = exception.split(':').next().unwrap_or_default().trim();
    let simple = class.rsplit(['.', '$']).next().unwrap_or_default();
    JAVA_IO.contains(&simple)
}

/// Python's `OSError` and the subclasses the interpreter and its standard
/// library raise for an errno (`_gdbm.error` is one).
const PYTHON_OS_ERRORS: &[&str] = &[
    "OSError",
    "IOError",
    "EnvironmentError",
    "FileNotFoundError",
    "FileExistsError",
    "PermissionError",
    "IsADirectoryError",
    "NotADirectoryError",
    "BlockingIOError",
    "InterruptedError",
    "BrokenPipeError",
    "ConnectionError",
    "ConnectionResetError",
    "ConnectionRefusedError",
    "ConnectionAbortedError",
    "TimeoutError",
    "_gdbm.error",
    "_dbm.error",
    "dbm.error",
];

/// Python's exceptions that say the code itself is wrong (a `None` used as
/// a value, a missing name, a failed assertion, a file used after it was
/// closed), whatever fault came before them. Any other exception ending a
/// run with a fault in it is a module's report of that fault in its own
/// words (`sqlite3.OperationalError: attempt to write a readonly
/// database`, `zipfile.BadZipFile`).
const PYTHON_BUGS: &[&str] = &[
    "TypeError",
    "AttributeError",
    "NameError",
    "UnboundLocalError",
    "IndexError",
    "KeyError",
    "AssertionError",
    "ZeroDivisionError",
    "RecursionError",
    "NotImplementedError",
    "SyntaxError",
    "ValueError",
    "RuntimeError",
    "SystemError",
    "StopIteration",
];

/// A Python traceback: the exception on its last line, an `OSError` form
/// (`_gdbm.error: [Errno 5] Input/output error` too), a module's own
/// error, or a bug ([`PYTHON_BUGS`]).
fn python(lines: &[&str], fault: Fault) -> Option<Uncaught> {
    let start = lines
        .iter()
        .rposition(|line| line.starts_with("Traceback (most recent call last):"))?;
    let error = lines[start + 1..]
        .iter()
        .find(|line| !line.starts_with(' ') && !line.is_empty())?;
    let class = error.split(':').next().unwrap_or_default().trim();
    let simple = class.rsplit('.').next().unwrap_or_default();
    let names_fault = PYTHON_OS_ERRORS.contains(&simple)
        || PYTHON_OS_ERRORS.contains(&class)
        || error.contains("[Errno ")
        || mentions_fault(error, fault)
        || !PYTHON_BUGS.contains(&simple);
    Some(Uncaught {
        error: error.to_string(),
        names_fault,
    })
}

/// A Rust panic: its message names the error (`Os { code: 5, ... }`, the
/// errno's text) or not.
fn rust(lines: &[&str], fault: Fault) -> Option<Uncaught> {
    let start = lines
        .iter()
        .position(|line| line.starts_with("thread '") && line.contains("' panicked at"))?;
    let message = lines[start..].iter().take(3).copied().collect::<Vec<_>>();
    let message = message.join(" ");
    Some(Uncaught {
        names_fault: mentions_fault(&message, fault),
        error: lines.get(start + 1).unwrap_or(&lines[start]).to_string(),
    })
}

/// Node's uncaught exception: an `Error:` line with an `at` trace, and the
/// `Node.js v` trailer; a system error carries its errno's name.
fn node(lines: &[&str], fault: Fault) -> Option<Uncaught> {
    if !lines.iter().any(|line| line.starts_with("Node.js v")) {
        return None;
    }
    let at = lines
        .iter()
        .position(|line| line.trim_start().starts_with("at "))?;
    let error = lines[..at]
        .iter()
        .rev()
        .find(|line| !line.trim().is_empty())?;
    let system = lines
        .iter()
        .any(|line| line.trim_start().starts_with("errno: -"));
    Some(Uncaught {
        names_fault: system || mentions_fault(error, fault),
        error: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscalls::Errno;

    const EIO: Fault = Fault::Errno(Errno::EIO);
    const EACCES: Fault = Fault::Errno(Errno::EACCES);

    fn named(output: &str, fault: Fault) -> Option<bool> {
        uncaught(output, fault).map(|u| u.names_fault)
    }

    #[test]
    fn each_runtime_is_known_by_its_own_report() {
        // A C program's words are no runtime's.
        assert_eq!(named("unzip: fatal error: read failure\n", EIO), None);
        assert_eq!(named("panic: something\n", EIO), None);
        let go_nil = "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation]\n\ngoroutine 1 [running]:\nmain.main()\n";
        assert_eq!(named(go_nil, EIO), Some(false));
        let go_io = "panic: write test.txt: input/output error\n\ngoroutine 1 [running]:\n";
        assert_eq!(named(go_io, EIO), Some(true));
        let java_denied = "Exception in thread \"main\" java.nio.file.AccessDeniedException: out.txt\n\tat java.base/sun.nio.fs.UnixException.translateToIOException\n";
        assert_eq!(named(java_denied, EACCES), Some(true));
        let java_npe = "Exception in thread \"main\" java.lang.NullPointerException\n\tat Main.main(Main.java:3)\n";
        assert_eq!(named(java_npe, EIO), Some(false));
        let java_wrapped = "Exception in thread \"main\" java.lang.RuntimeException: save failed\n\tat Main.main\nCaused by: java.io.IOException: Input/output error\n";
        assert_eq!(named(java_wrapped, EIO), Some(true));
        let gdbm = "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\n_gdbm.error: [Errno 5] Input/output error\n";
        assert_eq!(named(gdbm, EIO), Some(true));
        let py_none = "Traceback (most recent call last):\n  File \"a.py\", line 1\nAttributeError: 'NoneType' object has no attribute 'write'\n";
        assert_eq!(named(py_none, EIO), Some(false));
        let rust_io = "thread 'main' panicked at src/main.rs:4:5:\ncalled `Result::unwrap()` on an `Err` value: Os { code: 5, kind: Uncategorized, message: \"Input/output error\" }\n";
        assert_eq!(named(rust_io, EIO), Some(true));
        let rust_bug = "thread 'main' panicked at src/main.rs:4:5:\nindex out of bounds\n";
        assert_eq!(named(rust_bug, EIO), Some(false));
        let node_io = "node:fs:1\nError: EIO: i/o error, write\n    at Object.writeSync (node:fs:1:1)\n{\n  errno: -5,\n  code: 'EIO'\n}\n\nNode.js v20.0.0\n";
        assert_eq!(named(node_io, EIO), Some(true));
    }

    #[test]
    fn the_fault_is_named_by_its_errno_in_any_runtimes_words() {
        assert!(mentions_fault("write: Input/output error", EIO));
        assert!(mentions_fault("open x: INPUT/OUTPUT ERROR", EIO));
        assert!(mentions_fault("failed: EIO", EIO));
        assert!(!mentions_fault("failed: EIOX", EIO));
        assert!(!mentions_fault("Permission denied", EIO));
        assert!(!mentions_fault("Input/output error", Fault::Short));
        assert!(mentions_fault(
            "plyvel._plyvel.CorruptionError: Corruption: block checksum mismatch",
            Fault::Corrupt
        ));
        assert!(mentions_fault(
            "zipfile.BadZipFile: Bad CRC-32 for file 'data.txt'",
            Fault::Corrupt
        ));
        assert!(!mentions_fault(
            "IndexError: list index out of range",
            Fault::Corrupt
        ));
    }
}
