//! The seccomp filter a spawned program runs under: per syscall number, the
//! [`Route`] the engine chose (a ptrace stop, a user notification, an errno
//! answered in the kernel); every other call is allowed.
//!
//! The filter looks at the architecture and the syscall number alone, so the
//! kernel's per-number action cache lets allowed calls skip it entirely.

use libc::sock_filter;

use super::Route;
use crate::arch::AUDIT_ARCH;

/// A compiled classic-BPF program, ready for `seccomp(SECCOMP_SET_MODE_FILTER)`.
pub type BpfProgram = Vec<sock_filter>;

const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
/// Offsets of `nr` and `arch` in `struct seccomp_data`.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;
/// Offset of `args[0]` in `struct seccomp_data` (its low 32 bits first).
const ARGS_OFFSET: u32 = 16;

/// The data fault's filters return with `RET_TRACE`, which the stop's
/// event message carries: a `RET_TRACE` stop with other data comes from a
/// filter of the program's own, and gets the meaning it has without a
/// tracer (the call fails with `ENOSYS`).
pub const TRACE_DATA: u16 = 0xfa17;

/// The `RET_TRACE` action of fault's filters.
const RET_TRACE: u32 = libc::SECCOMP_RET_TRACE | TRACE_DATA as u32;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// The filter's return value for a route.
fn action(route: Route) -> u32 {
    match route {
        Route::Trace => RET_TRACE,
        Route::Notify => libc::SECCOMP_RET_USER_NOTIF,
        Route::Errno(errno) => libc::SECCOMP_RET_ERRNO | u32::from(errno),
    }
}

/// The BPF program for `routes` (syscall number, route). Calls through
/// another ABI (a 32-bit `int 0x80`) are allowed and not seen: fi never
/// changes how a program runs beyond what its policies say.
pub fn filter_for(routes: &[(u32, Route)]) -> BpfProgram {
    filter_allowing_null_paths(routes, &[])
}

/// [`filter_for`], but a call of `allowed_when_null` (syscall number, the
/// index of a path argument) runs, unrouted, when that argument is NULL:
/// a `futimens` under fd scope, which fd filters stop on the descriptors
/// that matter ([`fd_filter_for`]).
pub fn filter_allowing_null_paths(
    routes: &[(u32, Route)],
    allowed_when_null: &[(u32, usize)],
) -> BpfProgram {
    let mut program = vec![
        insn(LD_W_ABS, 0, 0, ARCH_OFFSET),
        insn(JEQ_K, 1, 0, AUDIT_ARCH),
        insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
        insn(LD_W_ABS, 0, 0, NR_OFFSET),
    ];
    for &(nr, route) in routes {
        let null_arg = allowed_when_null
            .iter()
            .find(|&&(call, _)| call == nr)
            .map(|&(_, arg)| arg);
        match null_arg {
            None => {
                program.push(insn(JEQ_K, 0, 1, nr));
                program.push(insn(RET_K, 0, 0, action(route)));
            }
            Some(arg) => {
                // Both halves of the argument zero: allowed; the number is
                // loaded again for the next call's test.
                let low = ARGS_OFFSET + 8 * arg as u32;
                program.push(insn(JEQ_K, 0, 7, nr));
                program.push(insn(LD_W_ABS, 0, 0, low));
                program.push(insn(JEQ_K, 0, 2, 0));
                program.push(insn(LD_W_ABS, 0, 0, low + 4));
                program.push(insn(JEQ_K, 1, 0, 0));
                program.push(insn(RET_K, 0, 0, action(route)));
                program.push(insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW));
                program.push(insn(LD_W_ABS, 0, 0, NR_OFFSET));
            }
        }
    }
    program.push(insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW));
    program
}

/// A call an fd filter ([`fd_filter_for`]) stops on its descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdCall {
    /// The syscall number.
    pub nr: u32,
    /// The indices of its fd arguments.
    pub fd_args: &'static [usize],
    /// Only when this argument holds one of these values (`fcntl`'s
    /// commands that copy a descriptor).
    pub only_when: Option<(usize, &'static [u32])>,
}

/// The BPF program that sends a call of `calls` to a ptrace stop
/// (`RET_TRACE`) when one of its fd arguments is `fd`, and allows
/// everything else: added to a process once it holds `fd`. A descriptor is
/// an `int`: the argument's low 32 bits are compared.
pub fn fd_filter_for(calls: &[FdCall], fd: u32) -> BpfProgram {
    let mut program = vec![
        insn(LD_W_ABS, 0, 0, ARCH_OFFSET),
        insn(JEQ_K, 1, 0, AUDIT_ARCH),
        insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
        insn(LD_W_ABS, 0, 0, NR_OFFSET),
    ];
    for call in calls {
        let block = fd_block(call, fd);
        // Not this call: skip its block, which always returns.
        program.push(insn(JEQ_K, 0, block.len() as u8, call.nr));
        program.extend(block);
    }
    program.push(insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW));
    program
}

/// The instructions that decide `call` once its number matched: compare
/// each fd argument with `fd`, then `only_when`'s argument with its values.
fn fd_block(call: &FdCall, fd: u32) -> Vec<sock_filter> {
    let arg = |index: usize| ARGS_OFFSET + 8 * index as u32;
    let mut block = Vec::new();
    let fds = call.fd_args.len();
    for (k, &index) in call.fd_args.iter().enumerate() {
        block.push(insn(LD_W_ABS, 0, 0, arg(index)));
        // Equal: past the other comparisons and the RET_ALLOW below them.
        block.push(insn(JEQ_K, (2 * (fds - 1 - k) + 1) as u8, 0, fd));
    }
    block.push(insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW));
    if let Some((index, values)) = call.only_when {
        block.push(insn(LD_W_ABS, 0, 0, arg(index)));
        for (k, &value) in values.iter().enumerate() {
            // Equal: past the other values and the RET_ALLOW, to RET_TRACE.
            block.push(insn(JEQ_K, (values.len() - 1 - k + 1) as u8, 0, value));
        }
        block.push(insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW));
    }
    block.push(insn(RET_K, 0, 0, RET_TRACE));
    block
}

/// The `sock_fprog` the kernel takes for `program`.
pub fn fprog(program: &BpfProgram) -> libc::sock_fprog {
    libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut sock_filter,
    }
}

/// What `program` returns for the call `nr` with `args`: the filter run as
/// the kernel would, for the instructions fi's filters use (tests only).
#[cfg(test)]
pub(crate) fn run(program: &BpfProgram, nr: u32, args: [u64; 6]) -> u32 {
    let word = |offset: u32| match offset {
        NR_OFFSET => nr,
        ARCH_OFFSET => AUDIT_ARCH,
        o => {
            let arg = args[((o - ARGS_OFFSET) / 8) as usize];
            if (o - ARGS_OFFSET) % 8 == 4 {
                (arg >> 32) as u32
            } else {
                arg as u32
            }
        }
    };
    let (mut pc, mut acc) = (0, 0);
    loop {
        let i = program[pc];
        pc += 1;
        match i.code {
            LD_W_ABS => acc = word(i.k),
            JEQ_K if acc == i.k => pc += usize::from(i.jt),
            JEQ_K => pc += usize::from(i.jf),
            RET_K => return i.k,
            other => panic!("unexpected instruction {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_fd_filter_stops_the_calls_on_its_fd_alone() {
        const READ: u32 = 0;
        const DUP2: u32 = 33;
        const FCNTL: u32 = 72;
        let call = |nr, fd_args, only_when| FdCall {
            nr,
            fd_args,
            only_when,
        };
        let calls = [
            call(READ, &[0][..], None),
            call(DUP2, &[0, 1][..], None),
            call(FCNTL, &[0][..], Some((1, &[0, 1030][..]))),
        ];
        let program = fd_filter_for(&calls, 7);
        let trace = RET_TRACE;
        let allow = libc::SECCOMP_RET_ALLOW;
        assert_eq!(run(&program, READ, [7, 0, 0, 0, 0, 0]), trace);
        assert_eq!(run(&program, READ, [3, 7, 0, 0, 0, 0]), allow);
        // Upper bits of an int argument are not the descriptor's.
        assert_eq!(
            run(&program, READ, [0xffff_ffff_0000_0007, 0, 0, 0, 0, 0]),
            trace
        );
        assert_eq!(run(&program, DUP2, [3, 7, 0, 0, 0, 0]), trace);
        assert_eq!(run(&program, DUP2, [7, 3, 0, 0, 0, 0]), trace);
        assert_eq!(run(&program, DUP2, [3, 4, 0, 0, 0, 0]), allow);
        assert_eq!(run(&program, FCNTL, [7, 1030, 9, 0, 0, 0]), trace);
        assert_eq!(run(&program, FCNTL, [7, 0, 9, 0, 0, 0]), trace);
        assert_eq!(run(&program, FCNTL, [7, 6, 9, 0, 0, 0]), allow);
        assert_eq!(run(&program, FCNTL, [3, 0, 9, 0, 0, 0]), allow);
        assert_eq!(run(&program, 1, [7, 0, 0, 0, 0, 0]), allow);
    }

    #[test]
    fn each_route_returns_its_action_and_the_rest_is_allowed() {
        let program = filter_for(&[(1, Route::Trace), (74, Route::Errno(5)), (2, Route::Notify)]);
        let returns: Vec<u32> = program
            .iter()
            .filter(|i| i.code == RET_K)
            .map(|i| i.k)
            .collect();
        assert_eq!(
            returns,
            [
                libc::SECCOMP_RET_ALLOW,
                RET_TRACE,
                libc::SECCOMP_RET_ERRNO | 5,
                libc::SECCOMP_RET_USER_NOTIF,
                libc::SECCOMP_RET_ALLOW,
            ]
        );
        assert!(program
            .iter()
            .all(|i| i.k != libc::SECCOMP_RET_KILL_PROCESS));
    }

    #[test]
    fn a_call_allowed_with_a_null_path_is_routed_with_any_other() {
        const UTIMENSAT: u32 = 280;
        const FSYNC: u32 = 74;
        let routes = [(UTIMENSAT, Route::Notify), (FSYNC, Route::Errno(5))];
        let program = filter_allowing_null_paths(&routes, &[(UTIMENSAT, 1)]);
        let notify = libc::SECCOMP_RET_USER_NOTIF;
        let allow = libc::SECCOMP_RET_ALLOW;
        assert_eq!(run(&program, UTIMENSAT, [3, 0, 0, 0, 0, 0]), allow);
        assert_eq!(
            run(&program, UTIMENSAT, [3, 0x7ffd_0000_1000, 0, 0, 0, 0]),
            notify
        );
        // A pointer whose low half is zero is not NULL.
        assert_eq!(
            run(&program, UTIMENSAT, [3, 0x7ffd_0000_0000, 0, 0, 0, 0]),
            notify
        );
        assert_eq!(run(&program, UTIMENSAT, [3, 0x1000, 0, 0, 0, 0]), notify);
        // The calls after it are still told apart by number.
        assert_eq!(
            run(&program, FSYNC, [3, 0, 0, 0, 0, 0]),
            libc::SECCOMP_RET_ERRNO | 5
        );
        assert_eq!(run(&program, 1, [3, 0, 0, 0, 0, 0]), allow);
        // Without the allowance, NULL is routed as any path.
        assert_eq!(
            run(&filter_for(&routes), UTIMENSAT, [3, 0, 0, 0, 0, 0]),
            notify
        );
    }
}
