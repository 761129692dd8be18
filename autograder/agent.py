"""The student's side of grading: runs student cells and answers the tests' requests.

Started inside the sandbox as ``python -m autograder.agent``. Its standard input
and output carry the data-only channel (:mod:`autograder.channel`) to the
trusted side, which sends three kinds of request:

- ``run``: execute one student cell (a solution, or any other cell that is not
  a test) in an IPython shell, and return its outputs and error;
- ``get``: the value of a name, as data, or word that it is a function;
- ``call``: call a student function with data and return its result as data,
  with the arguments as they are after the call (so the tests can see a
  function that changes its caller's input in place).

Test cells never come here. Everything this process answers is untrusted: the
student's code runs in it and can change any of it, so the trusted side
rebuilds every answer from plain data and believes none of it beyond that.
"""

from __future__ import annotations

import builtins
import os
import signal
import sys
import traceback
from typing import Any

from .channel import ChannelClosed, NotData, Reader, decode, encode, send

MESSAGE_CHARS = 2000
TRUNCATED = "[output truncated]\n"


class CellTimeoutError(BaseException):
    """Raised in student code when its time is up (a BaseException: ``except Exception`` misses it)."""


class Capture:
    """Collects a cell's outputs in nbformat's shape, at most ``limit`` characters in all."""

    def __init__(self, limit: int) -> None:
        self.outputs: list[dict] = []
        self.room = limit
        self.truncated = False

    def add(self, output: dict, size: int) -> None:
        if self.truncated:
            return
        if size > self.room:
            self.truncated = True
            if output["output_type"] == "stream" and self.room:
                self.add({**output, "text": output["text"][: self.room]}, self.room)
            self.outputs.append({"output_type": "stream", "name": "stdout", "text": TRUNCATED})
            return
        self.room -= size
        last = self.outputs[-1] if self.outputs else None
        if output["output_type"] == "stream" and last and last.get("name") == output["name"]:
            last["text"] += output["text"]
        else:
            self.outputs.append(output)

    def stream(self, name: str, text: str) -> None:
        if text:
            self.add({"output_type": "stream", "name": name, "text": text}, len(text))

    def text(self, name: str) -> str:
        return "".join(o["text"] for o in self.outputs if o.get("name") == name)


class Stream:
    """A stand-in for ``sys.stdout``/``sys.stderr`` that writes into the current capture."""

    encoding = "utf-8"

    def __init__(self, name: str) -> None:
        self.name = name
        self.capture: Capture | None = None

    def write(self, text: str) -> int:
        if self.capture is not None and isinstance(text, str):
            self.capture.stream(self.name, text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def make_shell(stdout: Stream, stderr: Stream) -> Any:
    """An IPython shell whose displays, results and errors land in the current capture."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, *args, **kwargs):
            if stdout.capture is not None:
                data = {k: v for k, v in data.items() if isinstance(v, str)}
                stdout.capture.add(
                    {"output_type": "display_data", "data": data, "metadata": {}},
                    sum(len(v) for v in data.values()),
                )

        def clear_output(self, wait=False):
            pass

    class Hook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            if stdout.capture is not None:
                data = {k: v for k, v in format_dict.items() if isinstance(v, str)}
                stdout.capture.add(
                    {"output_type": "execute_result", "data": data, "metadata": {}, "execution_count": None},
                    sum(len(v) for v in data.values()),
                )

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    shell = InteractiveShell.instance(config=config)
    shell.display_pub = Publisher(shell=shell)
    shell.displayhook = shell.display_trap.hook = Hook(shell=shell, cache_size=0)

    def show(etype, evalue, stb):
        if stdout.capture is not None:
            text = "\n".join(stb)
            stdout.capture.add(
                {
                    "output_type": "error",
                    "ename": etype.__name__,
                    "evalue": _text(evalue),
                    "traceback": stb,
                },
                len(text),
            )

    shell._showtraceback = show
    return shell


def _text(value: Any) -> str:
    try:
        return str(value)[:MESSAGE_CHARS]
    except BaseException:
        return f"<{type(value).__name__} that cannot be shown>"


def error_reply(error: BaseException) -> dict:
    kind = type(error)
    types = [c.__name__ for c in kind.__mro__ if getattr(builtins, c.__name__, None) is c]
    return {"error": {"name": kind.__name__, "types": types, "message": _text(error)}}


def _on_alarm(signum, frame):
    raise CellTimeoutError("the time limit was reached")


class Agent:
    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.reader = Reader(fd_in)
        self.out = os.fdopen(fd_out, "wb")
        self.stdout, self.stderr = Stream("stdout"), Stream("stderr")
        sys.stdout, sys.stderr = self.stdout, self.stderr
        self.shell = make_shell(self.stdout, self.stderr)
        signal.signal(signal.SIGALRM, _on_alarm)

    def capture(self, limit: int) -> Capture:
        capture = Capture(limit)
        self.stdout.capture = self.stderr.capture = capture
        return capture

    def serve(self) -> None:
        while True:
            try:
                message, buffers = self.reader.recv()
            except ChannelClosed:
                return
            op = message.get("op")
            try:
                reply, out = getattr(self, f"op_{op}")(message, buffers)
            except BaseException as error:  # a broken request, or student code that escaped its op
                reply, out = error_reply(error), []
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                self.stdout.capture = self.stderr.capture = None
            send(self.out, reply, out)

    def op_run(self, message: dict, buffers: list[bytes]) -> tuple[dict, list[bytes]]:
        capture = self.capture(int(message["max_output_chars"]))
        signal.setitimer(signal.ITIMER_REAL, float(message["timeout"]))
        try:
            self.shell.run_cell(message["source"], store_history=False)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        return {"outputs": capture.outputs}, []

    def op_get(self, message: dict, buffers: list[bytes]) -> tuple[dict, list[bytes]]:
        name = message["name"]
        if name not in self.shell.user_ns:
            return {"kind": "missing"}, []
        value = self.shell.user_ns[name]
        if callable(value):
            return {"kind": "function"}, []
        try:
            header, out = encode(value)
        except NotData as error:
            return error_reply(error), []
        return {"kind": "value", "value": header}, out

    def op_call(self, message: dict, buffers: list[bytes]) -> tuple[dict, list[bytes]]:
        function = self.shell.user_ns.get(message["name"])
        args, kwargs = decode(message["args"], buffers)
        capture = self.capture(int(message["max_output_chars"]))
        signal.setitimer(signal.ITIMER_REAL, float(message["timeout"]))
        try:
            result = function(*args, **kwargs)
        except BaseException as error:
            signal.setitimer(signal.ITIMER_REAL, 0)
            reply = error_reply(error)
            if isinstance(error, (CellTimeoutError, RecursionError, MemoryError)):
                reply["error"]["traceback"] = ""
            else:
                reply["error"]["traceback"] = _text("".join(traceback.format_exception(error)[-6:]))
            return {**reply, "stdout": capture.text("stdout"), "stderr": capture.text("stderr")}, []
        signal.setitimer(signal.ITIMER_REAL, 0)
        streams = {"stdout": capture.text("stdout"), "stderr": capture.text("stderr")}
        try:
            header, out = encode([result, [list(args), kwargs]])
        except NotData as error:
            return {**error_reply(NotData(f"the result of {message['name']}(...): {error}")), **streams}, []
        return {"value": header, **streams}, out


def main() -> int:
    # The channel keeps the original pipes; fd 0 and 1 are closed to student code, so a stray
    # write to them (print from C, os.write(1, ...)) cannot corrupt a message.
    fd_in, fd_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    Agent(fd_in, fd_out).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
