//! fi built as a dependency of a crate outside its checkout: the build (its
//! build script compiles the built-in plugins with a nested cargo) writes
//! only into the dependent's target directory, and leaves the checkout as it
//! was, no new file, ignored ones included.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::*;

/// `git status` of the checkout, ignored files included (a directory git
/// ignores as a whole, such as `target/`, is one line).
fn checkout_status(checkout: &Path) -> String {
    let out = Cmd::new(require_tool("git", "apt-get install git"))
        .args([
            "status",
            "--porcelain",
            "--ignored=matching",
            "--untracked-files=all",
        ])
        .cwd(checkout)
        .run();
    out.assert_code(0);
    out.stdout
}

#[test]
fn a_crate_depending_on_fi_by_path_builds_without_writing_into_the_checkout() {
    let checkout = tests_dir().join("..").canonicalize().unwrap();
    if !checkout.join(".git").exists() {
        eprintln!("skipped: {} is not a git checkout", checkout.display());
        return;
    }
    let before = checkout_status(&checkout);

    // The dependent lives outside the checkout; its target directory is
    // kept between runs (under this build's tmp dir) so that a second run
    // only rebuilds fi.
    let krate = &std::env::temp_dir().join(format!("fi-dependent-{}", std::process::id()));
    let _ = fs::remove_dir_all(krate);
    fs::create_dir_all(krate.join("src")).unwrap();
    fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"uses-fi\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [workspace]\n\n[dependencies]\nfi = {{ path = {:?} }}\n",
            arg(&checkout.join("host"))
        ),
    )
    .unwrap();
    fs::write(
        krate.join("src/main.rs"),
        "fn main() {\n    let true_ = std::process::Command::new(\"true\");\n    \
         drop(fi::session::Session::command(&true_));\n}\n",
    )
    .unwrap();
    // The checkout's lock file pins what fi was tested with.
    fs::copy(checkout.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    let target = tmp_root().join("dependent-target");

    let out = Cmd::new(require_tool("cargo", "install Rust with rustup"))
        .args(["check", "--offline"])
        .cwd(krate)
        .env("CARGO_TARGET_DIR", &target)
        .timeout(Duration::from_secs(1800))
        .run();
    out.assert_code(0);
    assert!(
        target.join("plugins").is_dir(),
        "the built-in plugins are built in the dependent's target directory\n{}",
        out.describe()
    );
    assert_eq!(
        checkout_status(&checkout),
        before,
        "building fi as a dependency changed the checkout"
    );
    fs::remove_dir_all(krate).unwrap();
}
