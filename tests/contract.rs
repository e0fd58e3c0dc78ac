//! The plugin contract's promises, kept by fault against real programs: a
//! plugin that declares the files it acts on (`subscription.paths`) is not
//! asked about calls on other files.

mod common;

use common::*;

/// fault with the test's cache directory for compiled plugins kept warm
/// across tests.
fn fault() -> Cmd {
    Cmd::fault().env("XDG_CACHE_HOME", tmp_root().join("cache"))
}

/// `cat FILE` under the wit-bindgen test plugin (subscribed to `openat` and
/// `write`) with `config`, logging every call it is asked about.
fn cat_under_bindgen(file: &std::path::Path, config: &str) -> Outcome {
    let plugin = test_plugin("bindgen");
    fault()
        .arg("--plugin")
        .arg(format!("{}:trace=yes{config}", plugin.display()))
        .arg("--")
        .arg("cat")
        .arg(file)
        .run()
}

/// A plugin declaring `/data/*` is never called for /etc/hostname: neither
/// for the `openat` that names it nor for any other call of `cat`, whose
/// files (its libraries, the terminal or pipe it writes to) match no glob.
/// Without the declaration the same plugin is asked about that `openat`.
#[test]
fn a_plugin_declaring_data_is_never_called_for_etc_hostname() {
    let hostname = std::path::Path::new("/etc/hostname");
    let expected = std::fs::read_to_string(hostname).unwrap();

    let scoped = cat_under_bindgen(hostname, ":paths=/data/*");
    scoped.assert_code(0);
    assert_eq!(scoped.stdout, expected, "{}", scoped.describe());
    assert!(
        lines_with(&scoped.stderr, "asked about").is_empty(),
        "{}",
        scoped.describe()
    );
    assert!(
        scoped.stderr.contains("asked 0 times"),
        "{}",
        scoped.describe()
    );

    let unscoped = cat_under_bindgen(hostname, "");
    unscoped.assert_code(0);
    assert!(
        unscoped.stderr.contains("asked about openat /etc/hostname"),
        "{}",
        unscoped.describe()
    );
}

/// A call on a declared file still reaches the plugin, which decides it:
/// the open of a matching file fails, and only matching calls are asked.
#[test]
fn a_call_on_a_declared_file_reaches_the_plugin() {
    let dir = TestDir::new("contract-paths");
    let target = dir.join("target.txt");
    std::fs::write(&target, "secret\n").unwrap();
    let glob = format!(":paths={}/*:suffix=/target.txt", dir.path().display());
    let out = cat_under_bindgen(&target, &glob);
    out.assert_code(1);
    assert_eq!(out.stdout, "", "{}", out.describe());
    let asked = lines_with(&out.stderr, "asked about");
    let open = format!("asked about openat {}", target.display());
    assert!(
        asked.len() == 1 && asked[0].ends_with(&open),
        "{}",
        out.describe()
    );
    assert!(
        out.stderr.contains("Permission denied"),
        "{}",
        out.describe()
    );
}
