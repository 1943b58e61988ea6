# r1kit judge harness: runs Python function-call tests (assert statements, HumanEval check())
# against an untrusted program so that the program cannot forge the verdict. It runs as the
# sandboxed program; sandbox/judge_harness.cpp writes its request and reads its report, and
# docs/sandbox.md "Judging" explains the design. Embedded into the library by embed.py.
#
# This process is the CHECKER. It never executes program code. It makes itself non-dumpable (so
# nothing in the sandbox can read its memory, its fds or ptrace it), forks the first RUNNER before
# it reads its JSON request on stdin (program source, tests, limits, a random nonce), so the
# runner's memory holds none of the tests; a later runner is fork + execve of a fresh interpreter,
# for the same reason. A runner holds only a request and a response pipe; it loads the program and
# serves calls; results cross as tagged plain data and are rebuilt here as real Python values, so
# no program object (with a forged __eq__, __bool__, ...) ever exists on this side. Each test runs here with proxies standing in for the
# program's functions. Records (nonce, test, verdict, detail) go to a private copy of fd 1 that
# the runner has no handle on; the judge accepts only a complete report that ends with the final
# record (fail closed).
import builtins
import ctypes
import json
import os
import resource
import select
import signal
import struct
import sys
import time

MAX_MESSAGE = 64 << 20   # largest runner message read (bytes); beyond it the result is refused
MAX_DEPTH = 100          # nesting limit of encoded values, both directions
MAX_DETAIL = 1000        # characters of a detail string
IGNORED_SIGNALS = (signal.SIGPIPE, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                   signal.SIGUSR1, signal.SIGUSR2, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)

RUNNER_CODE = r'''
import builtins, json, os, resource, struct, sys
rfd, wfd = RUNNER_FDS if "RUNNER_FDS" in globals() else (int(sys.argv[1]), int(sys.argv[2]))
read, write, loads, dumps, pack, unpack = os.read, os.write, json.loads, json.dumps, struct.pack, struct.unpack
BaseExc, Exc, MAX_DEPTH = BaseException, Exception, 100
PLAIN = (type(None), bool, int, float, str)

def recv():
    head = b""
    while len(head) < 4:
        chunk = read(rfd, 4 - len(head))
        if not chunk: os._exit(0)
        head += chunk
    (size,) = unpack(">I", head)
    body = bytearray()
    while len(body) < size:
        chunk = read(rfd, min(1 << 20, size - len(body)))
        if not chunk: os._exit(0)
        body += chunk
    return loads(bytes(body))

def send(message):
    data = dumps(message, allow_nan=True).encode("utf-8", "surrogatepass")
    data = pack(">I", len(data)) + data
    while data:
        data = data[write(wfd, data):]

class Unsupported(Exc):
    pass

TAGS = {list: "l", tuple: "t", set: "s", frozenset: "F"}

def encode(value, depth=0):
    kind = type(value)
    if depth > MAX_DEPTH: raise Unsupported("result nested deeper than %d" % MAX_DEPTH)
    if kind is int and not -2**63 <= value < 2**63: return {"x": format(value, "x")}
    if kind in PLAIN: return value
    if kind in TAGS: return {TAGS[kind]: [encode(item, depth + 1) for item in value]}
    if kind is dict: return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if kind is bytes: return {"b": value.hex()}
    raise Unsupported("unsupported result type %s (plain data only)" % kind.__name__)

def decode(value, depth=0):
    if depth > MAX_DEPTH: raise Unsupported("argument nested too deeply")
    if not isinstance(value, dict): return value
    (tag, payload), = value.items()
    if tag == "d": return {decode(k, depth + 1): decode(v, depth + 1) for k, v in payload}
    if tag == "b": return bytes.fromhex(payload)
    if tag == "x": return int(payload, 16)
    if tag == "h": return handles[payload]
    items = [decode(item, depth + 1) for item in payload]
    return {"l": list, "t": tuple, "s": set, "F": frozenset}[tag](items)

def describe(error):
    try: text = str(error)[:1000]
    except BaseExc: text = "<unprintable>"
    return {"type": type(error).__name__, "message": text,
            "exception": isinstance(error, Exc), "memory": isinstance(error, MemoryError)}

handles = []
program = {"__name__": "__solution__", "__builtins__": builtins}
load = recv()
# Below the run's cgroup limit (memory_mb + 128, judge_harness.cpp), so that a big allocation is a
# MemoryError (MEMORY_LIMIT) rather than an OOM kill. Address space, not resident memory: a
# program with many threads (64 MB malloc arenas each) may meet it early.
_, hard = resource.getrlimit(resource.RLIMIT_AS)
memory = load["memory_bytes"] if hard == resource.RLIM_INFINITY else min(load["memory_bytes"], hard)
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
try:
    exec(compile(load["source"], "<program>", "exec"), program)
except BaseExc as error:
    send({"load_error": describe(error)})
    os._exit(0)
functions, modules = [], {}
for name, value in list(program.items()):
    if name.startswith("__"): continue
    if type(value) is type(sys): modules[name] = str(value.__name__)
    elif callable(value): functions.append(name)
send({"functions": functions, "modules": modules})
while True:
    request = recv()
    try:
        target = program[request["name"]] if request["handle"] is None else getattr(handles[request["handle"]], request["name"])
        result = target(*decode(request["args"]), **decode(request["kwargs"]))
        if isinstance(target, type) and isinstance(result, target):
            handles.append(result)
            reply = {"value": {"h": len(handles) - 1}}
        else:
            reply = {"value": encode(result)}
    except BaseExc as error:
        reply = {"error": describe(error)}
    try:
        send(reply)
    except BaseExc as error:
        send({"error": {"type": "Unsupported", "message": "result could not be sent: %s" % type(error).__name__,
                        "exception": True, "memory": isinstance(error, MemoryError)}})
'''


class ProgramError(Exception):
    """An exception the program raised (re-raised here under its builtin base, if any)."""


class Fatal(BaseException):
    """The runner died, timed out or ran out of memory: the test fails with `verdict`."""

    def __init__(self, verdict, detail):
        super().__init__(detail)
        self.verdict, self.detail = verdict, detail


class CheckerTimeout(BaseException):
    pass


class HarnessError(Exception):
    """Something the judge, not the program, got wrong: the test is reported SANDBOX_ERROR."""


_program_error_classes = {}


def program_error(kind, message):
    base = getattr(builtins, kind, None) if isinstance(kind, str) else None
    if not (isinstance(base, type) and issubclass(base, Exception)):
        base = Exception
    cls = _program_error_classes.get(base)
    if cls is None:
        cls = type("Program" + base.__name__, (ProgramError, base), {})
        _program_error_classes[base] = cls
    return cls("%s: %s" % (str(kind)[:100], str(message)[:MAX_DETAIL]))


class Handle:
    """An object the program built (an instance of one of its classes), living in the runner."""

    def __init__(self, runner, index):
        self._runner, self._index = runner, index

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._runner.call(self._index, name, args, kwargs)

    def __bool__(self):
        raise TypeError("a program object has no truth value here (plain data only)")


def encode_arg(value, depth=0):
    kind = type(value)
    if depth > MAX_DEPTH:
        raise HarnessError("test argument nested deeper than %d" % MAX_DEPTH)
    if kind is int and not -2**63 <= value < 2**63:  # hex: linear time, no digit limit
        return {"x": format(value, "x")}
    if kind in (type(None), bool, int, float, str):
        return value
    tags = {list: "l", tuple: "t", set: "s", frozenset: "F"}
    if kind in tags:
        return {tags[kind]: [encode_arg(item, depth + 1) for item in value]}
    if kind is dict:
        return {"d": [[encode_arg(k, depth + 1), encode_arg(v, depth + 1)] for k, v in value.items()]}
    if kind is bytes:
        return {"b": value.hex()}
    if kind is Handle:
        return {"h": value._index}
    raise HarnessError("unsupported test argument type %s (arguments are passed as plain data)"
                       % kind.__name__)


def decode_value(value, runner, depth=0):
    """Rebuilds a runner result from its tags; anything malformed raises ValueError."""
    if depth > MAX_DEPTH:
        raise ValueError("result nested deeper than %d" % MAX_DEPTH)
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is not dict or len(value) != 1:
        raise ValueError("malformed result")
    (tag, payload), = value.items()
    if tag == "h" and type(payload) is int:
        return Handle(runner, payload)
    if tag == "b" and type(payload) is str:
        return bytes.fromhex(payload)
    if tag == "x" and type(payload) is str:
        return int(payload, 16)
    if type(payload) is not list:
        raise ValueError("malformed result")
    if tag == "d":
        out = {}
        for pair in payload:
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("malformed result")
            out[decode_value(pair[0], runner, depth + 1)] = decode_value(pair[1], runner, depth + 1)
        return out
    builders = {"l": list, "t": tuple, "s": set, "F": frozenset}
    if tag not in builders:
        raise ValueError("malformed result")
    return builders[tag](decode_value(item, runner, depth + 1) for item in payload)


def usage(pid):
    """(cpu seconds, resident bytes) of a process, from /proc/<pid>/stat."""
    with open("/proc/%d/stat" % pid, "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return cpu, int(fields[21]) * os.sysconf("SC_PAGE_SIZE")


class Runner:
    """The untrusted interpreter. The first one is forked before the checker reads the tests (its
    memory holds none of them); a restart, after the tests are in memory, is fork + execve of a
    fresh interpreter. Only trusted code runs in it until it receives the program."""

    def __init__(self, fresh):
        self.status, self.fatal, self.rss_peak = None, None, 0
        self.limits, self.budget = None, None
        to_runner, self._from_checker = os.pipe()
        self._from_runner, to_checker = os.pipe()
        exec_error, exec_report = os.pipe()  # closed by a successful execve (or _exit), else says why not
        self.pid = os.fork()
        if self.pid == 0:  # never returns into the checker's code, whatever the program raises
            try:
                self._child(to_runner, to_checker, exec_report, fresh)
            except BaseException as error:
                try:
                    os.write(exec_report, repr(error).encode()[:1000])
                except BaseException:
                    pass
            finally:
                os._exit(127)
        for fd in (to_runner, to_checker, exec_report):
            os.close(fd)
        with os.fdopen(exec_error, "rb") as f:
            why = f.read() if fresh else b""
        if why:
            self.kill()
            raise HarnessError("could not start the runner: %s" % why.decode(errors="replace"))

    def _child(self, to_runner, to_checker, exec_report, fresh):
        for number in IGNORED_SIGNALS + (signal.SIGALRM,):  # ignored signals survive execve
            signal.signal(number, signal.SIG_DFL)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        # Every other fd goes (the run's stdin with the tests, the report): the runner keeps two pipes.
        keep = sorted({0, 1, 2, to_runner, to_checker} | (set() if fresh else {exec_report}))
        for low, high in zip(keep, keep[1:] + [65536]):
            os.closerange(low + 1, high)
        try:  # the runner, not the checker, is the one the OOM killer picks (best effort)
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except OSError:
            pass
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # dumpable again (as after an execve): its own memory is no secret
        if fresh:
            for fd in (to_runner, to_checker):
                os.set_inheritable(fd, True)
            os.execv(sys.executable, [sys.executable, "-I", "-c", RUNNER_CODE, str(to_runner), str(to_checker)])
        os.close(exec_report)
        exec(RUNNER_CODE, {"__name__": "__runner__", "RUNNER_FDS": (to_runner, to_checker)})

    def load(self, source, limits, budget):
        """Sends the program; returns once it is loaded (Fatal if it fails to)."""
        self.limits, self.budget = limits, budget
        try:
            self._load(source)
        except Fatal:
            self.kill()
            raise

    def _load(self, source):
        self._send({"source": source, "memory_bytes": (self.limits["memory_mb"] + 64) << 20})
        reply = self._receive()
        if type(reply) is dict and "load_error" in reply:
            error = reply["load_error"] if type(reply["load_error"]) is dict else {}
            if error.get("memory") is True:
                raise Fatal("MEMORY_LIMIT", "MemoryError while loading the program")
            raise Fatal("RUNTIME_ERROR", "the program failed to load: %s: %s"
                        % (str(error.get("type"))[:100], str(error.get("message"))[:MAX_DETAIL]))
        if type(reply) is not dict or type(reply.get("functions")) is not list \
                or type(reply.get("modules")) is not dict:
            raise Fatal("RUNTIME_ERROR", "malformed load reply")
        self.functions = [n for n in reply["functions"] if type(n) is str and n.isidentifier()]
        self.modules = reply["modules"]

    def kill(self):
        if self.status is None:
            for target in (lambda: os.killpg(self.pid, signal.SIGKILL), lambda: os.kill(self.pid, signal.SIGKILL)):
                try:
                    target()
                except OSError:
                    pass
            try:
                _, self.status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                self.status = -1
            os.close(self._from_checker)
            os.close(self._from_runner)

    def _died(self):
        _, status = os.waitpid(self.pid, 0)
        self.status = status
        os.close(self._from_checker)
        os.close(self._from_runner)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL \
                and 2 * self.rss_peak >= self.limits["memory_mb"] << 20:
            # Not our kill, and it was large: the run's memory limit (the OOM killer picks the
            # runner, oom_score_adj 1000). A gradual allocation gets here rather than MemoryError.
            return Fatal("MEMORY_LIMIT", "the program was killed at %d MB resident (out of memory)"
                         % (self.rss_peak >> 20))
        if os.WIFSIGNALED(status):
            return Fatal("RUNTIME_ERROR", "the program was killed by signal %d" % os.WTERMSIG(status))
        return Fatal("RUNTIME_ERROR", "the program exited with status %d"
                     % os.WEXITSTATUS(status))

    def _send(self, message):
        data = json.dumps(message).encode("utf-8", "surrogatepass")
        data = struct.pack(">I", len(data)) + data
        try:
            while data:
                _, writable, _ = select.select([], [self._from_checker], [], 0.05)
                if writable:
                    data = data[os.write(self._from_checker, data[:65536]):]
                self._check_budget()
        except BrokenPipeError:
            raise self._died()

    def _read_exactly(self, size):
        data = bytearray()
        while len(data) < size:
            readable, _, _ = select.select([self._from_runner], [], [], 0.05)
            if readable:
                chunk = os.read(self._from_runner, min(size - len(data), 1 << 20))
                if not chunk:
                    raise self._died()
                data += chunk
            self._check_budget()
        return bytes(data)

    def _receive(self):
        (size,) = struct.unpack(">I", self._read_exactly(4))
        if size > MAX_MESSAGE:
            self.kill()
            raise Fatal("OUTPUT_LIMIT", "a result of %d bytes exceeds %d" % (size, MAX_MESSAGE))
        try:
            return json.loads(self._read_exactly(size).decode("utf-8", "surrogatepass"))
        except (ValueError, RecursionError) as error:
            self.kill()
            raise Fatal("RUNTIME_ERROR", "malformed reply from the program: %s" % type(error).__name__)

    def _check_budget(self):
        if time.monotonic() > self.budget["deadline"]:
            self.kill()
            raise Fatal("TIME_LIMIT", "wall time limit of %g s reached" % self.limits["wall_time"])
        try:
            cpu, rss = usage(self.pid)
        except (OSError, IndexError, ValueError):  # it just died: the next read sees EOF
            return
        self.rss_peak = max(self.rss_peak, rss)
        if cpu - self.budget["cpu_start"] > self.limits["cpu_time"]:
            self.kill()
            raise Fatal("TIME_LIMIT", "cpu time limit of %g s reached" % self.limits["cpu_time"])

    def call(self, handle, name, args, kwargs):
        try:
            return self._call(handle, name, args, kwargs)
        except Fatal as fatal:  # sticky: a test that swallows it still fails
            self.fatal = self.fatal or fatal
            self.kill()
            raise

    def _call(self, handle, name, args, kwargs):
        if self.status is not None:
            raise Fatal("RUNTIME_ERROR", "the program is no longer running")
        try:
            message = {"handle": handle, "name": name,
                       "args": encode_arg(tuple(args)), "kwargs": encode_arg(dict(kwargs))}
        except HarnessError as error:  # the test's fault, not the program's: unscored
            raise Fatal("SANDBOX_ERROR", str(error))
        self._send(message)
        reply = self._receive()
        if type(reply) is not dict or len(reply) != 1:
            raise Fatal("RUNTIME_ERROR", "malformed reply from the program")
        if "error" in reply:
            error = reply["error"] if type(reply["error"]) is dict else {}
            if error.get("memory") is True:
                raise Fatal("MEMORY_LIMIT", "MemoryError in %s()" % name)
            if error.get("exception") is not True:  # SystemExit, KeyboardInterrupt, ...
                raise Fatal("RUNTIME_ERROR", "%s() raised %s" % (name, str(error.get("type"))[:100]))
            raise program_error(error.get("type"), error.get("message"))
        try:
            return decode_value(reply.get("value"), self)
        except (ValueError, TypeError, RecursionError) as error:
            raise Fatal("RUNTIME_ERROR", "%s() returned an undecodable result: %s" % (name, error))


def test_namespace(runner, kind):
    """What the test code sees: a proxy per program function; the standard-library modules the
    program imported under their own names (HumanEval tests use the prompt's `import math`)."""
    namespace = {"__name__": "__test__", "__builtins__": builtins}
    for name, module in runner.modules.items():
        if type(name) is str and name == module and name in sys.stdlib_module_names \
                and not hasattr(builtins, name):
            try:
                namespace[name] = __import__(name)
            except ImportError:  # left undefined: a test that needs it fails with NameError
                pass
    for name in runner.functions:
        # A program's abs() must not answer the test's abs(), nor its check() stand in for the test's.
        if not hasattr(builtins, name) and not (kind == "check" and name == "check"):
            namespace[name] = proxy(runner, name)
    return namespace


def proxy(runner, name):
    return lambda *args, **kwargs: runner.call(None, name, args, kwargs)


def failing_line(error, code):
    """The test-code line an assertion failed on (the innermost frame of the test's own code)."""
    line, tb = None, error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<test"):
            line = tb.tb_lineno
        tb = tb.tb_next
    lines = code.splitlines()
    return lines[line - 1].strip()[:300] if line and 0 < line <= len(lines) else ""


ALARM_AT = [float("inf")]  # when our own timer is due: a SIGALRM the runner sends earlier is ignored


def _alarm(signum, frame):
    if time.monotonic() >= ALARM_AT[0] - 0.05:
        raise CheckerTimeout()


def start_runner(state):
    """A runner with the program loaded: the pre-forked one first, later fresh ones. Only the run's
    first start failing is the judge's problem (HarnessError); a later one may be the program's
    doing (its leftover processes)."""
    state["budget"]["cpu_start"] = 0.0
    try:
        runner, state["spare"] = state["spare"] or Runner(fresh=True), None
        runner.load(state["source"], state["limits"], state["budget"])
        state["runner"] = runner
    except Fatal as fatal:
        state["load_fatal"] = fatal
        raise
    except (HarnessError, OSError) as error:
        if state["starts"] == 0:
            raise HarnessError(str(error))
        raise Fatal("RUNTIME_ERROR", "could not restart the program: %s" % error)
    finally:
        state["starts"] += 1
    return runner


def run_test(test, state):
    """One test: returns (verdict, detail)."""
    limits = state["limits"]
    state["budget"]["deadline"] = time.monotonic() + limits["wall_time"]
    try:
        code = compile(test["code"], "<test %d>" % state["index"], "exec")
    except SyntaxError as error:
        return "SANDBOX_ERROR", "the test code does not compile: %s" % error
    if state["load_fatal"] is not None:
        return state["load_fatal"].verdict, state["load_fatal"].detail
    runner = state["runner"]
    ALARM_AT[0] = time.monotonic() + limits["wall_time"] + 0.5
    signal.setitimer(signal.ITIMER_REAL, limits["wall_time"] + 0.5)  # the test code's own loops
    try:
        if runner is None or runner.status is not None:
            runner = start_runner(state)
        state["budget"]["cpu_start"] = usage(runner.pid)[0]
        namespace = test_namespace(runner, test["kind"])
        exec(code, namespace)
        if test["kind"] == "check":
            if not callable(namespace.get("check")):
                outcome = "SANDBOX_ERROR", "the test code defines no check(candidate)"
            else:
                entry = test["entry_point"]
                candidate = namespace.get(entry)
                if candidate is None and entry in runner.functions:  # even a builtin's name
                    candidate = proxy(runner, entry)
                if candidate is None:
                    outcome = "WRONG_ANSWER", "the program defines no function %r" % entry
                else:
                    namespace["check"](candidate)
                    outcome = "OK", ""
        else:
            outcome = "OK", ""
    except Fatal as fatal:
        outcome = fatal.verdict, fatal.detail
    except CheckerTimeout:
        outcome = "TIME_LIMIT", "wall time limit of %g s reached" % limits["wall_time"]
    except HarnessError:
        raise
    except ProgramError as error:
        outcome = "RUNTIME_ERROR", str(error)
    except AssertionError as error:
        where = failing_line(error, test["code"])
        outcome = "WRONG_ANSWER", "assertion failed" + (": %s" % where if where else "") \
            + (" (%s)" % error if str(error) else "")
    except BaseException as error:  # the test code's own exception (NameError, TypeError, ...)
        outcome = "WRONG_ANSWER", "%s: %s" % (type(error).__name__, error)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        ALARM_AT[0] = float("inf")
    if runner is not None:
        if outcome[0] == "TIME_LIMIT":
            runner.kill()
        if runner.fatal is not None:  # sticky, even if the test code swallowed it
            outcome = runner.fatal.verdict, runner.fatal.detail
            runner.fatal = None
    return outcome[0], str(outcome[1])[:MAX_DETAIL]


def read_request():
    request = json.loads(sys.stdin.buffer.read())
    tests = request["tests"]
    for test in tests:
        if test["kind"] not in ("assertion", "check") or type(test["code"]) is not str:
            raise ValueError("bad test")
    return request


def main():
    # Non-dumpable: /proc/<pid>/mem, /proc/<pid>/fd and ptrace are closed to the (capability-less)
    # runner, so it can read neither the tests nor the report pipe.
    dumpable_error = ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) and ctypes.get_errno()
    out = os.dup(1)  # the only handle on the report: non-inheritable, never given to the runner
    # Forked before the tests are read, so nothing of them is in its memory: the sandbox hands the
    # run its stdin as an fd nobody has read (a memfd, sandbox/internal/fork_server.cpp), and
    # tests/sandbox/forgery/read_own_memory.py checks that the program cannot find them.
    spare = Runner(fresh=False)
    null = os.open(os.devnull, os.O_RDWR)
    request = read_request()
    for fd in (0, 1, 2):  # test code that prints cannot disturb the report
        os.dup2(null, fd)
    nonce = request["nonce"]

    def record(**fields):
        line = json.dumps(dict(nonce=nonce, **fields)).encode() + b"\n"
        while line:
            line = line[os.write(out, line):]

    if dumpable_error:
        spare.kill()
        record(harness_error="prctl(PR_SET_DUMPABLE, 0) failed: errno %d" % dumpable_error)
        os._exit(0)
    sys.path[:] = [p for p in sys.path if p and os.path.isdir(p) and not os.access(p, os.W_OK)]
    signal.signal(signal.SIGALRM, _alarm)
    for number in IGNORED_SIGNALS:  # the runner may send them; only SIGKILL/SIGSTOP still stop us
        signal.signal(number, signal.SIG_IGN)
    state = {"limits": request["limits"], "budget": {"deadline": 0.0, "cpu_start": 0.0},
             "source": request["source"], "runner": None, "spare": spare, "load_fatal": None, "index": 0,
             "starts": 0}
    reported = 0
    try:
        for index, test in enumerate(request["tests"]):
            state["index"] = index
            verdict, detail = run_test(test, state)
            record(test=index, verdict=verdict, detail=detail)
            reported += 1
            if verdict != "OK" and request["stop_at_first_failure"]:
                break
    except HarnessError as error:
        record(harness_error="test %d: %s" % (state["index"], error))
        os._exit(0)
    for runner in (state["runner"], state["spare"]):
        if runner is not None:
            runner.kill()
    record(end=True, reported=reported)
    os._exit(0)


main()  # unconditionally: however the sandbox starts its program, this is the program
