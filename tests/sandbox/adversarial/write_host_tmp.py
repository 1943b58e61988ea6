# expect: OK
# args: {tmpdir}
# The host's /tmp and the test's own temp dir (by its host path) are not reachable.
import os, sys
targets = ["/tmp/r1kit_escape_tmp", sys.argv[1] + "/r1kit_escape_tmpdir", "/proc/1/root/tmp/r1kit_escape_proc1",
           "/proc/self/root/../tmp/r1kit_escape_dotdot", "/dev/shm/r1kit_escape_shm", "/var/tmp/r1kit_escape_var"]
for path in targets:
    try:
        with open(path, "w") as f:
            f.write("x")
    except OSError:
        pass
print("done")
