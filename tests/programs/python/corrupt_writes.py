"""Writes to FILE and reads back what a later read sees, for the `corrupt`
plugin's write modes. `positioned`: two pwrites of 4096 bytes at offset 0
(the second is the one to corrupt, with when=2), then a pread of 8192.
`append`: three writes on an O_APPEND descriptor, then the file read back."""

import os
import sys

how, path = sys.argv[1], sys.argv[2]
if how == "positioned":
    old = bytes(range(256)) * 16
    new = bytearray(b"N" * 4096)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(fd, old, 0)
    print("returned", os.pwrite(fd, new, 0))
    print("buffer intact", new == bytearray(b"N" * 4096))
    seen = os.pread(fd, 8192, 0)
    first = seen[:4096]
    flipped = sum(bin(a ^ b).count("1") for a, b in zip(first, new))
    if first == new:
        print("at 0: new")
    elif first == old:
        print("at 0: old")
    else:
        print("at 0: new with", flipped, "bits flipped")
    if len(seen) > 4096:
        print("at 4096:", "new" if seen[4096:] == new else "other")
    print("size", os.fstat(fd).st_size)
else:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    for line in (b"first\n", b"second\n", b"third\n"):
        print("returned", os.write(fd, line))
    print("file", repr(os.pread(fd, 100, 0)))
