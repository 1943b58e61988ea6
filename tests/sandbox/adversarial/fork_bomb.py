# expect: TIME_LIMIT cpu=0.5 wall=1.5 procs=16
# A fork bomb that keeps trying after pids.max refuses it.
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
