# expect: OK tmp=4 fsize=64
# Filling /tmp stops at the tmpfs size (ENOSPC), not at the host's disk.
import os
written = 0
try:
    with open("/tmp/fill", "wb") as f:
        while True:
            f.write(b"\0" * 65536)
            f.flush()
            written += 65536
except OSError as e:
    pass
if written > 5 << 20:
    print("ESCAPED: wrote", written)
print("done", written)
