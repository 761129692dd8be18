"""Reading graded notebooks: which autograded tests passed, and why the others failed."""

from __future__ import annotations

from dataclasses import dataclass

import nbformat
from nbgrader import utils


@dataclass(frozen=True)
class CellResult:
    """The outcome of one autograded test cell."""

    grade_id: str
    cell_index: int
    score: float
    max_score: float
    message: str  # empty when the test passed

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    @property
    def status(self) -> str:
        if self.message.startswith(("not run:", "stopped:")):
            return "not run"
        return "passed" if self.passed else "failed"


def is_autograded_test(cell: nbformat.NotebookNode) -> bool:
    return utils.is_grade(cell) and not utils.is_solution(cell) and cell.cell_type == "code"


def error_message(cell: nbformat.NotebookNode) -> str:
    """``ename: evalue`` of the cell's first error, or its stderr; never the traceback.

    Tracebacks quote the failing line, which may be a hidden test.
    """
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename == "NotRun":
                return output.evalue
            return f"{output.ename}: {output.evalue}" if output.evalue else output.ename
        if output.output_type == "stream" and output.name == "stderr":
            lines = output.text.strip().splitlines()
            return f"wrote to stderr: {lines[-1] if lines else ''}"
    return ""


def score_tests(nb: nbformat.NotebookNode) -> list[CellResult]:
    """Score every autograded test cell the way nbgrader does."""
    results = []
    for index, cell in enumerate(nb.cells):
        if not is_autograded_test(cell):
            continue
        score, max_score = utils.determine_grade(cell)
        message = error_message(cell)
        if score is not None and score < max_score and not message:
            message = "partial credit"
        results.append(
            CellResult(
                cell.metadata.nbgrader["grade_id"],
                index,
                float(score or 0),
                float(max_score),
                message,
            )
        )
    return results


def first_error(nb: nbformat.NotebookNode) -> tuple[int, str, str] | None:
    """(cell index, grade_id or '', message) of the first cell that raised, if any."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            message = error_message(cell)
            if message:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
                return index, grade_id, message
    return None
