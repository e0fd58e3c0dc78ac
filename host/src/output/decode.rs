//! strace-style text for one call: fds decoded to paths (like `strace -y`),
//! path arguments as strings, flags and constants by name (like strace),
//! numbers in decimal up to 32 bits (hex above, where pointers live), errors
//! by name, `(INJECTED)` on tampered calls. A call `syscall=` replaced is
//! shown as the program made it (as strace shows it); a signal fi delivered
//! gets a line of its own, as strace prints its delivery.

use std::fmt::Write;

use crate::arch::classes::{arg_count, fd_args, path_args, PathArg};
use crate::model::{Action, Call};

use super::flags;
use super::record::CallRecord;

/// How many bytes of a path argument are shown.
const SHOWN_PATH_BYTES: usize = 256;

/// Values below this are shown in decimal (sizes, counts, flags without
/// names); larger ones in hex (addresses).
const DECIMAL_BELOW: u64 = 1 << 32;

/// The whole log line for `record`, and one more per signal delivered.
pub fn text_line(record: &CallRecord) -> String {
    let replaced = record.call.nr != record.original.nr;
    let shown = if replaced {
        record.original
    } else {
        record.call
    };
    let mut line = format!("[pid {:>6}] {}(", record.tracee.tid, shown.name());
    line.push_str(&arguments(record, shown));
    line.push_str(") = ");
    match (record.result, record.action) {
        // A value in the error range given as retval= reads as strace
        // prints it: the raw value, not an errno.
        (Some(result), Action::Return(value)) if result == value => {
            line.push_str(&retval_text(value))
        }
        (Some(result), _) => line.push_str(&result_text(result)),
        (None, _) => line.push('?'),
    }
    if record.injected || record.call != record.original {
        line.push_str(" (INJECTED)");
    }
    if record.delay_ns > 0 {
        line.push_str(" (DELAYED)");
    }
    if !record.policies.is_empty() {
        let _ = write!(line, " [{}]", record.policies.join(", "));
    }
    for (i, signal) in record.signals.iter().enumerate() {
        // The first is delivered as the kernel's (SI_KERNEL, as under
        // strace); any further one for the same call is sent with tgkill.
        let code = if i == 0 { "SI_KERNEL" } else { "SI_TKILL" };
        let name = flags::signal(*signal);
        let _ = write!(
            line,
            "\n[pid {:>6}] --- {name} {{si_signo={name}, si_code={code}}} ---",
            record.tracee.tid
        );
    }
    line
}

fn arguments(record: &CallRecord, call: &Call) -> String {
    let count = call.sysno().map_or(6, |sysno| {
        flags::shown_count(sysno, &call.args).unwrap_or_else(|| arg_count(sysno))
    });
    (0..count)
        .map(|i| {
            let mut text = argument(record, call, i);
            if call.args[i] != record.original.args[i] {
                let _ = write!(text, " /* was {} */", number(record.original.args[i]));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A plain number: decimal (signed) up to 32 bits, hex above.
fn number(value: u64) -> String {
    let signed = value as i64;
    if signed.unsigned_abs() < DECIMAL_BELOW {
        signed.to_string()
    } else {
        format!("{value:#x}")
    }
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
    number(value)
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

/// A value a `retval=` forced: in the error range it is shown raw and
/// unsigned (`18446744073709551615`), as strace shows it.
fn retval_text(value: i64) -> String {
    if (-4095..0).contains(&value) {
        (value as u64).to_string()
    } else {
        value.to_string()
    }
}

/// What strace says of the errnos the kernel keeps for itself (512..516),
/// which the C library does not know.
fn kernel_errno_text(errno: i32) -> Option<&'static str> {
    Some(match errno {
        512 => "To be restarted if SA_RESTART is set",
        513 => "To be restarted",
        514 => "To be restarted if no handler",
        515 => "No ioctl command",
        516 => "Interrupted by signal",
        _ => return None,
    })
}

/// The message strace prints for `errno`: the C library's, or strace's own
/// for the kernel's internal restart errnos.
fn strerror(errno: i32) -> String {
    if let Some(text) = kernel_errno_text(errno) {
        return text.to_string();
    }
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
        assert_eq!(
            result_text(-512),
            "-1 ERESTARTSYS (To be restarted if SA_RESTART is set)"
        );
        assert_eq!(result_text(-513), "-1 ERESTARTNOINTR (To be restarted)");
        assert_eq!(
            result_text(-516),
            "-1 ERESTART_RESTARTBLOCK (Interrupted by signal)"
        );
        assert_eq!(retval_text(-1), "18446744073709551615");
        assert_eq!(retval_text(-4096), "-4096");
    }

    #[test]
    fn numbers_are_decimal_up_to_32_bits() {
        assert_eq!(number(1_048_576), "1048576");
        assert_eq!(number(314_572), "314572");
        assert_eq!(number(-1i64 as u64), "-1");
        assert_eq!(number(0x7f00_0000_0000), "0x7f0000000000");
    }
}
