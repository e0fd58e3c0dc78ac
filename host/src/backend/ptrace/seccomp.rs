//! The seccomp filter a spawned program runs under: `RET_TRACE` for the
//! subscribed syscall numbers, `RET_ALLOW` for every other call.
//!
//! The filter looks at the syscall number alone, so the kernel's per-number
//! action cache lets unsubscribed calls skip the filter entirely.

use std::collections::BTreeMap;

use anyhow::Context;
use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
use syscalls::SysnoSet;

/// Build the BPF program for `subscription`.
pub fn filter_for(subscription: &SysnoSet) -> anyhow::Result<BpfProgram> {
    let rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> = subscription
        .iter()
        .map(|sysno| (i64::from(sysno.id()), Vec::new()))
        .collect();
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Trace(0),
        TargetArch::x86_64,
    )
    .context("building the seccomp filter")?;
    let mut program = BpfProgram::try_from(filter).context("compiling the seccomp filter")?;
    allow_foreign_architectures(&mut program);
    Ok(program)
}

/// seccompiler kills a process whose call comes through another ABI (a
/// 32-bit `int 0x80`). fi must never change how a program runs beyond what
/// its policies say, so such calls are allowed instead (and not seen).
fn allow_foreign_architectures(program: &mut BpfProgram) {
    const RET_K: u16 = 0x06;
    if let Some(kill) = program
        .iter_mut()
        .find(|insn| insn.code == RET_K && insn.k == libc::SECCOMP_RET_KILL_PROCESS)
    {
        kill.k = libc::SECCOMP_RET_ALLOW;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscalls::Sysno;

    #[test]
    fn the_filter_never_kills() {
        let program = filter_for(&SysnoSet::new(&[Sysno::write, Sysno::fsync])).unwrap();
        assert!(program
            .iter()
            .all(|insn| insn.k != libc::SECCOMP_RET_KILL_PROCESS));
        assert!(program.iter().any(|insn| insn.k == libc::SECCOMP_RET_TRACE));
    }
}
