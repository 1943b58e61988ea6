#@ attack: os._exit(0) at import: the process ends at once, skipping every handler and report
#@ test {"assert": "assert add(1, 2) == 3"}
#@ test {"assert": "assert add(2, 2) == 4"}
#@ expect {"verdict": "RUNTIME_ERROR", "passed": 0}
#@ options {"stop": false}
import os


def add(a, b):
    return a + b


os._exit(0)
