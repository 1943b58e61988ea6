# expect: OK
# New namespaces (user namespaces included) and setns into others are refused.
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for flag in (0x10000000, 0x20000, 0x40000000, 0x20000000, 0x08000000, 0x04000000, 0x02000000):
    if libc.unshare(flag) == 0:
        print("ESCAPED: unshare", hex(flag))
for ns in ["mnt", "net", "pid", "user"]:
    try:
        fd = os.open("/proc/1/ns/" + ns, os.O_RDONLY)
        if libc.setns(fd, 0) == 0:
            print("ESCAPED: setns", ns)
    except OSError:
        pass
print("done")
