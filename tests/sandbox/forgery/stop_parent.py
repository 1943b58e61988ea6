#@ attack: freezes the checker with SIGSTOP (and SIGTSTP) so that it never reports a failure
#@ test {"assert": "assert add(1, 2) == 3"}
#@ expect {"verdict": "TIME_LIMIT", "passed": 0}
#@ options {"wall_time": 1, "cpu_time": 1}
import os
import signal


def add(a, b):
    os.kill(os.getppid(), signal.SIGTSTP)
    os.kill(os.getppid(), signal.SIGSTOP)
    return a + b
