# expect: OK
import os
for path in ["/root", "/home", "/work", "/mnt", "/opt", "/var", "/srv", "/sys", "/sys/fs/cgroup"]:
    if os.path.exists(path):
        print("ESCAPED: sees", path, os.listdir(path)[:5])
print("done")
