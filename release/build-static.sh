#!/usr/bin/env bash
# Builds `fault` as one static executable for x86_64 Linux: the musl target,
# the built-in plugins embedded, nothing to load at run time (no Rust, no
# libc, no dynamic loader). Prints the path of the binary; writes its
# SHA-256 beside it as NAME.sha256 (`sha256sum -c` format).
#
#   bash release/build-static.sh        # target/x86_64-unknown-linux-musl/release/fault
#
# The release workflow (.github/workflows/release.yml) uploads both files.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-musl
# Crates with C parts build it with musl's compiler wrapper.
if ! command -v x86_64-linux-musl-gcc >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y musl-tools >&2
    else
        echo "build-static: x86_64-linux-musl-gcc not found: install musl-tools" >&2
        exit 1
    fi
fi
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target" >&2
fi
cargo build --locked --release --target "$target" -p fi --bin fault >&2

binary="${CARGO_TARGET_DIR:-target}/$target/release/fault"
if ! file_type=$(od -An -tx1 -N4 "$binary") || [ "$(echo $file_type)" != "7f 45 4c 46" ]; then
    echo "build-static: $binary is not an ELF executable" >&2
    exit 1
fi
# A static executable has no program interpreter (PT_INTERP).
if readelf -l "$binary" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    echo "build-static: $binary is dynamically linked" >&2
    exit 1
fi
(cd "$(dirname "$binary")" && sha256sum fault >fault.sha256)
echo "$binary"
