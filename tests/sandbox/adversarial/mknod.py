# expect: OK
import os, stat
for path, dev in [("/box/work/mem", os.makedev(1, 1)), ("/tmp/disk", os.makedev(8, 0)), ("/dev/r1kit_escape_node", os.makedev(1, 3))]:
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, dev)
        print("ESCAPED: mknod", path)
    except OSError:
        pass
print("done")
