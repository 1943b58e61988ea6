#@ attack: walks the filesystem (/, the working directory, /tmp, the host's temp and work directories) for a file holding the tests, and returns the expected value
#@ test {"assert": "assert answer() == '{SECRET}'"}
#@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
#@ options {"wall_time": 8, "cpu_time": 4}
import os
import re
import time

PATTERN = re.compile(rb"r1kit_secret_[0-9a-f]{32}")
SKIP = ("/proc", "/sys", "/dev", "/usr/lib", "/usr/share", "/usr/include", "/usr/lib64", "/usr/libexec")


def answer():
    deadline = time.monotonic() + 2.0
    roots = [os.getcwd(), "/tmp", "/var/tmp", "/dev/shm", "/work", "/root", "/home", "/box", "/"]
    for root in roots:
        for directory, subdirs, files in os.walk(root):
            if directory.startswith(SKIP) or time.monotonic() > deadline:
                subdirs[:] = []
                continue
            for name in files:
                try:
                    with open(os.path.join(directory, name), "rb") as f:
                        match = PATTERN.search(f.read(1 << 20))
                except OSError:
                    continue
                if match:
                    return match.group().decode()
    return None
