#@ attack: ptrace-attaches the checker (PTRACE_ATTACH and PTRACE_SEIZE on the parent) to read its memory or rewrite its verdicts
#@ test {"assert": "assert answer() == '{SECRET}'"}
#@ test {"assert": "assert attached() == 0"}
#@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
#@ options {"stop": false}
import ctypes
import os
import re

PTRACE_PEEKDATA, PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SEIZE = 2, 16, 17, 0x4206
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def attached():
    # 0 would mean the attach worked; the test wants 0 so that a working attach "passes".
    ppid = os.getppid()
    if libc.ptrace(PTRACE_ATTACH, ppid, None, None) == 0:
        return 0
    if libc.ptrace(PTRACE_SEIZE, ppid, None, None) == 0:
        return 0
    return ctypes.get_errno()


def answer():
    ppid = os.getppid()
    if libc.ptrace(PTRACE_ATTACH, ppid, None, None) != 0 and libc.ptrace(PTRACE_SEIZE, ppid, None, None) != 0:
        return None
    os.waitpid(ppid, 0)
    data = bytearray()
    for line in open("/proc/%d/maps" % ppid):
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        for address in range(start, min(end, start + (1 << 20)), 8):
            word = libc.ptrace(PTRACE_PEEKDATA, ppid, ctypes.c_void_p(address), None)
            data += (word & (2**64 - 1)).to_bytes(8, "little")
    libc.ptrace(PTRACE_DETACH, ppid, None, None)
    match = re.search(rb"r1kit_secret_[0-9a-f]{32}", bytes(data))
    return match.group().decode() if match else None
