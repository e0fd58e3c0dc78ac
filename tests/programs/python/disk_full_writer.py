"""disk_full_writer.py DIR CHUNK: fills DIR the way a program fills a disk.

Writes DIR/first in CHUNK-byte os.write calls until one fails, deletes it,
then writes CHUNK bytes to DIR/second. Prints what it saw, one fact a line:

    statvfs: size=S free=F          (before, then after each step)
    first: wrote N bytes, then ENOSPC: No space left on device
    first: size N
    second: size N
"""

import errno
import os
import sys


def statvfs(directory):
    st = os.statvfs(directory)
    print(f"statvfs: size={st.f_blocks * st.f_frsize} free={st.f_bavail * st.f_frsize}")


def main():
    directory, chunk = sys.argv[1], int(sys.argv[2])
    statvfs(directory)
    first = os.path.join(directory, "first")
    fd = os.open(first, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    written = 0
    try:
        while True:
            written += os.write(fd, b"x" * chunk)
    except OSError as e:
        print(f"first: wrote {written} bytes, then {errno.errorcode[e.errno]}: {e.strerror}")
    os.close(fd)
    print(f"first: size {os.path.getsize(first)}")
    statvfs(directory)
    os.remove(first)
    statvfs(directory)
    second = os.path.join(directory, "second")
    with open(second, "wb") as f:
        f.write(b"y" * chunk)
    print(f"second: size {os.path.getsize(second)}")
    statvfs(directory)


if __name__ == "__main__":
    main()
