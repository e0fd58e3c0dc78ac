//! `latency`: calls take longer, as on a slow disk or a far network.
//!
//! Each matching call is held before it runs (only the calling thread; the
//! others go on) for a delay drawn from a distribution (fixed, uniform,
//! normal, log-normal, Pareto, or fitted to two percentiles such as
//! `p50=1ms:p99=20ms`) with fi's seeded generator, so `--seed` replays the
//! same delays.

mod distribution;

use std::time::Duration;

use distribution::{Distribution, DEFAULT_CAP};
use fi_sdk::{Call, Config, ConfigError, Description, Policy, Subscription, Trigger, Verdict};

/// The calls delayed unless `syscalls=` says otherwise: reads, writes and
/// syncs.
const DEFAULT_SYSCALLS: &str =
    "read,write,pread64,pwrite64,readv,writev,preadv,pwritev,fsync,fdatasync";

struct Latency {
    distribution: Distribution,
    cap: Duration,
    trigger: Trigger,
}

impl Policy for Latency {
    fn describe() -> Description {
        Description::new(
            "latency",
            "Delay calls by draws from a distribution (fixed, uniform, normal, lognormal, pareto, percentiles)",
        )
        .key(
            "syscalls",
            format!("calls to delay: names, numbers or %classes, comma-separated; default {DEFAULT_SYSCALLS}"),
        )
        .keys(distribution::KEYS)
        .keys(Trigger::KEYS)
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let syscalls = config
            .list("syscalls")?
            .unwrap_or(DEFAULT_SYSCALLS.split(',').collect());
        let distribution = Distribution::from_config(config)?.ok_or_else(|| {
            ConfigError::new(
                "nothing to delay by: give delay=, dist= or two percentiles (p50=, p99=)",
            )
        })?;
        let policy = Latency {
            distribution,
            cap: config.duration("cap")?.unwrap_or(DEFAULT_CAP),
            trigger: Trigger::from_config(config)?,
        };
        Ok((policy, Subscription::syscalls(syscalls)))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        if !self.trigger.fires(call) {
            return Verdict::pass();
        }
        Verdict::pass().delay_enter(self.distribution.sample().min(self.cap))
    }

    fn thread_exited(&mut self, tid: i32) {
        self.trigger.forget_thread(tid);
    }
}

fi_sdk::export_policy!(Latency);
