#!/usr/bin/env bash
# Builds fsync_eio.wasm from app.js with jco (componentize-js and the
# StarlingMonkey engine), against the contract in wit/, with jco installed in
# node_modules/ at the versions package-lock.json pins. The component carries
# a JavaScript engine.
set -euo pipefail
cd "$(dirname "$0")"

# Not `npm ci`: jco's lock file names an optional package for a platform that
# npm never published (jco-node-fs-linux-arm64-musl), which `npm ci` rejects.
if [ ! -x node_modules/.bin/jco ]; then
    npm install --no-save --no-audit --no-fund
fi

# fault gives plugins no network: leave out wasi:http and its fetch event.
node_modules/.bin/jco componentize app.js \
    --wit wit --world-name plugin \
    --disable http fetch-event \
    -o fsync_eio.wasm
