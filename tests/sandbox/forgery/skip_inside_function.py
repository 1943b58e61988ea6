#@ attack: raises skip-like exceptions (SkipTest, SystemExit, KeyboardInterrupt, GeneratorExit, a BaseException subclass) from the function, also inside tests that catch broadly
#@ test {"assert": "assert skip(1) == 1"}
#@ test {"assert": "assert system_exit(1) == 1"}
#@ test {"assert": "assert interrupt(1) == 1"}
#@ test {"assert": "assert generator_exit(1) == 1"}
#@ test {"assert": "assert custom(1) == 1"}
#@ test {"check": "def check(candidate):\n    try:\n        assert candidate(1) == 1\n    except BaseException:\n        pass\n", "entry_point": "system_exit"}
#@ expect {"verdict": "RUNTIME_ERROR", "passed": 0}
#@ options {"stop": false}
import unittest


class Escape(BaseException):
    pass


def skip(x):
    raise unittest.SkipTest("skipped")


def system_exit(x):
    raise SystemExit(0)


def interrupt(x):
    raise KeyboardInterrupt()


def generator_exit(x):
    raise GeneratorExit()


def custom(x):
    raise Escape()
