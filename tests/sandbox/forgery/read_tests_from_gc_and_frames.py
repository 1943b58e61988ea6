#@ attack: looks for the tests in its own interpreter: gc objects, the call stack (inspect frames), sys.modules, the __main__ module and sys.argv
#@ test {"assert": "assert answer() == '{SECRET}'"}
#@ test {"check": "def check(candidate):\n    expected = '{SECRET}'\n    assert candidate() == expected\n", "entry_point": "answer"}
#@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
#@ options {"stop": false}
import gc
import inspect
import re
import sys

PATTERN = re.compile(r"r1kit_secret_[0-9a-f]{32}")


def scan(value):
    try:
        match = PATTERN.search(value if isinstance(value, str) else repr(value)[:100000])
    except Exception:
        return None
    return match.group() if match else None


def answer():
    for frame in inspect.stack():
        for value in list(frame.frame.f_locals.values()) + list(frame.frame.f_globals.values()):
            hit = scan(value)
            if hit:
                return hit
    for name, module in list(sys.modules.items()):
        hit = scan(getattr(module, "__dict__", {}))
        if hit:
            return hit
    for value in sys.argv:
        hit = scan(value)
        if hit:
            return hit
    for obj in gc.get_objects():
        hit = scan(obj)
        if hit:
            return hit
    return None
