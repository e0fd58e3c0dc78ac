#!/usr/bin/env bash
# Builds fsync_eio.wasm from app.py with componentize-py (pip install
# componentize-py==0.25.1), against the contract in wit/. The component
# carries a whole CPython.
set -euo pipefail
cd "$(dirname "$0")"
componentize-py -d wit -w plugin componentize app -o fsync_eio.wasm
