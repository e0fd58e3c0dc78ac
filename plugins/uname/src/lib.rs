//! `uname`: the program sees another system name, release, machine, ...
//!
//! After a successful `uname(buf)`, the chosen fields of the caller's
//! `struct utsname` are overwritten. Each field is 65 bytes (64 and a NUL),
//! in the order sysname, nodename, release, version, machine, domainname.

use fi_sdk::{
    log, Call, Config, ConfigError, Description, ExitAction, Policy, Subscription, Verdict,
};

/// The fields of `struct utsname`, in order.
const FIELDS: [&str; 6] = [
    "sysname",
    "nodename",
    "release",
    "version",
    "machine",
    "domainname",
];
/// The size of each field, NUL included.
const FIELD_LEN: usize = 65;

struct Uname {
    /// Byte offset in `struct utsname` and new contents, NUL-padded.
    fields: Vec<(u64, [u8; FIELD_LEN])>,
}

impl Policy for Uname {
    fn describe() -> Description {
        FIELDS.iter().fold(
            Description::new("uname", "Change what uname reports"),
            |description, field| {
                description.key(
                    *field,
                    format!("the {field} to report (at most 64 bytes); default the real one"),
                )
            },
        )
    }

    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
        let mut fields = Vec::new();
        for (i, field) in FIELDS.iter().enumerate() {
            let Some(value) = config.get(field) else {
                continue;
            };
            if value.len() >= FIELD_LEN {
                return Err(ConfigError::invalid(field, value, "longer than 64 bytes"));
            }
            let mut bytes = [0; FIELD_LEN];
            bytes[..value.len()].copy_from_slice(value.as_bytes());
            fields.push(((i * FIELD_LEN) as u64, bytes));
        }
        if fields.is_empty() {
            return Err(ConfigError::new(format!(
                "give at least one of {}",
                FIELDS.map(|field| format!("{field}=")).join(", ")
            )));
        }
        Ok((Uname { fields }, Subscription::syscalls(["uname"])))
    }

    fn on_enter(&mut self, _call: &Call) -> Verdict {
        Verdict::pass().want_exit()
    }

    fn on_exit(&mut self, call: &Call, result: i64) -> ExitAction {
        if result == 0 {
            let buf = call.arg(0);
            for (offset, bytes) in &self.fields {
                if let Err(e) = call.write_memory(buf + offset, bytes) {
                    log(&format!("cannot rewrite the utsname at {buf:#x}: {e}"));
                }
            }
        }
        ExitAction::Keep
    }
}

fi_sdk::export_policy!(Uname);
