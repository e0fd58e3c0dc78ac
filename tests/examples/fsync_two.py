"""The program the example policies are tried on.

Usage: fsync_two.py DIR [ROUNDS [CALL]]

Writes DIR/a and DIR/b, then ROUNDS times (default 1) syncs each with CALL
(fsync, the default, or fdatasync) and prints `NAME: ok` or `NAME: EIO`.
"""

import errno
import os
import sys

directory = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
sync = getattr(os, sys.argv[3] if len(sys.argv) > 3 else "fsync")

files = {}
for name in ("a", "b"):
    fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"some data\n")
    files[name] = fd

for _ in range(rounds):
    for name, fd in files.items():
        try:
            sync(fd)
            print(f"{name}: ok", flush=True)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            print(f"{name}: EIO", flush=True)

for fd in files.values():
    os.close(fd)
