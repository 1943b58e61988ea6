#@ attack: raises unittest.SkipTest at import, as test runners treat it as "skipped", not failed
#@ test {"assert": "assert add(1, 2) == 3"}
#@ expect {"verdict": "RUNTIME_ERROR", "passed": 0}
import unittest


def add(a, b):
    return a + b


raise unittest.SkipTest("nothing to see here")
