# expect: OK
# ptrace of the parent and of pid 1 (the run's init) must fail.
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
for pid in {1, os.getppid()}:
    for req in (PTRACE_ATTACH, PTRACE_SEIZE):
        if libc.ptrace(req, pid, None, None) == 0:
            print("ESCAPED: ptrace", req, pid)
print("done")
