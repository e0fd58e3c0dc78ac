# Saves a file, swallows a failed fsync and says "saved" anyway.
import os

with open("data.txt", "w") as f:
    f.write("important\n")
    f.flush()
    try:
        os.fsync(f.fileno())
    except OSError:
        pass
print("saved")
