//! `retval`: the plugin twin of fi's rule `-e inject=SET:retval=V`, for
//! bench/run section 2. Every subscribed call is skipped and returns
//! `value=` (default 0), decided in WebAssembly instead of by the native
//! rule engine. Kept as small as a real policy can be, so that the benchmark
//! measures fi's cost of asking a plugin, not the plugin's own work.
//!
//! - `syscalls=` names, comma-separated (default `write`)
//! - `value=` the return value (default 0)

use fi_sdk::{Call, Config, ConfigError, Description, Policy, Subscription, Verdict};

struct Retval {
    value: i64,
}

impl Policy for Retval {
    fn describe() -> Description {
        Description::new(
            "retval",
            "Skip calls and return a fixed value (like -e inject=SET:retval=V)",
        )
        .key("syscalls", "calls to skip, comma-separated; default write")
        .key("value", "the value they return; default 0")
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let syscalls: Vec<String> = config
            .list("syscalls")?
            .map(|l| l.into_iter().map(String::from).collect())
            .unwrap_or_else(|| vec!["write".to_string()]);
        let value = config.parse("value")?.unwrap_or(0);
        // Decided at entry, never let run: what the rule's subscription says
        // too, so that both reach fi the same way.
        let subscription = Subscription::syscalls(syscalls)
            .entry_only()
            .passes_untouched();
        Ok((Retval { value }, subscription))
    }

    fn on_enter(&mut self, _call: &Call) -> Verdict {
        Verdict::ret(self.value)
    }
}

fi_sdk::export_policy!(Retval);
