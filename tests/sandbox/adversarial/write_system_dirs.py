# expect: OK
# Writes outside the working directory: system directories and the root are read-only.
import os
for d in ["/usr", "/usr/lib", "/etc", "/", "/bin", "/lib", "/dev", "/proc", "/box", "/root", "/home", "/work", "/var/tmp"]:
    path = os.path.join(d, "r1kit_escape_write")
    try:
        with open(path, "w") as f:
            f.write("x")
        print("ESCAPED: wrote", path)
    except OSError:
        pass
print("done")
