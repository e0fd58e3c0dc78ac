//! `latency`: calls take longer, as on a slow disk or a far network.
//!
//! Each matching call is held before it runs (only the calling thread; the
//! others go on) for the sum of up to three parts:
//!
//! - a delay drawn from a distribution (fixed, uniform, normal, log-normal,
//!   Pareto, or fitted to two percentiles such as `p50=1ms:p99=20ms`) with
//!   fi's seeded generator, so `--seed` replays the same delays;
//! - the rest of a stall episode (`stall-every=`, `stall-for=`) the call
//!   falls in, by fi's monotonic clock;
//! - the time its bytes need under a throughput cap (`rate=`), per path or
//!   per fd.

mod distribution;
mod rate;
mod stall;

use std::time::Duration;

use distribution::{Distribution, DEFAULT_CAP};
use fi_sdk::{
    monotonic, Call, Config, ConfigError, Description, Policy, Subscription, Trigger, Verdict,
};
use rate::Cap;
use stall::Stalls;

/// The calls delayed unless `syscalls=` says otherwise: reads, writes and
/// syncs.
const DEFAULT_SYSCALLS: &str =
    "read,write,pread64,pwrite64,readv,writev,preadv,pwritev,fsync,fdatasync";

struct Latency {
    distribution: Option<Distribution>,
    /// The longest draw from the distribution.
    cap: Duration,
    stalls: Option<Stalls>,
    rate: Option<Cap>,
    trigger: Trigger,
}

impl Policy for Latency {
    fn describe() -> Description {
        Description::new(
            "latency",
            "Delay calls: draws from a distribution (fixed, uniform, normal, lognormal, pareto, percentiles), stall episodes, a throughput cap",
        )
        .key(
            "syscalls",
            format!("calls to delay: names, numbers or %classes, comma-separated; default {DEFAULT_SYSCALLS}"),
        )
        .keys(distribution::KEYS)
        .keys(stall::KEYS)
        .keys(rate::KEYS)
        .keys(Trigger::KEYS)
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let syscalls = config
            .list("syscalls")?
            .unwrap_or(DEFAULT_SYSCALLS.split(',').collect());
        let policy = Latency {
            distribution: Distribution::from_config(config)?,
            cap: config.duration("cap")?.unwrap_or(DEFAULT_CAP),
            stalls: Stalls::from_config(config)?,
            rate: Cap::from_config(config)?,
            trigger: Trigger::from_config(config)?,
        };
        if policy.distribution.is_none() && policy.stalls.is_none() && policy.rate.is_none() {
            return Err(ConfigError::new(
                "nothing to delay by: give delay=, dist=, two percentiles (p50=, p99=), stall-every= or rate=",
            ));
        }
        // Every delay is decided at entry: no result is needed.
        Ok((policy, Subscription::syscalls(syscalls).entry_only()))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        if !self.trigger.fires(call) {
            return Verdict::pass();
        }
        let now = monotonic();
        let stall = self
            .stalls
            .map_or(Duration::ZERO, |stalls| stalls.wait(now));
        let draw = self
            .distribution
            .as_ref()
            .map_or(Duration::ZERO, |distribution| {
                distribution.sample().min(self.cap)
            });
        // The bytes go through once the stall and the drawn delay are over.
        let held = stall + draw;
        let queued = self
            .rate
            .as_mut()
            .map_or(Duration::ZERO, |rate| rate.wait(call, now + held));
        Verdict::pass().delay_enter(held + queued)
    }

    fn thread_exited(&mut self, tid: i32) {
        self.trigger.forget_thread(tid);
    }
}

fi_sdk::export_policy!(Latency);
