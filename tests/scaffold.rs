//! `fault plugin new`: each language's project builds with the one command
//! its README gives and passes `fault plugin check` as it is; the Rust
//! project's unit test runs natively; bad requests are refused.
//!
//! A missing toolchain fails the tests of that language, naming the install
//! step; `plugins/examples/install-toolchains.sh` installs them all.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{require_tool, Cmd, Outcome, TestDir};

/// The name every generated plugin gets.
const NAME: &str = "disk-full";

/// How long a build may take (Python and JavaScript components carry an
/// interpreter, and a debug fault compiles them slowly the first time).
const BUILD_TIMEOUT: Duration = Duration::from_secs(1200);

/// `fault plugin new NAME --lang LANG --dir DIR`.
fn new(language: &str, dir: &Path) -> Outcome {
    Cmd::fault()
        .args(["plugin", "new", NAME, "--lang", language, "--dir"])
        .arg(dir)
        .run()
}

/// A new `language` project in a fresh directory.
fn generate(language: &str) -> (TestDir, PathBuf) {
    let dir = TestDir::new(&format!("scaffold-{language}"));
    let project = dir.join(NAME);
    let out = new(language, &project);
    out.assert_code(0);
    assert!(project.join("README.md").is_file(), "{}", out.describe());
    (dir, project)
}

/// `fault plugin check PLUGIN:path=/data/*`, which must pass and describe
/// the generated policy.
fn check(plugin: &Path) {
    let out = Cmd::fault()
        .args(["plugin", "check"])
        .arg(format!("{}:path=/data/*", plugin.display()))
        .timeout(BUILD_TIMEOUT)
        .run();
    out.assert_code(0);
    assert!(
        out.stdout.contains(&format!("name: {NAME}\n")),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout
            .contains("subscribes to 2 syscalls: fsync, fdatasync"),
        "{}",
        out.describe()
    );
}

/// Runs the project's `./build.sh` and checks the component it makes.
fn build_and_check(project: &Path) {
    Cmd::new(project.join("build.sh"))
        .cwd(project)
        .timeout(BUILD_TIMEOUT)
        .run()
        .assert_code(0);
    check(&project.join("disk_full.wasm"));
}

/// Where the Rust projects build: shared, so the SDK's registry crates build
/// once per run.
fn rust_target() -> PathBuf {
    common::tmp_root().join("plugin-projects-target")
}

fn cargo(project: &Path, args: &[&str]) -> Outcome {
    Cmd::new(require_tool("cargo", "install Rust with rustup"))
        .args(args)
        .cwd(project)
        .env("CARGO_TARGET_DIR", rust_target())
        .timeout(BUILD_TIMEOUT)
        .run()
}

#[test]
fn rust_project_builds_checks_and_tests() {
    let (_dir, project) = generate("rust");
    // The SDK, its contract and the grammar it uses come with the project.
    assert!(project.join("fi-sdk/wit/policy.wit").is_file());
    assert!(project.join("fi-grammar/src/lib.rs").is_file());
    let toolchain = fs::read_to_string(project.join("rust-toolchain.toml")).unwrap();
    assert!(toolchain.contains("wasm32-wasip2"), "{toolchain}");

    let build = cargo(
        &project,
        &["build", "--release", "--target", "wasm32-wasip2"],
    );
    build.assert_code(0);
    check(&rust_target().join("wasm32-wasip2/release/disk_full.wasm"));

    let test = cargo(&project, &["test"]);
    test.assert_code(0);
    assert!(
        test.stdout
            .contains("test tests::fails_the_syncs_of_matching_files_only ... ok"),
        "{}",
        test.describe()
    );
}

/// `fault plugin build DIR`, with `PATH` limited to `path`: it must pass
/// and name the component it made, `DIR/disk_full.wasm`.
fn plugin_build(project: &Path, path: &str, language: &str) -> PathBuf {
    let out = Cmd::fault()
        .args(["plugin", "build"])
        .arg(project)
        .env("PATH", path)
        .timeout(BUILD_TIMEOUT)
        .run();
    out.assert_code(0);
    let component = project.join("disk_full.wasm");
    let line = format!(
        "{}: a {language} plugin implementing fi:policy/plugin@{}\n",
        component.display(),
        common::contract_version()
    );
    assert_eq!(out.stdout, line, "{}", out.describe());
    component
}

#[test]
fn wat_project_loads_as_it_is_and_builds_without_tools() {
    let (_dir, project) = generate("wat");
    assert!(project.join("wit/policy.wit").is_file());
    check(&project.join("disk_full.wat"));
    check(&plugin_build(&project, "", "WAT"));
}

#[test]
fn python_project_builds_and_checks() {
    require_tool("componentize-py", "pip install componentize-py==0.25.1");
    let (_dir, project) = generate("python");
    build_and_check(&project);
}

#[test]
fn javascript_project_builds_and_checks() {
    require_tool("node", "apt-get install nodejs");
    require_tool("npm", "apt-get install npm");
    let (_dir, project) = generate("javascript");
    build_and_check(&project);
}

/// The C project builds with `fault plugin build` and clang alone: `PATH`
/// holds clang's directory and not the ones of `wit-bindgen` or
/// `wasm-tools`, wherever those are installed.
#[test]
fn c_project_builds_with_clang_alone_and_checks() {
    let apt = "apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32";
    let clang = require_tool("clang", apt);
    require_tool("wasm-ld", apt);
    let bin = clang.parent().unwrap();
    for absent in ["wit-bindgen", "wasm-tools"] {
        assert!(
            !bin.join(absent).exists(),
            "{absent} is in {}",
            bin.display()
        );
    }
    let (_dir, project) = generate("c");
    assert!(!project.join("build.sh").exists());
    let component = plugin_build(&project, bin.to_str().unwrap(), "C");
    assert!(project.join("build/plugin.h").is_file());
    check(&component);
}

#[test]
fn bad_requests_are_refused_and_write_nothing() {
    let dir = TestDir::new("scaffold-refused");

    let project = dir.join("bad");
    let out = Cmd::fault()
        .args(["plugin", "new", "Bad Name", "--lang", "rust", "--dir"])
        .arg(&project)
        .run();
    common::assert_refused(&out, "plugin name 'Bad Name'", &project);

    let out = Cmd::fault()
        .args(["plugin", "new", "ok", "--lang", "cobol", "--dir"])
        .arg(&project)
        .run();
    common::assert_refused(&out, "--lang cobol: unknown language", &project);

    fs::create_dir(&project).unwrap();
    fs::write(project.join("keep.txt"), "mine").unwrap();
    let out = new("rust", &project);
    common::assert_refused(
        &out,
        "the directory exists and is not empty",
        &project.join("Cargo.toml"),
    );
    assert_eq!(fs::read_dir(&project).unwrap().count(), 1);
}
