"""The instructor's answers to an assignment, run from its source notebook.

The answers live in one place only: the solution cells of
``source/<assignment>/*.ipynb``. Tests and benchmarks that need them (the
course package ships none) get them from ``solution_namespace``, which runs
the notebook's ``parameters`` cell, its ``setup`` cell and every solution code
cell, in notebook order, in one fresh namespace. Test cells and the demo
("Explore") cells do not run.

Usage: ``solution_namespace("01_labeling")["majority_vote"]``.
"""

from __future__ import annotations

import contextlib
import io
import linecache
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PREAMBLE_CELLS = ("parameters", "setup")
"""``grade_id`` of the cells that set parameters and import what the solutions use."""


def _runs(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell is part of the solution: the parameters, the setup, or a solution code cell."""
    nbgrader = cell.metadata.get("nbgrader", {})
    is_part = (
        nbgrader.get("grade_id") in PREAMBLE_CELLS
        or "parameters" in cell.metadata.get("tags", [])
        or bool(nbgrader.get("solution"))
    )
    return cell.cell_type == "code" and is_part


def solution_namespace(assignment: str) -> dict[str, Any]:
    """Run the solution cells of ``source/<assignment>/*.ipynb`` and return their namespace.

    Each notebook's cells run from the notebook's folder, as in a kernel; what
    they print is discarded.

    Parameters
    ----------
    assignment : str
        Folder name under ``source/``, such as ``"01_labeling"``.

    Returns
    -------
    dict
        The globals after the cells ran: the solution functions and everything
        the setup cell defined.

    Raises
    ------
    FileNotFoundError
        If ``source/<assignment>`` holds no notebook.
    """
    notebooks = sorted((ROOT / "source" / assignment).glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebook in {ROOT / 'source' / assignment}")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        with contextlib.chdir(path.parent), contextlib.redirect_stdout(io.StringIO()):
            for cell in filter(_runs, nb.cells):
                name = f"<{path.name}: {cell.metadata.get('nbgrader', {}).get('grade_id', 'parameters')}>"
                # as a kernel does: inspect.getsource works on the functions defined here
                linecache.cache[name] = (len(cell.source), None, cell.source.splitlines(keepends=True), name)
                exec(compile(cell.source, name, "exec"), namespace)
    return namespace
