# expect: OK
# Syscalls no judged program needs and that have been ways out of sandboxes fail (seccomp), and a
# clone() asking for new namespaces is refused.
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for name, nr in [("io_uring_setup", 425), ("bpf", 321), ("perf_event_open", 298), ("keyctl", 250),
                 ("add_key", 248), ("userfaultfd", 323), ("open_by_handle_at", 304), ("fsopen", 430),
                 ("kexec_load", 246), ("init_module", 175), ("process_vm_readv", 310)]:
    if libc.syscall(nr, 0, 0, 0, 0, 0) >= 0:
        print("ESCAPED: syscall", name)
CLONE_NEWUSER, SIGCHLD = 0x10000000, 17
pid = libc.syscall(56, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
if pid == 0:
    os._exit(0)
if pid > 0:
    os.waitpid(pid, 0)
    print("ESCAPED: clone with CLONE_NEWUSER")
print("done")
