// The warm fork server each worker runs (python3 -I -B -c), kept as Python source here so the
// library needs no installed data file. docs/sandbox.md describes the protocol and process tree:
//   server (pid 2 of the worker's pid namespace, bwrap is 1): per run, unshare(CLONE_NEWPID) and
//      fork, so that the child is pid 1 of a fresh pid namespace, then setns back to its own;
//   G (that child): reports "P seq" (the host reads G's host pid from SO_PASSCRED and moves G into
//      the run's cgroups), reads the request, unshares mount and ipc namespaces, mounts /proc
//      (/proc/sys read-only); on "G seq" unshares the cgroup namespace, mounts the run's
//      size-limited tmpfs (/box: work/, tmp/ bound on /tmp, shm/ on /dev/shm), writes the files,
//      forks H, drops every capability, is non-dumpable, and when H ends sends "X seq status" and
//      exits, which kills whatever else is left in the namespace;
//   H: takes the run's stdin/stdout/stderr, rlimits, chdir, becomes uid 1000 without capabilities
//      (bounding set, ambient, securebits locked, no_new_privs), installs a seccomp filter, closes
//      every other fd, then runs the Python source in a fresh __main__ (no interpreter start) or execve()s the program.
// Request (memfd): one JSON header line, then the program blob, then each file's bytes.
#include "sandbox/internal/worker.h"

namespace r1::sandbox::internal {

extern const char kForkServerSource[] = R"PY(
import builtins, ctypes, gc, io, json, os, resource, select, signal, socket, struct, sys, traceback, types
import atexit, threading
# Warm modules for the programs (imported once here, shared copy-on-write by every run).
import array, bisect, collections, copy, dataclasses, decimal, fractions, functools, heapq
import itertools, math, operator, random, re, statistics, string, textwrap, typing

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
LIBC.setns.argtypes = [ctypes.c_int, ctypes.c_int]
LIBC.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
CTL = socket.socket(fileno=3)
CAP_LAST = int(open('/proc/sys/kernel/cap_last_cap').read())
OWN_PID_NS = os.open('/proc/self/ns/pid', os.O_RDONLY)
NEWNS, NEWCGROUP, NEWIPC, NEWPID = 0x20000, 0x2000000, 0x8000000, 0x20000000
RDONLY, NOSUID, NODEV, NOEXEC, REMOUNT, BIND, REC, PRIVATE = 1, 2, 4, 8, 32, 4096, 16384, 1 << 18
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 4, 24, 28, 38, 47
WORK = '/box/work'
PROGRAM_UID = 1000  # the program's uid inside (mapped to the host uid after the sandbox's own)


def check(rc, what):
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, '%s: %s' % (what, os.strerror(err)))


def mount(src, dst, fstype, flags, data=None):
    check(LIBC.mount(src.encode(), dst.encode(), fstype.encode() if fstype else None, flags,
                     data.encode() if data else None), 'mount ' + dst)


def send(text):
    CTL.send(text.encode('utf-8', 'replace')[:60000])


def read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b''.join(chunks)
        chunks.append(chunk)


def write_file(path, data, mode):
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent)
        for d in range(len(WORK) + 1, len(parent) + 1):
            if d == len(parent) or parent[d] == '/':
                os.chown(parent[:d], PROGRAM_UID, PROGRAM_UID)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.close(fd)
    os.chmod(path, mode)
    os.chown(path, PROGRAM_UID, PROGRAM_UID)


def prepare_box(head, blob):
    mount('tmpfs', '/box', 'tmpfs', NOSUID | NODEV, 'size=%dm,mode=0755' % head['tmp_mb'])
    for name, mode in (('work', 0o755), ('tmp', 0o1777), ('shm', 0o1777), ('bin', 0o755)):
        os.mkdir('/box/' + name)
        os.chmod('/box/' + name, mode)
    os.chown(WORK, PROGRAM_UID, PROGRAM_UID)
    mount('/box/tmp', '/tmp', None, BIND)
    mount('/box/shm', '/dev/shm', None, BIND)
    offset = head['program_size']
    if head['kind'] == 'python':
        write_file(WORK + '/main.py', blob[:offset], 0o644)
    elif offset > 0:
        write_file('/box/bin/prog', blob[:offset], 0o755)
    for name, size, executable in head['files']:
        write_file(WORK + '/' + name, blob[offset:offset + size], 0o755 if executable else 0o644)
        offset += size


def drop_privileges(become_program):
    """Drops every capability for good; with become_program, also becomes PROGRAM_UID (uid 1000
    inside, its own host uid), which clears the capability sets by the kernel's setuid rules."""
    check(LIBC.prctl(PR_SET_SECUREBITS, 0x2b, 0, 0, 0), 'securebits')  # noroot, locked; fixup locked on
    for cap in range(CAP_LAST + 1):
        check(LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), 'drop bounding capability %d' % cap)
    check(LIBC.prctl(PR_CAP_AMBIENT, 4, 0, 0, 0), 'clear ambient capabilities')
    check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'no_new_privs')
    if become_program:
        os.setgroups([])
        os.setresgid(PROGRAM_UID, PROGRAM_UID, PROGRAM_UID)
        os.setresuid(PROGRAM_UID, PROGRAM_UID, PROGRAM_UID)
    header = ctypes.create_string_buffer(struct.pack('Ii', 0x20080522, 0))
    check(LIBC.capset(header, ctypes.create_string_buffer(24)), 'capset')
    # The program is an ordinary dumpable process (setuid made it non-dumpable); the sandbox's own
    # processes are not, so nothing in the run can ptrace them or read their /proc files.
    check(LIBC.prctl(PR_SET_DUMPABLE, 1 if become_program else 0, 0, 0, 0), 'dumpable')


# A seccomp filter for the program (x86-64): syscalls no judged program needs, whose kernel code
# has been the way out of sandboxes, fail with EPERM; clone() with a namespace flag too; clone3()
# fails with ENOSYS, so the C library falls back to clone(), whose flags the filter can read.
# Anything but the x86-64 ABI (x32, i386 entry points) is killed.
DENIED_SYSCALLS = {
    'ptrace': 101, 'syslog': 103, 'vhangup': 153, 'pivot_root': 155, 'acct': 163, 'mount': 165,
    'umount2': 166, 'swapon': 167, 'swapoff': 168, 'reboot': 169, 'sethostname': 170,
    'setdomainname': 171, 'init_module': 175, 'delete_module': 176, 'quotactl': 179,
    'kexec_load': 246, 'add_key': 248, 'request_key': 249, 'keyctl': 250, 'unshare': 272,
    'perf_event_open': 298, 'name_to_handle_at': 303, 'open_by_handle_at': 304, 'setns': 308,
    'process_vm_readv': 310, 'process_vm_writev': 311, 'finit_module': 313, 'kexec_file_load': 320,
    'bpf': 321, 'userfaultfd': 323, 'io_uring_setup': 425, 'io_uring_enter': 426,
    'io_uring_register': 427, 'open_tree': 428, 'move_mount': 429, 'fsopen': 430, 'fsconfig': 431,
    'fsmount': 432, 'fspick': 433, 'mount_setattr': 442,
}
NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET


def seccomp_program():
    def op(code, k, jt=0, jf=0):
        return struct.pack('HBBI', code, jt, jf, k)
    LD, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
    ALLOW, KILL, EPERM, ENOSYS = 0x7fff0000, 0x80000000, 0x50001, 0x50026
    prog = [op(LD, 4), op(JEQ, 0xc000003e, 1, 0), op(RET, KILL),  # arch == AUDIT_ARCH_X86_64
            op(LD, 0), op(JGE, 0x40000000, 0, 1), op(RET, KILL),   # no x32 syscalls
            op(JEQ, 435, 0, 1), op(RET, ENOSYS),                  # clone3
            op(JEQ, 56, 0, 3), op(LD, 16), op(JSET, NAMESPACE_FLAGS, 0, 1), op(RET, EPERM)]
    prog.append(op(LD, 0))
    for nr in sorted(DENIED_SYSCALLS.values()):
        prog += [op(JEQ, nr, 0, 1), op(RET, EPERM)]
    prog.append(op(RET, ALLOW))
    return len(prog), b''.join(prog)


SECCOMP_LEN, SECCOMP_CODE = seccomp_program()


def install_seccomp():
    code = ctypes.create_string_buffer(SECCOMP_CODE, len(SECCOMP_CODE))
    # struct sock_fprog: unsigned short len, 6 bytes of padding, then the filter's address.
    fprog = struct.pack('H6xQ', SECCOMP_LEN, ctypes.addressof(code))
    check(LIBC.prctl(22, 2, ctypes.cast(ctypes.c_char_p(fprog), ctypes.c_void_p).value, 0, 0), 'seccomp')


def exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xff
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1


def run_python(head, source):
    sys.argv = list(head['argv'])
    sys.path.insert(0, WORK)
    sys.stdin = sys.__stdin__ = io.open(0, 'r', encoding='utf-8', closefd=False)
    sys.stdout = sys.__stdout__ = io.open(1, 'w', encoding='utf-8', closefd=False)
    sys.stderr = sys.__stderr__ = io.open(2, 'w', encoding='utf-8', errors='backslashreplace',
                                          closefd=False, buffering=1)
    main = types.ModuleType('__main__')
    main.__file__ = WORK + '/main.py'
    main.__builtins__ = builtins
    main.__cached__ = None
    sys.modules['__main__'] = main
    status = 0
    try:
        exec(compile(source, main.__file__, 'exec'), main.__dict__)
    except SystemExit as e:
        status = exit_status(e.code)
    except BaseException:
        kind, value, tb = sys.exc_info()
        # Drop this function's frame so the traceback reads as `python3 main.py` prints it.
        value = value.with_traceback(tb.tb_next)
        sys.excepthook(kind, value, tb.tb_next)
        status = 1
    try:
        threading._shutdown()
        atexit._run_exitfuncs()
    except SystemExit as e:
        status = exit_status(e.code)
    except BaseException:
        traceback.print_exc()
        status = status or 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            status = status or 120
    os._exit(status)


def program(head, blob, fds):
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        cpu = head['cpu_s']
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (head['fsize'], head['fsize']))
        resource.setrlimit(resource.RLIMIT_NOFILE, (head['nofile'], head['nofile']))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_STACK, (head['stack'], head['stack']))
        # Python ignores SIGXFSZ (and SIGPIPE); the sandbox wants a file past the limit to end the
        # run, and an exec'd program to start with default signals as from a shell.
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        if head['kind'] != 'python':
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.chdir(WORK)
        os.environ['PWD'] = WORK
        os.setsid()
        drop_privileges(True)
        install_seccomp()
    except BaseException as e:
        send('E %s run setup: %r' % (head['seq'], e))
        os._exit(1)
    os.closerange(3, 1 << 20)
    if head['kind'] == 'python':
        run_python(head, bytes(blob[:head['program_size']]))
    argv = head['argv']
    try:
        os.execve(argv[0], argv, os.environ)
    except OSError as e:
        os.write(2, ('sandbox: cannot execute %s: %s\n' % (argv[0], e.strerror)).encode())
    os._exit(127)


def run_init(seq, fds):
    """G: pid 1 of the run's fresh pid namespace (the server unshared it for its next child)."""
    req_fd, io_fds = fds[0], fds[1:]
    try:
        LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        send('P ' + seq)
        # While the host moves us into the run's cgroups: read the request, make the namespaces.
        data = read_all(req_fd)
        os.close(req_fd)
        split = data.index(b'\n')
        head = json.loads(data[:split])
        head['seq'] = seq
        blob = memoryview(data)[split + 1:]
        check(LIBC.unshare(NEWNS | NEWIPC), 'unshare')
        mount('none', '/', None, REC | PRIVATE)
        mount('proc', '/proc', 'proc', NOSUID | NODEV | NOEXEC)
        mount('/proc/sys', '/proc/sys', None, BIND | REC)
        mount('none', '/proc/sys', None, BIND | REMOUNT | RDONLY | NOSUID | NODEV | NOEXEC)
        if CTL.recv(64) != ('G ' + seq).encode():
            os._exit(112)
        check(LIBC.unshare(NEWCGROUP), 'unshare cgroup')  # rooted at the run's cgroup
        prepare_box(head, blob)  # after the move: the files are charged to the run
        child = os.fork()
        if child == 0:
            program(head, blob, io_fds)
        drop_privileges(False)
    except BaseException as e:
        send('E %s setup: %r' % (seq, e))
        os._exit(1)
    for fd in io_fds:
        os.close(fd)
    # Wait for H; if the host goes away (control socket hung up) nobody will collect the run: end
    # it. Exiting ends the pid namespace, which kills whatever the program left behind.
    poller = select.poll()
    pidfd = os.pidfd_open(child)
    poller.register(pidfd, select.POLLIN)
    poller.register(CTL.fileno(), 0)
    while True:
        events = dict(poller.poll())
        if pidfd in events:
            break
        if events.get(CTL.fileno(), 0) & (select.POLLHUP | select.POLLERR):
            os._exit(0)
    _, status = os.waitpid(child, 0)
    send('X %s %d' % (seq, status))
    os._exit(0)


def serve():
    # No nested user namespaces: they would give a program capabilities (over namespaces of its own)
    # and the kernel surface that comes with them. The limit is per user namespace, set here once.
    with open('/proc/sys/user/max_user_namespaces', 'w') as limit:
        limit.write('0')
    gc.freeze()  # the warm heap stays shared with the children instead of being copied by the collector
    send('S ready')
    while True:
        msg, fds, _, _ = socket.recv_fds(CTL, 256, 8)
        if not msg:
            os._exit(0)
        words = msg.decode().split()
        if len(words) != 2 or words[0] != 'R' or len(fds) != 4:
            for fd in fds:
                os.close(fd)
            send('E %s bad request' % (words[1] if len(words) > 1 else '?'))
            continue
        # The next child is pid 1 of a new pid namespace; then the server's own pid namespace is
        # made the one for children again (unshare(CLONE_NEWPID) only works from that state).
        check(LIBC.unshare(NEWPID), 'unshare pid')
        pid = os.fork()
        if pid == 0:
            run_init(words[1], fds)
        check(LIBC.setns(OWN_PID_NS, NEWPID), 'setns pid')
        for fd in fds:
            os.close(fd)
        os.waitpid(pid, 0)


serve()
)PY";

}  // namespace r1::sandbox::internal
