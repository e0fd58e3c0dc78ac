//! What a component says it was built for, read from the names of its
//! imports and exports without compiling it: a plugin built for another
//! version of the contract than this build runs is refused at once, with
//! one line naming the supported version and how to rebuild, instead of
//! after a compile that can take a minute for a large component.

use anyhow::{bail, Context, Result};
use wasmparser::{Chunk, Parser, Payload};

use super::contract::{package as contract_package, VERSION as CONTRACT_VERSION};

/// The package of fi's WIT contract.
const PACKAGE: &str = "fi:policy";

/// The interface every plugin exports.
const POLICY_INTERFACE: &str = "fi:policy/policy";

/// How to rebuild a plugin for this build's contract, for messages.
pub const REBUILD: &str = "`fault plugin new NAME --lang LANG` writes its WIT and a project \
                           that `fault plugin build DIR` builds";

/// Refuses a component built for another version of `fi:policy` than
/// this build's (or for none), one that mixes versions, or one that does
/// not export the policy interface at all.
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
        .filter(|v| **v != Some(CONTRACT_VERSION))
        .map(|v| match v {
            Some(version) => format!("{PACKAGE}@{version}"),
            None => format!("{PACKAGE} without a version"),
        })
        .collect();
    if !foreign.is_empty() {
        bail!(
            "built for {}, but this build runs {} plugins only; rebuild it against that \
             contract: {REBUILD}",
            foreign.join(" and "),
            contract_package()
        );
    }
    let exports_policy = exports
        .iter()
        .filter_map(|name| fi_interface(name))
        .any(|(interface, _)| interface == POLICY_INTERFACE);
    if !exports_policy {
        bail!(
            "does not implement the world {PACKAGE}/plugin@{CONTRACT_VERSION}: it exports no \
             {POLICY_INTERFACE} interface"
        );
    }
    Ok(())
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
    fn a_component_of_this_version_passes() {
        let bytes = component(&format!(
            r#"(component
                (import "fi:policy/tracee@{CONTRACT_VERSION}" (instance))
                (instance $i)
                (export "fi:policy/policy@{CONTRACT_VERSION}" (instance $i)))"#
        ));
        check(&bytes).unwrap();
    }

    #[test]
    fn another_version_is_refused_naming_this_one_and_how_to_rebuild() {
        let bytes = component(
            r#"(component
                (import "fi:policy/types@0.5.0" (instance))
                (import "wasi:cli/stdout@0.2.6" (instance))
                (instance $i)
                (export "fi:policy/policy@0.5.0" (instance $i)))"#,
        );
        let error = check(&bytes).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "built for fi:policy@0.5.0, but this build runs fi:policy@{CONTRACT_VERSION} \
                 plugins only; rebuild it against that contract: {REBUILD}"
            )
        );
        assert!(!error.contains('\n'));
        let mixed = component(&format!(
            r#"(component
                (import "fi:policy/tracee@0.1.0" (instance))
                (instance $i)
                (export "fi:policy/policy@{CONTRACT_VERSION}" (instance $i)))"#
        ));
        let error = check(&mixed).unwrap_err().to_string();
        assert!(
            error.starts_with("built for fi:policy@0.1.0, but"),
            "{error}"
        );
    }

    #[test]
    fn a_component_without_the_policy_export_is_named() {
        let error = check(&component("(component)")).unwrap_err().to_string();
        assert!(
            error.contains(&format!(
                "does not implement the world fi:policy/plugin@{CONTRACT_VERSION}"
            )),
            "{error}"
        );
        let nested = component(&format!(
            r#"(component
                (component (import "fi:policy/types@0.9.0" (instance)))
                (instance $i)
                (export "fi:policy/policy@{CONTRACT_VERSION}" (instance $i)))"#
        ));
        check(&nested).unwrap();
    }
}
