//! The layers of host/src (docs/architecture.md): every `crate::` path in a
//! file outside its tests names a module its layer may import from, nothing
//! in the library imports from `cli`, and no two files import each other,
//! directly or round about.

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
            "launch",
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
            "launch",
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
            "policy", "rules", "crash", "output", "model", "tracee", "rng",
        ],
    ),
    ("rules", &["policy", "output", "tracee", "arch"]),
    ("output", &["policy", "model", "tracee", "arch"]),
    ("policy", &["model", "tracee"]),
    ("backend", &["model", "tracee", "arch", "launch"]),
    ("tracee", &["model", "arch"]),
    ("model", &[]),
    ("arch", &[]),
    ("rng", &[]),
    ("interrupt", &[]),
    ("leftovers", &[]),
    ("plugin_build", &[]),
    ("launch", &[]),
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

/// The module path of a file of host/src (`explore/power.rs` is
/// `explore::power`, `explore/mod.rs` is `explore`); `None` for the
/// binaries.
fn module_of(path: &str) -> Option<Vec<String>> {
    let mut parts: Vec<String> = path
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    (parts != ["main"] && parts.first().is_none_or(|p| p != "bin")).then_some(parts)
}

/// The identifier at the start of `text`.
fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The paths that `text` (what follows a `PREFIX::`) names, each with the
/// name it is known by: `a::b` gives `[a, b]` as `b`; `{a, b::{c, d as e}}`
/// gives `[a]` as `a`, `[b, c]` as `c` and `[b, d]` as `e`.
fn paths_after(text: &str) -> Vec<(Vec<String>, String)> {
    let mut segments: Vec<String> = Vec::new();
    let mut rest = text;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let (mut found, mut item_start, mut depth) = (Vec::new(), 0, 0);
            for (at, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth > 0 => depth -= 1,
                    ',' | '}' if depth == 0 => {
                        for (tail, name) in paths_after(group[item_start..at].trim()) {
                            let mut path = segments.clone();
                            path.extend(tail);
                            let name = match name.as_str() {
                                "self" => path.last().cloned().unwrap_or_default(),
                                _ => name,
                            };
                            found.push((path, name));
                        }
                        item_start = at + 1;
                        if c == '}' {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            return found;
        }
        let name = ident(rest);
        if name.is_empty() {
            break;
        }
        segments.push(name.to_string());
        rest = &rest[name.len()..];
        match rest.strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    let known_as = match rest.trim_start().strip_prefix("as ") {
        Some(alias) => ident(alias.trim_start()).to_string(),
        None => segments.last().cloned().unwrap_or_default(),
    };
    if segments == ["self"] {
        return vec![(Vec::new(), known_as)];
    }
    match segments.is_empty() {
        true => Vec::new(),
        false => vec![(segments, known_as)],
    }
}

/// The child modules `code` declares in files of their own (`mod plan;`).
fn child_modules(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix("pub ").unwrap_or(line);
            let rest = line.strip_prefix("mod ")?;
            rest.trim_end()
                .ends_with(';')
                .then(|| ident(rest).to_string())
        })
        .collect()
}

/// The paths, absolute from the crate's root, that the code of the file
/// of module `here` names through `crate::`, `super::` and `self::`, and
/// through its child modules (`mod plan;` then `plan::Shard`); each with
/// the name it is known by there.
fn named_paths(here: &[String], code: &str) -> Vec<(Vec<String>, String)> {
    let starts = ["crate", "super", "self"]
        .into_iter()
        .map(String::from)
        .chain(child_modules(code));
    let mut found = Vec::new();
    for start in starts {
        let prefix = format!("{start}::");
        for (at, _) in code.match_indices(&prefix) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            for (tail, name) in paths_after(&code[at + prefix.len()..]) {
                let mut base: Vec<String> = match start.as_str() {
                    "crate" => Vec::new(),
                    "self" => here.to_vec(),
                    "super" => here[..here.len().saturating_sub(1)].to_vec(),
                    child => [here, &[child.to_string()]].concat(),
                };
                let mut tail = tail.as_slice();
                while let [first, rest @ ..] = tail {
                    if first != "super" {
                        break;
                    }
                    base.pop();
                    tail = rest;
                }
                base.extend(tail.iter().cloned());
                found.push((base, name));
            }
        }
    }
    found
}

/// The files of host/src, by module path, with their code.
struct Crate {
    files: BTreeMap<Vec<String>, (String, String)>,
}

impl Crate {
    fn read() -> Crate {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        sources(&root, &root, &mut found);
        let files = found
            .into_iter()
            .filter_map(|(path, text)| Some((module_of(&path)?, (path, code_of(&text)))))
            .collect();
        Crate { files }
    }

    /// The file that defines what `path` names: its longest prefix that is
    /// a module with a file, followed through that module's `pub use`
    /// re-exports.
    fn file_of(&self, path: &[String], hops: usize) -> Option<&str> {
        let n = (0..=path.len())
            .rev()
            .find(|&n| self.files.contains_key(&path[..n]))?;
        let module = &path[..n];
        let (file, code) = &self.files[module];
        if let (Some(name), true) = (path.get(n), hops < 5) {
            let reexported = ["pub use ", "pub(crate) use "]
                .iter()
                .flat_map(|statement| code.match_indices(statement))
                .flat_map(|(at, prefix)| {
                    let rest = &code[at + prefix.len()..];
                    let statement = &rest[..rest.find(';').unwrap_or(rest.len())];
                    let relative = ["crate::", "super::", "self::"]
                        .iter()
                        .all(|start| !statement.starts_with(start));
                    let statement = match relative {
                        true => format!("self::{statement}"),
                        false => statement.to_string(),
                    };
                    named_paths(module, &statement)
                })
                .find(|(_, known_as)| known_as == name);
            if let Some((target, _)) = reexported {
                if target.starts_with(module) {
                    let mut target = target;
                    target.extend(path[n + 1..].iter().cloned());
                    return self.file_of(&target, hops + 1);
                }
            }
        }
        Some(file)
    }
}

/// `code` without its `pub use` (and `pub(crate) use`) statements: a module's file re-exporting
/// what its children define is their facade, not their user (the scan
/// follows re-exports to the file that defines the item instead).
fn without_re_exports(code: &str) -> String {
    let mut kept = String::new();
    let mut rest = code;
    while let Some(at) = ["pub use ", "pub(crate) use ", "pub(super) use "]
        .iter()
        .filter_map(|statement| rest.find(statement))
        .min()
    {
        kept.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = &rest[rest.find(';').map_or(rest.len(), |end| end + 1)..];
    }
    kept.push_str(rest);
    kept
}

/// The files of host/src that import each other, directly or round about:
/// for each file in such a circle, the circle's files.
fn circles(krate: &Crate) -> BTreeSet<BTreeSet<String>> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (module, (file, code)) in &krate.files {
        if file.ends_with("/tests.rs") {
            continue;
        }
        let targets = edges.entry(file).or_default();
        for (path, _) in named_paths(module, &without_re_exports(code)) {
            if let Some(target) = krate.file_of(&path, 0) {
                if target != file {
                    targets.insert(target);
                }
            }
        }
    }
    let reach = |from: &str| -> BTreeSet<&str> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(file) = todo.pop() {
            for &next in edges.get(file).into_iter().flatten() {
                if seen.insert(next) {
                    todo.push(next);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&str, BTreeSet<&str>> =
        edges.keys().map(|&file| (file, reach(file))).collect();
    reached
        .iter()
        .filter(|(file, seen)| seen.contains(*file))
        .map(|(file, seen)| {
            seen.iter()
                .filter(|other| reached[**other].contains(*file))
                .map(|other| other.to_string())
                .collect()
        })
        .collect()
}

#[test]
fn no_two_files_import_each_other() {
    let krate = Crate::read();
    assert!(
        krate.files.len() > 80,
        "only {} files found",
        krate.files.len()
    );
    let found: Vec<String> = circles(&krate)
        .into_iter()
        .map(|circle| circle.into_iter().collect::<Vec<_>>().join(" ⇄ "))
        .collect();
    assert!(
        found.is_empty(),
        "files importing each other (move what both need into a file of its own):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_file_scan_follows_children_supers_and_re_exports() {
    let here = ["explore".to_string(), "power".to_string()];
    let code = "use super::{jobs::run_jobs, options::{Options, ExploreError as E}};\n\
                use crate::crash::{self, Crash};\n\
                let x = super::super::rng::next();";
    let found: Vec<String> = named_paths(&here, code)
        .into_iter()
        .map(|(path, name)| format!("{} as {name}", path.join("::")))
        .collect();
    assert_eq!(
        found,
        [
            "crash as crash",
            "crash::Crash as Crash",
            "explore::jobs::run_jobs as run_jobs",
            "explore::options::Options as Options",
            "explore::options::ExploreError as E",
            "rng::next as next",
        ]
    );
    let krate = Crate::read();
    let path = |text: &str| text.split("::").map(String::from).collect::<Vec<_>>();
    assert_eq!(
        krate.file_of(&path("explore::Options"), 0),
        Some("explore/options.rs")
    );
    assert_eq!(
        krate.file_of(&path("explore::power::campaign"), 0),
        Some("explore/power.rs")
    );
    assert_eq!(
        krate.file_of(&path("wasm::CONTRACT_VERSION"), 0),
        Some("wasm/contract.rs")
    );
}
