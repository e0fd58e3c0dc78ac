//! `clock`: the program's clocks jump, freeze, run slow or fast, or drift.
//!
//! Subscribes `clock_gettime` (and, when the wall clock is chosen,
//! `gettimeofday` and `time`) and rewrites what they return once they ran:
//! the `timespec` or `timeval` in the caller's memory, `time`'s return value
//! and the `time_t` it stores. Every reading `real` of a chosen clock
//! becomes `base + (real - base) × rate × (1 + skew) + jump`, where `base`
//! is the clock's first reading in the program (`freeze=true` makes the rate
//! 0). Since the subscription asks for these calls, fault makes the vDSO's
//! entries of them enter the kernel, where it sees them.

mod warp;

use std::collections::HashMap;
use std::str::FromStr;

use fi_sdk::{
    Call, Config, ConfigError, Description, ExitAction, Policy, Subscription, Sysno, Verdict,
};
use warp::{Jump, Skew, Warp, NANOS};

/// A family of clocks moved together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Family {
    /// The wall clock: `CLOCK_REALTIME` and its coarse and alarm forms,
    /// `gettimeofday`, `time`.
    Realtime,
    /// `CLOCK_MONOTONIC`, its coarse and raw forms.
    Monotonic,
    /// `CLOCK_BOOTTIME` and its alarm form.
    Boottime,
    /// `CLOCK_TAI`.
    Tai,
}

impl Family {
    const ALL: [Family; 4] = [
        Family::Realtime,
        Family::Monotonic,
        Family::Boottime,
        Family::Tai,
    ];

    /// The family of the clock id `clock_gettime` was given, if fault moves
    /// it (not the CPU-time clocks).
    fn of_clock(id: i32) -> Option<Family> {
        match id {
            0 | 5 | 8 => Some(Family::Realtime),
            1 | 4 | 6 => Some(Family::Monotonic),
            7 | 9 => Some(Family::Boottime),
            11 => Some(Family::Tai),
            _ => None,
        }
    }
}

impl FromStr for Family {
    type Err = String;

    fn from_str(s: &str) -> Result<Family, String> {
        match s {
            "realtime" => Ok(Family::Realtime),
            "monotonic" => Ok(Family::Monotonic),
            "boottime" => Ok(Family::Boottime),
            "tai" => Ok(Family::Tai),
            _ => Err(format!(
                "unknown clock '{s}' (use realtime, monotonic, boottime, tai or all)"
            )),
        }
    }
}

struct Clock {
    warp: Warp,
    clocks: Vec<Family>,
    /// Each family's first reading, in nanoseconds.
    bases: HashMap<Family, i64>,
}

impl Clock {
    /// The reading the program sees of `family`, for the real `nanos`.
    fn warped(&mut self, family: Family, nanos: i64) -> i64 {
        let base = *self.bases.entry(family).or_insert(nanos);
        self.warp.apply(base, nanos)
    }

    /// Whether a call's result is to be rewritten, by the family it reads.
    fn moves(&self, call: &Call) -> Option<Family> {
        let family = match call.sysno() {
            Sysno::clock_gettime => Family::of_clock(call.arg(0) as i32)?,
            _ => Family::Realtime,
        };
        self.clocks.contains(&family).then_some(family)
    }

    /// Rewrite the two-word time (seconds, then `unit`s) at `addr`.
    fn rewrite_struct(&mut self, call: &Call, family: Family, addr: u64, unit: i64) {
        let Ok(real) = call.read_timespec(addr) else {
            return;
        };
        let nanos = real.sec * NANOS + real.nsec * unit;
        let fake = self.warped(family, nanos);
        if fake != nanos {
            let mut bytes = (fake / NANOS).to_le_bytes().to_vec();
            bytes.extend((fake % NANOS / unit).to_le_bytes());
            let _ = call.write_memory(addr, &bytes);
        }
    }
}

fn parse_clocks(config: &Config) -> Result<Vec<Family>, ConfigError> {
    let Some(names) = config.list("clocks")? else {
        return Ok(vec![Family::Realtime, Family::Monotonic]);
    };
    if names == ["all"] {
        return Ok(Family::ALL.to_vec());
    }
    names
        .iter()
        .map(|name| {
            name.parse()
                .map_err(|e| ConfigError::invalid("clocks", name, e))
        })
        .collect()
}

impl Policy for Clock {
    fn describe() -> Description {
        Description::new(
            "clock",
            "Jump, freeze, slow down, speed up or skew the program's clocks",
        )
        .key(
            "jump",
            "move the clocks by this much: +1h, -30m, +90s, -1.5d, +250ms; default 0",
        )
        .key(
            "freeze",
            "true: the clocks stop at their first reading; default false",
        )
        .key(
            "rate",
            "how fast the clocks run from their first reading: 0.5 is half speed; default 1",
        )
        .key(
            "skew",
            "a drift in parts per million: +50ppm, -20ppm; default 0",
        )
        .key(
            "clocks",
            "which: realtime (and gettimeofday, time), monotonic, boottime, tai, all; \
             comma-separated; default realtime,monotonic",
        )
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let jump = config.parse::<Jump>("jump")?.map_or(0, |j| j.0);
        let skew = config.parse::<Skew>("skew")?.map_or(0.0, |s| s.0);
        let freeze = config.parse::<bool>("freeze")?.unwrap_or(false);
        let rate = match config.get("rate") {
            Some(value) if freeze => {
                return Err(ConfigError::invalid(
                    "rate",
                    value,
                    "a frozen clock has no rate (give freeze= or rate=)",
                ))
            }
            Some(_) => config.parse::<f64>("rate")?.unwrap_or(1.0),
            None if freeze => 0.0,
            None => 1.0,
        };
        if !rate.is_finite() || rate < 0.0 {
            return Err(ConfigError::invalid(
                "rate",
                config.get("rate").unwrap_or_default(),
                "not a rate of 0 or more",
            ));
        }
        let clocks = parse_clocks(config)?;
        let mut syscalls = vec!["clock_gettime"];
        if clocks.contains(&Family::Realtime) {
            syscalls.extend(["gettimeofday", "time"]);
        }
        let policy = Clock {
            warp: Warp {
                jump,
                factor: rate * (1.0 + skew / 1e6),
            },
            clocks,
            bases: HashMap::new(),
        };
        Ok((policy, Subscription::syscalls(syscalls)))
    }

    fn on_enter(&mut self, call: &Call) -> Verdict {
        match self.moves(call) {
            Some(_) if !self.warp.is_identity() => Verdict::pass().want_exit(),
            _ => Verdict::pass(),
        }
    }

    fn on_exit(&mut self, call: &Call, result: i64) -> ExitAction {
        let Some(family) = self.moves(call) else {
            return ExitAction::Keep;
        };
        match call.sysno() {
            Sysno::clock_gettime if result == 0 => {
                self.rewrite_struct(call, family, call.arg(1), 1);
            }
            Sysno::gettimeofday if result == 0 && call.arg(0) != 0 => {
                self.rewrite_struct(call, family, call.arg(0), 1_000);
            }
            Sysno::time if result >= 0 => {
                let fake = self.warped(family, result * NANOS) / NANOS;
                if call.arg(0) != 0 {
                    let _ = call.write_memory(call.arg(0), &fake.to_le_bytes());
                }
                if fake != result {
                    return ExitAction::Return(fake);
                }
            }
            _ => {}
        }
        ExitAction::Keep
    }
}

fi_sdk::export_policy!(Clock);
