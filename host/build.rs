//! Builds the policies in `plugins/` as WebAssembly components and embeds
//! them: writes `$OUT_DIR/builtin_plugins.rs`, which defines
//! `BUILTIN_PLUGINS: &[Builtin]`, each plugin's directory name, component
//! bytes and their SHA-256.
//!
//! Links the commands as position-dependent executables (see `main`).
//!
//! Also sets, for `--version`, `FI_WASMTIME_VERSION` (the wasmtime version
//! `Cargo.lock` pins).
//!
//! The plugins are built by a nested `cargo build --release --target
//! wasm32-wasip2`, in their own target directory, `plugins/` inside the
//! target directory cargo was given (`--target-dir`, `CARGO_TARGET_DIR`,
//! `build.target-dir`, or `cargo install`'s temporary one), so it does not
//! wait on the lock of the build running this script and never writes into
//! the source tree. A toolchain whose `wasm32-wasip2` target is missing
//! (rust-toolchain.toml lists it, but rustup adds listed targets only when it
//! installs the toolchain) gets it with `rustup target add`.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::Digest as _;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let host_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = host_dir.parent().unwrap();
    let plugins = plugin_names(&workspace.join("plugins"));
    // A new plugin crate changes Cargo.lock, as a workspace member. Other
    // folders under plugins/ (examples, with their own target/) don't count.
    let inputs = ["sdk", "grammar", "wit", "Cargo.lock", "Cargo.toml"].map(String::from);
    let plugin_dirs = plugins.iter().map(|name| format!("plugins/{name}"));
    for input in inputs.into_iter().chain(plugin_dirs) {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }

    // The commands link as position-dependent executables. A PIE of this
    // size carries ~46,000 relative relocations, which the dynamic loader
    // applies at every start: 2 ms of the 3.4 a `fault --version` took, paid
    // by every traced run (and every test). Libraries, heap and stack are
    // still placed at random.
    // A static build (crt-static, release/build-static.sh) is linked as
    // rustc chooses: -no-pie beside its -static-pie would undo it.
    let features = env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    if !features.split(',').any(|feature| feature == "crt-static") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }

    let wasmtime = locked_version(&workspace.join("Cargo.lock"), "wasmtime");
    println!("cargo:rustc-env=FI_WASMTIME_VERSION={wasmtime}");

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let target_dir = cargo_target_dir(&out_dir).join("plugins");
    ensure_target_installed();
    build(workspace, &target_dir, &plugins);

    let mut out = String::from(
        "/// The policies built into fi.\n\
         pub static BUILTIN_PLUGINS: &[Builtin] = &[\n",
    );
    for name in &plugins {
        let wasm = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("fi_plugin_{}.wasm", name.replace('-', "_")));
        let digest = check_component(&wasm);
        writeln!(
            out,
            "    Builtin {{ name: {name:?}, bytes: include_bytes!({:?}), digest: {digest:?} }},",
            wasm.display()
        )
        .unwrap();
    }
    out.push_str("];\n");
    fs::write(out_dir.join("builtin_plugins.rs"), out).unwrap();

    embed_scaffold(workspace, &out_dir);
}

/// The example sources each language's `fault plugin new` project starts
/// from, under `plugins/examples/<language>/` (Rust's is in host/templates).
const EXAMPLE_SOURCES: &[(&str, &[&str])] = &[
    ("python", &["app.py"]),
    (
        "javascript",
        &["app.js", "package.json", "package-lock.json"],
    ),
    ("c", &["fsync_eio.c"]),
    ("wat", &["fsync_eio.wat"]),
];

/// Writes `$OUT_DIR/scaffold_files.rs`, the files of `fault plugin new`:
/// `SCAFFOLD_FILES: &[TemplateFile]` (see host/src/cli/scaffold.rs). Every
/// language gets `host/templates/<language>/`; Rust also the SDK (into
/// `fi-sdk/`, its WIT included), the grammar it depends on (into
/// `fi-grammar/`) and the workspace's `rust-toolchain.toml`, the others
/// their example's sources and the WIT (into `wit/`).
fn embed_scaffold(workspace: &Path, out_dir: &Path) {
    let mut files = Vec::new(); // (language, path, source, renamed)
    let templates = workspace.join("host/templates");
    for language in ["rust", "python", "javascript", "c", "wat"] {
        for (path, source) in walk(&templates.join(language), "") {
            files.push((language, path, source, true));
        }
    }
    for (path, source) in walk(&workspace.join("sdk"), "fi-sdk/") {
        let source = match path.as_str() {
            "fi-sdk/Cargo.toml" => sdk_manifest_for_projects(&source, out_dir),
            _ => source,
        };
        files.push(("rust", path, source, false));
    }
    for (path, source) in walk(&workspace.join("grammar"), "fi-grammar/") {
        files.push(("rust", path, source, false));
    }
    let toolchain = workspace.join("rust-toolchain.toml");
    files.push(("rust", "rust-toolchain.toml".into(), toolchain, false));
    for (language, names) in EXAMPLE_SOURCES {
        let example = workspace.join("plugins/examples").join(language);
        for name in *names {
            files.push((language, name.to_string(), example.join(name), true));
        }
        // The examples come with the contract they implement.
        for (path, source) in walk(&workspace.join("wit"), "wit/") {
            files.push((language, path, source, false));
        }
    }

    let mut out = String::from("static SCAFFOLD_FILES: &[TemplateFile] = &[\n");
    for (language, path, source, renamed) in &files {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(source)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", source.display()))
            .permissions()
            .mode();
        println!("cargo:rerun-if-changed={}", source.display());
        writeln!(
            out,
            "    TemplateFile {{ language: {language:?}, path: {path:?}, \
             contents: include_bytes!({:?}), executable: {}, renamed: {renamed} }},",
            source.display(),
            mode & 0o111 != 0
        )
        .unwrap();
    }
    out.push_str("];\n");
    println!("cargo:rerun-if-changed={}", templates.display());
    fs::write(out_dir.join("scaffold_files.rs"), out).unwrap();
}

/// The SDK's Cargo.toml as a project's `fi-sdk/` needs it: fi-grammar is
/// beside it in `fi-grammar/`, not in the workspace's `grammar/`. Written to
/// `out_dir`; returns its path.
fn sdk_manifest_for_projects(manifest: &Path, out_dir: &Path) -> PathBuf {
    let text = fs::read_to_string(manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let (workspace_path, project_path) = (r#"path = "../grammar""#, r#"path = "../fi-grammar""#);
    assert!(
        text.contains(workspace_path),
        "{} has no fi-grammar dependency with {workspace_path}",
        manifest.display()
    );
    let copy = out_dir.join("fi-sdk-Cargo.toml");
    fs::write(&copy, text.replace(workspace_path, project_path)).unwrap();
    copy
}

/// The files under `dir` (following links), as `prefix` + their path
/// relative to `dir`, and their full path; sorted.
fn walk(dir: &Path, prefix: &str) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if path.is_dir() {
            files.extend(walk(&path, &format!("{prefix}{name}/")));
        } else {
            files.push((format!("{prefix}{name}"), path));
        }
    }
    files.sort();
    files
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

/// The target directory of the build running this script: the nearest
/// ancestor of `out_dir` that cargo marked with its `CACHEDIR.TAG`, or
/// `out_dir` itself if none is (the plugins are then built per profile).
fn cargo_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .unwrap_or(out_dir)
        .to_path_buf()
}

/// Adds the `wasm32-wasip2` target to the toolchain running this build when
/// its standard library is missing and rustup manages the toolchain; panics
/// with the command to run when it cannot.
fn ensure_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let installed = |root: &Path| root.join("lib/rustlib").join(TARGET).join("lib").is_dir();
    if sysroot.as_deref().is_none_or(installed) {
        return;
    }
    // rustup's proxies name the toolchain they run; without rustup there is
    // nothing this script can install.
    let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") else {
        panic!("the {TARGET} target is not installed for this Rust toolchain, and fi builds its plugins for it; install it (with rustup: `rustup target add {TARGET}`)");
    };
    println!(
        "cargo:warning=installing the {TARGET} target, which fi's built-in plugins are compiled for \
         (rustup target add {TARGET} --toolchain {})",
        toolchain.to_string_lossy()
    );
    let status = Command::new("rustup")
        .args(["target", "add", TARGET, "--toolchain"])
        .arg(&toolchain)
        .stdout(Stdio::from(std::io::stderr()))
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("`rustup target add {TARGET}` failed ({status}); run it by hand and build again"),
        Err(e) => panic!("cannot run rustup to add the {TARGET} target ({e}); run `rustup target add {TARGET}` and build again"),
    }
}

/// Runs `cargo build --release --target wasm32-wasip2` for the plugin crates.
fn build(workspace: &Path, target_dir: &Path, plugins: &[String]) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        // --locked: the nested build never rewrites the checkout's Cargo.lock.
        .args([
            "build",
            "--locked",
            "--release",
            "--target",
            TARGET,
            "--target-dir",
        ])
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

/// The SHA-256 of the component `wasm`; panics unless it starts like a
/// WebAssembly component (not a core module).
fn check_component(wasm: &Path) -> [u8; 32] {
    let bytes = fs::read(wasm).unwrap_or_else(|e| panic!("cannot read {}: {e}", wasm.display()));
    assert!(
        bytes.starts_with(b"\0asm\x0d\0\x01\0"),
        "{} is not a WebAssembly component",
        wasm.display()
    );
    sha2::Sha256::digest(&bytes).into()
}
