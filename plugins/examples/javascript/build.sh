#!/usr/bin/env bash
# Builds fsync_eio.wasm from app.js with jco (componentize-js and the
# StarlingMonkey engine): into OUT_DIR if given (as the tests do), else into
# this folder, with jco installed in node_modules/ there at the versions
# package-lock.json pins. The component carries a JavaScript engine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)"
cd "$here"

# Not `npm ci`: jco's lock file names an optional package for a platform that
# npm never published (jco-node-fs-linux-arm64-musl), which `npm ci` rejects.
if [ ! -x "$out/node_modules/.bin/jco" ]; then
    [ "$out" = "$here" ] || cp package.json package-lock.json "$out/"
    npm install --prefix "$out" --no-save --no-audit --no-fund
fi

# fi gives plugins no network: leave out wasi:http and its fetch event.
"$out/node_modules/.bin/jco" componentize app.js \
    --wit ../../../wit --world-name plugin \
    --disable http fetch-event \
    -o "$out/fsync_eio.wasm"
