//! The policies built into the fi binary, compiled from `plugins/` by
//! `host/build.rs`.

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// The built-in plugin `name` means, with `_` accepted for `-`
/// (`short_write` is `short-write`), and its .wasm bytes.
pub fn find(name: &str) -> Option<(&'static str, &'static [u8])> {
    let name = name.replace('_', "-");
    BUILTIN_PLUGINS
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .copied()
}

/// The built-in a plugin file that does not exist was probably meant to
/// be: its file name without `.wasm` or `.wat` (`short_write.wasm` means
/// `short-write`).
pub fn meant_by_file(path: &str) -> Option<&'static str> {
    let file = Path::new(path).file_name()?.to_str()?;
    let stem = file
        .strip_suffix(".wasm")
        .or_else(|| file.strip_suffix(".wat"))
        .unwrap_or(file);
    find(stem).map(|(name, _)| name)
}

/// The names of all built-in plugins.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN_PLUGINS.iter().map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn underscores_and_file_endings_still_find_the_built_in() {
        assert_eq!(
            find("short_write").map(|(name, _)| name),
            Some("short-write")
        );
        assert_eq!(meant_by_file("short_write.wasm"), Some("short-write"));
        assert_eq!(
            meant_by_file("./plugins/fsync-fail.wat"),
            Some("fsync-fail")
        );
        assert_eq!(meant_by_file("mine.wasm"), None);
    }
}
