# expect: OK
# kill -9 -1 and signals to pid 1 and the parent reach nothing outside the run.
import os, signal
for target in (1, os.getppid()):
    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
        try:
            os.kill(target, sig)
        except OSError:
            pass
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
print("still here")
