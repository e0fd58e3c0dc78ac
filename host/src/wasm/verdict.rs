//! What a plugin hands the host, checked where it enters: a verdict's
//! errno, signal and delays, an exit's errno, and the length of a message
//! shown to the user. A value no kernel could give is the plugin's error,
//! never passed on.

use std::time::Duration;

use super::contract::types;

/// The largest errno a call can return (the kernel's `MAX_ERRNO`).
pub const MAX_ERRNO: u16 = 4095;

/// The largest signal number (`SIGRTMAX` on Linux).
pub const MAX_SIGNAL: u8 = 64;

/// The longest a plugin's delay may be unless `--max-delay` says otherwise.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(600);

/// How many characters of a plugin's message (an `init` refusal, an error)
/// are shown; the rest is cut, saying how much.
pub const MESSAGE_CHARS: usize = 1000;

/// Refuse an errno no call returns: 0, or over [`MAX_ERRNO`].
pub fn check_errno(errno: u16) -> Result<(), String> {
    if (1..=MAX_ERRNO).contains(&errno) {
        Ok(())
    } else {
        Err(format!(
            "gave errno {errno}, which no call returns (1 to {MAX_ERRNO})"
        ))
    }
}

/// Refuse a signal number Linux does not have: 0, or over [`MAX_SIGNAL`].
pub fn check_signal(signal: u8) -> Result<(), String> {
    if (1..=MAX_SIGNAL).contains(&signal) {
        Ok(())
    } else {
        Err(format!(
            "asked for signal {signal}, which does not exist (1 to {MAX_SIGNAL})"
        ))
    }
}

/// Refuse a delay longer than `max` (`--max-delay`): a call held that long
/// is a hang of the plugin's making, not a test.
fn check_delay(which: &str, nanos: u64, max: Duration) -> Result<(), String> {
    let delay = Duration::from_nanos(nanos);
    if delay <= max {
        Ok(())
    } else {
        Err(format!(
            "asked for {which} of {delay:?}, over the {max:?} of --max-delay"
        ))
    }
}

/// Check every value of `verdict` ([`check_errno`], [`check_signal`], its
/// delays against `max_delay`); the first that is wrong.
pub fn check(verdict: &types::Verdict, max_delay: Duration) -> Result<(), String> {
    if let types::Action::Fail(errno) = verdict.action {
        check_errno(errno)?;
    }
    if let Some(signal) = verdict.signal {
        check_signal(signal)?;
    }
    check_delay("delay-enter-ns", verdict.delay_enter_ns, max_delay)?;
    check_delay("delay-exit-ns", verdict.delay_exit_ns, max_delay)
}

/// Check an exit action's errno ([`check_errno`]).
pub fn check_exit(action: &types::ExitAction) -> Result<(), String> {
    match *action {
        types::ExitAction::Fail(errno) => check_errno(errno),
        _ => Ok(()),
    }
}

/// `message` cut to [`MESSAGE_CHARS`] characters, saying how many more
/// bytes there were.
pub fn cut(message: &str) -> String {
    match message.char_indices().nth(MESSAGE_CHARS) {
        Some((end, _)) => format!(
            "{}... ({} more bytes cut)",
            &message[..end],
            message.len() - end
        ),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(action: types::Action) -> types::Verdict {
        types::Verdict {
            action,
            delay_enter_ns: 0,
            delay_exit_ns: 0,
            signal: None,
            want_exit: false,
            log_call: false,
        }
    }

    #[test]
    fn values_no_kernel_gives_are_refused() {
        let max = DEFAULT_MAX_DELAY;
        assert!(check(&verdict(types::Action::Fail(5)), max).is_ok());
        assert!(check(&verdict(types::Action::Fail(4095)), max).is_ok());
        for errno in [0, 4096, 65535] {
            let error = check(&verdict(types::Action::Fail(errno)), max).unwrap_err();
            assert!(error.contains(&format!("errno {errno}")), "{error}");
        }
        for (signal, good) in [(1, true), (64, true), (0, false), (65, false), (255, false)] {
            let mut v = verdict(types::Action::Pass);
            v.signal = Some(signal);
            assert_eq!(check(&v, max).is_ok(), good, "signal {signal}");
        }
        let mut v = verdict(types::Action::Pass);
        v.delay_enter_ns = u64::MAX;
        let error = check(&v, max).unwrap_err();
        assert!(error.contains("--max-delay"), "{error}");
        v.delay_enter_ns = 0;
        v.delay_exit_ns = 2_000_000;
        assert!(check(&v, Duration::from_millis(2)).is_ok());
        assert!(check(&v, Duration::from_millis(1)).is_err());
        assert!(check_exit(&types::ExitAction::Fail(0)).is_err());
        assert!(check_exit(&types::ExitAction::Return(-65535)).is_ok());
    }

    #[test]
    fn a_long_message_is_cut_saying_how_much() {
        assert_eq!(cut("short"), "short");
        let long = "é".repeat(3000);
        let shown = cut(&long);
        assert!(shown.starts_with(&"é".repeat(MESSAGE_CHARS)));
        assert!(
            shown.ends_with("... (4000 more bytes cut)"),
            "{}",
            &shown[2000..]
        );
    }
}
