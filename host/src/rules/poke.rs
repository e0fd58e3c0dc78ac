//! strace's `poke_enter=@argN=HEX,...` and `poke_exit=@argN=HEX,...`: bytes
//! written into the tracee where argument N points, before the call runs or
//! after it ran.
//!
//! The syntax and limits are strace's: N in 1..7, an even number of hex
//! digits (one to 1024 bytes), each `@argN` at most once per phase, pokes
//! separated by commas. A buffer only partly mapped gets the bytes that fit
//! in its mapped start; [`poke`] says what was not written.

use thiserror::Error;

use crate::tracee::Tracee;

/// The most bytes one poke writes (strace's limit).
pub const MAX_POKE_BYTES: usize = 1024;

/// The highest argument a poke may name (`@arg7`, as strace allows).
const MAX_POKE_ARG: usize = 7;

/// A page, the unit in which a partly mapped buffer is written.
const PAGE: u64 = 4096;

/// One `@argN=HEX`: the bytes to write where argument `arg` points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Poke {
    /// The argument, counted from 1.
    pub arg: usize,
    /// The bytes to write.
    pub data: Vec<u8>,
}

/// A rejected `poke_enter=`/`poke_exit=` value; displays as
/// `invalid poke_enter= '@arg9=00': N of @argN must be in 1..7`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("invalid {option}= '{value}': {reason}")]
pub struct PokeError {
    /// `poke_enter` or `poke_exit`.
    pub option: String,
    /// The whole value as typed.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Parse the value of `option` (`poke_enter` or `poke_exit`).
pub fn parse_pokes(option: &str, value: &str) -> Result<Vec<Poke>, PokeError> {
    let invalid = |reason: String| PokeError {
        option: option.to_owned(),
        value: value.to_owned(),
        reason,
    };
    let mut pokes: Vec<Poke> = Vec::new();
    // strace splits with strtok: empty pieces (`@arg1=00,`) are skipped.
    for piece in value.split(',').filter(|piece| !piece.is_empty()) {
        let poke = parse_one(piece).map_err(|reason| invalid(format!("'{piece}': {reason}")))?;
        if pokes.iter().any(|earlier| earlier.arg == poke.arg) {
            return Err(invalid(format!("@arg{} given more than once", poke.arg)));
        }
        pokes.push(poke);
    }
    if pokes.is_empty() {
        return Err(invalid("expected @argN=HEX[,@argN=HEX...]".to_owned()));
    }
    Ok(pokes)
}

fn parse_one(piece: &str) -> Result<Poke, String> {
    let rest = piece.strip_prefix("@arg").ok_or("expected @argN=HEX")?;
    let (number, hex) = rest.split_once('=').ok_or("expected @argN=HEX")?;
    let arg = match number.parse::<usize>() {
        Ok(n @ 1..=MAX_POKE_ARG) if number.len() == 1 => n,
        _ => return Err("N of @argN must be in 1..7".to_owned()),
    };
    if hex.is_empty() || hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("data must be an even number of hex digits".to_owned());
    }
    if hex.len() / 2 > MAX_POKE_BYTES {
        return Err(format!("at most {MAX_POKE_BYTES} bytes"));
    }
    let data = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex digits"))
        .collect();
    Ok(Poke { arg, data })
}

/// What became of one poke: how many bytes were written, and what strace
/// would say of the rest.
#[derive(Debug, PartialEq, Eq)]
pub struct Poked {
    /// Bytes written, from the start of the buffer.
    pub written: usize,
    /// Why the rest was not written, in strace's words; `None` when every
    /// byte was.
    pub failure: Option<String>,
}

/// Write `poke` where argument register `args[poke.arg - 1]` points in
/// `tracee`. A buffer whose start is mapped but whose end is not gets the
/// bytes of its mapped pages; the failure says what was not written.
pub fn poke(tracee: &Tracee, args: &[u64; 6], poke: &Poke) -> Poked {
    let addr = args[poke.arg - 1];
    let len = poke.data.len() as u64;
    let mut written = 0u64;
    while written < len {
        let at = addr.wrapping_add(written);
        let chunk = (PAGE - at % PAGE).min(len - written);
        let bytes = &poke.data[written as usize..(written + chunk) as usize];
        if tracee.write_memory(at, bytes).is_err() {
            break;
        }
        written += chunk;
    }
    let failed = |what: String| {
        format!(
            "Failed to tamper with process {}: {what} (@arg{} = {addr:#x})",
            tracee.tid, poke.arg
        )
    };
    let failure = match written {
        n if n == len => None,
        0 => Some(failed(format!("couldn't poke {len} bytes"))),
        n => Some(failed(format!(
            "poked {n} of {len} bytes; {:#x}..{:#x} is not mapped",
            addr.wrapping_add(n),
            addr.wrapping_add(len)
        ))),
    };
    Poked {
        written: written as usize,
        failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted() {
        let pokes = parse_pokes("poke_enter", "@arg1=00ff,@arg7=41").unwrap();
        assert_eq!(
            pokes,
            [
                Poke {
                    arg: 1,
                    data: vec![0, 0xff]
                },
                Poke {
                    arg: 7,
                    data: vec![0x41]
                }
            ]
        );
        assert_eq!(
            parse_pokes("poke_exit", "@arg2=AbCd,").unwrap()[0].data,
            [0xab, 0xcd]
        );
        let most = "00".repeat(MAX_POKE_BYTES);
        assert_eq!(
            parse_pokes("poke_enter", &format!("@arg1={most}")).unwrap()[0]
                .data
                .len(),
            MAX_POKE_BYTES
        );
    }

    #[test]
    fn rejected_with_the_bad_part_named() {
        let too_long = format!("@arg1={}", "00".repeat(MAX_POKE_BYTES + 1));
        let cases: &[(&str, &str)] = &[
            (
                "@arg1=0",
                "'@arg1=0': data must be an even number of hex digits",
            ),
            (
                "@arg1=",
                "'@arg1=': data must be an even number of hex digits",
            ),
            (
                "@arg1=zz",
                "'@arg1=zz': data must be an even number of hex digits",
            ),
            (
                "@arg1=0x00",
                "'@arg1=0x00': data must be an even number of hex digits",
            ),
            ("@arg0=00", "'@arg0=00': N of @argN must be in 1..7"),
            ("@arg8=00", "'@arg8=00': N of @argN must be in 1..7"),
            ("@arg12=00", "'@arg12=00': N of @argN must be in 1..7"),
            ("@argx=00", "'@argx=00': N of @argN must be in 1..7"),
            ("arg1=00", "'arg1=00': expected @argN=HEX"),
            ("@arg1", "'@arg1': expected @argN=HEX"),
            ("@arg1=00,@arg1=11", "@arg1 given more than once"),
            (",", "expected @argN=HEX[,@argN=HEX...]"),
        ];
        for (value, reason) in cases {
            let error = parse_pokes("poke_enter", value).expect_err(value);
            assert_eq!(
                error.to_string(),
                format!("invalid poke_enter= '{value}': {reason}")
            );
        }
        let error = parse_pokes("poke_exit", &too_long).unwrap_err();
        assert!(
            error.to_string().ends_with(": at most 1024 bytes"),
            "{error}"
        );
    }
}
