"""The trusted side of grading: test cells run here, never in the student's process.

One process per batch (the *test server*) runs each notebook's test-setup cells
once, then forks a fresh child for every submission. The child starts the
student's sandbox (:mod:`autograder.agent` under bubblewrap), walks the
notebook in order, and

- sends each student cell to the sandbox to run, keeping its outputs;
- runs each test cell itself, in a namespace built from the notebook's
  test-setup cells. A name the tests use that the setup did not define is looked
  up on the student's side through the data-only channel: a value arrives as
  plain data, a function as a proxy whose calls send data and receive data;
- reports every cell's outputs and every test's outcome to the grader as it
  happens, over a socket the sandbox cannot see.

The student's process runs in its own user, PID, network, IPC and mount
namespaces: it cannot see, signal or trace this process, and nothing of the
tests (code, points, inputs, expected values) is ever sent to it. Scores are
not computed here either: the grader turns the outcomes into points from the
gradebook.

Run as ``python -m autograder.trusted SOCKET``; the grader writes the batch spec
to its standard input (see :class:`autograder.sandbox.TestServer`).
"""

from __future__ import annotations

import ast
import builtins
import io
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.checks import CheckFailed

from .channel import (
    ChannelClosed,
    ChannelTimeout,
    NotData,
    Reader,
    decode,
    encode,
    send,
)
from .sandbox import PidsCgroup, agent_command, kill_group, tmpfs_size_supported

#: Seconds a student cell or call gets after its time limit to answer an interrupt.
INTERRUPT_GRACE_SECONDS = 5.0
#: Characters of a message (from a test or from student code) kept for feedback.
MESSAGE_CHARS = 500
HIDDEN_BEGIN = re.compile(r"^\s*### BEGIN HIDDEN TESTS\s*$")
HIDDEN_END = re.compile(r"^\s*### END HIDDEN TESTS\s*$")
#: The reason given when the student's side answers with malformed data. Never the decoder's
#: message: it quotes the answer, which may carry what student code recorded (a hidden test's inputs).
BAD_DATA = "the student's process broke the grading protocol (its answer was not valid data)"


class StudentSideGone(BaseException):
    """The student's process died, broke the protocol or ignored an interrupt; grading of it stops."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TestTimeout(BaseException):
    """A test cell (its own code, or student code it called) ran out of time."""

    __test__ = False  # not a pytest test class


class StudentError(Exception):
    """An exception of student code that has no built-in counterpart."""


# The student's side ----------------------------------------------------------------------------


class StudentSide:
    """The sandboxed agent process and the requests the tests make of it."""

    def __init__(
        self, argv: list[str], *, cwd: str, env: dict, preexec, stderr, limits: dict, pass_fds=()
    ) -> None:
        self.limits = limits
        try:
            self.proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
                preexec_fn=preexec,
                pass_fds=pass_fds,
            )
        finally:
            for fd in pass_fds:
                os.close(fd)
        self.reader = Reader(self.proc.stdout.fileno())
        self.gone: str | None = None

    def request(self, message: dict, buffers: list[bytes], *, timeout: float, late: str) -> tuple[dict, list]:
        """Send one request; wait ``timeout`` plus the interrupt grace for the answer.

        ``late`` is the reason given if no answer comes in time (the process is then killed).
        """
        if self.gone:
            raise StudentSideGone(self.gone)
        try:
            send(self.proc.stdin, message, buffers)
            return self.reader.recv(time.monotonic() + timeout + INTERRUPT_GRACE_SECONDS)
        except (ChannelClosed, BrokenPipeError, ConnectionError):
            self.kill("the kernel died (the code crashed or called os._exit)")
        except ChannelTimeout:
            self.kill(late)
        except ValueError as error:
            self.kill(f"the student's process broke the grading protocol ({error})")
        raise AssertionError("unreachable")

    def kill(self, reason: str) -> None:
        self.gone = self.gone or reason
        kill_group(self.proc.pid)
        self.proc.wait()
        raise StudentSideGone(self.gone)

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        kill_group(self.proc.pid)
        self.proc.wait()


def _text(value: Any, limit: int = MESSAGE_CHARS) -> str:
    return value[:limit] if type(value) is str else ""


def student_exception(error: Any) -> BaseException:
    """The exception to raise in a test for an error that student code raised.

    A built-in exception type arrives as itself (so ``except ValueError`` works as
    it would in one kernel); anything else as :class:`StudentError`. A time-out
    becomes :class:`TestTimeout`, which test code cannot catch by accident.
    """
    error = error if type(error) is dict else {}
    name, message = _text(error.get("name"), 100) or "Exception", _text(error.get("message"))
    if name == "CellTimeoutError":
        return TestTimeout("your code ran past the test's time limit")
    if name == "NotData":  # what the student's code returned is not data
        exception = TypeError(message)
        exception.not_data = True
        return exception
    types = error.get("types") if type(error.get("types")) is list else []
    for type_name in types:
        kind = getattr(builtins, type_name, None) if type(type_name) is str else None
        if isinstance(kind, type) and issubclass(kind, Exception) and kind is not StopIteration:
            try:
                exception = kind(message)
            except Exception:
                continue
            exception.from_student = True
            return exception
    exception = StudentError(f"{name}: {message}")
    exception.from_student = True
    return exception


def write_back(original: Any, new: Any) -> None:
    """Make ``original`` (an argument the tests passed) look as the student's function left it."""
    kind = type(original)
    if kind is not type(new):
        return
    if kind is np.ndarray:
        if original.shape == new.shape and original.dtype == new.dtype and original.flags.writeable:
            if not np.array_equal(original, new, equal_nan=original.dtype.kind in "fc"):
                original[...] = new
    elif kind is list and len(original) == len(new):
        for i, (a, b) in enumerate(zip(original, new, strict=True)):
            _write_item(original, i, a, b)
    elif kind is list:
        original[:] = new
    elif kind is dict and original.keys() == new.keys():
        for key in original:
            _write_item(original, key, original[key], new[key])
    elif kind is dict:
        original.clear()
        original.update(new)
    elif kind is tuple and len(original) == len(new):
        for a, b in zip(original, new, strict=True):
            write_back(a, b)
    elif _is_frame(original) and not original.equals(new):
        original.__init__(new.copy())


def _write_item(container: Any, key: Any, old: Any, new: Any) -> None:
    """Update a mutable item in place (the tests may hold it too); replace anything else."""
    if type(old) in (list, dict, np.ndarray) or _is_frame(old):
        write_back(old, new)
    else:
        container[key] = new


def _is_frame(value: Any) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and type(value) in (pd.DataFrame, pd.Series)


class StudentFunction:
    """A student function, seen from the tests: called with data, returns data."""

    def __init__(self, context: TestContext, name: str) -> None:
        self._context = context
        self.__name__ = self.__qualname__ = name

    def __repr__(self) -> str:
        return f"<student function {self.__name__}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            header, buffers = encode([list(args), kwargs])
        except NotData as error:
            raise TypeError(f"a test passed something that is not data to {self.__name__}: {error}") from None
        reply, out = self._context.ask(
            {"op": "call", "name": self.__name__, "args": header}, buffers, what=f"{self.__name__}(...)"
        )
        for name in ("stdout", "stderr"):
            text = _text(reply.get(name), self._context.max_output_chars)
            if text:
                getattr(sys, name).write(text)
        if "error" in reply:
            raise student_exception(reply["error"])
        try:
            result, (args_after, kwargs_after) = decode(reply.get("value"), out)
        except (ValueError, TypeError):  # the error's text may quote the answer: it stays out of reasons
            self._context.student.kill(BAD_DATA)
        write_back(list(args), args_after)
        write_back(kwargs, kwargs_after)
        return result


class TestContext:
    """The student's side and the time left, while one test cell runs."""

    def __init__(self, student: StudentSide, max_output_chars: int) -> None:
        self.student = student
        self.max_output_chars = max_output_chars
        self.names: list[str] = []  # names the test read from the student's side

    def ask(self, message: dict, buffers: list[bytes], *, what: str) -> tuple[dict, list]:
        with PausedAlarm() as left:
            if left <= 0:
                raise TestTimeout("the test ran out of time")
            message = {**message, "timeout": left, "max_output_chars": self.max_output_chars}
            return self.student.request(
                message,
                buffers,
                timeout=left,
                late=f"{what} ran past the test's time limit and ignored the interrupt",
            )

    def lookup(self, name: str) -> Any:
        if name not in self.names:
            self.names.append(name)
        reply, out = self.ask({"op": "get", "name": name}, [], what=f"reading {name}")
        kind = reply.get("kind")
        if kind == "missing":
            raise NameError(f"name {name!r} is not defined")
        if kind == "function":
            return StudentFunction(self, name)
        if kind == "value":
            try:
                return decode(reply.get("value"), out)
            except (ValueError, TypeError):
                self.student.kill(BAD_DATA)
        if "error" in reply:
            message = _text(reply["error"].get("message") if type(reply["error"]) is dict else None)
            raise TypeError(f"{name}: {message}" if message else f"{name} cannot cross to the tests")
        self.student.kill("the student's process broke the grading protocol (a bad answer)")


class PausedAlarm:
    """Stops the test cell's own alarm while the student's side works; yields the seconds left."""

    def __enter__(self) -> float:
        left, _ = signal.setitimer(signal.ITIMER_REAL, 0)
        self.left = left
        self.started = time.monotonic()
        return left

    def __exit__(self, *exc: Any) -> None:
        remaining = self.left - (time.monotonic() - self.started)
        if remaining <= 0:
            if exc[0] is None:
                raise TestTimeout("the test ran out of time")
            remaining = 0.001
        signal.setitimer(signal.ITIMER_REAL, remaining)


class TestNamespace(dict):
    """The globals of test cells: the trusted setup, then builtins, then the student's side."""

    __test__ = False  # not a pytest test class

    context: TestContext | None = None

    def __missing__(self, name: str) -> Any:
        if name in builtins.__dict__:
            return builtins.__dict__[name]
        if self.context is None:
            raise NameError(f"name {name!r} is not defined")
        return self.context.lookup(name)


# Test cells ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened to one test cell, as the grader's report of it."""

    passed: bool
    message: str  # for feedback: never text from a hidden part
    ename: str = ""
    hidden: bool = False

    def to_json(self) -> dict:
        return {"passed": self.passed, "message": self.message, "ename": self.ename, "hidden": self.hidden}


def hidden_lines(source: str) -> set[int]:
    """1-based line numbers inside ``### BEGIN/END HIDDEN TESTS`` blocks."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if HIDDEN_BEGIN.match(line):
            inside = True
        elif HIDDEN_END.match(line):
            inside = False
        elif inside:
            lines.add(number)
    return lines


def _failed_line(error: BaseException, filename: str) -> int | None:
    line = None
    for frame, number in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == filename:
            line = number
    return line


class CappedText(io.StringIO):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, text: str) -> int:
        if self.tell() < self.limit:
            super().write(text[: self.limit - self.tell()])
        return len(text)


def _on_alarm(signum: int, frame: Any) -> None:
    raise TestTimeout("the test ran out of time")


def run_test(
    grade_id: str,
    source: str,
    namespace: TestNamespace,
    context: TestContext | None,
    *,
    cell_timeout: float,
    max_output_chars: int,
) -> tuple[Outcome, list[dict]]:
    """Run one test cell on this side; return its outcome and its outputs (for the instructor)."""
    filename = f"<test {grade_id}>"
    hidden = hidden_lines(source)
    out, err = CappedText(max_output_chars), CappedText(max_output_chars)
    saved = sys.stdout, sys.stderr
    failure: BaseException | None = None
    namespace.context = context
    signal.signal(signal.SIGALRM, _on_alarm)
    caught: list[warnings.WarningMessage] = []
    try:
        code = compile(source, filename, "exec")
        sys.stdout, sys.stderr = out, err
        signal.setitimer(signal.ITIMER_REAL, cell_timeout)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                exec(code, namespace)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except StudentSideGone:
        raise
    except BaseException as error:  # test code is trusted; whatever it raised fails the test
        failure = error
    finally:
        sys.stdout, sys.stderr = saved
        namespace.context = None
    outputs = [
        {"output_type": "stream", "name": name, "text": stream.getvalue()}
        for name, stream in (("stdout", out), ("stderr", err))
        if stream.getvalue()
    ]
    if caught:  # shown to the instructor as Python prints them; they fail the test, as stderr does
        text = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught)
        outputs.append({"output_type": "stream", "name": "stderr", "text": text})
    if failure is None and caught:
        first = caught[0]
        name = first.category.__name__
        line = first.lineno if first.filename == filename else None
        if line in hidden:
            return Outcome(False, f"a hidden test raised a warning ({name})", name, True), outputs
        statement = visible_statement(source, line, hidden)
        where = f" at: {statement}" if statement else ""
        return Outcome(False, f"a warning ({name}) was raised{where}; a warning fails a test", name), outputs
    if failure is None and not err.getvalue():
        return Outcome(True, ""), outputs
    if failure is None:
        return Outcome(
            False, "wrote to stderr (a warning or a print to sys.stderr fails a test)", "stderr"
        ), outputs
    ename = _ename(failure)
    evalue = _text(str(failure))
    outputs.append({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []})
    line = _failed_line(failure, filename)
    in_hidden = line in hidden
    return Outcome(False, feedback_message(failure, source, line, hidden), ename, in_hidden), outputs


def _ename(failure: BaseException) -> str:
    """The failure's type name; a failed check of :mod:`course.checks` reads as the AssertionError it is."""
    return "AssertionError" if isinstance(failure, CheckFailed) else type(failure).__name__


def feedback_message(failure: BaseException, source: str, line: int | None, hidden: set[int]) -> str:
    """What feedback says about a failed test: only text the student could already see.

    Never the exception's message or a value: either may carry data from student
    code, which could have recorded a hidden test's inputs in an earlier call.
    A failure in a visible part names the visible statement that failed and,
    for a :class:`course.checks.CheckFailed` with no hidden line before it in
    the cell (whose values the statement might use), the check's ``hint``: what
    was expected, from the test's own, visible side (type, length, keys,
    shape, dtype).
    """
    ename = _ename(failure)
    if isinstance(failure, TestTimeout):
        return "ran past the test's time limit"
    if getattr(failure, "not_data", False):
        what = "your code returned something that is not plain data"
    elif getattr(failure, "from_student", False):
        what = f"your code raised {ename}"
    else:
        what = f"{ename}"
    if line in hidden:
        return f"{what} in a hidden test" if what != ename else f"a hidden test failed ({ename})"
    statement = visible_statement(source, line, hidden)
    message = f"{what} at: {statement}" if statement else what
    if statement and isinstance(failure, CheckFailed) and not any(h < line for h in hidden):
        message += f" ({_text(failure.hint, 200)})"
    return message


def visible_statement(source: str, line: int | None, hidden: set[int]) -> str:
    """The innermost simple statement of ``source`` on ``line``, if no part of it is hidden."""
    if line is None:
        return ""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if not hasattr(node, "body") and (best is None or node.lineno >= best.lineno):
                best = node
    if best is None or any(n in hidden for n in range(best.lineno, (best.end_lineno or best.lineno) + 1)):
        return ""
    text = " ".join((ast.get_source_segment(source, best) or "").split())
    return text if len(text) <= 300 else text[:297] + "..."


# Sanitizing what the student's side reports ------------------------------------------------------


def clean_outputs(outputs: Any, limit: int) -> list[dict]:
    """Rebuild a student cell's outputs from plain strings, at most ``limit`` characters in all."""
    clean: list[dict] = []
    room = limit
    for output in outputs if type(outputs) is list else []:
        if type(output) is not dict:
            continue
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") in ("stdout", "stderr"):
            item = {"output_type": "stream", "name": output["name"], "text": _text(output.get("text"), room)}
            size = len(item["text"])
        elif kind in ("display_data", "execute_result") and type(output.get("data")) is dict:
            data = {
                _text(k, 100): _text(v, room)
                for k, v in output["data"].items()
                if type(k) is str and type(v) is str
            }
            item = {"output_type": kind, "data": data, "metadata": {}}
            if kind == "execute_result":
                item["execution_count"] = None
            size = sum(len(v) for v in data.values())
        elif kind == "error":
            stb = output.get("traceback") if type(output.get("traceback")) is list else []
            item = {
                "output_type": "error",
                "ename": _text(output.get("ename"), 200),
                "evalue": _text(output.get("evalue"), 2000),
                "traceback": [_text(line, 5000) for line in stb[:200]],
            }
            size = len(item["evalue"]) + sum(map(len, item["traceback"]))
        else:
            continue
        cut = kind == "stream" and type(output.get("text")) is str and len(output["text"]) > len(item["text"])
        if size > room or cut:
            if kind == "stream" and item["text"]:
                clean.append(item)
            clean.append({"output_type": "stream", "name": "stdout", "text": "[output truncated]\n"})
            break
        room -= size
        clean.append(item)
    return clean


# One submission --------------------------------------------------------------------------------


def not_run(reason: str) -> dict:
    return {"output_type": "error", "ename": "NotRun", "evalue": reason, "traceback": [reason]}


class Grading:
    """Grades one submission in a forked child of the test server."""

    def __init__(
        self, spec: dict, namespaces: dict[str, TestNamespace], files: dict[str, bytes], emit
    ) -> None:
        self.spec = spec
        self.namespaces = namespaces
        self.files = files
        self.emit = emit
        self.limits = spec["limits"]

    def start_student(self, workdir: str, stderr, cgroup) -> StudentSide:
        argv, env, preexec, fds = agent_command(
            self.spec["isolation"], workdir, self.limits, cgroup, self.files
        )
        return StudentSide(
            argv, cwd=workdir, env=env, preexec=preexec, stderr=stderr, limits=self.limits, pass_fds=fds
        )

    def run(self, job: dict) -> None:
        deadline = time.monotonic() + self.limits["notebook_timeout"]
        for name, cells in job["notebooks"].items():
            started = time.monotonic()
            self.notebook(name, cells, deadline)
            self.emit(
                {"event": "notebook_done", "notebook": name, "seconds": round(time.monotonic() - started, 3)}
            )
        self.emit({"event": "done"})

    def notebook(self, name: str, cells: list[dict], deadline: float) -> None:
        tmp = tempfile.mkdtemp(prefix="autograder-")
        workdir = os.path.join(tmp, "submission")
        os.mkdir(workdir)
        stderr = open(os.path.join(tmp, "agent-stderr.txt"), "wb")
        cgroup = PidsCgroup(self.limits["max_processes"])
        student = self.start_student(workdir, stderr, cgroup)
        stopped: str | None = None
        try:
            for cell in cells:
                event = {"event": "cell", "notebook": name, "index": cell["index"]}
                if stopped is not None:
                    self.emit(_not_run_event(event, cell, f"not run: {stopped}"))
                    continue
                try:
                    if deadline - time.monotonic() <= 0:
                        raise StudentSideGone("the notebook exceeded its time limit")
                    self.cell(name, cell, event, student, deadline)
                except StudentSideGone as gone:
                    stopped = gone.reason
                    student.close()
                    self.emit(
                        {"event": "stopped", "notebook": name, "index": cell["index"], "reason": stopped}
                    )
                    if "outputs" not in event:
                        self.emit(_not_run_event(event, cell, f"stopped: {stopped}"))
        finally:
            student.close()
            cgroup.remove()
            stderr.close()
            shutil.rmtree(tmp, ignore_errors=True)

    def cell(self, name: str, cell: dict, event: dict, student: StudentSide, deadline: float) -> None:
        """Run one cell on its side and report it; ``StudentSideGone`` when grading must stop."""
        trusted = self.spec["notebooks"][name]
        cell_timeout, max_chars = self.limits["cell_timeout"], self.limits["max_output_chars"]
        left = deadline - time.monotonic()
        timeout = min(cell_timeout, left)
        out_of_time = "the notebook exceeded its time limit"
        if cell["kind"] == "test":
            context = TestContext(student, max_chars)
            outcome, outputs = run_test(
                cell["grade_id"],
                trusted["tests"][cell["grade_id"]],
                self.namespaces[name],
                context,
                cell_timeout=timeout,
                max_output_chars=max_chars,
            )
            event.update(outputs=outputs, test={**outcome.to_json(), "student_names": context.names})
            self.emit(event)
            return
        source = trusted["setup"][cell["grade_id"]] if cell["kind"] == "setup" else cell["source"]
        reply, _ = student.request(
            {"op": "run", "source": source, "timeout": timeout, "max_output_chars": max_chars},
            [],
            timeout=timeout,
            late=out_of_time
            if left < cell_timeout
            else f"a cell ran past its {cell_timeout:g} s limit and ignored the interrupt",
        )
        event["outputs"] = clean_outputs(reply.get("outputs"), max_chars)
        self.emit(event)
        if any(o.get("ename") == "CellTimeoutError" for o in event["outputs"]):
            if left < cell_timeout:
                raise StudentSideGone(out_of_time)
            self.emit({"event": "timed_out", "notebook": name, "index": cell["index"]})


def _not_run_event(event: dict, cell: dict, reason: str) -> dict:
    """A cell that did not run (and, for a test, its outcome)."""
    out = {**event, "outputs": [not_run(reason)]}
    if cell["kind"] == "test":
        out["test"] = Outcome(False, reason, "NotRun").to_json()
    return out


# The test server -------------------------------------------------------------------------------


def run_setup(notebooks: dict) -> dict[str, TestNamespace]:
    """Each notebook's test-setup cells, run once on this side; their output is discarded."""
    namespaces = {}
    for name, notebook in notebooks.items():
        namespace = TestNamespace()
        for grade_id, source in notebook["setup"].items():
            saved = sys.stdout
            sys.stdout = io.StringIO()
            try:
                exec(compile(source, f"<setup {grade_id}>", "exec"), namespace)
            except BaseException as error:
                raise RuntimeError(
                    f"{name}: test-setup cell {grade_id!r} failed: {type(error).__name__}: {error}"
                ) from None
            finally:
                sys.stdout = saved
        namespaces[name] = namespace
    return namespaces


def limit_memory(memory_mb: int) -> None:
    """Cap this process's address space at its present size plus ``memory_mb``.

    A child decodes what the student's side sends, and JSON made of many small
    items takes some 25 times its size once decoded: without a cap, one frame
    under the size limit could cost the grader gigabytes for each submission.
    """
    try:
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * resource.getpagesize()
    except OSError:
        return
    limit = size + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def serve(path: str) -> int:
    spec, files_list = Reader(0).recv()
    files = dict(zip(spec.pop("files"), files_list, strict=True))
    out = os.fdopen(1, "wb")
    try:
        namespaces = run_setup(spec["notebooks"])
    except RuntimeError as error:
        send(out, {"ready": False, "error": str(error)})
        return 1
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    if spec["isolation"] == "bubblewrap":
        tmpfs_size_supported()  # probed once here, not in every child
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    send(out, {"ready": True})
    while True:
        readable, _, _ = select.select([listener, 0], [], [])
        if 0 in readable and not os.read(0, 1 << 16):
            return 0  # the grader closed our input: the batch is over
        if listener in readable:
            conn, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                os.setsid()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                limit_memory(spec["limits"]["memory_mb"])
                code = 1
                try:
                    code = handle(conn, spec, namespaces, files)
                except BaseException:
                    traceback.print_exc()
                finally:
                    sys.stderr.flush()
                    os._exit(code)
            conn.close()


def handle(conn: socket.socket, spec: dict, namespaces: dict, files: dict) -> int:
    reader = Reader(conn.fileno())
    stream = conn.makefile("wb")
    job, _ = reader.recv()

    def emit(event: dict) -> None:
        send(stream, event)

    emit({"event": "start", "pid": os.getpid()})
    Grading(spec, namespaces, files, emit).run(job)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    return serve(args[0])


if __name__ == "__main__":
    sys.exit(main())
