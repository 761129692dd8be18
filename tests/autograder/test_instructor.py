"""An instructor's day: a wrong notebook is said in one line; a student can be removed."""

from __future__ import annotations

import json

import nbformat
import pytest
from test_cli import LIMITS, fails, run_cli
from toycourse import ASSIGNMENT, NOTEBOOK, SOLUTION, _meta, copy_of, submission


def _other_notebook() -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell("# Week 2", metadata=_meta("week2_intro", locked=True))]
    cells += [
        nbformat.v4.new_code_cell(
            f"assert True  # {i}", metadata=_meta(f"week2_test_{i}", grade=True, locked=True, points=1)
        )
        for i in range(50)
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.mark.slow
@pytest.mark.sandbox
def test_another_assignments_notebook_is_named_in_one_line(released_course, tmp_path):
    course = copy_of(released_course, tmp_path / "course")
    other = course.root / "release" / "week2" / "week2.ipynb"
    other.parent.mkdir(parents=True)
    nbformat.write(_other_notebook(), other)
    subs = tmp_path / "subs"
    target = subs / "ann" / ASSIGNMENT / NOTEBOOK
    target.parent.mkdir(parents=True)
    nbformat.write(_other_notebook(), target)
    submission(course, "bob", SOLUTION, subs)
    code, out, err = run_cli("--root", course.root, "grade", ASSIGNMENT, subs, "--no-progress", *LIMITS)
    assert code == 0, err
    result = course.read_result("ann", ASSIGNMENT)
    assert result["score"] == 0 and result["status"] == "failed"
    assert result["reasons"] == [
        f"{NOTEBOOK} is not this assignment's notebook, or most of it was deleted: only 0 of the 3 read-only "
        f"cells of {ASSIGNMENT}/{NOTEBOOK} are in it; it looks like week2/week2.ipynb; it was scored 0 "
        "(was the wrong file uploaded?)"
    ]
    assert course.read_result("bob", ASSIGNMENT)["score"] == 3
    _, status, _ = run_cli("--root", course.root, "status")
    assert max(len(line) for line in status.splitlines()) < 140


@pytest.mark.slow
@pytest.mark.sandbox
def test_remove_a_submission_then_the_student(released_course, tmp_path, capsys):
    course = copy_of(released_course, tmp_path / "course")
    subs = tmp_path / "subs"
    for student in ("ann", "bob"):
        submission(course, student, SOLUTION, subs)
    assert run_cli("--root", course.root, "grade", ASSIGNMENT, subs, "--no-progress", *LIMITS)[0] == 0
    assert run_cli("--root", course.root, "feedback", ASSIGNMENT)[0] == 0

    code, out, _ = run_cli("--root", course.root, "remove", "ann", ASSIGNMENT)
    assert code == 0
    assert out.splitlines() == [
        f"removed gradebook: ann's submission of {ASSIGNMENT}",
        f"removed submitted/ann/{ASSIGNMENT}",
        f"removed autograded/ann/{ASSIGNMENT}",
        f"removed feedback/ann/{ASSIGNMENT}",
    ]
    rows = json.loads(run_cli("--root", course.root, "status", "--json")[1])
    assert [r["student_id"] for r in rows] == ["bob"]
    with course.gradebook() as gb:
        assert [s.student.id for s in gb.find_assignment(ASSIGNMENT).submissions] == ["bob"]

    assert run_cli("--root", course.root, "remove", "bob")[0] == 0
    with course.gradebook() as gb:
        assert [s.id for s in gb.students] == ["ann"]  # ann stays a student; bob is gone
    assert not (course.root / "submitted" / "bob").exists()

    line = fails(capsys, "--root", course.root, "remove", "zoe")
    assert "no student 'zoe' in the gradebook; the gradebook has ann" in line
    line = fails(capsys, "--root", course.root, "remove", "ann", ASSIGNMENT)
    assert f"ann has no submission of {ASSIGNMENT} in the gradebook" in line
