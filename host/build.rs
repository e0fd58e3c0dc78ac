//! Builds the policies in `plugins/` as WebAssembly components and embeds
//! them: writes `$OUT_DIR/builtin_plugins.rs`, which defines
//! `BUILTIN_PLUGINS: &[(&str, &[u8])]`, each plugin's directory name and
//! component bytes.
//!
//! Also sets, for `--version`, `FI_WIT_PACKAGE` (the package line of
//! `wit/policy.wit`, e.g. `fi:policy@0.1.0`) and `FI_WASMTIME_VERSION` (the
//! wasmtime version `Cargo.lock` pins).
//!
//! The plugins are built by a nested `cargo build --release --target
//! wasm32-wasip2`, in their own target directory (`target/plugins`) so it
//! does not wait on the lock of the build running this script.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let host_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = host_dir.parent().unwrap();
    let plugins = plugin_names(&workspace.join("plugins"));
    // A new plugin crate changes Cargo.lock, as a workspace member. Other
    // folders under plugins/ (examples, with their own target/) don't count.
    let inputs = ["sdk", "wit", "Cargo.lock", "Cargo.toml"].map(String::from);
    let plugin_dirs = plugins.iter().map(|name| format!("plugins/{name}"));
    for input in inputs.into_iter().chain(plugin_dirs) {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }

    let wit_package = package_of(&workspace.join("wit/policy.wit"));
    println!("cargo:rustc-env=FI_WIT_PACKAGE={wit_package}");
    let wasmtime = locked_version(&workspace.join("Cargo.lock"), "wasmtime");
    println!("cargo:rustc-env=FI_WASMTIME_VERSION={wasmtime}");

    // In the target directory (`target/` or `$CARGO_TARGET_DIR`), beside the
    // outer build's profile directories.
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from)
        .join("plugins");
    build(workspace, &target_dir, &plugins);

    let mut out = String::from(
        "/// The policies built into fi: name (`short-write`) and WebAssembly component.\n\
         pub static BUILTIN_PLUGINS: &[(&str, &[u8])] = &[\n",
    );
    for name in &plugins {
        let wasm = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("fi_plugin_{}.wasm", name.replace('-', "_")));
        check_component(&wasm);
        writeln!(out, "    ({name:?}, include_bytes!({:?})),", wasm.display()).unwrap();
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    fs::write(out_dir.join("builtin_plugins.rs"), out).unwrap();
}

/// The package a WIT file declares (`package fi:policy@0.1.0;` gives
/// `fi:policy@0.1.0`).
fn package_of(wit: &Path) -> String {
    let text =
        fs::read_to_string(wit).unwrap_or_else(|e| panic!("cannot read {}: {e}", wit.display()));
    text.lines()
        .find_map(|line| line.trim().strip_prefix("package "))
        .and_then(|rest| rest.strip_suffix(';'))
        .unwrap_or_else(|| panic!("{} declares no package", wit.display()))
        .trim()
        .to_string()
}

/// The version of the crate `name` in a `Cargo.lock` (the first one, if
/// several versions are locked).
fn locked_version(lock: &Path, name: &str) -> String {
    let text =
        fs::read_to_string(lock).unwrap_or_else(|e| panic!("cannot read {}: {e}", lock.display()));
    let name_line = format!("name = \"{name}\"");
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line == name_line {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
            {
                return version.to_string();
            }
        }
    }
    panic!("{} locks no version of {name}", lock.display())
}

/// The directories under `plugins/` that hold a crate, sorted.
fn plugin_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .map(|path| path.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Runs `cargo build --release --target wasm32-wasip2` for the plugin crates.
fn build(workspace: &Path, target_dir: &Path, plugins: &[String]) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args(["build", "--release", "--target", TARGET, "--target-dir"])
        .arg(target_dir)
        .args(
            plugins
                .iter()
                .flat_map(|name| ["-p".into(), format!("fi-plugin-{name}")]),
        )
        // The host's flags and wrappers (clippy's, when this runs under
        // `cargo clippy`) are not for the plugins.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        // Small components: the name section stays, for backtraces.
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        // Cargo reads this script's stdout: keep the nested build's off it.
        .stdout(Stdio::from(std::io::stderr()));
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        status.success(),
        "building the plugins failed ({status}); is the {TARGET} target installed? \
         (`rustup target add {TARGET}`)"
    );
}

/// Panics unless `wasm` starts like a WebAssembly component (not a core
/// module).
fn check_component(wasm: &Path) {
    let bytes = fs::read(wasm).unwrap_or_else(|e| panic!("cannot read {}: {e}", wasm.display()));
    assert!(
        bytes.starts_with(b"\0asm\x0d\0\x01\0"),
        "{} is not a WebAssembly component",
        wasm.display()
    );
}
