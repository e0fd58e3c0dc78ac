#!/usr/bin/env bash
# Assembles fsync_eio.wasm from fsync_eio.wat and validates it: into OUT_DIR
# if given (as the tests do), else into this folder. fi also loads the .wat
# file as it is. Needs wasm-tools with its `parse` command
# (../install-toolchains.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)"
cd "$here"

wasm-tools parse fsync_eio.wat -o "$out/fsync_eio.wasm"
wasm-tools validate "$out/fsync_eio.wasm"
