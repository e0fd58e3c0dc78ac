#!/usr/bin/env bash
# Builds `fault` as one static executable for x86_64 Linux: glibc linked in
# statically (crt-static), the built-in plugins embedded, nothing to load at
# run time (no Rust, no shared libc, no dynamic loader). Prints the path of
# the binary; writes its SHA-256 beside it as fault.sha256 (`sha256sum -c`
# format).
#
#   bash release/build-static.sh   # target/x86_64-unknown-linux-gnu/release/fault
#
# The release workflow (.github/workflows/release.yml) uploads both files.
# (The musl target would need fault's ptrace and renameat2 calls written
# against musl's libc bindings, which lack PTRACE_GET_SYSCALL_INFO.)
set -euo pipefail
cd "$(dirname "$0")/.."

# With --target, the flags reach fault's own code only, not build scripts.
target=x86_64-unknown-linux-gnu
RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --locked --release --target "$target" -p fi --bin fault >&2

binary="${CARGO_TARGET_DIR:-target}/$target/release/fault"
# A static executable has no program interpreter (PT_INTERP).
if readelf -l "$binary" | grep -q 'Requesting program interpreter'; then
    echo "build-static: $binary is dynamically linked" >&2
    exit 1
fi
(cd "$(dirname "$binary")" && sha256sum fault >fault.sha256)
echo "$binary"
