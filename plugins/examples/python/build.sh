#!/usr/bin/env bash
# Builds fsync_eio.wasm from app.py with componentize-py (pip install
# componentize-py): into OUT_DIR if given (as the tests do), else into this
# folder. The component carries a whole CPython.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)"

if [ "$out" = "$here" ]; then
    cd "$here"
    componentize-py -d ../../../wit -w plugin componentize app -o fsync_eio.wasm
else
    # From a copy, so that nothing (__pycache__) lands in the source folder.
    mkdir -p "$out/src"
    cp "$here/app.py" "$out/src/"
    cd "$out/src"
    componentize-py -d "$here/../../../wit" -w plugin componentize app -o "$out/fsync_eio.wasm"
fi
