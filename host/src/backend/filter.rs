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

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// The filter's return value for a route.
fn action(route: Route) -> u32 {
    match route {
        Route::Trace => libc::SECCOMP_RET_TRACE,
        Route::Notify => libc::SECCOMP_RET_USER_NOTIF,
        Route::Errno(errno) => libc::SECCOMP_RET_ERRNO | u32::from(errno),
    }
}

/// The BPF program for `routes` (syscall number, route). Calls through
/// another ABI (a 32-bit `int 0x80`) are allowed and not seen: fi never
/// changes how a program runs beyond what its policies say.
pub fn filter_for(routes: &[(u32, Route)]) -> BpfProgram {
    let mut program = vec![
        insn(LD_W_ABS, 0, 0, ARCH_OFFSET),
        insn(JEQ_K, 1, 0, AUDIT_ARCH),
        insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
        insn(LD_W_ABS, 0, 0, NR_OFFSET),
    ];
    for &(nr, route) in routes {
        program.push(insn(JEQ_K, 0, 1, nr));
        program.push(insn(RET_K, 0, 0, action(route)));
    }
    program.push(insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW));
    program
}

/// The `sock_fprog` the kernel takes for `program`.
pub fn fprog(program: &BpfProgram) -> libc::sock_fprog {
    libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut sock_filter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                libc::SECCOMP_RET_TRACE,
                libc::SECCOMP_RET_ERRNO | 5,
                libc::SECCOMP_RET_USER_NOTIF,
                libc::SECCOMP_RET_ALLOW,
            ]
        );
        assert!(program
            .iter()
            .all(|i| i.k != libc::SECCOMP_RET_KILL_PROCESS));
    }
}
