#@ attack: kills its parent, the checker (os.kill(os.getppid(), SIGKILL)), mid-test, so that no failure is ever reported
#@ test {"assert": "assert add(1, 2) == 3"}
#@ test {"assert": "assert add(2, 2) == 4"}
#@ expect {"verdict": "RUNTIME_ERROR", "passed": 0}
#@ options {"stop": false}
import os
import signal


def add(a, b):
    os.kill(os.getppid(), signal.SIGKILL)
    return a + b
