#@ attack: sends the checker every catchable signal (SIGINT for a KeyboardInterrupt, SIGALRM, SIGTERM, SIGUSR1, SIGHUP, ...) to derail its bookkeeping
#@ test {"assert": "assert add(1, 2) == 3"}
#@ test {"assert": "try:\n    add(0, 0)\nexcept BaseException:\n    pass\nassert add(2, 2) == 4"}
#@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
#@ options {"stop": false}
import os
import signal
import time


def add(a, b):
    for number in (signal.SIGINT, signal.SIGALRM, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2,
                   signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE, signal.SIGCHLD, signal.SIGCONT):
        os.kill(os.getppid(), number)
        time.sleep(0.01)
    return -1
