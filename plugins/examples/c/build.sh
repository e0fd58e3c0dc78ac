#!/usr/bin/env bash
# Builds fsync_eio.wasm from fsync_eio.c with `fault plugin build`: into
# OUT_DIR if given (as the tests do), else into this folder, with the
# intermediate files (the bindings, the core module) in build/ beside it.
#
# Needs clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 (Debian), and
# nothing else: fault generates the bindings and makes the component with
# the WASI preview1 adapter itself. FAULT names the fault to use (default:
# the one on PATH).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)"
"${FAULT:-fault}" plugin build "$here" -o "$out/fsync_eio.wasm"
