"""Prints time.time() and time.monotonic(), read through the vDSO:

    now S.N
    monotonic S.N
"""

import time

print(f"now {time.time():.6f}")
print(f"monotonic {time.monotonic():.6f}")
