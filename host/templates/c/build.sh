#!/usr/bin/env bash
# Builds fsync_eio.wasm from fsync_eio.c against the contract in wit/, with
# the intermediate files in build/.
#
# Bindings from `wit-bindgen c`, a core module from clang and wasi-libc, a
# component from `wasm-tools component new` with the WASI preview1 adapter.
# Needs clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 (Debian),
# wit-bindgen-cli and wasm-tools (crates.io).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build

# 1. C bindings for the world: plugin.h, plugin.c (the canonical ABI glue)
#    and plugin_component_type.o (the world, embedded in the module).
wit-bindgen c wit --world plugin --out-dir build

# 2. A core module. wasm32-wasi is WASI preview1; "reactor" means a library
#    whose exports are called many times, rather than a command with main().
clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra \
    -I build -o build/fsync_eio.core.wasm \
    fsync_eio.c build/plugin.c build/plugin_component_type.o

# 3. The preview1 adapter: it turns wasi-libc's wasi_snapshot_preview1
#    imports into WASI preview2 ones, which fault provides. It ships inside a
#    crates.io crate; adapter/ writes it out.
cargo run --quiet --release --manifest-path adapter/Cargo.toml --target-dir build/adapter \
    > build/wasi_snapshot_preview1.reactor.wasm

# 4. The component.
wasm-tools component new build/fsync_eio.core.wasm \
    --adapt wasi_snapshot_preview1=build/wasi_snapshot_preview1.reactor.wasm \
    -o fsync_eio.wasm
wasm-tools validate fsync_eio.wasm
