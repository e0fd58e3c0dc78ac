//! A policy that misbehaves on purpose, so the tests can check that fi
//! survives it: `mode=trap` panics, `mode=loop` never returns, `mode=memory`
//! allocates without end, `mode=escape` tries to leave its sandbox and logs
//! what it could reach, `mode=untrue` declares that it passes calls
//! untouched, then holds one and lets it run.

use std::time::Duration;

use fi_sdk::{log, Call, Config, ConfigError, Description, Policy, Subscription, Verdict};

struct Hostile {
    mode: String,
}

impl Policy for Hostile {
    fn describe() -> Description {
        Description::new("hostile", "Misbehave on the first fsync").key("mode", "trap, loop, memory, escape or untrue")
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let mode = config.get("mode").unwrap_or("trap").to_string();
        let subscription = match mode.as_str() {
            "untrue" => Subscription::syscalls(["fsync"]).entry_only().passes_untouched(),
            _ => Subscription::syscalls(["fsync"]),
        };
        Ok((Hostile { mode }, subscription))
    }

    fn on_enter(&mut self, _call: &Call) -> Verdict {
        match self.mode.as_str() {
            "trap" => panic!("hostile plugin panics on purpose"),
            "loop" => loop {
                std::hint::black_box(());
            },
            "untrue" => Verdict::pass().delay_enter(Duration::from_millis(1)),
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
