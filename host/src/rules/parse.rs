//! strace's tampering expressions: `-e inject=SET:OPTION...` and
//! `-e fault=SET:OPTION...`, as strace(1) describes them under "Tampering"
//! and as strace's `filter_qualify.c` accepts them.
//!
//! Options of `inject=`: `error=ERRNO` or `retval=VALUE` (not both),
//! `signal=SIG`, `syscall=NAME` (a `%pure` syscall run instead of a call
//! that fails or returns a value), `delay_enter=TIME`, `delay_exit=TIME`,
//! `poke_enter=@argN=HEX,...`, `poke_exit=@argN=HEX,...` and `when=EXPR`.
//! At least one of error, retval, signal, delays and pokes is required.
//! `fault=` takes `error=` (default `ENOSYS`), `when=` and `syscall=`.
//! Each option may be given once, except `when=` where the last one wins.
//!
//! A `retval=` the caller would read as an error (-4095..-1) is injected as
//! given, with strace's warning ([`Rule::warning`]).

use std::time::Duration;

use fi_grammar::names::{errno_alias, signal_name_matches};
pub use fi_grammar::When;
use nix::sys::signal::Signal;
use syscalls::{Errno, Sysno, SysnoSet};
use thiserror::Error;

use crate::arch::classes::{arg_count, classes_of, Classes};
use crate::rules::poke::{parse_pokes, Poke, PokeError};
use crate::rules::syscall_set::{parse_syscall_set, SetError};
use fi_grammar::DidYouMean;

/// One parsed `-e inject=` or `-e fault=` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The expression as typed, qualifier included (`inject=write:error=EIO`).
    pub text: String,
    /// The syscalls the rule applies to (empty for `none`: a rule that
    /// changes nothing, as strace accepts it).
    pub syscalls: SysnoSet,
    /// The result the caller sees instead of the real one.
    pub fault: Option<Fault>,
    /// A signal delivered to the thread on entering the call.
    pub signal: Option<Signal>,
    /// `syscall=`: the `%pure` syscall run instead of a call that fails or
    /// returns a value (otherwise such a call is skipped). As in strace, it
    /// changes nothing without `error=` or `retval=`.
    pub replace: Option<Sysno>,
    /// How long to hold the thread on entering the call.
    pub delay_enter: Option<Duration>,
    /// How long to hold the thread on leaving the call.
    pub delay_exit: Option<Duration>,
    /// Which invocations of each syscall, per thread, the rule applies to.
    pub when: When,
    /// `poke_enter=`: bytes written where the arguments point, before the
    /// call runs.
    pub poke_enter: Vec<Poke>,
    /// `poke_exit=`: bytes written where the arguments point, after the
    /// call ran.
    pub poke_exit: Vec<Poke>,
    /// What strace warns about the rule but accepts (a `retval=` that reads
    /// as an error).
    pub warning: Option<String>,
}

/// The result forced on a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `error=`: the call fails with this errno (1..4095).
    Error(Errno),
    /// `retval=`: the call succeeds with this return value.
    Retval(i64),
}

/// A rejected `-e` argument; displays as `-e EXPR: what is wrong`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("-e {expr}: {kind}")]
pub struct RuleError {
    /// The whole `-e` argument as typed (`inject=write:error=EFOO`).
    pub expr: String,
    /// What is wrong with it.
    pub kind: RuleErrorKind,
}

/// What is wrong with a `-e` argument; each names the offending part.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RuleErrorKind {
    /// A qualifier other than `inject=`, `fault=` and `trace=` (`signal=`,
    /// `abbrev=`, ...).
    #[error("only -e inject=, -e fault= and -e trace= are supported{0}")]
    UnsupportedQualifier(DidYouMean),
    /// The syscall set before the first `:`.
    #[error(transparent)]
    Set(#[from] SetError),
    /// An option without `=` or with a name strace does not know.
    #[error("unknown option '{0}'{1}")]
    UnknownOption(String, DidYouMean),
    /// A malformed `poke_enter=` or `poke_exit=`.
    #[error(transparent)]
    Poke(#[from] PokeError),
    /// A poke of an argument the rule's syscalls do not have.
    #[error("requested to tamper with argument #{arg}, but system call '{syscall}' has only {count} arguments")]
    PokeBeyondArguments {
        /// The `N` of `@argN`.
        arg: usize,
        /// The syscall, by name.
        syscall: &'static str,
        /// How many arguments it takes.
        count: usize,
    },
    /// An `inject=` option used in `fault=`.
    #[error("{0}= is not allowed in -e fault= (use -e inject=)")]
    NotForFault(String),
    /// `OPTION=` with nothing after the `=`.
    #[error("{0}= needs a value")]
    MissingValue(String),
    /// An option given twice.
    #[error("{0}= given more than once")]
    Repeated(String),
    /// Both `error=` and `retval=`.
    #[error("error= and retval= are mutually exclusive")]
    ErrorAndRetval,
    /// An errno name not known on Linux.
    #[error("unknown errno '{0}'{1}")]
    UnknownErrno(String, DidYouMean),
    /// An errno number outside 1..4095.
    #[error("errno {0} is out of range 1..4095")]
    ErrnoOutOfRange(String),
    /// A `retval=` that is not a 64-bit integer.
    #[error("invalid retval= '{value}': {reason}")]
    InvalidRetval {
        /// The value as typed.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A signal name not known on Linux.
    #[error("unknown signal '{0}'{1}")]
    UnknownSignal(String, DidYouMean),
    /// A signal number outside 1..64.
    #[error("signal {0} is out of range 1..64")]
    SignalOutOfRange(String),
    /// A real-time signal (32..64), which fi cannot deliver.
    #[error("real-time signal {0} is not supported")]
    RealtimeSignal(String),
    /// `syscall=` naming no x86_64 syscall.
    #[error("unknown syscall '{0}' in syscall=")]
    UnknownReplacement(String),
    /// `syscall=` naming a syscall outside `%pure`.
    #[error("syscall={0}: only %pure syscalls (getpid, getuid, ...) can be injected")]
    ImpureReplacement(String),
    /// A malformed or out-of-range `when=`.
    #[error("invalid when= '{value}': {reason}")]
    InvalidWhen {
        /// The value as typed.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A malformed `delay_enter=` or `delay_exit=`.
    #[error("invalid {option}= '{value}': {reason}")]
    InvalidDelay {
        /// `delay_enter` or `delay_exit`.
        option: &'static str,
        /// The value as typed.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An `inject=` without anything to do.
    #[error("inject needs error=, retval=, signal=, delay_enter=, delay_exit=, poke_enter= or poke_exit=")]
    NoAction,
}

/// Parse the part of `-e inject=...` after `inject=`.
pub fn parse_inject(text: &str) -> Result<Rule, RuleError> {
    parse_rule(Mode::Inject, text)
}

/// Parse the part of `-e fault=...` after `fault=`; without `error=` the
/// calls fail with `ENOSYS`.
pub fn parse_fault(text: &str) -> Result<Rule, RuleError> {
    parse_rule(Mode::Fault, text)
}

/// Parse a tampering `-e` argument: `inject=...` or `fault=...`. Any other
/// qualifier, `trace=` included, is an error ([`parse_qualified`] takes
/// `trace=` too).
pub fn parse_expr(arg: &str) -> Result<Rule, RuleError> {
    match parse_qualified(arg)? {
        Expr::Rule(rule) => Ok(rule),
        Expr::Trace(_) => Err(RuleError {
            expr: arg.to_owned(),
            kind: RuleErrorKind::UnsupportedQualifier(DidYouMean::default()),
        }),
    }
}

/// A whole `-e` argument fi understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `inject=...` or `fault=...`.
    Rule(Rule),
    /// `trace=SET` (also `t=SET`, or a bare SET, as strace reads them): the
    /// calls traced. `-e` rules tamper only with traced calls, and `--trace`
    /// logs only them.
    Trace(SysnoSet),
}

/// Parse a whole `-e` argument: `inject=...`, `fault=...` or `trace=SET`
/// (`t=SET`, or a bare SET). Other strace qualifiers (`signal=`,
/// `abbrev=`, ...) are refused.
pub fn parse_qualified(arg: &str) -> Result<Expr, RuleError> {
    let trace = |set: &str| {
        parse_syscall_set(set)
            .map(Expr::Trace)
            .map_err(|error| RuleError {
                expr: arg.to_owned(),
                kind: RuleErrorKind::Set(error),
            })
    };
    match arg.split_once('=') {
        Some(("inject", text)) => parse_inject(text).map(Expr::Rule),
        Some(("fault", text)) => parse_fault(text).map(Expr::Rule),
        Some(("trace" | "t", set)) => trace(set),
        None => trace(arg),
        Some((qualifier, _)) => Err(RuleError {
            expr: arg.to_owned(),
            kind: RuleErrorKind::UnsupportedQualifier(DidYouMean::among(
                &format!("{qualifier}="),
                ["inject=", "fault=", "trace="],
            )),
        }),
    }
}

/// The largest errno a syscall can return.
const MAX_ERRNO: i32 = 4095;

/// The highest signal number on x86_64 Linux (`SIGRTMAX`).
const SIGRTMAX: i32 = 64;

/// Which expression is being parsed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Inject,
    Fault,
}

impl Mode {
    fn qualifier(self) -> &'static str {
        match self {
            Mode::Inject => "inject",
            Mode::Fault => "fault",
        }
    }
}

fn parse_rule(mode: Mode, text: &str) -> Result<Rule, RuleError> {
    let expr = format!("{}={text}", mode.qualifier());
    build_rule(mode, text, &expr).map_err(|kind| RuleError { expr, kind })
}

fn build_rule(mode: Mode, text: &str, expr: &str) -> Result<Rule, RuleErrorKind> {
    let mut parts = text.split(':');
    let syscalls = parse_syscall_set(parts.next().unwrap_or_default())?;
    let mut options = Options::default();
    // strace skips empty options (`write:error=EIO:`), so do we.
    for token in parts.filter(|token| !token.is_empty()) {
        options.apply(mode, token)?;
    }
    options.finish(mode)?;
    check_poked_arguments(
        &syscalls,
        options.poke_enter.iter().chain(&options.poke_exit),
    )?;
    let warning = match options.fault {
        Some(Fault::Retval(value)) if (-i64::from(MAX_ERRNO)..0).contains(&value) => Some(format!(
            "Inadvertent injection of error {} is possible for retval={}",
            -value, value as u64
        )),
        _ => None,
    };
    Ok(Rule {
        text: expr.to_owned(),
        syscalls,
        fault: options.fault,
        signal: options.signal,
        replace: options.replace,
        delay_enter: options.delay_enter,
        delay_exit: options.delay_exit,
        when: options.when,
        poke_enter: options.poke_enter,
        poke_exit: options.poke_exit,
        warning,
    })
}

/// Refuse a poke of `@argN` when no syscall of the set has N arguments (it
/// could never happen), naming the first one, in strace's words. In a set
/// where some have it, calls without it are left alone, as strace does.
fn check_poked_arguments<'a>(
    syscalls: &SysnoSet,
    pokes: impl Iterator<Item = &'a Poke>,
) -> Result<(), RuleErrorKind> {
    for poke in pokes {
        if syscalls.iter().any(|sysno| arg_count(sysno) >= poke.arg) {
            continue;
        }
        if let Some(sysno) = syscalls.iter().next() {
            return Err(RuleErrorKind::PokeBeyondArguments {
                arg: poke.arg,
                syscall: sysno.name(),
                count: arg_count(sysno),
            });
        }
    }
    Ok(())
}

/// Reads an option's (non-empty) value into the options being built.
type ApplyOption = fn(&mut Options, &str) -> Result<(), RuleErrorKind>;

/// One option of an expression, as strace's `parse_inject_token` knows it.
struct OptionSpec {
    /// The name before `=`.
    name: &'static str,
    /// Whether `-e fault=` takes it (`-e inject=` takes them all).
    in_fault: bool,
    /// Reads the value.
    apply: ApplyOption,
}

/// The options strace knows, in the order strace(1) lists them.
const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "error",
        in_fault: true,
        apply: |options, value| options.set_fault("error", || parse_errno(value).map(Fault::Error)),
    },
    OptionSpec {
        name: "retval",
        in_fault: false,
        apply: |options, value| {
            options.set_fault("retval", || parse_retval(value).map(Fault::Retval))
        },
    },
    OptionSpec {
        name: "signal",
        in_fault: false,
        apply: |options, value| set_once(&mut options.signal, "signal", || parse_signal(value)),
    },
    OptionSpec {
        name: "syscall",
        in_fault: true,
        apply: |options, value| {
            set_once(&mut options.replace, "syscall", || parse_replacement(value))
        },
    },
    OptionSpec {
        name: "delay_enter",
        in_fault: false,
        apply: |options, value| {
            set_once(&mut options.delay_enter, "delay_enter", || {
                parse_delay("delay_enter", value)
            })
        },
    },
    OptionSpec {
        name: "delay_exit",
        in_fault: false,
        apply: |options, value| {
            set_once(&mut options.delay_exit, "delay_exit", || {
                parse_delay("delay_exit", value)
            })
        },
    },
    OptionSpec {
        name: "poke_enter",
        in_fault: false,
        apply: |options, value| set_pokes(&mut options.poke_enter, "poke_enter", value),
    },
    OptionSpec {
        name: "poke_exit",
        in_fault: false,
        apply: |options, value| set_pokes(&mut options.poke_exit, "poke_exit", value),
    },
    // Repeatable: the last one wins (strace(1)).
    OptionSpec {
        name: "when",
        in_fault: true,
        apply: |options, value| {
            options.when = parse_when(value)?;
            Ok(())
        },
    },
];

/// The options of one expression, as they are read.
#[derive(Default)]
struct Options {
    fault: Option<Fault>,
    signal: Option<Signal>,
    replace: Option<Sysno>,
    delay_enter: Option<Duration>,
    delay_exit: Option<Duration>,
    when: When,
    poke_enter: Vec<Poke>,
    poke_exit: Vec<Poke>,
}

impl Options {
    /// Apply one `NAME=VALUE` token, looking NAME up in [`OPTIONS`].
    fn apply(&mut self, mode: Mode, token: &str) -> Result<(), RuleErrorKind> {
        let unknown = |key: &str| {
            let names = OPTIONS.iter().map(|option| format!("{}=", option.name));
            RuleErrorKind::UnknownOption(
                token.to_owned(),
                DidYouMean::among(&format!("{key}="), names),
            )
        };
        let (key, value) = token.split_once('=').ok_or_else(|| unknown(token))?;
        let option = OPTIONS
            .iter()
            .find(|option| option.name == key)
            .ok_or_else(|| unknown(key))?;
        if mode == Mode::Fault && !option.in_fault {
            return Err(RuleErrorKind::NotForFault(key.to_owned()));
        }
        if value.is_empty() {
            return Err(RuleErrorKind::MissingValue(key.to_owned()));
        }
        (option.apply)(self, value)
    }

    /// Set `error=` or `retval=` (named `key`), which exclude each other.
    fn set_fault(
        &mut self,
        key: &str,
        parse: impl FnOnce() -> Result<Fault, RuleErrorKind>,
    ) -> Result<(), RuleErrorKind> {
        match (self.fault, key) {
            (None, _) => {}
            (Some(Fault::Error(_)), "error") | (Some(Fault::Retval(_)), "retval") => {
                return Err(RuleErrorKind::Repeated(key.to_owned()))
            }
            (Some(_), _) => return Err(RuleErrorKind::ErrorAndRetval),
        }
        self.fault = Some(parse()?);
        Ok(())
    }

    /// Check that an inject has an action; give a fault its default errno.
    fn finish(&mut self, mode: Mode) -> Result<(), RuleErrorKind> {
        match mode {
            Mode::Fault => {
                self.fault.get_or_insert(Fault::Error(Errno::ENOSYS));
            }
            Mode::Inject => {
                let acts = self.fault.is_some()
                    || self.signal.is_some()
                    || self.delay_enter.is_some()
                    || self.delay_exit.is_some()
                    || !self.poke_enter.is_empty()
                    || !self.poke_exit.is_empty();
                if !acts {
                    return Err(RuleErrorKind::NoAction);
                }
            }
        }
        Ok(())
    }
}

/// Fill `slot` with the parsed value unless option `key` was already given.
fn set_once<T>(
    slot: &mut Option<T>,
    key: &str,
    parse: impl FnOnce() -> Result<T, RuleErrorKind>,
) -> Result<(), RuleErrorKind> {
    if slot.is_some() {
        return Err(RuleErrorKind::Repeated(key.to_owned()));
    }
    *slot = Some(parse()?);
    Ok(())
}

/// Fill the pokes of one phase unless `key` was already given.
fn set_pokes(slot: &mut Vec<Poke>, key: &str, value: &str) -> Result<(), RuleErrorKind> {
    if !slot.is_empty() {
        return Err(RuleErrorKind::Repeated(key.to_owned()));
    }
    *slot = parse_pokes(key, value)?;
    Ok(())
}

fn is_decimal(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `error=`: a number in 1..4095 or a case-insensitive errno name.
fn parse_errno(value: &str) -> Result<Errno, RuleErrorKind> {
    if is_decimal(value) {
        return match value.parse::<i32>() {
            Ok(n @ 1..=MAX_ERRNO) => Ok(Errno::new(n)),
            _ => Err(RuleErrorKind::ErrnoOutOfRange(value.to_owned())),
        };
    }
    errno_by_name(value).ok_or_else(|| {
        let names = (1..=MAX_ERRNO).filter_map(|n| Errno::new(n).name());
        RuleErrorKind::UnknownErrno(value.to_owned(), DidYouMean::among(value, names))
    })
}

/// The errno named `name` (any case, aliases such as EWOULDBLOCK included).
pub(crate) fn errno_by_name(name: &str) -> Option<Errno> {
    let upper = name.to_ascii_uppercase();
    let canonical = errno_alias(&upper).unwrap_or(&upper);
    (1..=MAX_ERRNO)
        .map(Errno::new)
        .find(|errno| errno.name() == Some(canonical))
}

/// `retval=`: an integer as C's `strtoull(value, NULL, 0)` reads it
/// (decimal, `0x` hex, `0` octal, optional sign), as a raw 64-bit value.
fn parse_retval(value: &str) -> Result<i64, RuleErrorKind> {
    let invalid = |reason| RuleErrorKind::InvalidRetval {
        value: value.to_owned(),
        reason,
    };
    let (negative, unsigned) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    let magnitude = parse_c_integer(unsigned).ok_or_else(|| invalid("not an integer"))?;
    // Two's complement, as strtoull wraps a negated value.
    let retval = if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    } as i64;
    Ok(retval)
}

/// An unsigned integer in C notation: `0x1f`, `017`, `15`.
fn parse_c_integer(text: &str) -> Option<u64> {
    let (radix, digits) = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
        (16, hex)
    } else if text.len() > 1 && text.starts_with('0') {
        (8, &text[1..])
    } else {
        (10, text)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `signal=`: a number in 1..64 or a case-insensitive name with or without
/// `SIG` (`SIGKILL`, `kill`).
fn parse_signal(value: &str) -> Result<Signal, RuleErrorKind> {
    if is_decimal(value) {
        return match value.parse::<i32>() {
            Ok(n @ 1..=SIGRTMAX) => {
                Signal::try_from(n).map_err(|_| RuleErrorKind::RealtimeSignal(value.to_owned()))
            }
            _ => Err(RuleErrorKind::SignalOutOfRange(value.to_owned())),
        };
    }
    Signal::iterator()
        .find(|signal| signal_name_matches(signal.as_str(), value))
        .ok_or_else(|| {
            let names = Signal::iterator().map(|signal| signal.as_str());
            RuleErrorKind::UnknownSignal(value.to_owned(), DidYouMean::among(value, names))
        })
}

/// `syscall=`: a syscall name (not a number) from `%pure`.
fn parse_replacement(value: &str) -> Result<Sysno, RuleErrorKind> {
    let sysno: Sysno = value
        .parse()
        .map_err(|()| RuleErrorKind::UnknownReplacement(value.to_owned()))?;
    if !classes_of(sysno).contains(Classes::PURE) {
        return Err(RuleErrorKind::ImpureReplacement(value.to_owned()));
    }
    Ok(sysno)
}

/// `delay_enter=`/`delay_exit=`: a duration as [`fi_grammar::duration`]
/// reads it (microseconds without a unit).
fn parse_delay(option: &'static str, value: &str) -> Result<Duration, RuleErrorKind> {
    use fi_grammar::DurationErrorKind as Kind;
    fi_grammar::parse_duration(value).map_err(|error| RuleErrorKind::InvalidDelay {
        option,
        value: value.to_owned(),
        reason: match error.kind {
            Kind::NoNumber | Kind::UnknownUnit(_) => "expected NUMBER[s|ms|us|ns]",
            Kind::NotANumber => "not a number",
            Kind::Negative => "negative",
            Kind::TooLarge => "too large",
        },
    })
}

/// `when=FIRST[..LAST][+[STEP]]`.
fn parse_when(value: &str) -> Result<When, RuleErrorKind> {
    value
        .parse()
        .map_err(|error: fi_grammar::WhenError| RuleErrorKind::InvalidWhen {
            value: value.to_owned(),
            reason: error.reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inject(text: &str) -> Rule {
        parse_inject(text).unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    fn when(first: u32, last: Option<u32>, step: u32) -> When {
        When { first, last, step }
    }

    #[test]
    fn inject_error_on_one_syscall() {
        let rule = inject("write:error=ENOSPC");
        assert_eq!(rule.text, "inject=write:error=ENOSPC");
        assert_eq!(rule.syscalls, SysnoSet::new(&[Sysno::write]));
        assert_eq!(rule.fault, Some(Fault::Error(Errno::ENOSPC)));
        assert_eq!(rule.signal, None);
        assert_eq!(rule.replace, None);
        assert_eq!(rule.delay_enter, None);
        assert_eq!(rule.delay_exit, None);
        assert_eq!(rule.when, When::default());
    }

    #[test]
    fn accepted_option_values() {
        type Check = fn(&Rule) -> bool;
        let cases: &[(&str, Check)] = &[
            ("write:error=EIO", |r| {
                r.fault == Some(Fault::Error(Errno::EIO))
            }),
            ("write:error=eio", |r| {
                r.fault == Some(Fault::Error(Errno::EIO))
            }),
            ("write:error=5", |r| {
                r.fault == Some(Fault::Error(Errno::EIO))
            }),
            ("write:error=4095", |r| {
                r.fault == Some(Fault::Error(Errno::new(4095)))
            }),
            ("write:error=ERESTARTSYS", |r| {
                r.fault == Some(Fault::Error(Errno::ERESTARTSYS))
            }),
            ("write:error=EWOULDBLOCK", |r| {
                r.fault == Some(Fault::Error(Errno::EAGAIN))
            }),
            ("write:retval=0", |r| r.fault == Some(Fault::Retval(0))),
            ("write:retval=42", |r| r.fault == Some(Fault::Retval(42))),
            ("write:retval=0x10", |r| r.fault == Some(Fault::Retval(16))),
            ("write:retval=010", |r| r.fault == Some(Fault::Retval(8))),
            ("write:retval=-4096", |r| {
                r.fault == Some(Fault::Retval(-4096)) && r.warning.is_none()
            }),
            // In the error range: injected raw, with strace's warning.
            ("geteuid:retval=-1", |r| {
                r.fault == Some(Fault::Retval(-1))
                    && r.warning.as_deref()
                        == Some("Inadvertent injection of error 1 is possible for retval=18446744073709551615")
            }),
            ("geteuid:retval=0xffffffffffffffff", |r| {
                r.fault == Some(Fault::Retval(-1)) && r.warning.is_some()
            }),
            ("chdir:retval=-4095", |r| {
                r.warning.as_deref()
                    == Some("Inadvertent injection of error 4095 is possible for retval=18446744073709547521")
            }),
            ("chdir:poke_enter=@arg1=2f746d7000", |r| {
                r.poke_enter
                    == [Poke {
                        arg: 1,
                        data: b"/tmp\0".to_vec(),
                    }]
                    && r.fault.is_none()
            }),
            ("%file:poke_exit=@arg3=00", |r| r.poke_exit.len() == 1),
            ("none:error=EIO", |r| r.syscalls.is_empty()),
            ("!all:error=EIO", |r| r.syscalls.is_empty()),
            ("mmap:retval=0x7f0000000000", |r| {
                r.fault == Some(Fault::Retval(0x7f00_0000_0000))
            }),
            ("write:signal=SIGKILL", |r| {
                r.signal == Some(Signal::SIGKILL)
            }),
            ("write:signal=kill", |r| r.signal == Some(Signal::SIGKILL)),
            ("write:signal=9", |r| r.signal == Some(Signal::SIGKILL)),
            ("write:signal=sigSTOP", |r| {
                r.signal == Some(Signal::SIGSTOP)
            }),
            ("write:signal=31", |r| r.signal == Some(Signal::SIGSYS)),
            ("write:delay_enter=10", |r| {
                r.delay_enter == Some(Duration::from_micros(10))
            }),
            ("write:delay_enter=2s", |r| {
                r.delay_enter == Some(Duration::from_secs(2))
            }),
            ("write:delay_enter=5ms", |r| {
                r.delay_enter == Some(Duration::from_millis(5))
            }),
            ("write:delay_enter=7us", |r| {
                r.delay_enter == Some(Duration::from_micros(7))
            }),
            ("write:delay_enter=9ns", |r| {
                r.delay_enter == Some(Duration::from_nanos(9))
            }),
            ("write:delay_exit=1.5s", |r| {
                r.delay_exit == Some(Duration::from_millis(1500))
            }),
            ("write:delay_exit=1e3", |r| {
                r.delay_exit == Some(Duration::from_millis(1))
            }),
            ("write:delay_exit=0", |r| {
                r.delay_exit == Some(Duration::ZERO)
            }),
            ("write:error=EIO:syscall=getpid", |r| {
                r.replace == Some(Sysno::getpid)
            }),
            ("write:error=EIO:syscall=geteuid", |r| {
                r.replace == Some(Sysno::geteuid)
            }),
            ("write:error=EIO:signal=SIGUSR1", |r| {
                r.fault == Some(Fault::Error(Errno::EIO)) && r.signal == Some(Signal::SIGUSR1)
            }),
            ("write:delay_enter=1:delay_exit=2", |r| {
                r.delay_enter.is_some() && r.delay_exit.is_some() && r.fault.is_none()
            }),
            // strace skips empty options.
            ("write:error=EIO:", |r| r.fault.is_some()),
            ("write::error=EIO", |r| r.fault.is_some()),
            // Repeated when=: the last one wins (strace(1)).
            ("write:error=EIO:when=3:when=5", |r| {
                r.when == when(5, None, 0)
            }),
        ];
        for (text, check) in cases {
            assert!(check(&inject(text)), "{text}: {:?}", inject(text));
        }
    }

    #[test]
    fn fault_defaults_to_enosys() {
        let rule = parse_fault("chdir").unwrap();
        assert_eq!(rule.text, "fault=chdir");
        assert_eq!(rule.fault, Some(Fault::Error(Errno::ENOSYS)));
        let rule = parse_fault("chdir:error=ENOENT:when=3+").unwrap();
        assert_eq!(rule.fault, Some(Fault::Error(Errno::ENOENT)));
        assert_eq!(rule.when, when(3, None, 1));
        let rule = parse_fault("chdir:syscall=getpid").unwrap();
        assert_eq!(rule.replace, Some(Sysno::getpid));
        assert_eq!(rule.fault, Some(Fault::Error(Errno::ENOSYS)));
    }

    #[test]
    fn sets_use_the_full_grammar() {
        let rule = inject("%file,write:error=EACCES");
        assert!(rule.syscalls.contains(Sysno::openat) && rule.syscalls.contains(Sysno::write));
        let rule = inject("!write:error=EIO");
        assert!(!rule.syscalls.contains(Sysno::write));
        assert!(rule.syscalls.contains(Sysno::read));
        let rule = inject("/^fsync$,1:error=EIO");
        assert_eq!(rule.syscalls, SysnoSet::new(&[Sysno::fsync, Sysno::write]));
    }

    #[test]
    fn parse_expr_dispatches_on_the_qualifier() {
        let rule = parse_expr("inject=write:error=EIO").unwrap();
        assert_eq!(rule.text, "inject=write:error=EIO");
        let rule = parse_expr("fault=write").unwrap();
        assert_eq!(rule.fault, Some(Fault::Error(Errno::ENOSYS)));
        for (arg, suggestion) in [
            ("trace=open", ""),
            ("open", ""),
            ("signal=none", ""),
            ("injection=write:error=EIO", " (did you mean 'inject='?)"),
            ("fualt=write:error=EIO", " (did you mean 'fault='?)"),
        ] {
            let err = parse_expr(arg).unwrap_err();
            assert!(
                matches!(err.kind, RuleErrorKind::UnsupportedQualifier(_)),
                "{arg}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "-e {arg}: only -e inject=, -e fault= and -e trace= are supported{suggestion}"
                )
            );
        }
        // trace= (t=, or a bare set) is strace's set of traced calls.
        let open = SysnoSet::new(&[Sysno::open]);
        for arg in ["trace=open", "t=open", "open"] {
            assert_eq!(parse_qualified(arg), Ok(Expr::Trace(open.clone())), "{arg}");
        }
        assert_eq!(
            parse_qualified("trace=none"),
            Ok(Expr::Trace(SysnoSet::empty()))
        );
        assert_eq!(
            parse_qualified("trace=fsycn").unwrap_err().to_string(),
            "-e trace=fsycn: unknown syscall 'fsycn' (did you mean 'fsync'?)"
        );
        assert_eq!(
            parse_qualified("inject").unwrap_err().to_string(),
            "-e inject: unknown syscall 'inject'"
        );
        let err = parse_expr("inject=write:error=EFOO").unwrap_err();
        assert_eq!(
            err.to_string(),
            "-e inject=write:error=EFOO: unknown errno 'EFOO'"
        );
    }

    /// Rejected by both `inject=` and `fault=`: the cases of strace's
    /// tests/qual_inject-syntax.test and qual_fault-syntax.test, plus fi's.
    const REJECTED_BY_BOTH: &[(&str, &str)] = &[
        ("chdir:42", "unknown option '42'"),
        ("!chdir:42", "unknown option '42'"),
        ("chdir:42:when=7", "unknown option '42'"),
        ("chdir:invalid", "unknown option 'invalid'"),
        ("chdir:invalid:when=8", "unknown option 'invalid'"),
        ("chdir:error=", "error= needs a value"),
        ("chdir:error=:when=10", "error= needs a value"),
        (
            "chdir:error=invalid_error_name",
            "unknown errno 'invalid_error_name'",
        ),
        (
            "chdir:error=invalid_error_name:when=11",
            "unknown errno 'invalid_error_name'",
        ),
        ("chdir:error=-1", "unknown errno '-1'"),
        ("chdir:error=-2:when=13", "unknown errno '-2'"),
        ("chdir:error=3+", "unknown errno '3+'"),
        ("chdir:error=0", "errno 0 is out of range 1..4095"),
        ("chdir:error=4096", "errno 4096 is out of range 1..4095"),
        (
            "chdir:error=4096:when=15",
            "errno 4096 is out of range 1..4095",
        ),
        (
            "chdir:error=99999999999",
            "errno 99999999999 is out of range 1..4095",
        ),
        (
            "chdir:when=7:error=invalid_error_name",
            "unknown errno 'invalid_error_name'",
        ),
        ("chdir:when=", "when= needs a value"),
        ("chdir:when=:error=19", "when= needs a value"),
        (
            "chdir:when=0",
            "invalid when= '0': FIRST must be in 1..65535",
        ),
        (
            "chdir:when=0:error=20",
            "invalid when= '0': FIRST must be in 1..65535",
        ),
        (
            "chdir:when=-1",
            "invalid when= '-1': FIRST must be in 1..65535",
        ),
        (
            "chdir:when=-2+:error=22",
            "invalid when= '-2+': FIRST must be in 1..65535",
        ),
        (
            "chdir:when=-3+0",
            "invalid when= '-3+0': FIRST must be in 1..65535",
        ),
        (
            "chdir:when=x",
            "invalid when= 'x': FIRST must be in 1..65535",
        ),
        (
            "chdir:when=4-",
            "invalid when= '4-': expected FIRST[..LAST][+[STEP]]",
        ),
        (
            "chdir:when=4-:error=24",
            "invalid when= '4-': expected FIRST[..LAST][+[STEP]]",
        ),
        (
            "chdir:when=1.",
            "invalid when= '1.': expected FIRST[..LAST][+[STEP]]",
        ),
        (
            "chdir:when=5+-",
            "invalid when= '5+-': STEP must be in 1..65535",
        ),
        (
            "chdir:when=6++",
            "invalid when= '6++': STEP must be in 1..65535",
        ),
        (
            "chdir:when=7+0",
            "invalid when= '7+0': STEP must be in 1..65535",
        ),
        (
            "chdir:when=1+0",
            "invalid when= '1+0': STEP must be in 1..65535",
        ),
        (
            "chdir:when=8+-1",
            "invalid when= '8+-1': STEP must be in 1..65535",
        ),
        (
            "chdir:when=9+1+",
            "invalid when= '9+1+': STEP must be in 1..65535",
        ),
        (
            "chdir:when=65536",
            "invalid when= '65536': FIRST must be in 1..65535",
        ),
        (
            "chdir:when=1+65536",
            "invalid when= '1+65536': STEP must be in 1..65535",
        ),
        (
            "chdir:when=2..1",
            "invalid when= '2..1': LAST must be in FIRST..65534",
        ),
        (
            "chdir:when=1..65535",
            "invalid when= '1..65535': LAST must be in FIRST..65534",
        ),
        (
            "chdir:when=1..",
            "invalid when= '1..': LAST must be in FIRST..65534",
        ),
        ("chdir:error=1:error=2", "error= given more than once"),
        ("chdir:error=EIO:error=EPERM", "error= given more than once"),
        (":error=EIO", "empty syscall set"),
        ("", "empty syscall set"),
        (
            "fsycn:error=EIO",
            "unknown syscall 'fsycn' (did you mean 'fsync'?)",
        ),
        (
            "opnat:error=EACESS",
            "unknown syscall 'opnat' (did you mean 'openat'?)",
        ),
        (
            "openat:error=EACESS",
            "unknown errno 'EACESS' (did you mean 'EACCES'?)",
        ),
        (
            "openat:eror=EIO",
            "unknown option 'eror=EIO' (did you mean 'error='?)",
        ),
        ("%fiel:error=EIO", "unknown class '%fiel'"),
        (
            "/[:error=EIO",
            "invalid regex '/[': unclosed character class",
        ),
        ("999:error=EIO", "invalid syscall number '999'"),
        ("%file,!write:error=EIO", "unknown syscall '!write'"),
        ("chdir:syscall=fsycn", "unknown syscall 'fsycn' in syscall="),
        (
            "chdir:syscall=write",
            "syscall=write: only %pure syscalls (getpid, getuid, ...) can be injected",
        ),
        ("chdir:syscall=39", "unknown syscall '39' in syscall="),
        (
            "chdir:syscall=getpid:syscall=gettid",
            "syscall= given more than once",
        ),
    ];

    const NO_ACTION: &str =
        "inject needs error=, retval=, signal=, delay_enter=, delay_exit=, poke_enter= or poke_exit=";

    const REJECTED_BY_INJECT: &[(&str, &str)] = &[
        ("42", NO_ACTION),
        ("chdir", NO_ACTION),
        ("write", NO_ACTION),
        ("write:when=3", NO_ACTION),
        ("write:syscall=getpid", NO_ACTION),
        ("chdir:retval=x", "invalid retval= 'x': not an integer"),
        ("chdir:retval=0x", "invalid retval= '0x': not an integer"),
        ("chdir:retval=09", "invalid retval= '09': not an integer"),
        (
            "chdir:retval=18446744073709551616",
            "invalid retval= '18446744073709551616': not an integer",
        ),
        (
            "chdir:poke_enter=@arg1=0",
            "invalid poke_enter= '@arg1=0': '@arg1=0': data must be an even number of hex digits",
        ),
        (
            "chdir:poke_enter=@arg8=00",
            "invalid poke_enter= '@arg8=00': '@arg8=00': N of @argN must be in 1..7",
        ),
        (
            "chdir:poke_exit=@arg1=00,@arg1=11",
            "invalid poke_exit= '@arg1=00,@arg1=11': @arg1 given more than once",
        ),
        (
            "chdir:poke_exit=@arg1=00:poke_exit=@arg1=11",
            "poke_exit= given more than once",
        ),
        ("chdir:poke_enter=", "poke_enter= needs a value"),
        (
            "chdir:poke_enter=@arg2=00",
            "requested to tamper with argument #2, but system call 'chdir' has only 1 arguments",
        ),
        (
            "getpid:poke_exit=@arg1=00",
            "requested to tamper with argument #1, but system call 'getpid' has only 0 arguments",
        ),
        ("chdir:signal=0", "signal 0 is out of range 1..64"),
        ("chdir:signal=129", "signal 129 is out of range 1..64"),
        ("chdir:signal=34", "real-time signal 34 is not supported"),
        (
            "chdir:signal=SIGFOO",
            "unknown signal 'SIGFOO' (did you mean 'SIGFPE'?)",
        ),
        ("chdir:signal=1:signal=2", "signal= given more than once"),
        (
            "chdir:signal=1:retval=0:signal=2",
            "signal= given more than once",
        ),
        ("chdir:retval=0:retval=1", "retval= given more than once"),
        (
            "chdir:retval=0:error=1",
            "error= and retval= are mutually exclusive",
        ),
        (
            "chdir:error=1:retval=0",
            "error= and retval= are mutually exclusive",
        ),
        (
            "chdir:retval=0:signal=1:error=1",
            "error= and retval= are mutually exclusive",
        ),
        ("chdir:delay_enter=", "delay_enter= needs a value"),
        (
            "chdir:delay_enter=x",
            "invalid delay_enter= 'x': expected NUMBER[s|ms|us|ns]",
        ),
        (
            "chdir:delay_enter=-1",
            "invalid delay_enter= '-1': negative",
        ),
        (
            "chdir:delay_enter=1h",
            "invalid delay_enter= '1h': expected NUMBER[s|ms|us|ns]",
        ),
        (
            "chdir:delay_exit=1..2",
            "invalid delay_exit= '1..2': not a number",
        ),
        (
            "chdir:delay_exit=inf",
            "invalid delay_exit= 'inf': expected NUMBER[s|ms|us|ns]",
        ),
        (
            "chdir:delay_exit=1e400",
            "invalid delay_exit= '1e400': too large",
        ),
        (
            "chdir:delay_exit=1:delay_exit=2",
            "delay_exit= given more than once",
        ),
    ];

    const REJECTED_BY_FAULT: &[(&str, &str)] = &[
        (
            "chdir:retval=0",
            "retval= is not allowed in -e fault= (use -e inject=)",
        ),
        (
            "chdir:signal=1",
            "signal= is not allowed in -e fault= (use -e inject=)",
        ),
        (
            "chdir:delay_enter=1",
            "delay_enter= is not allowed in -e fault= (use -e inject=)",
        ),
        (
            "chdir:delay_exit=1",
            "delay_exit= is not allowed in -e fault= (use -e inject=)",
        ),
        (
            "chdir:poke_exit=@arg1=00",
            "poke_exit= is not allowed in -e fault= (use -e inject=)",
        ),
    ];

    #[test]
    fn rejected_injects() {
        for (text, message) in REJECTED_BY_BOTH.iter().chain(REJECTED_BY_INJECT) {
            let err = parse_inject(text).expect_err(text);
            assert_eq!(err.expr, format!("inject={text}"));
            assert_eq!(err.to_string(), format!("-e inject={text}: {message}"));
        }
    }

    #[test]
    fn rejected_faults() {
        for (text, message) in REJECTED_BY_BOTH.iter().chain(REJECTED_BY_FAULT) {
            let err = parse_fault(text).expect_err(text);
            assert_eq!(err.to_string(), format!("-e fault={text}: {message}"));
        }
    }
}
