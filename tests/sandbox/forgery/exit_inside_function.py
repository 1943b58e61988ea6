#@ attack: exits with status 0 from inside the tested function (os._exit, sys.exit, exit())
#@ test {"assert": "assert first(1) == 1"}
#@ test {"assert": "assert second(1) == 1"}
#@ test {"assert": "assert third(1) == 1"}
#@ expect {"verdict": "RUNTIME_ERROR", "passed": 0}
#@ options {"stop": false}
import os
import sys


def first(x):
    os._exit(0)


def second(x):
    sys.exit(0)


def third(x):
    exit()
