//! `fault plugin new NAME --lang LANG`: a plugin project that builds with
//! one command and passes `fault plugin check` as it is.
//!
//! The projects are the files under `host/templates/<language>/`, the
//! sources of `plugins/examples/<language>/` and the WIT contract (for Rust,
//! the SDK with its WIT and the fi-grammar crate it depends on), all
//! embedded by host/build.rs. They are written for
//! a policy named `fsync-eio`; the copy is renamed to NAME.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One file of a project template.
struct TemplateFile {
    /// The language whose projects get it.
    language: &'static str,
    /// Where it goes in the project, before renaming.
    path: &'static str,
    contents: &'static [u8],
    /// Whether to make it executable (build.sh).
    executable: bool,
    /// Whether it names the policy (`fsync-eio`) and is renamed; the SDK and
    /// the WIT are written as they are.
    renamed: bool,
}

include!(concat!(env!("OUT_DIR"), "/scaffold_files.rs"));

/// The languages `fault plugin new` writes projects in.
pub const LANGUAGES: &[&str] = &["rust", "python", "javascript", "c", "wat"];

/// The longest plugin name: the WAT template keeps its log line's prefix in
/// a 64-byte buffer.
const MAX_NAME: usize = 32;

/// A request `fault plugin new` refuses before writing anything.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not usable as a crate, package and file name.
    #[error("plugin name '{name}': {reason}")]
    Name {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No template for this language.
    #[error("--lang {0}: unknown language (known: {known})", known = LANGUAGES.join(", "))]
    Language(String),
    /// The project directory exists and holds files.
    #[error("{0}: the directory exists and is not empty")]
    NotEmpty(PathBuf),
}

/// Checks that `name` works as a crate, npm package and file name:
/// lowercase ASCII letters, digits, `-` and `_`, starting with a letter.
pub fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let refuse = |reason: String| {
        Err(ScaffoldError::Name {
            name: name.to_string(),
            reason,
        })
    };
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return refuse("must start with a lowercase letter (a-z)".into());
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'))
    {
        return refuse(format!("'{c}' is not allowed (use a-z, 0-9, - and _)"));
    }
    if name.ends_with(['-', '_']) {
        return refuse("must not end with - or _".into());
    }
    if name.len() > MAX_NAME {
        return refuse(format!("longer than {MAX_NAME} characters"));
    }
    Ok(())
}

/// Writes a `language` project for the policy `name` into `dir` (created;
/// if it exists it must be empty) and returns the files written.
pub fn new_project(name: &str, language: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    check_name(name)?;
    if !LANGUAGES.contains(&language) {
        return Err(ScaffoldError::Language(language.to_string()).into());
    }
    if fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(ScaffoldError::NotEmpty(dir.to_path_buf()).into());
    }
    let mut written = Vec::new();
    for file in SCAFFOLD_FILES.iter().filter(|f| f.language == language) {
        let (path, contents) = if file.renamed {
            let text = std::str::from_utf8(file.contents).expect("templates are UTF-8");
            (rename(file.path, name), rename(text, name).into_bytes())
        } else {
            (file.path.to_string(), file.contents.to_vec())
        };
        let path = dir.join(path);
        let parent = path.parent().expect("a file in the project");
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        if file.executable {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                .with_context(|| format!("making {} executable", path.display()))?;
        }
        written.push(path);
    }
    Ok(written)
}

/// The template's `fsync-eio` renamed to `name`, in each spelling: the
/// name (`fsync-eio`), an identifier (`fsync_eio`), a type (`FsyncEio`).
/// The WAT template's strings carry their length in front: `\09\00\00\00`
/// before `fsync-eio`, `\12\00\00\00` before `fsync-eio: failed `.
fn rename(text: &str, name: &str) -> String {
    let length = |s: &str| format!("\\{:02x}\\00\\00\\00{s}", s.len());
    let logged = format!("{name}: failed ");
    text.replace(&length("fsync-eio: failed "), &length(&logged))
        .replace(&length("fsync-eio"), &length(name))
        .replace("fsync-eio", name)
        .replace("fsync_eio", &name.replace('-', "_"))
        .replace("FsyncEio", &type_name(name))
}

/// `my-policy` as a Rust type name: `MyPolicy`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["a", "my-policy", "fsync_eio2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for (bad, reason) in [
            ("", "must start with a lowercase letter"),
            ("2fast", "must start with a lowercase letter"),
            ("My", "must start with a lowercase letter"),
            ("my policy", "' ' is not allowed"),
            ("a/b", "'/' is not allowed"),
            ("trailing-", "must not end with - or _"),
        ] {
            let error = check_name(bad).unwrap_err().to_string();
            assert!(error.contains(reason), "{bad}: {error}");
            assert!(
                error.starts_with(&format!("plugin name '{bad}'")),
                "{error}"
            );
        }
        assert!(check_name(&"a".repeat(MAX_NAME + 1)).is_err());
    }

    #[test]
    fn every_spelling_is_renamed() {
        assert_eq!(
            rename("fsync-eio fsync_eio.wasm FsyncEio", "my-policy"),
            "my-policy my_policy.wasm MyPolicy"
        );
        assert_eq!(
            rename(
                r#""\09\00\00\00fsync-eio" "\12\00\00\00fsync-eio: failed ""#,
                "ab"
            ),
            r#""\02\00\00\00ab" "\0b\00\00\00ab: failed ""#
        );
    }

    #[test]
    fn every_language_has_a_template_and_the_contract() {
        for language in LANGUAGES {
            let paths: Vec<&str> = SCAFFOLD_FILES
                .iter()
                .filter(|f| f.language == *language)
                .map(|f| f.path)
                .collect();
            assert!(paths.contains(&"README.md"), "{language}: {paths:?}");
            let wit = if *language == "rust" {
                "fi-sdk/wit/policy.wit"
            } else {
                "wit/policy.wit"
            };
            assert!(paths.contains(&wit), "{language}: {paths:?}");
        }
        let rust = |path| {
            SCAFFOLD_FILES
                .iter()
                .find(|f| f.language == "rust" && f.path == path)
                .map(|f| std::str::from_utf8(f.contents).unwrap())
        };
        assert!(rust("fi-grammar/Cargo.toml").is_some());
        assert!(rust("fi-grammar/src/lib.rs").is_some());
        // The SDK finds the grammar beside it, not where the workspace has it.
        let sdk = rust("fi-sdk/Cargo.toml").unwrap();
        assert!(sdk.contains(r#"path = "../fi-grammar""#), "{sdk}");
    }
}
