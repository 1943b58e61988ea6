# expect: OK
# The judge harness's pattern: a non-dumpable checker forks the untrusted runner; the runner can
# neither ptrace it nor read its /proc mem, fd or environ.
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
secret_fd = os.open("/box/work/main.py", os.O_RDONLY)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    parent = os.getppid()
    for name in ["mem", "environ", "fd/%d" % secret_fd, "maps", "stack"]:
        try:
            open("/proc/%d/%s" % (parent, name), "rb").read(16)
            print("ESCAPED: read /proc/<checker>/" + name, flush=True)
        except OSError:
            pass
    try:
        os.listdir("/proc/%d/fd" % parent)
        print("ESCAPED: listed /proc/<checker>/fd", flush=True)
    except OSError:
        pass
    if libc.ptrace(16, parent, None, None) == 0:
        print("ESCAPED: ptrace attach to checker", flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("done")
