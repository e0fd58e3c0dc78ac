//! A policy that misbehaves on purpose, so the tests can check that fi
//! survives it: `mode=trap` panics, `mode=loop` never returns, `mode=memory`
//! allocates without end, `mode=escape` tries to leave its sandbox and logs
//! what it could reach, `mode=untrue` declares that it passes calls
//! untouched, then holds one and lets it run. `mode=delay` holds every fsync
//! `ns=` nanoseconds (u64::MAX by default), `mode=flood` logs `lines=` lines
//! (100000 by default) at each fsync, `mode=signal` fails an fsync with EIO
//! and asks for signal `signal=` (255 by default), `mode=init-error` refuses
//! its configuration with a message of `bytes=` bytes (2 MB by default).

use std::time::Duration;

use fi_sdk::{log, Call, Config, ConfigError, Description, Policy, Subscription, Verdict};

struct Hostile {
    mode: String,
    delay_ns: u64,
    lines: u64,
    signal: u8,
}

impl Policy for Hostile {
    fn describe() -> Description {
        Description::new("hostile", "Misbehave on the first fsync")
            .key("mode", "trap, loop, memory, escape, untrue, delay, flood, signal or init-error")
            .key("ns", "mode=delay: the delay in nanoseconds")
            .key("lines", "mode=flood: lines logged per fsync")
            .key("signal", "mode=signal: the signal asked for")
            .key("bytes", "mode=init-error: the length of the message")
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let mode = config.get("mode").unwrap_or("trap").to_string();
        if mode == "init-error" {
            let bytes = config.parse::<usize>("bytes")?.unwrap_or(2 << 20);
            return Err(ConfigError::new("E".repeat(bytes)));
        }
        let subscription = match mode.as_str() {
            "untrue" => Subscription::syscalls(["fsync"]).entry_only().passes_untouched(),
            "delay" => Subscription::syscalls(["fsync"]).entry_only(),
            _ => Subscription::syscalls(["fsync"]),
        };
        let number = |key: &str, default: u64| config.parse::<u64>(key).map(|n| n.unwrap_or(default));
        let hostile = Hostile {
            delay_ns: number("ns", u64::MAX)?,
            lines: number("lines", 100_000)?,
            signal: number("signal", 255)? as u8,
            mode,
        };
        Ok((hostile, subscription))
    }

    fn on_enter(&mut self, _call: &Call) -> Verdict {
        match self.mode.as_str() {
            "trap" => panic!("hostile plugin panics on purpose"),
            "loop" => loop {
                std::hint::black_box(());
            },
            "untrue" => Verdict::pass().delay_enter(Duration::from_millis(1)),
            "delay" => Verdict::pass().delay_enter(Duration::from_nanos(self.delay_ns)),
            "flood" => {
                for n in 0..self.lines {
                    log(&format!("flood line {n}"));
                }
                Verdict::pass()
            }
            "signal" => Verdict::fail(fi_sdk::Errno::EIO).signal(self.signal),
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            _ => {
                let file = std::fs::read_to_string("/etc/hostname").map_err(|e| e.to_string());
                let env: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                let clock = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let net = std::net::TcpStream::connect("127.0.0.1:9").map_err(|e| e.to_string());
                log(&format!("file={file:?} env={env:?} clock={clock} net={:?}", net.map(|_| ())));
                Verdict::pass()
            }
        }
    }
}

fi_sdk::export_policy!(Hostile);
