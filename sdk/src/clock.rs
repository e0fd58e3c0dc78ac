//! A real clock, for policies that model time.

use std::time::Duration;

#[cfg(not(all(any(test, feature = "testing"), not(target_arch = "wasm32"))))]
use crate::bindings::fi::policy::host;

/// Time since the traced program started, from a real monotonic clock.
///
/// `std::time` stays frozen at zero in the sandbox, so that `--seed`
/// replays a run's decisions; a policy that reads this clock (to run stall
/// episodes or cap throughput) decides by timing too, and may decide
/// differently in a replay.
pub fn monotonic() -> Duration {
    // In a native unit test (feature `testing`), a clock the test sets.
    #[cfg(all(any(test, feature = "testing"), not(target_arch = "wasm32")))]
    return crate::testing::monotonic();
    #[cfg(not(all(any(test, feature = "testing"), not(target_arch = "wasm32"))))]
    Duration::from_nanos(host::monotonic_ns())
}
