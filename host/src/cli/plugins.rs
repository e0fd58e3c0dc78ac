//! `fault plugins` and `fault plugins export DIR`: the built-in plugins,
//! listed with their config keys, or written out.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use super::plugin::{loader, stderr_log};
use crate::wasm::builtins;

/// `fault plugins ...`
#[derive(Debug, Subcommand)]
pub enum PluginsAction {
    /// Write every built-in plugin as DIR/NAME.wasm, to share or modify.
    Export {
        /// The directory to write into (created if missing).
        dir: PathBuf,
    },
}

/// Do what `fault plugins [ACTION]` asks (list, without one).
pub fn execute(action: Option<&PluginsAction>) -> Result<()> {
    match action {
        None => list(),
        Some(PluginsAction::Export { dir }) => export(dir),
    }
}

/// `fault plugins`: list the built-ins and their config keys on stdout.
pub fn list() -> Result<()> {
    match write_list() {
        // `fi plugins | head` is fine.
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

fn write_list() -> Result<()> {
    let log = stderr_log();
    let mut loader = loader(&log)?;
    let mut out = io::stdout().lock();
    for name in builtins::names() {
        let description = loader.open(name, false)?.describe()?;
        writeln!(out, "{name}: {}", description.summary)?;
        for key in &description.config {
            writeln!(out, "    {:<14} {}", key.name, key.help)?;
        }
    }
    Ok(())
}

/// `fault plugins export DIR`: write the built-ins out as `DIR/NAME.wasm`.
pub fn export(dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for name in builtins::names() {
        let path = dir.join(format!("{name}.wasm"));
        let bytes = builtins::find(name).map_or(&[][..], |builtin| builtin.bytes);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
