# expect: OK
# A child that ignores every catchable signal and sleeps: only SIGKILL of the namespace ends it.
import os, signal, time
if os.fork() == 0:
    for s in range(1, 32):
        try:
            signal.signal(s, signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    time.sleep(60)
    os._exit(0)
print("parent exits")
