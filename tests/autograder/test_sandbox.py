"""The sandbox: a submission cannot reach the course, the gradebook or the network,
and runaway code is stopped and scored."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import nbformat
import pytest

import course
from autograder.edition import INSTRUCTOR_ONLY_MARK, instructor_only_modules
from autograder.notebooks import assemble, plan
from autograder.sandbox import Limits, Sandbox, TestServer, TrustedNotebook

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def run_cells(sandbox, *sources, limits=None):
    """Run ``sources`` as student cells; return the executed notebook and each cell's status."""
    limits = limits or Limits(cell_timeout=5, notebook_timeout=60)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    trusted = TrustedNotebook(setup={}, tests={})
    cells = plan(nb, trusted)
    with TestServer(sandbox, {"t.ipynb": trusted}, {}, limits) as server:
        run = server.run({"notebooks": {"t.ipynb": cells}})
    result = assemble("t.ipynb", nb, cells, run, {}, killed_reason="killed at the time limit")
    return result.nb, [_status(cell) for cell in result.nb.cells]


def _status(cell):
    errors = [o for o in cell.outputs if o.output_type == "error"]
    if not errors:
        return "passed"
    return "not run" if errors[0].ename == "NotRun" else "failed"


@pytest.fixture(params=["detected", "process"])
def limited(request, sandbox):
    """The detected sandbox, and the resource-limits-only fallback used without bubblewrap."""
    return sandbox if request.param == "detected" else Sandbox("process")


@pytest.fixture
def isolated(sandbox):
    if sandbox.isolation != "bubblewrap":
        pytest.skip("bubblewrap is not installed: file system and network isolation need it")
    return sandbox


def test_cannot_read_source_or_write_gradebook(isolated, course):
    source = course.root / "source" / "toy" / "toy.ipynb"
    gradebook = course.root / "gradebook.db"
    assert source.exists() and gradebook.exists()
    _, statuses = run_cells(
        isolated,
        f"open({str(source)!r}).read()",
        f"open({str(gradebook)!r}, 'ab').write(b'x')",
        f"import os; os.listdir({str(course.root)!r})",
    )
    assert statuses == ["failed", "failed", "failed"]
    assert gradebook.read_bytes()[-1:] != b"x"


def test_network_is_unreachable(isolated):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    try:
        _, statuses = run_cells(
            isolated,
            f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2)",
            "import socket; socket.create_connection(('198.51.100.1', 80), timeout=2)",
        )
    finally:
        server.close()
    assert statuses == ["failed", "failed"]
    assert accepted == []


def test_huge_allocation_is_stopped_and_scored(limited):
    executed, statuses = run_cells(
        limited,
        "x = bytearray(10 * 1024**3)",
        "print('still alive')",
        limits=Limits(cell_timeout=20, notebook_timeout=60, memory_mb=2048),
    )
    assert statuses == ["failed", "passed"]
    assert executed.cells[0].outputs[0].ename == "MemoryError"


def test_infinite_loop_is_interrupted_and_later_cells_run(limited):
    executed, statuses = run_cells(
        limited, "while True:\n    pass", "print('next')", limits=Limits(cell_timeout=2, notebook_timeout=60)
    )
    assert statuses == ["failed", "passed"]
    assert executed.metadata["autograder"]["timed_out_cells"] == [0]


def test_loop_that_swallows_interrupts_is_killed(limited):
    loop = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass"
    executed, statuses = run_cells(
        limited, loop, "print('never')", limits=Limits(cell_timeout=1, notebook_timeout=60)
    )
    assert statuses == ["not run", "not run"]
    assert "ignored the interrupt" in executed.metadata["autograder"]["stopped"]


def test_notebook_time_limit(limited):
    executed, statuses = run_cells(
        limited,
        "print(0)",
        "import time; time.sleep(60)",
        "print(1)",
        limits=Limits(cell_timeout=120, notebook_timeout=10),
    )
    assert statuses == ["passed", "failed", "not run"]
    assert executed.cells[1].outputs[0].ename == "CellTimeoutError"
    assert executed.metadata["autograder"]["stopped"] == "the notebook exceeded its time limit"


def test_process_count_is_limited(limited):
    fork = (
        "import os, time\nn = 0\ntry:\n    for _ in range(500):\n        if os.fork() == 0:\n"
        "            time.sleep(5); os._exit(0)\n        n += 1\nexcept OSError:\n    pass\nassert n < 500, n"
    )
    _, statuses = run_cells(limited, fork, limits=Limits(cell_timeout=20, max_processes=64))
    assert statuses == ["passed"]


def test_output_flood_is_truncated(limited):
    executed, statuses = run_cells(
        limited, "for i in range(200_000):\n    print('x' * 50)", limits=Limits(max_output_chars=10_000)
    )
    assert statuses == ["passed"]
    text = "".join(o.get("text", "") for o in executed.cells[0].outputs)
    assert len(text) < 20_000 and "output truncated" in text


def test_fallback_says_it_is_weaker():
    assert "WARNING none (--no-sandbox)" in Sandbox("process").description
    assert "can read the file system and reach the network" in Sandbox("process").description
    with pytest.raises(ValueError, match="unknown isolation"):
        Sandbox("docker")


@pytest.fixture
def instructor_only_probe():
    """A module of the real course package marked instructor-only, removed afterwards."""
    path = Path(course.__file__).resolve().parent / "_probe_instructor_only.py"
    path.write_text(f"{INSTRUCTOR_ONLY_MARK} — a test's probe\nANSWER = 42\n")
    yield path
    path.unlink()


def test_instructor_only_modules_read_empty_to_the_student(isolated, instructor_only_probe):
    """A module the student edition leaves out cannot be imported from the student's kernel either."""
    _, status = run_cells(
        isolated,
        "from course._probe_instructor_only import ANSWER",
        f"open({str(instructor_only_probe)!r}).read()",
        "import course.checks",  # the rest of the package is there
    )
    assert status == ["failed", "failed", "passed"]


def test_instructor_only_modules_are_found_by_their_first_line(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "_reference.py").write_text(f"{INSTRUCTOR_ONLY_MARK} — the answers\nX = 1\n")
    (package / "sub" / "public.py").write_text(f"X = 1\n{INSTRUCTOR_ONLY_MARK}\n")  # not the first line
    assert instructor_only_modules(package) == [package / "sub" / "_reference.py"]
