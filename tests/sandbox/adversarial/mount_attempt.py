# expect: OK
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for src, dst, fs in [(b"tmpfs", b"/box/work", b"tmpfs"), (b"proc", b"/box/work", b"proc"), (b"/", b"/box/work", None)]:
    if libc.mount(src, dst, fs, 4096 if fs is None else 0, None) == 0:
        print("ESCAPED: mounted", dst)
if libc.umount2(b"/proc", 2) == 0 or libc.umount2(b"/tmp", 2) == 0:
    print("ESCAPED: unmounted")
print("done")
