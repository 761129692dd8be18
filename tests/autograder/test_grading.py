"""Grading the toy course end to end: scores, reasons, gradebook, regrading."""

from __future__ import annotations

import nbformat
import pytest
from toycourse import ASSIGNMENT, NOTEBOOK, SOLUTION, grade_quietly, submission

pytestmark = pytest.mark.slow


def _edit(path, grade_id, source=None, delete=False):
    nb = nbformat.read(path, as_version=4)
    for cell in list(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            if delete:
                nb.cells.remove(cell)
            else:
                cell.source = source
    nbformat.write(nb, path)


@pytest.fixture
def results(course, tmp_path, sandbox, limits):
    subs = tmp_path / "subs"
    submission(course, "full", SOLUTION, subs)
    submission(course, "blank", None, subs)
    submission(course, "abs", "def add(a, b):\n    return abs(a) + abs(b)", subs)
    submission(course, "floaty", "def add(a, b):\n    return float(a + b)", subs)
    submission(
        course,
        "liar",
        "class Yes:\n    def __eq__(self, other):\n        return True\n\ndef add(a, b):\n    return Yes()",
        subs,
    )
    submission(course, "exits", "import os\nos._exit(3)", subs)
    path = submission(course, "cheat", "def add(a, b):\n    return 0", subs)
    _edit(path, "add_visible", "pass")
    _edit(path, "add_hidden", delete=True)
    path = submission(course, "broken", None, subs)
    path.write_text(path.read_text()[:100])
    (subs / "nothing" / ASSIGNMENT).mkdir(parents=True)
    return grade_quietly(course, subs, sandbox, limits)


def test_scores(results):
    scores = {s: r["score"] for s, r in results.items()}
    assert scores == {
        "full": 3,
        "blank": 0,
        "abs": 1,
        "floaty": 0,
        "liar": 0,
        "exits": 0,
        "cheat": 0,
        "broken": 0,
        "nothing": 0,
    }
    assert {r["max_score"] for r in results.values()} == {3}


def test_hidden_test_cells_are_restored_and_run(results):
    # abs(a) + abs(b) passes add(-1, 1)? No: 2 != 0, but passes the visible test.
    tests = {t["grade_id"]: t for t in results["abs"]["tests"]}
    assert tests["add_visible"]["status"] == "passed"
    assert tests["add_hidden"]["status"] == "failed"
    assert tests["add_hidden"]["message"] == (
        "AssertionError at: check_equal(add(-1, 1), 0) (the type is right; the value is not the expected one)"
    )


def test_type_strict_checks_beat_always_equal_objects(results):
    messages = [t["message"] for t in results["liar"]["tests"]]
    assert all(m.startswith("your code returned something that is not plain data") for m in messages)
    floaty = results["floaty"]["tests"][0]["message"]
    assert floaty == "AssertionError at: check_equal(add(1, 2), 3) (expected an int)"


def test_bad_submissions_get_reasons(results):
    assert results["full"]["status"] == "graded" and results["full"]["reasons"] == []
    assert results["broken"]["status"] == "failed"
    assert "is not a valid notebook" in results["broken"]["reasons"][0]
    assert results["exits"]["status"] == "failed"
    assert "kernel died" in results["exits"]["reasons"][0]
    assert "in cell 2 ('add')" in results["exits"]["reasons"][0]
    assert {t["status"] for t in results["exits"]["tests"]} == {"not run"}
    assert results["nothing"]["status"] == "failed"
    assert results["nothing"]["reasons"] == [f"missing notebook {NOTEBOOK}"]
    reasons = " ".join(results["cheat"]["reasons"])
    assert "'add_visible' was edited; it was restored" in reasons
    assert "'add_hidden' was deleted; it was restored" in reasons


def test_gradebook_holds_the_scores(course, results):
    with course.gradebook() as gb:
        for student, result in results.items():
            assert gb.find_submission(ASSIGNMENT, student).score == result["score"]


def test_regrading_replaces_the_result(course, results, tmp_path, sandbox, limits):
    subs = tmp_path / "again"
    submission(course, "blank", SOLUTION, subs)
    again = grade_quietly(course, subs, sandbox, limits)
    assert again["blank"]["score"] == 3
    with course.gradebook() as gb:
        assert gb.find_submission(ASSIGNMENT, "blank").score == 3
        assert len(gb.find_assignment(ASSIGNMENT).submissions) == len(results)
    assert course.read_result("blank", ASSIGNMENT)["score"] == 3
