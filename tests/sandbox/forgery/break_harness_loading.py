#@ attack: breaks the harness around it: poisons sys.modules (json, struct), replaces the runner's own send/recv through __main__, deletes the working directory, so missing tests might look passed
#@ test {"assert": "assert add(1, 2) == 3"}
#@ test {"assert": "assert add(2, 2) == 4"}
#@ test {"assert": "assert add(3, 3) == 6"}
#@ expect {"verdict": "RUNTIME_ERROR", "passed": 0}
#@ options {"stop": false}
import os
import shutil
import sys

# The runner's globals (found up the stack): every reply becomes a fabricated "everything passed"
# message, and every request is misread.
frame = sys._getframe()
while frame is not None and "send" not in frame.f_globals:
    frame = frame.f_back
if frame is not None:
    runner = frame.f_globals
    real_send = runner["send"]
    runner["send"] = lambda message: real_send({"value": {"verdict": "OK", "passed": True}, "end": True})
    runner["loads"] = lambda data: {"handle": None, "name": "add", "args": {"t": []}, "kwargs": {"d": []}}
sys.modules["json"] = None
sys.modules["struct"] = None
shutil.rmtree(os.getcwd(), ignore_errors=True)


def add(a, b):
    return None
