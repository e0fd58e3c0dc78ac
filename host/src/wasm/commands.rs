//! `fi plugins` and `fi plugin check`: looking at plugins without tracing.

use std::io::{self, Write};

use anyhow::{Context, Result};

use super::{builtins, scaffold, PluginSpec};
use super::{Limits, Loader, Seed};
use crate::model::Need;
use crate::output::{Log, LogFormat};

fn loader(log: &Log) -> Result<Loader> {
    let seed = Seed {
        value: 0,
        always_logged: false,
    };
    Loader::new(Limits::default(), seed, log.clone())
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
        let bytes = builtins::find(name).map_or(&[][..], |(_, bytes)| bytes);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

/// `fault plugin new NAME --lang LANG [--dir DIR]`: write a plugin project
/// (see [`scaffold`]) and say where.
pub fn new(name: &str, language: &str, dir: Option<&std::path::Path>) -> Result<()> {
    let dir = dir.map_or_else(|| std::path::PathBuf::from(name), ToOwned::to_owned);
    scaffold::new_project(name, language, &dir)?;
    println!(
        "{}: a {language} plugin project; {} says how to build and run it",
        dir.display(),
        dir.join("README.md").display()
    );
    Ok(())
}

/// `fault plugin build DIR [-o FILE]`: build the project and say what was
/// made.
pub fn build(dir: &std::path::Path, out: Option<&std::path::Path>) -> Result<()> {
    let built = crate::plugin_build::build(dir, out)?;
    println!(
        "{}: a {} plugin implementing fi:policy/plugin@{}",
        built.component.display(),
        built.language,
        super::CONTRACT_VERSION
    );
    Ok(())
}

/// `fault plugin check SPEC`: load, describe and configure a plugin, and
/// say what it would subscribe to and how each call would reach it.
pub fn check(text: &str) -> Result<()> {
    let spec = PluginSpec::parse(text)?;
    let log = stderr_log();
    let mut loader = loader(&log)?;
    let mut instance = loader.open(&spec.source, spec.is_file())?;
    let description = instance.describe()?;
    println!(
        "{}: implements fi:policy/plugin@{}",
        spec.source,
        super::CONTRACT_VERSION
    );
    println!("name: {}", description.name);
    println!("summary: {}", description.summary);
    println!("config keys:");
    for key in &description.config {
        println!("    {:<14} {}", key.name, key.help);
    }
    let policy = loader.configure(instance, &spec.config)?;
    let subscription = crate::policy::Policy::subscription(&policy);
    let names: Vec<&str> = subscription.iter().map(|s| s.name()).collect();
    println!(
        "subscribes to {}: {}",
        super::count(names.len(), "syscall"),
        names.join(", ")
    );
    let mut ways: [(&str, Vec<&str>); 3] = [
        ("stopped before and after they run", Vec::new()),
        ("decided at entry, stopped after when logged", Vec::new()),
        ("decided at entry only", Vec::new()),
    ];
    for sysno in subscription.iter() {
        let way = match crate::policy::Policy::need(&policy, sysno) {
            Need::Stop => 0,
            Need::Entry {
                passes_changed: true,
            } => 1,
            Need::Entry { .. } | Need::Constant(_) => 2,
        };
        ways[way].1.push(sysno.name());
    }
    let used: Vec<&(&str, Vec<&str>)> =
        ways.iter().filter(|(_, names)| !names.is_empty()).collect();
    match used[..] {
        [(way, _)] => println!("    all {way}"),
        _ => {
            for (way, names) in used {
                println!("    {way}: {}", names.join(", "));
            }
        }
    }
    if let Some(globs) = &policy.declared().paths {
        println!(
            "    calls on files reach it only on files matching {}",
            globs.written().join(", ")
        );
    }
    Ok(())
}
