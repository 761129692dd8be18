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
from typing import Any

# jsonschema (via nbformat) compiles an RFC 3987 grammar at import when rfc3987_syntax is
# installed: over a second per sandbox, for a URI format check notebooks never use.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import DeadKernelError  # noqa: E402

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


def not_run_output(reason: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename="NotRun", evalue=reason, traceback=[reason])


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
    workdir: Path,
    cell_timeout: float,
    deadline: float,
    max_output_chars: int,
) -> dict[str, Any]:
    """Execute ``nb`` in place; return a summary of how the run ended."""
    client = CappedClient(
        nb,
        timeout=int(cell_timeout),
        kernel_name="python3",
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
    for name in spec["notebooks"]:
        nb = nbformat.read(workdir / name, as_version=4)
        started = time.monotonic()
        summary = execute_notebook(
            nb,
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
