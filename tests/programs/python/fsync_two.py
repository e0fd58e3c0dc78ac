# Run as: python3 -c "$(cat fsync_two.py)" FILE1 FILE2
# Opens both files, fsyncs each, and prints one line per file:
#   FILE: ok   or   FILE: OSError errno=NAME
import errno
import os
import sys

for path in sys.argv[1:]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"data\n")
        os.fsync(fd)
        print(f"{path}: ok", flush=True)
    except OSError as e:
        print(f"{path}: OSError errno={errno.errorcode.get(e.errno, e.errno)}", flush=True)
    finally:
        os.close(fd)
