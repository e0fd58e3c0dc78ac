//! What a component says it was built for, read from the names of its
//! imports and exports without compiling it: the version of the WIT contract
//! whose bindings the loader uses for it, or, for a plugin built against a
//! version this build does not run, a refusal naming both versions at once,
//! instead of after a compile that can take a minute for a large component.

use anyhow::{bail, Context, Result};
use wasmparser::{Chunk, Parser, Payload};

use super::{wit_packages, WIT_VERSIONS};

/// The package of fi's WIT contract.
const PACKAGE: &str = "fi:policy";

/// The interface every plugin exports.
const POLICY_INTERFACE: &str = "fi:policy/policy";

/// The version of `fi:policy` (`0.1.0`) a component was built for: that of
/// its policy export. Refuses a component built for a version this build
/// does not implement, one that mixes versions, or one that does not export
/// the policy interface at all.
pub fn check(bytes: &[u8]) -> Result<&'static str> {
    let (imports, exports) = interface_names(bytes).context("not a valid component")?;
    let mut versions: Vec<Option<&str>> = imports
        .iter()
        .chain(&exports)
        .filter_map(|name| fi_interface(name))
        .map(|(_, version)| version)
        .collect();
    versions.sort_unstable();
    versions.dedup();
    let foreign: Vec<String> = versions
        .iter()
        .filter(|v| !v.is_some_and(|v| WIT_VERSIONS.contains(&v)))
        .map(|v| match v {
            Some(version) => format!("{PACKAGE}@{version}"),
            None => format!("{PACKAGE} without a version"),
        })
        .collect();
    if !foreign.is_empty() {
        bail!(
            "built for {}, but this build supports {}; rebuild the plugin against the WIT of a supported version",
            foreign.join(" and "),
            wit_packages()
        );
    }
    let Some(policy) = exports
        .iter()
        .filter_map(|name| fi_interface(name))
        .find_map(|(interface, version)| (interface == POLICY_INTERFACE).then_some(version))
    else {
        bail!(
            "does not implement the world {PACKAGE}/plugin@{}: it exports no {POLICY_INTERFACE} interface",
            super::newest_wit_version()
        );
    };
    // Every version left is a supported one: `foreign` is empty.
    let version = policy.and_then(|policy| WIT_VERSIONS.iter().find(|&&v| v == policy));
    let version = *version.expect("the policy export's version is supported");
    if versions.len() > 1 {
        bail!(
            "mixes versions of the contract ({}); build it against one",
            versions
                .iter()
                .flatten()
                .map(|v| format!("{PACKAGE}@{v}"))
                .collect::<Vec<_>>()
                .join(" and ")
        );
    }
    Ok(version)
}

/// `fi:policy/tracee@0.1.0` as its interface and version; `None` for names
/// of other packages.
fn fi_interface(name: &str) -> Option<(&str, Option<&str>)> {
    let (interface, version) = match name.split_once('@') {
        Some((interface, version)) => (interface, Some(version)),
        None => (name, None),
    };
    let (package, _) = interface.split_once('/')?;
    (package == PACKAGE).then_some((interface, version))
}

/// The names of the component's own imports and exports (not those of the
/// modules and components nested in it, which are skipped unread).
fn interface_names(bytes: &[u8]) -> wasmparser::Result<(Vec<&str>, Vec<&str>)> {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut parser = Parser::new(0);
    let mut offset = 0;
    loop {
        let Chunk::Parsed { consumed, payload } = parser.parse(&bytes[offset..], true)? else {
            unreachable!("all the bytes are given at once");
        };
        offset += consumed;
        match payload {
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => offset = unchecked_range.end,
            Payload::ComponentImportSection(section) => {
                for import in section {
                    imports.push(import?.name.name);
                }
            }
            Payload::ComponentExportSection(section) => {
                for export in section {
                    exports.push(export?.name.name);
                }
            }
            Payload::End(_) => return Ok((imports, exports)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(wat: &str) -> Vec<u8> {
        wat::parse_str(wat).unwrap()
    }

    #[test]
    fn the_supported_versions_are_the_folders_of_wit() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let mut folders: Vec<String> = std::fs::read_dir(&wit)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        let listed: Vec<String> = WIT_VERSIONS.iter().map(|v| format!("since-{v}")).collect();
        assert_eq!(folders, listed);
        for version in WIT_VERSIONS {
            let text =
                std::fs::read_to_string(wit.join(format!("since-{version}/policy.wit"))).unwrap();
            let package = text
                .lines()
                .find_map(|line| line.strip_prefix("package fi:policy@"))
                .unwrap();
            assert_eq!(package.trim_end_matches(';'), *version);
        }
    }

    #[test]
    fn the_version_is_that_of_the_policy_export() {
        for version in WIT_VERSIONS {
            let bytes = component(&format!(
                r#"(component
                    (import "fi:policy/tracee@{version}" (instance))
                    (instance $i)
                    (export "fi:policy/policy@{version}" (instance $i)))"#
            ));
            assert_eq!(check(&bytes).unwrap(), *version);
        }
        let mixed = component(
            r#"(component
                (import "fi:policy/tracee@0.1.0" (instance))
                (instance $i)
                (export "fi:policy/policy@0.2.0" (instance $i)))"#,
        );
        let error = check(&mixed).unwrap_err().to_string();
        assert!(
            error.contains("mixes versions of the contract (fi:policy@0.1.0 and fi:policy@0.2.0)"),
            "{error}"
        );
    }

    #[test]
    fn another_version_is_named_with_the_supported_ones() {
        let bytes = component(
            r#"(component
                (import "fi:policy/types@0.9.0" (instance))
                (import "wasi:cli/stdout@0.2.6" (instance))
                (instance $i)
                (export "fi:policy/policy@0.9.0" (instance $i)))"#,
        );
        let error = check(&bytes).unwrap_err().to_string();
        assert!(
            error.contains(
                "built for fi:policy@0.9.0, but this build supports fi:policy@0.1.0, fi:policy@0.2.0, fi:policy@0.3.0, fi:policy@0.4.0, fi:policy@0.5.0"
            ),
            "{error}"
        );
    }

    #[test]
    fn a_component_without_the_policy_export_is_named() {
        let error = check(&component("(component)")).unwrap_err().to_string();
        assert!(
            error.contains("does not implement the world fi:policy/plugin@0.5.0"),
            "{error}"
        );
        let nested = component(
            r#"(component
                (component (import "fi:policy/types@0.9.0" (instance)))
                (instance $i)
                (export "fi:policy/policy@0.1.0" (instance $i)))"#,
        );
        assert_eq!(check(&nested).unwrap(), "0.1.0");
    }
}
