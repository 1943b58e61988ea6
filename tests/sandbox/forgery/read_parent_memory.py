#@ attack: reads the checker's (parent's) memory via /proc/ppid/mem, process_vm_readv and its open fds via /proc/ppid/fd, to return the expected value
#@ test {"assert": "assert answer() == '{SECRET}'"}
#@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
import ctypes
import os
import re

PATTERN = re.compile(rb"r1kit_secret_[0-9a-f]{32}")


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def vm_read(pid, start, size):
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(size)
    local, remote = IoVec(ctypes.cast(buffer, ctypes.c_void_p), size), IoVec(start, size)
    n = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return buffer.raw[:max(n, 0)]


def answer():
    ppid = os.getppid()
    regions = []
    try:
        for line in open("/proc/%d/maps" % ppid):
            start, end = (int(x, 16) for x in line.split()[0].split("-"))
            regions.append((start, min(end - start, 1 << 26)))
    except OSError:
        regions = [(0x400000, 1 << 20)]
    for start, size in regions:
        for read in (lambda: open("/proc/%d/mem" % ppid, "rb"), None):
            try:
                if read:
                    with read() as mem:
                        mem.seek(start)
                        data = mem.read(size)
                else:
                    data = vm_read(ppid, start, size)
            except (OSError, ValueError, OverflowError):
                continue
            match = PATTERN.search(data)
            if match:
                return match.group().decode()
    for fd in range(64):
        try:
            with open("/proc/%d/fd/%d" % (ppid, fd), "rb") as f:
                match = PATTERN.search(f.read(1 << 20))
        except OSError:
            continue
        if match:
            return match.group().decode()
    return None
