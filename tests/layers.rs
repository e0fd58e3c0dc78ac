//! The layers of host/src (docs/architecture.md): every `crate::` path in a
//! file outside its tests names a module its layer may import from, and
//! nothing in the library imports from `cli`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Each top-level module of host/src and the modules it may import from
/// (docs/architecture.md's table). `COMMAND` (the command's name, in
/// lib.rs) may be used everywhere.
const MAY_IMPORT: &[(&str, &[&str])] = &[
    (
        "cli",
        &[
            "explore",
            "session",
            "engine",
            "backend",
            "policy",
            "rules",
            "wasm",
            "crash",
            "output",
            "model",
            "tracee",
            "arch",
            "rng",
            "interrupt",
            "leftovers",
            "plugin_build",
        ],
    ),
    (
        "explore",
        &[
            "session",
            "crash",
            "rules",
            "policy",
            "model",
            "tracee",
            "interrupt",
            "rng",
        ],
    ),
    (
        "session",
        &[
            "engine",
            "backend",
            "policy",
            "rules",
            "wasm",
            "crash",
            "output",
            "model",
            "interrupt",
        ],
    ),
    (
        "engine",
        &[
            "backend",
            "policy",
            "output",
            "model",
            "tracee",
            "arch",
            "interrupt",
        ],
    ),
    ("crash", &["policy", "rules", "model", "tracee", "rng"]),
    (
        "wasm",
        &[
            "policy", "rules", "output", "model", "tracee", "rng", "suggest",
        ],
    ),
    ("rules", &["policy", "output", "tracee", "arch", "suggest"]),
    ("output", &["policy", "model", "tracee", "arch"]),
    ("policy", &["model", "tracee"]),
    ("backend", &["model", "tracee", "arch"]),
    ("tracee", &["model", "arch"]),
    ("model", &[]),
    ("arch", &[]),
    ("rng", &[]),
    ("interrupt", &[]),
    ("leftovers", &[]),
    ("suggest", &[]),
    ("plugin_build", &[]),
];

/// The text of a source file without its comments and its unit tests
/// (which may build what they test from any module).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules named by the `crate::NAME` and
/// `crate::{NAME, ...}` paths of `code`.
fn imported(code: &str) -> BTreeSet<String> {
    let name = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = BTreeSet::new();
    for (at, prefix) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                names.extend(group.split(',').map(name).filter(|n| !n.is_empty()));
            }
            None => {
                names.insert(name(rest));
            }
        }
    }
    names
}

/// Every .rs file under `dir`, with its path relative to `root`.
fn sources(root: &Path, dir: &Path, found: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(root, &path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).unwrap().display().to_string();
            found.push((relative, fs::read_to_string(&path).unwrap()));
        }
    }
}

#[test]
fn every_module_imports_only_from_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    let allowed: BTreeMap<&str, &[&str]> = MAY_IMPORT.iter().copied().collect();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (path, text) in &files {
        let module = path.split(['/', '.']).next().unwrap();
        if matches!(module, "main" | "bin" | "lib") || path.ends_with("/tests.rs") {
            continue;
        }
        let may = allowed
            .get(module)
            .unwrap_or_else(|| panic!("{path}: module {module} is not in the table"));
        for target in imported(&code_of(text)) {
            checked += 1;
            if target != module && target != "COMMAND" && !may.contains(&target.as_str()) {
                wrong.push(format!("{path} imports crate::{target}"));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} imports found: is the scan right?"
    );
    assert!(
        wrong.is_empty(),
        "imports against docs/architecture.md:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scan_sees_paths_and_skips_comments_and_tests() {
    let code = code_of(
        "use crate::model::Call;\n\
         use crate::{arch, tracee::Tracee};\n\
         let x = crate::rules::parse(y); // crate::cli::NAME\n\
         /// [`crate::session`]\n\
         #[cfg(test)]\nmod tests {\n    use crate::cli::Cli;\n}\n",
    );
    let found: Vec<String> = imported(&code).into_iter().collect();
    assert_eq!(found, ["arch", "model", "rules", "tracee"]);
}
