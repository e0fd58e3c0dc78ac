"""save_ack.py naive|careful FILE ACK VALUE: replaces FILE's contents with
VALUE by writing FILE.tmp and renaming it over FILE, then appends VALUE to
ACK (meant to lie outside the crash root: what the program told the world
is saved). "naive" syncs nothing (the textbook unsafe save); "careful"
fsyncs FILE.tmp before the rename and FILE's directory after it.

save_ack.py --check FILE ACK: exits 0 if FILE holds a whole version (a line
"vN") and, if ACK names a version, that one; otherwise says what is wrong
and exits 1."""
import os
import sys

if sys.argv[1] == "--check":
    path, ack = sys.argv[2:4]
    try:
        with open(path) as f:
            held = f.read()
    except FileNotFoundError:
        held = None
    acked = open(ack).read().split() if os.path.exists(ack) else []
    whole = held is not None and held.startswith("v") and held.endswith("\n") \
        and held[1:-1].isdigit()
    if not whole:
        print(f"{path} holds no whole version: {held!r}; acknowledged: {acked}")
        sys.exit(1)
    if acked and held.strip() != acked[-1]:
        print(f"{path} holds {held.strip()}, but {acked[-1]} was acknowledged")
        sys.exit(1)
    print(f"{path} holds {held.strip()}; acknowledged: {acked}")
    sys.exit(0)

how, path, ack, value = sys.argv[1:5]
tmp = path + ".tmp"
fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, (value + "\n").encode())
if how == "careful":
    os.fsync(fd)
os.close(fd)
os.rename(tmp, path)
if how == "careful":
    d = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(d)
    os.close(d)
out = os.open(ack, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
os.write(out, (value + "\n").encode())
os.close(out)
