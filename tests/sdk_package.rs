//! `cargo package -p fi-grammar -p fi-sdk` makes two crates that stand
//! alone: unpacked outside the workspace, a plugin crate depending on the SDK
//! by path (and patching in the unpacked grammar, which the SDK names by
//! version) builds for wasm32-wasip2 and passes `fault plugin check`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Cmd, TestDir};

/// A policy that needs nothing from the SDK's source tree but the crate.
const PLUGIN: &str = r#"
use fi_sdk::{Config, ConfigError, Description, Policy, Subscription};

struct Packaged;

impl Policy for Packaged {
    fn describe() -> Description {
        Description::new("packaged", "built against the packaged SDK")
    }

    fn new(_: &Config) -> Result<(Self, Subscription), ConfigError> {
        Ok((Packaged, Subscription::syscalls(["fsync"])))
    }
}

fi_sdk::export_policy!(Packaged);
"#;

fn cargo(args: &[&str], dir: &Path) -> Cmd {
    Cmd::new(common::require_tool("cargo", "install Rust with rustup"))
        .args(args)
        .cwd(dir)
        .timeout(Duration::from_secs(1200))
}

#[test]
fn the_packaged_sdk_builds_a_plugin_outside_the_workspace() {
    let dir = TestDir::new("sdk-package");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = dir.join("package-target");
    cargo(
        &[
            "package",
            "-p",
            "fi-grammar",
            "-p",
            "fi-sdk",
            "--no-verify",
            "--allow-dirty",
            "--target-dir",
        ],
        &workspace,
    )
    .arg(&target)
    .run()
    .assert_code(0);

    let unpacked = dir.join("unpacked");
    fs::create_dir(&unpacked).unwrap();
    let unpack = |name: &str| -> PathBuf {
        let crate_file = target.join(format!("package/{name}-0.1.0.crate"));
        let tar = Command::new("tar")
            .arg("xzf")
            .arg(&crate_file)
            .arg("-C")
            .arg(&unpacked)
            .status()
            .expect("running tar");
        assert!(tar.success(), "tar xzf {}", crate_file.display());
        unpacked.join(format!("{name}-0.1.0"))
    };
    let sdk = unpack("fi-sdk");
    let grammar = unpack("fi-grammar");

    // The contract is inside the crate, as a file, not a link out of it.
    let wit = sdk.join("wit/policy.wit");
    let meta = fs::symlink_metadata(&wit).expect("wit/policy.wit in the crate");
    assert!(meta.is_file(), "{} is not a plain file", wit.display());
    for krate in [&sdk, &grammar] {
        let manifest = fs::read_to_string(krate.join("Cargo.toml.orig")).unwrap();
        assert!(
            !manifest.contains(".workspace") && !manifest.contains("workspace = true"),
            "{} inherits from the workspace:\n{manifest}",
            krate.display()
        );
    }

    let plugin = dir.join("plugin");
    fs::create_dir_all(plugin.join("src")).unwrap();
    fs::write(
        plugin.join("Cargo.toml"),
        format!(
            "[package]\nname = \"packaged\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [workspace]\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n\
             [dependencies]\nfi-sdk = {{ path = {:?} }}\n\n\
             [patch.crates-io]\nfi-grammar = {{ path = {:?} }}\n",
            sdk.display().to_string(),
            grammar.display().to_string()
        ),
    )
    .unwrap();
    fs::write(plugin.join("src/lib.rs"), PLUGIN).unwrap();
    // The registry crates are shared with tests/scaffold.rs's projects.
    let shared_target = common::tmp_root().join("plugin-projects-target");
    cargo(
        &["build", "--release", "--target", "wasm32-wasip2"],
        &plugin,
    )
    .env("CARGO_TARGET_DIR", &shared_target)
    .run()
    .assert_code(0);

    let wasm = shared_target.join("wasm32-wasip2/release/packaged.wasm");
    let out = Cmd::fault()
        .args(["plugin", "check"])
        .arg(&wasm)
        .timeout(Duration::from_secs(300))
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains("name: packaged"), "{}", out.describe());
    assert!(
        out.stdout.contains("subscribes to 1 syscall: fsync"),
        "{}",
        out.describe()
    );
}
