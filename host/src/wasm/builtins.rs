//! The policies built into the fi binary, compiled from `plugins/` by
//! `host/build.rs`.

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// A plugin built into the fi binary.
pub struct Builtin {
    /// Its name (`short-write`): its directory under `plugins/`.
    pub name: &'static str,
    /// The component, as `host/build.rs` built it.
    pub bytes: &'static [u8],
    /// The SHA-256 of `bytes`, computed at build time.
    pub digest: [u8; 32],
}

/// The built-in plugin `name` means, with `_` accepted for `-`
/// (`short_write` is `short-write`).
pub fn find(name: &str) -> Option<&'static Builtin> {
    let name = name.replace('_', "-");
    BUILTIN_PLUGINS.iter().find(|builtin| builtin.name == name)
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
    find(stem).map(|builtin| builtin.name)
}

/// The names of all built-in plugins.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN_PLUGINS.iter().map(|builtin| builtin.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn underscores_and_file_endings_still_find_the_built_in() {
        assert_eq!(
            find("short_write").map(|builtin| builtin.name),
            Some("short-write")
        );
        assert_eq!(meant_by_file("short_write.wasm"), Some("short-write"));
        assert_eq!(
            meant_by_file("./plugins/fsync-fail.wat"),
            Some("fsync-fail")
        );
        assert_eq!(meant_by_file("mine.wasm"), None);
    }

    /// The loader trusts both of these for a built-in, rather than taking
    /// them again at every run.
    #[test]
    fn every_built_in_is_named_by_its_digest_and_built_for_this_contract() {
        use sha2::{Digest, Sha256};
        for builtin in BUILTIN_PLUGINS {
            assert_eq!(
                Sha256::digest(builtin.bytes)[..],
                builtin.digest[..],
                "{}",
                builtin.name
            );
            super::super::world::check(builtin.bytes).unwrap();
        }
    }
}
