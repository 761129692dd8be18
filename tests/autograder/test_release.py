"""Releasing: broken sources are refused, a failed release keeps the previous one."""

from __future__ import annotations

import re

import nbformat
import pytest
from toycourse import ASSIGNMENT, NOTEBOOK, make_course

from autograder.course import UserError
from autograder.release import release


def _edit_source(course, grade_id, source, points=None):
    path = course.path("source", ".", ASSIGNMENT) / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    cell.source = source
    if points is not None:
        cell.metadata.nbgrader["points"] = points
    nbformat.write(nb, path)


def _snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_released_notebook_has_no_solution_and_no_hidden_test(released_course):
    folder = released_course.path("release", ".", ASSIGNMENT)
    assert sorted(_snapshot(folder)) == [NOTEBOOK]
    nb = nbformat.read(folder / NOTEBOOK, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    for secret in ("BEGIN SOLUTION", "return a + b", "BEGIN HIDDEN TESTS", "check_equal(add(-5, -5), -10)"):
        assert secret not in text
    assert "raise NotImplementedError()" in text
    assert "check_equal(add(1, 2), 3)" in text and "check_equal(add(-1, 1), 0)" in text
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    grade_ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    assert grade_ids == ["intro", None, "add", "add_visible", "add_hidden"]
    with released_course.gradebook() as gb:
        assert gb.find_assignment(ASSIGNMENT).max_score == 3


def test_unknown_assignment(released_course, sandbox, limits):
    with pytest.raises(UserError, match="unknown assignment 'nope': the course has toy"):
        release(released_course, "nope", sandbox, limits)


@pytest.mark.slow
def test_failing_source_test_is_refused(tmp_path, sandbox, limits):
    course = make_course(tmp_path / "course")
    _edit_source(course, "add_visible", '"""add is wrong here."""\nassert add(1, 2) == 4, "1 + 2 is not 4"')
    with pytest.raises(UserError) as error:
        release(course, ASSIGNMENT, sandbox, limits)
    message = str(error.value)
    assert re.search(
        rf"source/{ASSIGNMENT}/{NOTEBOOK}: cell 3 \('add_visible'\) failed in the solution", message
    )
    assert "AssertionError: 1 + 2 is not 4" in message
    assert not course.path("release", ".", ASSIGNMENT).exists()


@pytest.fixture
def broken(course):
    """The released toy course whose hidden test now asserts nothing (and is worth 5)."""
    before = _snapshot(course.root / "release")
    _edit_source(course, "add_hidden", '"""asserts nothing."""\nresult = 1', points=5)
    return course, before


@pytest.mark.slow
def test_test_passing_on_the_stub_is_refused(broken, sandbox, limits):
    course, before = broken
    with pytest.raises(UserError) as error:
        release(course, ASSIGNMENT, sandbox, limits)
    message = str(error.value)
    assert re.search(rf"release/{ASSIGNMENT}/{NOTEBOOK}: test cell 4 \('add_hidden'\) passes", message)
    assert "make it fail on the stub" in message
    assert _snapshot(course.root / "release") == before


@pytest.mark.slow
def test_refused_release_keeps_the_gradebook(broken, sandbox, limits):
    course, _ = broken
    with pytest.raises(UserError):
        release(course, ASSIGNMENT, sandbox, limits)
    with course.gradebook() as gb:
        assert gb.find_assignment(ASSIGNMENT).max_score == 3


def _insert_locked_cell(course, source, *, tags=()):
    """Put a locked, ungraded cell ``helper`` before the solution of the toy source."""
    path = course.path("source", ".", ASSIGNMENT) / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    meta = {
        "grade": False,
        "grade_id": "helper",
        "locked": True,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta, "tags": list(tags)})
    nb.cells.insert(2, cell)
    nbformat.write(nb, path)


@pytest.mark.slow
def test_a_test_reading_setup_from_the_student_side_is_refused(tmp_path, sandbox, limits):
    course = make_course(tmp_path / "course")
    _insert_locked_cell(course, "expected = 3")
    _edit_source(
        course,
        "add_visible",
        '"""add(1, 2) is 3."""\nfrom course.checks import check_equal\ncheck_equal(add(1, 2), expected)',
    )
    with pytest.raises(UserError) as error:
        release(course, ASSIGNMENT, sandbox, limits)
    message = str(error.value)
    assert "test cell 'add_visible' reads 'expected' from the student's side" in message
    assert "tag the locked cell that defines it 'test-setup'" in message


@pytest.mark.slow
def test_a_tagged_setup_cell_gives_the_tests_their_own_copy(tmp_path, sandbox, limits):
    course = make_course(tmp_path / "course")
    _insert_locked_cell(course, "from course.checks import check_equal\nexpected = 3", tags=["test-setup"])
    _edit_source(course, "add_visible", '"""add(1, 2) is 3."""\ncheck_equal(add(1, 2), expected)')
    release(course, ASSIGNMENT, sandbox, limits)
    nb = nbformat.read(course.path("release", ".", ASSIGNMENT) / NOTEBOOK, as_version=4)
    assert nb.cells[2].metadata.tags == ["test-setup"]
