//! The C route, with no tool but the compiler: the bindings from
//! wit-bindgen's C generator, a core module from clang and wasi-libc, and
//! the component made from it with the WASI preview1 adapter by
//! wit-component, all in this process.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_parser::Resolve;

use super::tools::Tool;

/// How to install what clang needs to build for wasm32-wasi (Debian).
const INSTALL_CLANG: &str = "apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32";

/// Builds `sources` of `project` into a component of the world `plugin` of
/// `contract` (the WIT text), with the bindings and the core module in
/// `build_dir`.
pub fn build(
    project: &Path,
    build_dir: &Path,
    sources: &[PathBuf],
    contract: &str,
) -> Result<Vec<u8>> {
    write_bindings(build_dir, contract)?;
    let core = build_dir.join("plugin.core.wasm");
    let mut args: Vec<String> = [
        "--target=wasm32-wasi",
        // A library whose exports are called many times (its _initialize
        // runs the C constructors first), not a command with main().
        "-mexec-model=reactor",
        "-O2",
        "-Wall",
        "-Wextra",
        "-I",
    ]
    .map(String::from)
    .into();
    args.push(build_dir.display().to_string());
    args.push("-o".into());
    args.push(core.display().to_string());
    args.extend(sources.iter().map(|source| source.display().to_string()));
    for generated in ["plugin.c", "plugin_component_type.o"] {
        args.push(build_dir.join(generated).display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Tool::new("clang", INSTALL_CLANG).run(project, &args)?;
    let core = fs::read(&core).with_context(|| format!("reading {}", core.display()))?;
    componentize(&core)
}

/// `plugin.h`, `plugin.c` (the canonical ABI glue) and
/// `plugin_component_type.o` (the world, for the module to carry) into
/// `dir`, as `wit-bindgen c` writes them for `contract`.
fn write_bindings(dir: &Path, contract: &str) -> Result<()> {
    let mut resolve = Resolve::default();
    let package = resolve.push_str("policy.wit", contract)?;
    let world = resolve.select_world(&[package], Some("plugin"))?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)
        .context("generating the C bindings")?;
    for (name, contents) in files.iter() {
        let path = dir.join(name);
        fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The core module `core` (for WASI preview1, carrying its world) made a
/// component: the preview1 adapter turns wasi-libc's preview1 imports into
/// the preview2 ones fault provides.
fn componentize(core: &[u8]) -> Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(core)
        .context("reading the core module")?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .context("adding the WASI preview1 adapter")?
        .encode()
        .context("making the component")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bindings_declare_the_contract_s_exports() {
        let dir = std::env::temp_dir().join(format!("fi-c-bindings-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        write_bindings(&dir, include_str!("../../../wit/policy.wit")).unwrap();
        let header = fs::read_to_string(dir.join("plugin.h")).unwrap();
        for export in [
            "exports_fi_policy_policy_init(",
            "exports_fi_policy_policy_thread_exited(",
            "fi_policy_host_errno_number(",
        ] {
            assert!(header.contains(export), "no {export} in plugin.h");
        }
        assert!(dir.join("plugin_component_type.o").is_file());
        fs::remove_dir_all(&dir).unwrap();
    }
}
