//! `fi plugins` and `fi plugin check`: looking at plugins without tracing.

use std::io::{self, Write};

use anyhow::{Context, Result};

use super::loader::{Limits, Loader};
use super::{builtins, PluginSpec};
use crate::output::{Log, LogFormat};

fn loader(log: &Log) -> Result<Loader> {
    Loader::with_limits(Limits::default(), 0, log.clone())
}

fn stderr_log() -> Log {
    Log::lines_to(Box::new(io::stderr()), LogFormat::Text)
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
        let bytes = builtins::find(name).unwrap_or_default();
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

/// `fault plugin check SPEC`: load, describe and configure a plugin, and
/// say what it would subscribe to.
pub fn check(text: &str) -> Result<()> {
    let spec = PluginSpec::parse(text)?;
    let log = stderr_log();
    let mut loader = loader(&log)?;
    let mut instance = loader.open(&spec.source, spec.is_file())?;
    let description = instance.describe()?;
    println!("{}: implements fi:policy/plugin@0.1.0", spec.source);
    println!("name: {}", description.name);
    println!("summary: {}", description.summary);
    println!("config keys:");
    for key in &description.config {
        println!("    {:<14} {}", key.name, key.help);
    }
    let policy = instance.configure(&spec.config, log)?;
    let subscription = crate::policy::Policy::subscription(&policy);
    let names: Vec<&str> = subscription.iter().map(|s| s.name()).collect();
    println!(
        "subscribes to {} syscalls: {}",
        names.len(),
        names.join(", ")
    );
    Ok(())
}
