# expect: OK
# Unreaped children are gone with the run.
import os
for _ in range(10):
    if os.fork() == 0:
        os._exit(0)
print("made zombies")
