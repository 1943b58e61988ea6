#@ attack: kill -9 -1 at import: signals every process it can reach (the checker, the run's init)
#@ test {"assert": "assert add(1, 2) == 3"}
#@ expect {"verdict": "RUNTIME_ERROR", "passed": 0}
import os
import signal


def add(a, b):
    return a + b


os.kill(-1, signal.SIGKILL)
