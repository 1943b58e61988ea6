# expect: OK
import os
for path in ["/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/cgroup.procs"]:
    try:
        with open(path, "w") as f:
            f.write("max")
        print("ESCAPED: wrote", path)
    except OSError:
        pass
print("done")
