#!/usr/bin/env bash
# Installs what the example plugins' build.sh scripts (and tests/examples.rs)
# need, at the versions they were verified with. Idempotent: whatever is
# present at the right version is left alone. Runs as root on Debian (CI), or
# as a user with sudo for apt.
#
#   rust        rustup's wasm32-wasip2 target (rust-toolchain.toml pins it)
#   c           clang, lld, wasi-libc, libclang-rt-14-dev-wasm32 (Debian);
#               `fault plugin build` does the rest
#   python      componentize-py (PyPI)
#   javascript  node and npm; jco from javascript/package-lock.json (npm)
#   wat         wasm-tools (crates.io)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

WASM_TOOLS_VERSION=1.263.0
COMPONENTIZE_PY_VERSION=0.25.1

log() { echo "install-toolchains: $*" >&2; }

sudo=()
if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi

# --- Debian packages --------------------------------------------------------
need_apt=()
for pkg in clang lld wasi-libc libclang-rt-14-dev-wasm32; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
command -v python3 >/dev/null || need_apt+=(python3 python3-pip)
if ((${#need_apt[@]})); then
    log "apt-get install ${need_apt[*]}"
    "${sudo[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${need_apt[@]}"
fi

# --- crates.io ----------------------------------------------------------------
# Only the parts the examples use, which builds in a fraction of the time.
if ! wasm-tools --version 2>/dev/null | grep -qx "wasm-tools $WASM_TOOLS_VERSION" ||
    ! wasm-tools parse --help >/dev/null 2>&1; then
    log "cargo install wasm-tools $WASM_TOOLS_VERSION"
    cargo install --locked wasm-tools --version "$WASM_TOOLS_VERSION" \
        --no-default-features --features component,metadata,parse,print,validate
fi

# The Rust example's target (rustup reads fi's rust-toolchain.toml).
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-wasip2; then
    log "rustup target add wasm32-wasip2"
    rustup target add wasm32-wasip2
fi

# --- PyPI -----------------------------------------------------------------------
if ! componentize-py --version 2>/dev/null | grep -qx "componentize-py $COMPONENTIZE_PY_VERSION"; then
    log "pip install componentize-py==$COMPONENTIZE_PY_VERSION"
    # Debian's own python3 refuses system-wide pip installs (PEP 668).
    python3 -m pip install --quiet "componentize-py==$COMPONENTIZE_PY_VERSION" ||
        python3 -m pip install --quiet --break-system-packages "componentize-py==$COMPONENTIZE_PY_VERSION"
    if command -v pyenv >/dev/null; then pyenv rehash; fi
fi

# --- npm --------------------------------------------------------------------------
# Locally, at the versions package-lock.json pins (see javascript/build.sh for
# why not `npm ci`).
if [ ! -x "$here/javascript/node_modules/.bin/jco" ]; then
    log "npm install (javascript/)"
    (cd "$here/javascript" && npm install --no-save --no-audit --no-fund)
fi

log "done"
