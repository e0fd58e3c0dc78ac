//! strace-style text for one call: fds decoded to paths (like `strace -y`),
//! path arguments as strings, flags and constants by name (like strace),
//! errors by name, `(INJECTED)` on tampered calls.

use std::fmt::Write;

use crate::arch::classes::{arg_count, fd_args, path_args, PathArg};
use crate::model::Call;

use super::{flags, CallRecord};

/// How many bytes of a path argument are shown.
const SHOWN_PATH_BYTES: usize = 256;

/// The whole log line for `record`.
pub fn text_line(record: &CallRecord) -> String {
    let mut line = format!("[pid {:>6}] {}(", record.tracee.tid, record.call.name());
    line.push_str(&arguments(record));
    line.push_str(") = ");
    match record.result {
        Some(result) => line.push_str(&result_text(result)),
        None => line.push('?'),
    }
    if record.injected || record.call != record.original {
        line.push_str(" (INJECTED)");
    }
    if record.delay_ns > 0 {
        line.push_str(" (DELAYED)");
    }
    for signal in record.signals {
        let _ = write!(line, " (SIGNAL {})", flags::signal(*signal));
    }
    if !record.policies.is_empty() {
        let _ = write!(line, " [{}]", record.policies.join(", "));
    }
    line
}

fn arguments(record: &CallRecord) -> String {
    let call = record.call;
    let count = call.sysno().map_or(6, |sysno| {
        flags::shown_count(sysno, &call.args).unwrap_or_else(|| arg_count(sysno))
    });
    (0..count)
        .map(|i| {
            let mut text = argument(record, call, i);
            if call.args[i] != record.original.args[i] {
                let _ = write!(text, " /* was {} */", record.original.args[i] as i64);
            }
            text
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn argument(record: &CallRecord, call: &Call, index: usize) -> String {
    let value = call.args[index];
    let Some(sysno) = call.sysno() else {
        return format!("{value:#x}");
    };
    for arg in path_args(sysno) {
        match *arg {
            PathArg::Path(i) if i == index => return path_text(record, value),
            PathArg::At { path, .. } if path == index => return path_text(record, value),
            PathArg::At { dirfd, .. } if dirfd == index => {
                return if value as i32 == libc::AT_FDCWD {
                    "AT_FDCWD".to_string()
                } else {
                    fd_text(record, value)
                };
            }
            _ => {}
        }
    }
    if fd_args(sysno).contains(&index) {
        return fd_text(record, value);
    }
    if let Some(text) = flags::argument(sysno, index, &call.args) {
        return text;
    }
    let signed = value as i64;
    if (-4096..=65536).contains(&signed) {
        signed.to_string()
    } else {
        format!("{value:#x}")
    }
}

fn fd_text(record: &CallRecord, value: u64) -> String {
    let fd = value as i32;
    match record.tracee.fd_path(fd) {
        Some(path) => format!("{fd}<{}>", path.display()),
        None => fd.to_string(),
    }
}

fn path_text(record: &CallRecord, addr: u64) -> String {
    match record.tracee.read_c_string(addr, SHOWN_PATH_BYTES) {
        Ok(bytes) => format!("{:?}", String::from_utf8_lossy(&bytes)),
        Err(_) => format!("{addr:#x}"),
    }
}

/// `3`, or `-1 EIO (Input/output error)` for a raw negative errno.
pub fn result_text(result: i64) -> String {
    if (-4095..0).contains(&result) {
        let errno = -result as i32;
        match syscalls::Errno::new(errno).name() {
            Some(name) => format!("-1 {name} ({})", strerror(errno)),
            None => format!("-1 errno {errno}"),
        }
    } else {
        result.to_string()
    }
}

/// The C library's message for `errno` (what strace prints).
fn strerror(errno: i32) -> String {
    let message = std::io::Error::from_raw_os_error(errno).to_string();
    match message.split_once(" (os error") {
        Some((text, _)) => text.to_string(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_read_like_strace() {
        assert_eq!(result_text(3), "3");
        assert_eq!(result_text(-5), "-1 EIO (Input/output error)");
        assert_eq!(result_text(-13), "-1 EACCES (Permission denied)");
    }
}
