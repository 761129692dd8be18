"""A tiny course (one assignment, one notebook) to exercise the toolchain quickly."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from autograder.course import Course

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "toy"
NOTEBOOK = "toy.ipynb"
SOLUTION = '''def add(a, b):
    """Return a + b."""
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION'''
VISIBLE = '''"""add returns an int for ints."""
from course.checks import check_equal
check_equal(add(1, 2), 3)'''
HIDDEN = '''"""add works on negative numbers (hidden)."""
from course.checks import check_equal
check_equal(add(-1, 1), 0)
### BEGIN HIDDEN TESTS
check_equal(add(-5, -5), -10)
### END HIDDEN TESTS'''


def _meta(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def toy_notebook() -> nbformat.NotebookNode:
    cells = [
        nbformat.v4.new_markdown_cell("# Toy\nWrite `add`.", metadata=_meta("intro", locked=True)),
        nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(SOLUTION, metadata=_meta("add", solution=True)),
        nbformat.v4.new_code_cell(VISIBLE, metadata=_meta("add_visible", grade=True, locked=True, points=1)),
        nbformat.v4.new_code_cell(HIDDEN, metadata=_meta("add_hidden", grade=True, locked=True, points=2)),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def make_course(root: Path) -> Course:
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    nbformat.write(toy_notebook(), root / "source" / ASSIGNMENT / NOTEBOOK)
    return Course(root)


def submission(course: Course, student: str, body: str | None, folder: Path) -> Path:
    """Write ``folder/<student>/toy/toy.ipynb``: the release with ``add``'s body replaced."""
    nb = nbformat.read(course.path("release", ".", ASSIGNMENT) / NOTEBOOK, as_version=4)
    if body is not None:
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "add":
                cell.source = body
    target = folder / student / ASSIGNMENT / NOTEBOOK
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def copy_of(course: Course, dest: Path) -> Course:
    """A private copy of a (released) course at ``dest``."""
    shutil.copytree(course.root, dest)
    return Course(dest)


def grade_quietly(course: Course, folder: Path, sandbox, limits) -> dict[str, dict]:
    """Grade every toy submission under ``folder`` with two workers; results by student."""
    from autograder.executor import LocalProcessExecutor
    from autograder.grading import grade

    results = grade(
        course,
        ASSIGNMENT,
        folder,
        executor=LocalProcessExecutor(2),
        sandbox=sandbox,
        limits=limits,
        progress=False,
        echo=lambda line: None,
    )
    return {r["student_id"]: r for r in results}
