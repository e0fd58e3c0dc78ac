//! `fault plugin check` and `fault plugin new`: one plugin, looked at
//! without tracing, or started as a project.

use std::io;
use std::path::PathBuf;

use clap::Subcommand;

use anyhow::{Context, Result};

use super::scaffold;
use crate::model::Need;
use crate::output::{Log, LogFormat};
use crate::wasm::PluginSpec;
use crate::wasm::{Limits, Loader, Seed};

/// `fault plugin ...`
#[derive(Debug, Subcommand)]
pub enum PluginAction {
    /// Check a plugin against fi's contract: world, version, description and
    /// the subscription it returns for a config.
    Check {
        /// A built-in name, or a .wasm or .wat file, optionally followed by
        /// :key=value pairs.
        spec: String,
    },
    /// Start a plugin project: a policy to change, the contract, one build
    /// command and a README.
    New {
        /// The plugin's name: lowercase letters, digits, - and _.
        name: String,
        /// The language: rust, python, javascript, c or wat.
        #[arg(long, value_name = "LANG")]
        lang: String,
        /// The project directory (default ./NAME); created, or must be empty.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Build a plugin project (Rust, C, Python, JavaScript or WAT) into a
    /// component implementing this fault's contract.
    Build {
        /// The project directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Where to write the component (default DIR/NAME.wasm; Rust: where
        /// cargo puts it); intermediate files go to build/ beside it.
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Do what `fault plugin ACTION` asks.
pub fn execute(action: &PluginAction) -> Result<()> {
    match action {
        PluginAction::Check { spec } => check(spec).with_context(|| spec.clone()),
        PluginAction::New { name, lang, dir } => new(name, lang, dir.as_deref()),
        PluginAction::Build { dir, out } => build(dir, out.as_deref()),
    }
}

/// A loader for looking at plugins: no run, seed 0.
pub fn loader(log: &Log) -> Result<Loader> {
    let seed = Seed {
        value: 0,
        always_logged: false,
    };
    Loader::new(Limits::default(), seed, log.clone())
}

/// A log whose notes (a plugin's lines) go to standard error.
pub fn stderr_log() -> Log {
    Log::lines_to(Box::new(io::stderr()), LogFormat::Text)
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
        crate::wasm::CONTRACT_VERSION
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
        crate::wasm::CONTRACT_VERSION
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
        crate::output::count(names.len(), "syscall"),
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
