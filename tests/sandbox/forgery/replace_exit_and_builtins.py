#@ attack: replaces sys.exit, os._exit, AssertionError, __import__ and other builtins so the harness cannot fail a test
#@ test {"assert": "assert add(1, 2) == 3"}
#@ test {"assert": "import json\nassert json.loads('[1]') == [1] and add(2, 2) == 4"}
#@ expect {"verdict": "RUNTIME_ERROR", "passed": 0}
#@ options {"stop": false}
import builtins
import os
import sys


class Swallow(Exception):
    pass


real_import = builtins.__import__


def fake_import(name, *args, **kwargs):
    module = real_import(name, *args, **kwargs)
    if name == "json":
        module.loads = lambda text, *a, **k: [1]
        module.dumps = lambda *a, **k: '{"verdict": "OK"}'
    return module


sys.exit = lambda *args: None
os._exit = lambda *args: None
builtins.AssertionError = Swallow
builtins.__import__ = fake_import
builtins.isinstance = lambda *args: True
builtins.len = lambda *args: 0
builtins.print = lambda *args, **kwargs: None


def add(a, b):
    return a - b  # wrong on purpose: only a forged verdict could pass it
