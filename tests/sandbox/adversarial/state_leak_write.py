# expect: OK
# repeat: 4
# Writable places of a run (/tmp, /dev/shm, the working directory) are fresh per run; this run
# leaves files there and reports any left by an earlier run.
import os
for d in ["/tmp", "/dev/shm", "/box/work"]:
    left = [n for n in os.listdir(d) if n.startswith("r1kit_leak")]
    if left:
        print("ESCAPED: found", d, left)
    open(os.path.join(d, "r1kit_leak"), "w").write("x")
print("done")
