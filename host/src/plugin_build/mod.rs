//! `fault plugin build DIR`: a plugin project of any of the five languages
//! `fault plugin new` writes (Rust, C, Python, JavaScript, WAT), built into
//! a component that implements this build's contract.
//!
//! Rust builds with cargo against the project's own copy of the SDK.
//! The others build against the contract this fault runs, written into
//! the build directory: C in-process but for the compiler (see [`c`]),
//! Python with componentize-py and JavaScript with jco (their own
//! registries' tools), WAT by assembling the text.

mod c;
mod tools;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use tools::Tool;

/// The contract the non-Rust languages build against: this build's.
const CONTRACT: &str = include_str!("../../../wit/policy.wit");

/// The languages a project may be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// A crate using fi-sdk (`Cargo.toml`).
    Rust,
    /// C sources (`*.c`), compiled by clang against wasi-libc.
    C,
    /// A Python module (`app.py`), bundled with CPython by componentize-py.
    Python,
    /// An ES module (`app.js`, with `package.json`), bundled by jco.
    JavaScript,
    /// The WebAssembly text format (`*.wat`), assembled as it is.
    Wat,
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            Language::Rust => "Rust",
            Language::C => "C",
            Language::Python => "Python",
            Language::JavaScript => "JavaScript",
            Language::Wat => "WAT",
        })
    }
}

/// A built plugin.
#[derive(Debug)]
pub struct Built {
    /// The project's language.
    pub language: Language,
    /// The component.
    pub component: PathBuf,
}

/// Builds the project in `project` into a component, at `out` if given,
/// else at `project/NAME.wasm` (Rust: where cargo puts it), with any
/// intermediate files in `build/` beside it. The toolchains' own output
/// goes to stderr.
pub fn build(project: &Path, out: Option<&Path>) -> Result<Built> {
    let language = detect(project)?;
    let component = match language {
        Language::Rust => build_rust(project, out)?,
        other => {
            let out = match out {
                Some(out) => out.to_path_buf(),
                None => project.join(format!("{}.wasm", default_name(project, other)?)),
            };
            let build_dir = out
                .parent()
                .map_or_else(|| PathBuf::from("build"), |dir| dir.join("build"));
            if other != Language::Wat {
                fs::create_dir_all(&build_dir)
                    .with_context(|| format!("creating {}", build_dir.display()))?;
            }
            let bytes = match other {
                Language::C => c::build(project, &build_dir, &sources(project, "c")?, CONTRACT)?,
                Language::Python => build_python(project, &build_dir, &out)?,
                Language::JavaScript => build_javascript(project, &build_dir, &out)?,
                Language::Wat => build_wat(&sources(project, "wat")?[0])?,
                Language::Rust => unreachable!("built above"),
            };
            fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
            out
        }
    };
    Ok(Built {
        language,
        component,
    })
}

/// The language of the project in `dir`, from the files it holds.
pub fn detect(dir: &Path) -> Result<Language> {
    if !dir.is_dir() {
        bail!("{}: not a directory", dir.display());
    }
    let has = |name: &str| dir.join(name).is_file();
    let any = |extension: &str| sources(dir, extension).is_ok();
    Ok(if has("Cargo.toml") {
        Language::Rust
    } else if has("package.json") {
        Language::JavaScript
    } else if any("py") {
        Language::Python
    } else if any("c") {
        Language::C
    } else if any("wat") {
        Language::Wat
    } else {
        bail!(
            "{}: no plugin project (no Cargo.toml, package.json, *.py, *.c or *.wat); \
             `fault plugin new NAME --lang LANG` writes one",
            dir.display()
        )
    })
}

/// The files `dir/*.EXTENSION`, sorted; an error if there are none.
fn sources(dir: &Path, extension: &str) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == extension))
        .collect();
    found.sort();
    if found.is_empty() {
        bail!("{}: no *.{extension} file", dir.display());
    }
    Ok(found)
}

/// The component's name when none is given: the stem of a C or WAT
/// project's one source file, else the project directory's name (`-` as
/// `_`), as `fault plugin new` names its files.
fn default_name(project: &Path, language: Language) -> Result<String> {
    let single = |extension| {
        sources(project, extension)
            .ok()
            .filter(|files| files.len() == 1)
            .and_then(|files| Some(files[0].file_stem()?.to_string_lossy().into_owned()))
    };
    let stem = match language {
        Language::C => single("c"),
        Language::Wat => single("wat"),
        _ => None,
    };
    let directory = || {
        let absolute = project.canonicalize().ok()?;
        Some(absolute.file_name()?.to_string_lossy().replace('-', "_"))
    };
    stem.or_else(directory)
        .with_context(|| format!("{}: cannot name the component; give -o", project.display()))
}

/// The contract, written to `build_dir/wit/policy.wit` for the tools that
/// read a WIT directory.
fn write_contract(build_dir: &Path) -> Result<PathBuf> {
    let wit = build_dir.join("wit");
    fs::create_dir_all(&wit).with_context(|| format!("creating {}", wit.display()))?;
    fs::write(wit.join("policy.wit"), CONTRACT)
        .with_context(|| format!("writing {}", wit.display()))?;
    Ok(wit)
}

/// `cargo build --release --target wasm32-wasip2` in `project`: the
/// component cargo made, copied to `out` if given.
fn build_rust(project: &Path, out: Option<&Path>) -> Result<PathBuf> {
    let cargo = Tool::new("cargo", "install Rust with rustup (https://rustup.rs)");
    let stdout = cargo.output(
        project,
        &[
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format=json-render-diagnostics",
        ],
    )?;
    let built = String::from_utf8_lossy(&stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .flat_map(|message| {
            let files = message["filenames"].as_array().cloned().unwrap_or_default();
            files
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
        })
        .rfind(|file| file.extension().is_some_and(|e| e == "wasm"))
        .with_context(|| {
            format!(
                "{}: cargo built no .wasm (is it a cdylib?)",
                project.display()
            )
        })?;
    match out {
        Some(out) => {
            fs::copy(&built, out).with_context(|| format!("writing {}", out.display()))?;
            Ok(out.to_path_buf())
        }
        None => Ok(built),
    }
}

/// componentize-py with the project's module `app` (or its one `*.py`).
fn build_python(project: &Path, build_dir: &Path, out: &Path) -> Result<Vec<u8>> {
    let module = entry(project, "app", "py")?;
    let wit = write_contract(build_dir)?;
    let tool = Tool::new("componentize-py", "pip install componentize-py==0.25.1");
    let (wit, out_arg) = (wit.display().to_string(), out.display().to_string());
    tool.run(
        project,
        &[
            "-d",
            &wit,
            "-w",
            "plugin",
            "componentize",
            &module,
            "-o",
            &out_arg,
        ],
    )?;
    fs::read(out).with_context(|| format!("reading {}", out.display()))
}

/// jco componentize with the project's `app.js` (or its one `*.js`), jco
/// installed first as the project's `package.json` pins it.
fn build_javascript(project: &Path, build_dir: &Path, out: &Path) -> Result<Vec<u8>> {
    let module = entry(project, "app", "js")?;
    let jco = project.join("node_modules/.bin/jco");
    if !jco.is_file() {
        // Not `npm ci`: jco's lock file names an optional package for a
        // platform npm never published, which `npm ci` rejects.
        Tool::new("npm", "apt-get install npm").run(
            project,
            &["install", "--no-save", "--no-audit", "--no-fund"],
        )?;
    }
    let wit = write_contract(build_dir)?;
    let tool = Tool::at(&jco, "npm install (in the project) installs it");
    let (wit, out_arg) = (wit.display().to_string(), out.display().to_string());
    let script = format!("{module}.js");
    // fault gives plugins no network: leave out wasi:http and its fetch event.
    tool.run(
        project,
        &[
            "componentize",
            &script,
            "--wit",
            &wit,
            "--world-name",
            "plugin",
            "--disable",
            "http",
            "fetch-event",
            "-o",
            &out_arg,
        ],
    )?;
    fs::read(out).with_context(|| format!("reading {}", out.display()))
}

/// `dir/NAME.EXTENSION` if it exists, else the stem of the one
/// `*.EXTENSION` file: the module a bundler starts from.
fn entry(dir: &Path, name: &str, extension: &str) -> Result<String> {
    if dir.join(format!("{name}.{extension}")).is_file() {
        return Ok(name.to_string());
    }
    match &sources(dir, extension)?[..] {
        [one] => Ok(one
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()),
        _ => bail!(
            "{}: several *.{extension} files and no {name}.{extension} to start from",
            dir.display()
        ),
    }
}

/// The WebAssembly text in `source`, assembled.
fn build_wat(source: &Path) -> Result<Vec<u8>> {
    wat::parse_file(source).map_err(|error| anyhow::anyhow!("{error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_is_known_by_its_files() {
        let dir = std::env::temp_dir().join(format!("fi-plugin-build-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let error = detect(&dir).unwrap_err().to_string();
        assert!(error.contains("no plugin project"), "{error}");
        for (file, language) in [
            ("p.wat", Language::Wat),
            ("p.c", Language::C),
            ("app.py", Language::Python),
            ("package.json", Language::JavaScript),
            ("Cargo.toml", Language::Rust),
        ] {
            fs::write(dir.join(file), "").unwrap();
            assert_eq!(detect(&dir).unwrap(), language, "{file}");
        }
        assert_eq!(default_name(&dir, Language::C).unwrap(), "p");
        fs::write(dir.join("q.c"), "").unwrap();
        let named = default_name(&dir, Language::C).unwrap();
        assert!(named.starts_with("fi_plugin_build_"), "{named}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
