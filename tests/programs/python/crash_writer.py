"""crash_writer.py FILE sync|nosync ACK: replaces FILE's contents with
"version 2" lines (open(..., "w") truncates it), flushes and fsyncs with
"sync", then writes "ack" to ACK (meant to lie outside the crash root: the
moment the program tells the world the data is safe) and exits 0."""
import os
import sys

path, mode, ack = sys.argv[1:4]
with open(path, "w") as f:
    f.write("version 2\n" * 100)
    f.flush()
    if mode == "sync":
        os.fsync(f.fileno())
with open(ack, "w") as f:
    f.write("ack\n")
