"""Notebooks on the grader's side: which cell runs where, and what the run produced.

Every code cell of a prepared submission is planned as one of

- ``test``: an autograded test cell known to the instructor's version; it runs on
  the trusted side from the instructor's source, never from the submission's;
- ``setup``: a locked cell the instructor tagged ``test-setup``; it runs on both
  sides (the trusted side ran it once for the whole batch);
- ``student``: everything else, run in the sandbox as submitted.

What a cell *is* comes from the instructor's version (the gradebook, or the
source or release notebook), never from the submission's metadata, so a
student cannot promote their own code to a test or to setup.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import nbformat
from nbgrader import utils

from .sandbox import Run, TrustedNotebook

#: The cell tag that marks the cells whose names the tests may use (imports, parameters).
TEST_SETUP_TAG = "test-setup"


@dataclass(frozen=True)
class TestResult:
    """The outcome of one autograded test cell; one entry of ``grading.json``'s ``tests``."""

    __test__ = False  # not a pytest test class

    notebook: str
    grade_id: str
    cell_index: int
    score: float
    max_score: float
    status: str  # "passed", "failed" or "not run"
    message: str  # empty when the test passed; never text from a hidden test


def is_autograded_test(cell: nbformat.NotebookNode) -> bool:
    return utils.is_grade(cell) and not utils.is_solution(cell) and cell.cell_type == "code"


def is_test_setup(cell: nbformat.NotebookNode) -> bool:
    return (
        cell.cell_type == "code"
        and TEST_SETUP_TAG in cell.metadata.get("tags", [])
        and utils.is_locked(cell)
        and not utils.is_grade(cell)
        and not utils.is_solution(cell)
    )


def trusted_notebook(nb: nbformat.NotebookNode) -> tuple[TrustedNotebook, dict[str, float]]:
    """The trusted side's view of an instructor's notebook, and each test's points."""
    setup, tests, points = {}, {}, {}
    for cell in nb.cells:
        if is_autograded_test(cell):
            grade_id = cell.metadata.nbgrader["grade_id"]
            tests[grade_id] = cell.source
            points[grade_id] = float(cell.metadata.nbgrader.get("points", 0))
        elif is_test_setup(cell):
            setup[cell.metadata.nbgrader["grade_id"]] = cell.source
    return TrustedNotebook(setup, tests), points


def plan(nb: nbformat.NotebookNode, trusted: TrustedNotebook) -> list[dict]:
    """Which side runs each code cell of a prepared submission (see the module docstring).

    A test that appears twice runs once; its copies run nowhere.
    """
    cells, seen = [], set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in trusted.tests or grade_id in trusted.setup:
            if grade_id in seen:
                continue
            seen.add(grade_id)
            kind = "test" if grade_id in trusted.tests else "setup"
            cells.append({"index": index, "kind": kind, "grade_id": grade_id})
        else:
            cells.append({"index": index, "kind": "student", "source": cell.source})
    return cells


def not_run_output(reason: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename="NotRun", evalue=reason, traceback=[reason])


@dataclass
class NotebookRun:
    """One notebook as the trusted side ran it: outputs filled in, tests scored."""

    nb: nbformat.NotebookNode
    tests: list[TestResult]
    stopped: str | None
    stopped_at: int | None
    timed_out: list[int]
    student_names: dict[str, list[str]]  # test grade_id -> names it read from the student's side


def assemble(
    name: str,
    nb: nbformat.NotebookNode,
    cells: list[dict],
    run: Run,
    points: dict[str, float],
    *,
    killed_reason: str,
) -> NotebookRun:
    """Put the reported outputs into ``nb`` and score its tests from the reported outcomes.

    Points come from ``points`` (the instructor's), never from the notebook. A
    test with no reported outcome (the run was killed or crashed first) scores 0.
    """
    events = [e for e in run.events if e.get("notebook") == name]
    outputs = {e["index"]: e.get("outputs", []) for e in events if e.get("event") == "cell"}
    outcomes = {e["index"]: e["test"] for e in events if e.get("event") == "cell" and "test" in e}
    stops = [e for e in events if e.get("event") == "stopped"]
    stopped = stops[0]["reason"] if stops else None
    stopped_at = stops[0]["index"] if stops else None
    if stopped is None and (run.killed or run.crashed) and len(outputs) < len(cells):
        stopped = killed_reason if run.killed else run.crashed
        stopped_at = next((c["index"] for c in cells if c["index"] not in outputs), None)
    timed_out = [e["index"] for e in events if e.get("event") == "timed_out"]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    for planned in cells:
        index = planned["index"]
        if index in outputs:
            nb.cells[index].outputs = [nbformat.from_dict(o) for o in outputs[index]]
        else:
            nb.cells[index].outputs = [not_run_output(f"not run: {stopped or 'the run ended early'}")]
    tests = []
    for planned in cells:
        if planned["kind"] != "test":
            continue
        grade_id, index = planned["grade_id"], planned["index"]
        outcome = outcomes.get(index)
        max_score = points.get(grade_id, 0.0)
        if outcome is None:
            status, score, message = "not run", 0.0, f"not run: {stopped or 'the run ended early'}"
        elif outcome.get("ename") == "NotRun":
            status, score, message = "not run", 0.0, str(outcome.get("message", ""))
        elif outcome.get("passed") is True:
            status, score, message = "passed", max_score, ""
        else:
            status, score, message = "failed", 0.0, str(outcome.get("message", ""))
        tests.append(TestResult(name, grade_id, index, score, max_score, status, message))
    planned_tests = {c["grade_id"] for c in cells if c["kind"] == "test"}
    for grade_id, max_score in points.items():
        if grade_id not in planned_tests:
            tests.append(
                TestResult(name, grade_id, -1, 0.0, max_score, "not run", "not run: the test cell is missing")
            )
    nb.metadata["autograder"] = {
        "stopped": stopped,
        "stopped_at_cell": stopped_at,
        "timed_out_cells": timed_out,
    }
    names = {
        planned["grade_id"]: list(outcomes[planned["index"]].get("student_names", []))
        for planned in cells
        if planned["kind"] == "test" and planned["index"] in outcomes
    }
    return NotebookRun(nb, tests, stopped, stopped_at, timed_out, names)


def solution_names(nb: nbformat.NotebookNode) -> set[str]:
    """Top-level names that the notebook's solution cells define (the answers tests may read)."""
    names = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or not utils.is_solution(cell):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def error_message(cell: nbformat.NotebookNode) -> str:
    """``ename: evalue`` of the cell's first error, or its stderr; never the traceback."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename == "NotRun":
                return output.evalue
            return f"{output.ename}: {output.evalue}" if output.evalue else output.ename
        if output.output_type == "stream" and output.name == "stderr":
            lines = output.text.strip().splitlines()
            return f"wrote to stderr: {lines[-1] if lines else ''}"
    return ""


def first_error(nb: nbformat.NotebookNode) -> tuple[int, str, str] | None:
    """(cell index, grade_id or '', message) of the first cell that raised, if any."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            message = error_message(cell)
            if message:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
                return index, grade_id, message
    return None
