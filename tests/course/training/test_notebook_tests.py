"""The test cells of assignment 03 tell right from wrong, checked in one process.

Grading the sample class in the sandbox (tests/test_assignments.py) covers the
variants in ``WRONG_ANSWERS``; every notebook there runs three training jobs,
so the other plausible wrong answers (``MORE_WRONG_ANSWERS``) are checked here,
faster: the source notebook's parameters, setup, solution cells (with the
variant's replacements) and test cells run in one namespace, as in one kernel,
without the Explore cells.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "source" / "03_spot_training" / "spot_training.ipynb"
_spec = importlib.util.spec_from_file_location("a03_spot_training", ROOT / "samples" / "a03_spot_training.py")
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)


def score(replacements: dict[str, str]) -> tuple[int, int, list[str]]:
    """Points earned, points possible, and the failed test cells, with the given solution cells."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    namespace: dict = {"__name__": "__main__"}
    earned, possible, failed = 0, 0, []
    for cell in nb.cells:
        nbgrader = cell.metadata.get("nbgrader", {})
        grade_id = nbgrader.get("grade_id")
        if cell.cell_type != "code":
            continue
        if grade_id in ("parameters", "setup") or nbgrader.get("solution"):
            exec(compile(replacements.get(grade_id, cell.source), grade_id, "exec"), namespace)
        elif nbgrader.get("grade"):
            possible += nbgrader["points"]
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(cell.source, grade_id, "exec"), namespace)
            except Exception:
                failed.append(grade_id)
            else:
                earned += nbgrader["points"]
    return earned, possible, failed


def test_the_solution_passes_every_test_cell():
    earned, possible, failed = score({})
    assert failed == [] and earned == possible == 20


@pytest.mark.parametrize("name", [*samples.WRONG_ANSWERS, *samples.MORE_WRONG_ANSWERS])
def test_every_plausible_wrong_answer_loses_points(name):
    replacements = {**samples.WRONG_ANSWERS, **samples.MORE_WRONG_ANSWERS}[name]
    earned, possible, failed = score(replacements)
    assert failed, f"{name} passed every test cell"
    assert earned < possible


def test_the_partial_student_gets_about_half():
    earned, possible, _ = score(samples.PARTIAL)
    assert 0.3 * possible <= earned <= 0.7 * possible
