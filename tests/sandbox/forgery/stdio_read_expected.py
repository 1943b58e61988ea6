#@ attack: a stdio program that looks for the expected output (filesystem, /proc of every process, environment, its own stdin) and prints it
#@ test {"stdin": "1 2\n", "expected_stdout": "{SECRET}\n"}
#@ test {"stdin": "2 2\n", "expected_stdout": "{SECRET}\n", "compare": "exact"}
#@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
#@ options {"stop": false, "wall_time": 5, "cpu_time": 4}
import os
import re
import sys
import time

PATTERN = re.compile(rb"r1kit_secret_[0-9a-f]{32}")
deadline = time.monotonic() + 3.0


def search(path):
    try:
        with open(path, "rb") as f:
            match = PATTERN.search(f.read(1 << 20))
    except OSError:
        return None
    return match.group().decode() if match else None


def candidates():
    yield from ("/proc/%s/%s" % (pid, what) for pid in os.listdir("/proc") if pid.isdigit()
                for what in ("cmdline", "environ", "fd/0", "fd/1", "fd/3", "fd/4"))
    for root in ("/tmp", "/var/tmp", "/dev/shm", os.getcwd(), "/work", "/root", "/box", "/"):
        for directory, subdirs, files in os.walk(root):
            if directory.startswith(("/proc", "/sys", "/dev", "/usr")) or time.monotonic() > deadline:
                subdirs[:] = []
                continue
            yield from (os.path.join(directory, name) for name in files)


found = PATTERN.search(sys.stdin.buffer.read() + repr(os.environ).encode())
answer = found.group().decode() if found else None
for path in candidates():
    if answer:
        break
    answer = search(path)
print(answer or "nothing found")
