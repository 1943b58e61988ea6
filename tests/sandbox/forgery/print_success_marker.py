#@ attack: prints the harness's success records (guessed nonces, every plausible marker) to stdout, stderr, /dev/tty and the parent's and pid 1's fds
#@ test {"assert": "assert add(1, 2) == 3"}
#@ test {"assert": "assert add(2, 2) == 4"}
#@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
#@ options {"stop": false}
import json
import os
import sys

LINES = []
for nonce in ("", "0" * 32, "f" * 32, None):
    for test in range(4):
        LINES.append(json.dumps({"nonce": nonce, "test": test, "verdict": "OK", "detail": ""}))
    LINES.append(json.dumps({"nonce": nonce, "end": True, "reported": 2}))
TEXT = ("\n".join(LINES + ["OK", "PASSED", "All tests passed", "__R1KIT_OK__"]) + "\n").encode()


def shout():
    for fd in (1, 2):
        try:
            os.write(fd, TEXT)
        except OSError:
            pass
    sys.stdout.write(TEXT.decode())
    for path in ["/dev/tty", "/dev/console", "/proc/1/fd/1", "/proc/%d/fd/1" % os.getppid()] + \
            ["/proc/%d/fd/%d" % (os.getppid(), fd) for fd in range(3, 16)]:
        try:
            with open(path, "wb") as f:
                f.write(TEXT)
        except OSError:
            pass


shout()


def add(a, b):
    shout()
    return 0
