"""Execute one prepared notebook inside the grading sandbox.

Run as ``python -m autograder.runner SPEC`` where SPEC is a JSON file naming the
notebooks and limits. The parent process (:mod:`autograder.sandbox`) starts it
inside the sandbox; it only reads and writes files in its working directory,
never the gradebook.

Every code cell runs in order with a per-cell time limit. A cell that does not
stop when interrupted, the notebook deadline, or a crash of the kernel
(``os._exit``, a segfault) ends the run: the remaining cells get an error output
saying why they did not run, so a test that never ran never earns points.
Outputs are capped per cell so a flood of prints cannot exhaust memory.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

INTERRUPT_GRACE_SECONDS = 5.0


def set_limits(memory_mb: int, max_file_mb: int, max_processes: int) -> None:
    """Apply resource limits to this process and everything it starts."""
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    size = max_file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.getuid() != 0:  # root ignores RLIMIT_NPROC; the sandbox uses a pids cgroup then
        resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))


def install_grading_kernel(folder: Path) -> str:
    """Make :mod:`autograder.kernel` findable as a Jupyter kernel; return its name."""
    spec = folder / "kernels" / "grading" / "kernel.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "autograder.kernel", "-f", "{connection_file}"]
    spec.write_text(json.dumps({"argv": argv, "display_name": "Grading", "language": "python"}))
    os.environ["JUPYTER_PATH"] = str(folder)
    return "grading"


def not_run_output(reason: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename="NotRun", evalue=reason, traceback=[reason])


class QuickReadyClient(AsyncKernelClient):
    """jupyter_client's readiness check without its closing 0.2 s wait for a quiet IOPub.

    As in jupyter_client, the kernel is ready once it answers kernel_info and
    IOPub has delivered a message, so no output is lost to a late subscription.
    The skipped step only drains start-up messages, which nbclient ignores
    anyway: it matches every output to its request by message id.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or 60)
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
                if msg["msg_type"] == "kernel_info_reply":
                    await self.iopub_channel.get_msg(timeout=0.2)
                    self._handle_kernel_info_reply(msg)
                    return
            except Empty:
                pass
            if not await self._async_is_alive():
                raise RuntimeError("the kernel died before it was ready")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel did not answer within {timeout} s")


class CappedClient(NotebookClient):
    """A NotebookClient that keeps at most ``max_output_chars`` of output per cell."""

    max_output_chars = 100_000
    truncated: set[int]

    def output(self, outs, msg, display_id, cell_index):  # type: ignore[override]
        if cell_index in self.truncated:
            return None
        out = super().output(outs, msg, display_id, cell_index)
        room = self.max_output_chars - sum(len(json.dumps(o)) for o in outs[:-1])
        if out is not None and len(json.dumps(out)) > room:
            if out.output_type == "stream":
                out.text = out.text[: max(0, room - 200)]
            else:
                outs.pop()
            self.truncated.add(cell_index)
            outs.append(
                nbformat.v4.new_output(
                    "stream",
                    name="stdout",
                    text=f"[output truncated at {self.max_output_chars} characters]\n",
                )
            )
        return out


class Watchdog(threading.Thread):
    """Kill the kernel when a cell ignores its interrupt or the notebook runs out of time."""

    def __init__(self, client: NotebookClient, cell_timeout: float, deadline: float) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.cell_timeout = cell_timeout
        self.deadline = deadline
        self.cell_started: float | None = None
        self.reason: str | None = None
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(0.2):
            now = time.monotonic()
            started = self.cell_started
            if now > self.deadline:
                self.kill("the notebook exceeded its time limit")
            elif started is not None and now - started > self.cell_timeout + INTERRUPT_GRACE_SECONDS:
                self.kill(f"a cell ran past its {self.cell_timeout:g} s limit and ignored the interrupt")

    def kill(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        pid = getattr(self.client.km.provisioner, "pid", None) if self.client.km else None
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def stop(self) -> None:
        self._stop.set()


def execute_notebook(
    nb: nbformat.NotebookNode,
    *,
    kernel_name: str,
    workdir: Path,
    cell_timeout: float,
    deadline: float,
    max_output_chars: int,
) -> dict[str, Any]:
    """Execute ``nb`` in place; return a summary of how the run ended."""
    config = Config()
    config.AsyncKernelManager.client_class = f"{__name__}.QuickReadyClient"
    client = CappedClient(
        nb,
        config=config,
        timeout=int(cell_timeout),
        kernel_name=kernel_name,
        allow_errors=True,
        interrupt_on_timeout=True,
        record_timing=False,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.max_output_chars = max_output_chars
    client.truncated = set()
    stopped: str | None = None
    stopped_at: int | None = None
    timed_out: list[int] = []
    with client.setup_kernel():
        watchdog = Watchdog(client, cell_timeout, deadline)
        watchdog.start()
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if stopped is not None:
                    cell.outputs = [not_run_output(f"not run: {stopped}")]
                    continue
                started = watchdog.cell_started = time.monotonic()
                try:
                    client.execute_cell(cell, index)
                except DeadKernelError:
                    stopped = watchdog.reason or "the kernel died (the code crashed or called os._exit)"
                    stopped_at = index
                    cell.outputs.append(not_run_output(f"stopped: {stopped}"))
                finally:
                    watchdog.cell_started = None
                if stopped is None and time.monotonic() - started >= cell_timeout:
                    timed_out.append(index)
                    cell.outputs.append(
                        nbformat.v4.new_output(
                            "error",
                            ename="CellTimeoutError",
                            evalue=f"the cell ran longer than {cell_timeout:g} s and was interrupted",
                            traceback=[],
                        )
                    )
                if stopped is None and watchdog.reason is not None:
                    stopped, stopped_at = watchdog.reason, index
        finally:
            watchdog.stop()
    return {"stopped": stopped, "stopped_at_cell": stopped_at, "timed_out_cells": timed_out}


def main(argv: list[str] | None = None) -> int:
    spec_path = Path((argv or sys.argv[1:])[0])
    spec = json.loads(spec_path.read_text())
    workdir = spec_path.parent
    set_limits(spec["memory_mb"], spec["max_file_mb"], spec["max_processes"])
    deadline = time.monotonic() + spec["notebook_timeout"]
    kernel_name = install_grading_kernel(workdir / ".autograder-kernel")
    for name in spec["notebooks"]:
        nb = nbformat.read(workdir / name, as_version=4)
        started = time.monotonic()
        summary = execute_notebook(
            nb,
            kernel_name=kernel_name,
            workdir=workdir,
            cell_timeout=spec["cell_timeout"],
            deadline=deadline,
            max_output_chars=spec["max_output_chars"],
        )
        summary["seconds"] = round(time.monotonic() - started, 3)
        nb.metadata["autograder"] = summary
        nbformat.write(nb, workdir / f"{name}.executed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
