//! Compiled plugins, kept on disk so a run pays to deserialize a plugin
//! (about a fifth of a millisecond) rather than to compile it (tens of ms).
//!
//! An entry is named by the SHA-256 of the plugin's bytes and the engine's
//! compatibility hash. It holds what wasmtime serialized, then a CRC-32 of
//! it: an entry that does not check out is rebuilt, never handed to
//! wasmtime. One that does is mapped as it lies on disk, not read and
//! copied (about half a millisecond of every run with a plugin).
//!
//! Each rebuilt plugin adds an entry (a Python or JavaScript one, about
//! 35 MB). Whenever fault stores one, it removes its entries, of any format,
//! that no run has used for [`UNUSED_FOR`], and temporary files left by a
//! write that never finished; nothing else in the directory is touched.

use std::fs;
use std::hash::{Hash, Hasher};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Result;
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

/// The name of the entry for the plugin of SHA-256 `digest` compiled by
/// `engine`. The `.v2` is the entry's format (a trailer, see
/// [`TRAILER_MAGIC`]): builds that read another format keep their own
/// entries instead of replacing these at every run.
fn entry_name(engine: &Engine, digest: &[u8; 32]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    format!("{}-{:016x}.v2.cwasm", hex(digest), engine_hash.finish())
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
        if write_entry(&dir, &path, &component.serialize()?).is_ok() {
            prune(&dir, SystemTime::now());
        }
    }
    Ok(component)
}

/// The last bytes of an entry: the CRC-32 of the bytes before it
/// (little-endian), then [`TRAILER_MAGIC`].
const TRAILER_LEN: usize = 4 + TRAILER_MAGIC.len();

/// Ends every entry written in this format; an entry without it (an older
/// format, a torn write) is rebuilt.
const TRAILER_MAGIC: &[u8; 8] = b"fi-crc32";

/// The component an entry holds, mapped from the file rather than copied,
/// if its checksum holds.
fn read_entry(engine: &Engine, path: &Path) -> Option<Component> {
    let file = fs::File::open(path).ok()?;
    // SAFETY: the mapping is only read, and dropped before wasmtime maps
    // the file itself. Entries are replaced by rename, never written in
    // place, so the open file's bytes do not change under it.
    let mapped = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    if !checks_out(&mapped) {
        return None;
    }
    drop(mapped);
    // The file already open and checked, not whatever the name holds now.
    let opened = format!("/proc/self/fd/{}", file.as_raw_fd());
    // SAFETY: the file is exactly what `Component::serialize` produced for
    // this engine configuration, with the trailer `write_entry` adds: its
    // checksum holds, and the entry's name binds it to the source and the
    // engine's compatibility hash. wasmtime reads the serialized ELF object
    // by the offsets in its header, so the trailer after it is not read.
    unsafe { Component::deserialize_file(engine, opened) }.ok()
}

/// Whether `entry` ends in a trailer whose checksum matches the rest.
fn checks_out(entry: &[u8]) -> bool {
    let Some(split) = entry.len().checked_sub(TRAILER_LEN) else {
        return false;
    };
    let (payload, trailer) = entry.split_at(split);
    let (checksum, magic) = trailer.split_at(4);
    magic == TRAILER_MAGIC && checksum == crc32fast::hash(payload).to_le_bytes()
}

fn write_entry(dir: &Path, path: &Path, payload: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut bytes = Vec::with_capacity(payload.len() + TRAILER_LEN);
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    bytes.extend_from_slice(TRAILER_MAGIC);
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&temporary, bytes)?;
    fs::rename(&temporary, path)
}

/// How long an entry stays unused before [`prune`] removes it.
const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Remove the entries in `dir` last used (read or written: the later of
/// their access and modification times) more than [`UNUSED_FOR`] before
/// `now`. A mount without access times counts an entry in use as unused a
/// month after it was written: it is compiled again once.
fn prune(dir: &Path, now: SystemTime) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|name| is_entry_name(name)) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let used = [meta.accessed(), meta.modified()]
            .into_iter()
            .flatten()
            .max();
        let unused = used.and_then(|used| now.duration_since(used).ok());
        if unused.is_some_and(|unused| unused > UNUSED_FOR) && meta.is_file() {
            let _ = fs::remove_file(dir.join(name));
        }
    }
}

/// Whether `name` is one fault gives an entry or its temporary file, in
/// this format or an older one: `{SHA-256}-{engine}.v2.cwasm`,
/// `{SHA-256}-{engine}.cwasm`, `{SHA-256}-{engine}[.v2].tmp{pid}`.
fn is_entry_name(name: &str) -> bool {
    let hex_of =
        |text: &str, len: usize| text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit());
    let Some((digest, rest)) = name.split_once('-') else {
        return false;
    };
    let Some((engine, suffix)) = rest.split_once('.') else {
        return false;
    };
    let suffix = suffix.strip_prefix("v2.").unwrap_or(suffix);
    let temporary = suffix
        .strip_prefix("tmp")
        .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
    hex_of(digest, 64) && hex_of(engine, 16) && (suffix == "cwasm" || temporary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of the test's own, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(test: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("fi-cache-{test}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A component exporting one function, serialized by `engine`.
    fn serialized(engine: &Engine) -> Vec<u8> {
        let wat = r#"(component
            (core module $m (func (export "f") (result i32) i32.const 7))
            (core instance $i (instantiate $m))
            (func (export "f") (result u32) (canon lift (core func $i "f"))))"#;
        let bytes = wat::parse_str(wat).unwrap();
        Component::new(engine, bytes).unwrap().serialize().unwrap()
    }

    #[test]
    fn an_entry_written_is_read_back_as_the_same_component() {
        let engine = Engine::default();
        let scratch = Scratch::new("round-trip");
        let path = scratch.0.join("entry.cwasm");
        write_entry(&scratch.0, &path, &serialized(&engine)).unwrap();
        let component = read_entry(&engine, &path).expect("the entry is read back");
        let exports: Vec<String> = component
            .component_type()
            .exports(&engine)
            .map(|(name, _)| name.to_string())
            .collect();
        assert_eq!(exports, ["f"]);
    }

    #[test]
    fn a_corrupt_torn_or_older_entry_is_not_trusted() {
        let engine = Engine::default();
        let scratch = Scratch::new("corrupt");
        let path = scratch.0.join("entry.cwasm");
        let payload = serialized(&engine);
        write_entry(&scratch.0, &path, &payload).unwrap();
        let whole = fs::read(&path).unwrap();
        let mut flipped = whole.clone();
        flipped[payload.len() / 2] ^= 1;
        let torn = whole[..whole.len() - 100].to_vec();
        // The format before this one: a SHA-256 of the payload, then it.
        let older = [&[0u8; 32][..], &payload].concat();
        for (what, bytes) in [("flipped", flipped), ("torn", torn), ("older", older)] {
            fs::write(&path, bytes).unwrap();
            assert!(read_entry(&engine, &path).is_none(), "{what}");
        }
    }

    #[test]
    fn entries_unused_for_a_month_are_removed_and_nothing_else() {
        let scratch = Scratch::new("prune");
        fs::create_dir_all(&scratch.0).unwrap();
        let entry = |format: &str| format!("{}-{}.{format}", "ab".repeat(32), "0f".repeat(8));
        let now = SystemTime::now();
        let days_ago = |days: u64| now - Duration::from_secs(days * 24 * 60 * 60);
        let files = [
            (entry("v2.cwasm"), days_ago(40), false),
            (entry("cwasm"), days_ago(40), false),
            (entry("v2.tmp4242"), days_ago(40), false),
            (
                format!("{}-{}.v2.cwasm", "cd".repeat(32), "0f".repeat(8)),
                days_ago(3),
                true,
            ),
            ("notes.cwasm".to_string(), days_ago(40), true),
            (entry("v2.cwasm.bak"), days_ago(40), true),
        ];
        for (name, used, _) in &files {
            let path = scratch.0.join(name);
            fs::write(&path, "x").unwrap();
            let times = fs::FileTimes::new().set_accessed(*used).set_modified(*used);
            fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_times(times)
                .unwrap();
        }
        prune(&scratch.0, now);
        for (name, _, kept) in &files {
            assert_eq!(scratch.0.join(name).exists(), *kept, "{name}");
        }
    }
}
