//! The policies built into the fi binary, compiled from `plugins/` by
//! `host/build.rs`.

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// The .wasm bytes of the built-in plugin `name`.
pub fn find(name: &str) -> Option<&'static [u8]> {
    BUILTIN_PLUGINS
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .map(|(_, bytes)| *bytes)
}

/// The names of all built-in plugins.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN_PLUGINS.iter().map(|(name, _)| *name)
}
