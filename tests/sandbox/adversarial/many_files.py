# expect: OK nofile=32
# Opening files stops at RLIMIT_NOFILE.
import os
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    pass
if len(fds) > 32:
    print("ESCAPED: opened", len(fds))
print("opened", len(fds))
