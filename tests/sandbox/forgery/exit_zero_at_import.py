#@ attack: exits with status 0 at import (sys.exit(0)) so that no test runs and nothing fails
#@ test {"assert": "assert add(1, 2) == 3"}
#@ test {"check": "def check(candidate):\n    assert candidate(2, 2) == 4\n", "entry_point": "add"}
#@ expect {"verdict": "RUNTIME_ERROR", "passed": 0}
#@ options {"stop": false}
import sys


def add(a, b):
    return a + b


sys.exit(0)
