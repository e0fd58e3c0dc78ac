//! A system call a policy has fault make in the caller's thread.

use crate::bindings::fi::policy::types;
use crate::Sysno;

/// A system call for fault to make in the caller's thread, on the policy's
/// behalf: in place of the caller's ([`Verdict::replace`]), or after it
/// ([`ExitAction::Then`]). Arguments not set are 0.
///
/// ```
/// use fi_sdk::{Invocation, Sysno};
///
/// // lseek(3, 4096, SEEK_CUR): the offset a 4096-byte write would leave.
/// let skip = Invocation::new(Sysno::lseek).arg(0, 3).arg(1, 4096).arg(2, 1);
/// # let _ = skip;
/// ```
///
/// [`Verdict::replace`]: crate::Verdict::replace
/// [`ExitAction::Then`]: crate::ExitAction::Then
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    sysno: Sysno,
    args: [u64; 6],
}

impl Invocation {
    /// Call `sysno`, its arguments all 0 until set with [`Invocation::arg`].
    pub fn new(sysno: Sysno) -> Invocation {
        Invocation {
            sysno,
            args: [0; 6],
        }
    }

    /// Set argument register `index` (0 to 5: rdi, rsi, rdx, r10, r8, r9)
    /// to `value`.
    ///
    /// # Panics
    ///
    /// If `index` is above 5.
    pub fn arg(mut self, index: usize, value: u64) -> Invocation {
        assert!(index < 6, "a system call has arguments 0 to 5");
        self.args[index] = value;
        self
    }
}

impl From<Invocation> for types::Invocation {
    fn from(invocation: Invocation) -> types::Invocation {
        let [a, b, c, d, e, f] = invocation.args;
        types::Invocation {
            nr: invocation.sysno.nr(),
            args: (a, b, c, d, e, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_arguments_are_zero() {
        let wire = types::Invocation::from(Invocation::new(Sysno::lseek).arg(1, 7).arg(2, 1));
        assert_eq!(wire.nr, Sysno::lseek.nr());
        assert_eq!(wire.args, (0, 7, 1, 0, 0, 0));
    }
}
