//! Generates the x86_64 syscall and errno tables from the `syscalls` crate,
//! which does not build for wasm32 itself, and the errno aliases' constants
//! from fi-grammar's table.

use std::fmt::Write as _;
use std::path::PathBuf;

use syscalls::x86_64::Sysno;
use syscalls::Errno;

fn main() {
    let mut out = String::new();

    let sysnos: Vec<Sysno> = Sysno::iter().collect();
    out.push_str("#[allow(non_upper_case_globals)]\nimpl Sysno {\n");
    for sysno in &sysnos {
        let (name, nr) = (sysno.name(), sysno.id());
        writeln!(
            out,
            "    /// `{name}` ({nr}).\n    pub const {name}: Sysno = Sysno({nr});"
        )
        .unwrap();
    }
    out.push_str("}\n\n");

    let size = sysnos.iter().map(|s| s.id()).max().unwrap() + 1;
    writeln!(out, "static SYSCALL_NAMES: [&str; {size}] = [").unwrap();
    for nr in 0..size {
        let name = Sysno::new(nr as usize).map_or("", |s| s.name());
        writeln!(out, "    {name:?},").unwrap();
    }
    out.push_str("];\n\n");

    let errnos: Vec<(i32, &str, &str)> = (1..4096)
        .filter_map(|code| {
            let (name, description) = Errno::new(code).name_and_description()?;
            Some((code, name, description))
        })
        .collect();
    out.push_str("impl Errno {\n");
    for (code, name, description) in &errnos {
        writeln!(
            out,
            "    /// {description} ({code}).\n    pub const {name}: Errno = Errno({code});"
        )
        .unwrap();
    }
    for (alias, canonical) in fi_grammar::names::ERRNO_ALIASES {
        writeln!(
            out,
            "    /// `{canonical}` under its other name.\n    pub const {alias}: Errno = Errno::{canonical};"
        )
        .unwrap();
    }
    out.push_str("}\n\n");
    out.push_str("static ERRNOS: &[(Errno, &str, &str)] = &[\n");
    for (_, name, description) in &errnos {
        writeln!(out, "    (Errno::{name}, {name:?}, {description:?}),").unwrap();
    }
    out.push_str("];\n");

    let path = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("tables.rs");
    std::fs::write(path, out).unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}
