#!/usr/bin/env bash
# Builds fsync_eio.wasm from fsync_eio.c: into OUT_DIR if given (as the tests
# do), else into this folder, with the intermediate files in build/ there.
#
# Bindings from `wit-bindgen c`, a core module from clang and wasi-libc, a
# component from `wasm-tools component new` with the WASI preview1 adapter.
# Needs clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 (Debian),
# wit-bindgen-cli and wasm-tools (crates.io); ../install-toolchains.sh
# installs them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)"
build="$out/build"
mkdir -p "$build"
cd "$here"

# 1. C bindings for the world: plugin.h, plugin.c (the canonical ABI glue)
#    and plugin_component_type.o (the world, embedded in the module).
wit-bindgen c ../../../wit/since-0.1.0 --world plugin --out-dir "$build"

# 2. A core module. wasm32-wasi is WASI preview1; "reactor" means a library
#    whose exports are called many times (its _initialize runs the C
#    constructors first), rather than a command with main().
clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra \
    -I "$build" -o "$build/fsync_eio.core.wasm" \
    fsync_eio.c "$build/plugin.c" "$build/plugin_component_type.o"

# 3. The preview1 adapter: it turns whatever wasi-libc imports from
#    wasi_snapshot_preview1 (fd_write for printf, ...) into WASI preview2
#    imports, which fi provides. It ships inside a crates.io crate.
cargo run --quiet --release --manifest-path adapter/Cargo.toml --target-dir "$build/adapter" \
    > "$build/wasi_snapshot_preview1.reactor.wasm"

# 4. The component.
wasm-tools component new "$build/fsync_eio.core.wasm" \
    --adapt wasi_snapshot_preview1="$build/wasi_snapshot_preview1.reactor.wasm" \
    -o "$out/fsync_eio.wasm"
wasm-tools validate "$out/fsync_eio.wasm"
