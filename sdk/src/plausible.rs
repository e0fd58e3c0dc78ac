//! Which errors the kernel could really return for a call where it stands:
//! the one rule fi's built-in plugins (`chaos`, `interrupt`) share, so that
//! an injected error never sends a user after a cause that cannot exist.
//!
//! An error a man page lists may still be impossible for the descriptor at
//! hand. Linux does not interrupt reads and writes of regular files, so
//! `EINTR` comes only from a call that sleeps on a pipe, socket, terminal or
//! other device, blocking, in a process that handles some signal. `EAGAIN`
//! comes only from a descriptor that does not block (`O_NONBLOCK`, or
//! `MSG_DONTWAIT` for one send or receive) of such a kind. `close` never
//! fails with `EINTR` on Linux (see close(2)): the descriptor is gone
//! whatever it reports.

use crate::{Call, Errno, FdInfo, FdKind, Sysno};

/// The calls whose argument 0 is the descriptor they read or write
/// through, and that may sleep on it.
const DESCRIPTOR_IO: &[Sysno] = &[
    Sysno::read,
    Sysno::readv,
    Sysno::pread64,
    Sysno::preadv,
    Sysno::preadv2,
    Sysno::write,
    Sysno::writev,
    Sysno::pwrite64,
    Sysno::pwritev,
    Sysno::pwritev2,
    Sysno::recvfrom,
    Sysno::recvmsg,
    Sysno::recvmmsg,
    Sysno::sendto,
    Sysno::sendmsg,
    Sysno::sendmmsg,
    Sysno::accept,
    Sysno::accept4,
    Sysno::connect,
];

/// Calls at a given offset: only seekable files take them (elsewhere the
/// kernel fails them with `ESPIPE`), and those never sleep interruptibly.
const POSITIONED: &[Sysno] = &[
    Sysno::pread64,
    Sysno::preadv,
    Sysno::preadv2,
    Sysno::pwrite64,
    Sysno::pwritev,
    Sysno::pwritev2,
];

/// The argument holding the `MSG_*` flags of a send or receive.
fn msg_flags_arg(sysno: Sysno) -> Option<usize> {
    match sysno {
        Sysno::recvfrom | Sysno::sendto => Some(3),
        Sysno::recvmsg | Sysno::sendmsg => Some(2),
        Sysno::recvmmsg | Sysno::sendmmsg => Some(3),
        _ => None,
    }
}

/// `MSG_DONTWAIT`: this one call does not block.
const MSG_DONTWAIT: u64 = 0x40;
/// `GRND_NONBLOCK`: `getrandom` fails with `EAGAIN` instead of waiting.
const GRND_NONBLOCK: u64 = 0x1;

/// The signals that commonly arrive while a program waits in a call: if
/// the process handles none of them, nothing interrupts it.
const INTERRUPTING_SIGNALS: [u8; 14] = [
    1,  // SIGHUP
    2,  // SIGINT
    3,  // SIGQUIT
    10, // SIGUSR1
    12, // SIGUSR2
    13, // SIGPIPE
    14, // SIGALRM
    15, // SIGTERM
    17, // SIGCHLD
    23, // SIGURG
    26, // SIGVTALRM
    27, // SIGPROF
    28, // SIGWINCH
    29, // SIGIO
];

/// Whether the kernel could fail `call` with `errno` where it stands: for
/// the calls that read and write through a descriptor, judged by the
/// descriptor's kind and flags (a closed descriptor gets none: the kernel
/// answers `EBADF`); `EINTR` also by whether the process handles a signal
/// that would interrupt it. Errors this rule does not know of are left to
/// the caller's table.
///
/// A handler installed with `SA_RESTART` makes the kernel restart some
/// interrupted calls rather than fail them; `/proc` does not show that
/// flag, so `EINTR` counts as possible wherever a handler is installed.
pub fn kernel_may_return(call: &Call, errno: Errno) -> bool {
    let sysno = call.sysno();
    if sysno == Sysno::close {
        return errno != Errno::EINTR;
    }
    if sysno == Sysno::getrandom {
        let nonblocking = call.arg(2) & GRND_NONBLOCK != 0;
        return match errno {
            Errno::EAGAIN => nonblocking,
            Errno::EINTR => !nonblocking && handles_a_signal(call),
            _ => true,
        };
    }
    if !DESCRIPTOR_IO.contains(&sysno) {
        return errno != Errno::EINTR || handles_a_signal(call);
    }
    let Some(fd) = call.fd_info(call.arg(0) as i32) else {
        return false;
    };
    let dontwait = msg_flags_arg(sysno).is_some_and(|n| call.arg(n) & MSG_DONTWAIT != 0);
    let sleeps = sleeps_on(&fd) && !POSITIONED.contains(&sysno);
    match errno {
        Errno::EINTR => sleeps && !fd.nonblocking && !dontwait && handles_a_signal(call),
        Errno::EAGAIN => sleeps && (fd.nonblocking || dontwait),
        Errno::EIO => matches!(
            fd.kind,
            FdKind::Regular | FdKind::BlockDevice | FdKind::CharacterDevice
        ),
        Errno::ENOSPC | Errno::EDQUOT => matches!(fd.kind, FdKind::Regular | FdKind::BlockDevice),
        Errno::EFBIG => fd.kind == FdKind::Regular,
        Errno::EPIPE => matches!(fd.kind, FdKind::Pipe | FdKind::Socket),
        Errno::ECONNRESET
        | Errno::ECONNREFUSED
        | Errno::ECONNABORTED
        | Errno::ENOTCONN
        | Errno::ETIMEDOUT
        | Errno::ENETUNREACH
        | Errno::ENOBUFS => fd.kind == FdKind::Socket,
        _ => true,
    }
}

/// Whether reads and writes of `fd` may wait: pipes, sockets, devices
/// such as terminals, and anonymous descriptors (eventfd, timerfd, ...),
/// not regular files, directories or block devices.
fn sleeps_on(fd: &FdInfo) -> bool {
    matches!(
        fd.kind,
        FdKind::Pipe | FdKind::Socket | FdKind::CharacterDevice | FdKind::Anonymous
    )
}

/// Whether the calling process handles one of [`INTERRUPTING_SIGNALS`].
fn handles_a_signal(call: &Call) -> bool {
    INTERRUPTING_SIGNALS
        .iter()
        .any(|&signal| call.signal_handled(signal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeCall;

    fn on(sysno: Sysno, fd: FdInfo) -> FakeCall {
        FakeCall::new(sysno).arg(0, 3).fd_info(3, fd)
    }

    fn nonblocking(kind: FdKind) -> FdInfo {
        FdInfo {
            nonblocking: true,
            ..FdInfo::new(kind)
        }
    }

    #[test]
    fn regular_files_are_never_interrupted_nor_would_block() {
        for sysno in [Sysno::read, Sysno::write, Sysno::pwrite64] {
            for fd in [FdInfo::new(FdKind::Regular), nonblocking(FdKind::Regular)] {
                let call = on(sysno, fd).handles(2).call();
                assert!(!kernel_may_return(&call, Errno::EINTR), "{sysno}");
                assert!(!kernel_may_return(&call, Errno::EAGAIN), "{sysno}");
                assert!(kernel_may_return(&call, Errno::EIO), "{sysno}");
            }
        }
        let write = on(Sysno::write, FdInfo::new(FdKind::Regular)).call();
        assert!(kernel_may_return(&write, Errno::ENOSPC));
        assert!(!kernel_may_return(&write, Errno::EPIPE));
    }

    #[test]
    fn eintr_needs_a_blocking_pipe_and_a_handler() {
        let blocking = || on(Sysno::read, FdInfo::new(FdKind::Pipe));
        assert!(!kernel_may_return(&blocking().call(), Errno::EINTR));
        assert!(kernel_may_return(
            &blocking().handles(14).call(),
            Errno::EINTR
        ));
        assert!(!kernel_may_return(
            &blocking().handles(14).call(),
            Errno::EAGAIN
        ));
        let call = on(Sysno::read, nonblocking(FdKind::Pipe))
            .handles(14)
            .call();
        assert!(!kernel_may_return(&call, Errno::EINTR));
        assert!(kernel_may_return(&call, Errno::EAGAIN));
        assert!(!kernel_may_return(&call, Errno::ENOSPC));
    }

    #[test]
    fn msg_dontwait_makes_one_receive_nonblocking() {
        let recv = on(Sysno::recvfrom, FdInfo::new(FdKind::Socket))
            .arg(3, MSG_DONTWAIT)
            .handles(2)
            .call();
        assert!(kernel_may_return(&recv, Errno::EAGAIN));
        assert!(!kernel_may_return(&recv, Errno::EINTR));
        assert!(kernel_may_return(&recv, Errno::ECONNREFUSED));
    }

    #[test]
    fn close_is_never_interrupted_and_a_closed_fd_gets_nothing() {
        let close = FakeCall::new(Sysno::close).arg(0, 3).handles(2).call();
        assert!(!kernel_may_return(&close, Errno::EINTR));
        assert!(kernel_may_return(&close, Errno::EIO));
        let read = FakeCall::new(Sysno::read).arg(0, 9).handles(2).call();
        assert!(!kernel_may_return(&read, Errno::EIO));
    }

    #[test]
    fn other_calls_are_interrupted_only_with_a_handler() {
        let getrandom = FakeCall::new(Sysno::getrandom).handles(17).call();
        assert!(kernel_may_return(&getrandom, Errno::EINTR));
        assert!(!kernel_may_return(&getrandom, Errno::EAGAIN));
        let open = FakeCall::new(Sysno::openat).call();
        assert!(!kernel_may_return(&open, Errno::EINTR));
        assert!(kernel_may_return(&open, Errno::ENOENT));
    }
}
