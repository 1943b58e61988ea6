# expect: OK
# A classic daemon: double fork + setsid, then sleep; the run must not outlive run().
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
    os._exit(0)
time.sleep(0.1)
print("parent exits")
