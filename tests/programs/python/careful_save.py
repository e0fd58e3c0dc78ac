# Saves a file the careful way: write a temporary file, fsync it, rename
# it into place, fsync the directory; every error is reported and fails
# the program.
import os

tmp = "data.txt.tmp"
with open(tmp, "w") as f:
    f.write("important\n")
    f.flush()
    os.fsync(f.fileno())
os.rename(tmp, "data.txt")
fd = os.open(".", os.O_RDONLY)
try:
    os.fsync(fd)
finally:
    os.close(fd)
print("saved")
