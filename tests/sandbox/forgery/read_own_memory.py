#@ attack: scans its own memory (/proc/self/mem, every mapping) for the tests, in case the process it was forked from held them
#@ test {"assert": "assert answer() == '{SECRET}'"}
#@ test {"check": "def check(candidate):\n    assert candidate() == '{SECRET}'\n", "entry_point": "answer"}
#@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
#@ options {"stop": false, "wall_time": 5, "cpu_time": 4}
import re

PATTERN = re.compile(rb"r1kit_secret_[0-9a-f]{32}")


def answer():
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as mem:
        regions = [line.split()[0].split("-") for line in maps]
        for start, end in regions:
            start, end = int(start, 16), int(end, 16)
            if end - start > 1 << 28:
                continue
            try:
                mem.seek(start)
                match = PATTERN.search(mem.read(end - start))
            except (OSError, ValueError, OverflowError):
                continue
            if match:
                return match.group().decode()
    return None
