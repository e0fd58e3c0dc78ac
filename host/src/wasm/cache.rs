//! Compiled plugins, kept on disk so a run pays to deserialize a plugin
//! (about a fifth of a millisecond) rather than to compile it (tens of ms).
//!
//! An entry is named by the SHA-256 of the plugin's bytes and the engine's
//! compatibility hash, and stores a SHA-256 of its own payload: an entry
//! that does not check out is rebuilt, never handed to wasmtime.

use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

use super::notice::CompileNotice;

/// The directory holding compiled plugins: `$XDG_CACHE_HOME/fi/plugins`, or
/// `~/.cache/fi/plugins`; `None` when neither can be found.
fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
    Some(base.join("fi").join("plugins"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn entry_name(engine: &Engine, digest: &[u8; 32]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    format!("{}-{:016x}.cwasm", hex(digest), engine_hash.finish())
}

/// The component for `source` (the plugin `name`, whose bytes have the
/// SHA-256 `digest`), from the cache when a valid entry exists, otherwise
/// compiled (announced if it is large) and stored.
pub fn load(engine: &Engine, source: &[u8], digest: &[u8; 32], name: &str) -> Result<Component> {
    let dir = cache_dir();
    let path = dir.as_ref().map(|dir| dir.join(entry_name(engine, digest)));
    if let Some(component) = path.as_deref().and_then(|path| read_entry(engine, path)) {
        return Ok(component);
    }
    let notice = CompileNotice::start(name, source.len(), dir.is_some());
    let component = Component::new(engine, source)?;
    drop(notice);
    if let (Some(dir), Some(path)) = (dir, path) {
        // A cache that cannot be written only costs time on the next run.
        let _ = write_entry(&dir, &path, &component.serialize()?);
    }
    Ok(component)
}

fn read_entry(engine: &Engine, path: &Path) -> Option<Component> {
    let bytes = fs::read(path).ok()?;
    if bytes.len() < 32 {
        return None;
    }
    let (checksum, payload) = bytes.split_at(32);
    if Sha256::digest(payload).as_slice() != checksum {
        return None;
    }
    // SAFETY: the payload is exactly what `Component::serialize` produced
    // for this engine configuration: its checksum matches, and the entry's
    // name binds it to the source and the engine's compatibility hash.
    unsafe { Component::deserialize(engine, payload) }.ok()
}

fn write_entry(dir: &Path, path: &Path, payload: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut bytes = Sha256::digest(payload).to_vec();
    bytes.extend_from_slice(payload);
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&temporary, bytes)?;
    fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_entry_is_not_trusted() {
        let dir = std::env::temp_dir().join(format!("fi-cache-test-{}", std::process::id()));
        let path = dir.join("entry.cwasm");
        write_entry(&dir, &path, b"payload").unwrap();
        let mut bytes = fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        fs::write(&path, bytes).unwrap();
        assert!(read_entry(&Engine::default(), &path).is_none());
        fs::remove_dir_all(&dir).unwrap();
    }
}
