//! What a component says it was built for, read from the names of its
//! imports and exports without compiling it: a plugin built against another
//! version of the WIT contract is refused at once, naming both versions,
//! instead of after a compile that can take a minute for a large component.

use anyhow::{bail, Context, Result};
use wasmparser::{Chunk, Parser, Payload};

use super::SUPPORTED_WIT_VERSIONS;

/// The package of fi's WIT contract.
const PACKAGE: &str = "fi:policy";

/// The interface every plugin exports.
const POLICY_INTERFACE: &str = "fi:policy/policy";

/// Refuse a component built for a version of `fi:policy` this build does not
/// implement, or one that does not export the policy interface at all.
pub fn check(bytes: &[u8]) -> Result<()> {
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
        .filter(|v| !v.is_some_and(|v| SUPPORTED_WIT_VERSIONS.contains(&v)))
        .map(|v| match v {
            Some(version) => format!("{PACKAGE}@{version}"),
            None => format!("{PACKAGE} without a version"),
        })
        .collect();
    if !foreign.is_empty() {
        bail!(
            "built for {}, but this build supports {}; rebuild the plugin against the WIT of a supported version",
            foreign.join(" and "),
            supported()
        );
    }
    if !exports
        .iter()
        .any(|name| fi_interface(name).is_some_and(|(interface, _)| interface == POLICY_INTERFACE))
    {
        bail!(
            "does not implement the world {PACKAGE}/plugin@{}: it exports no {POLICY_INTERFACE} interface",
            super::newest_wit_version()
        );
    }
    Ok(())
}

/// The supported versions as the messages name them.
fn supported() -> String {
    SUPPORTED_WIT_VERSIONS
        .iter()
        .map(|version| format!("{PACKAGE}@{version}"))
        .collect::<Vec<_>>()
        .join(", ")
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
    fn the_supported_version_is_the_one_in_the_wit() {
        let wit = include_str!("../../../wit/policy.wit");
        let package = wit
            .lines()
            .find_map(|line| line.strip_prefix("package fi:policy@"))
            .unwrap();
        assert_eq!(
            package.trim_end_matches(';'),
            crate::wasm::newest_wit_version()
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
            error.contains("built for fi:policy@0.9.0, but this build supports fi:policy@0.1.0"),
            "{error}"
        );
    }

    #[test]
    fn a_component_without_the_policy_export_is_named() {
        let error = check(&component("(component)")).unwrap_err().to_string();
        assert!(
            error.contains("does not implement the world fi:policy/plugin@0.1.0"),
            "{error}"
        );
        let nested = component(
            r#"(component
                (component (import "fi:policy/types@0.9.0" (instance)))
                (instance $i)
                (export "fi:policy/policy@0.1.0" (instance $i)))"#,
        );
        check(&nested).unwrap();
    }
}
