#!/usr/bin/env bash
# Builds fsync_eio.wasm with fi's Rust SDK: into OUT_DIR if given (as the
# tests do), else into this folder. Needs rustup's wasm32-wasip2 target
# (fi's rust-toolchain.toml installs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)"
cd "$here"

cargo build --release --target wasm32-wasip2 --target-dir "$out/target"
cp "$out/target/wasm32-wasip2/release/fsync_eio.wasm" "$out/fsync_eio.wasm"
