"""Export (CSV and Canvas layouts, written atomically) and the status of every submission."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from toycourse import ASSIGNMENT, NOTEBOOK, SOLUTION, copy_of, grade_quietly, submission

from autograder.course import Course, UserError
from autograder.reports import export, grade_rows, status_rows, table

ODD_STUDENT = 'o"neil, pat'  # only the gradebook API accepts such an id; the CSV must quote it
ODD_ASSIGNMENT = 'week 2, "extra"'


@pytest.fixture(scope="module")
def graded(released_course, tmp_path_factory, sandbox, limits) -> Course:
    """alice full marks, bob blank, carol no notebook (failed); plus a student and an
    assignment without any submission, and dave submitted but not graded."""
    tmp = tmp_path_factory.mktemp("reports")
    course = copy_of(released_course, tmp / "course")
    subs = tmp / "subs"
    submission(course, "alice", SOLUTION, subs)
    submission(course, "bob", None, subs)
    (subs / "carol" / ASSIGNMENT).mkdir(parents=True)
    grade_quietly(course, subs, sandbox, limits)
    with course.gradebook() as gb:
        gb.update_or_create_student(ODD_STUDENT)
        gb.update_or_create_assignment(ODD_ASSIGNMENT)
    submission(course, "dave", SOLUTION, course.root / "submitted")
    return course


def _read(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_csv_has_one_row_per_student_and_assignment(graded, tmp_path):
    output = tmp_path / "grades.csv"
    assert export(graded, output) == (4, 8)
    rows = _read(output)
    assert list(rows[0]) == [
        "student_id",
        "name",
        "assignment",
        "score",
        "max_score",
        "status",
        "late",
        "late_penalty",
    ]
    got = {
        (r["student_id"], r["assignment"]): (float(r["score"]), float(r["max_score"]), r["status"])
        for r in rows
    }
    assert len(got) == len(rows) == 8
    assert got == {
        ("alice", ASSIGNMENT): (3, 3, "graded"),
        ("bob", ASSIGNMENT): (0, 3, "graded"),
        ("carol", ASSIGNMENT): (0, 3, "failed"),
        (ODD_STUDENT, ASSIGNMENT): (0, 3, "missing"),
        **{(s, ODD_ASSIGNMENT): (0, 0, "missing") for s in ("alice", "bob", "carol", ODD_STUDENT)},
    }


@pytest.mark.slow
def test_csv_quotes_commas_and_quotes(graded, tmp_path):
    output = tmp_path / "grades.csv"
    export(graded, output)
    text = output.read_bytes().decode()
    assert '"o""neil, pat",,"week 2, ""extra""",0,0,missing,,\r\n' in text
    assert text.startswith("student_id,name,assignment,score,max_score,status,late,late_penalty\r\n")


@pytest.mark.slow
def test_canvas_layout_has_points_possible_and_leaves_the_ungraded_blank(graded, tmp_path):
    """Only assignments graded here get a column, and no submission is a blank, not a 0."""
    output = tmp_path / "canvas.csv"
    assert export(graded, output, "canvas") == (4, 4)
    with output.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT],
        ["Points Possible", "", "", "", "", "3"],
        ["alice", "alice", "", "", "", "3"],
        ["bob", "bob", "", "", "", "0"],
        ["carol", "carol", "", "", "", "0"],
        [ODD_STUDENT, ODD_STUDENT, "", "", "", ""],
    ]


@pytest.mark.slow
def test_an_unwritable_output_is_one_clear_error(graded, tmp_path):
    if os.getuid() == 0:
        target = Path("/sys/kernel/grades.csv")  # read-only even for root
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "grades.csv"
    with pytest.raises(UserError, match=rf"cannot write {target}: .*; choose another --output"):
        export(graded, target)


@pytest.mark.slow
def test_rows_match_the_gradebook(graded):
    rows = grade_rows(graded)
    with graded.gradebook() as gb:
        assert sum(r["score"] for r in rows) == sum(
            s.score for s in gb.find_assignment(ASSIGNMENT).submissions
        )


@pytest.mark.slow
def test_unknown_format_is_refused(graded, tmp_path):
    with pytest.raises(UserError, match="unknown export format 'xlsx': use one of csv, canvas"):
        export(graded, tmp_path / "g.xlsx", "xlsx")
    assert list(tmp_path.iterdir()) == []


def _fail_midway(monkeypatch):
    """The next export's file write stops half way with 'disk full'."""
    real = os.fdopen

    def fdopen(fd, *args, **kwargs):
        f = real(fd, *args, **kwargs)

        def write(text):
            type(f).write(f, text[: len(text) // 2])
            f.flush()
            raise OSError(28, "No space left on device")

        f.write = write
        return f

    monkeypatch.setattr("autograder.reports.os.fdopen", fdopen)


def _fail_replace(monkeypatch):
    def replace(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("autograder.reports.os.replace", replace)


@pytest.mark.slow
@pytest.mark.parametrize("failure", [_fail_midway, _fail_replace], ids=["write", "replace"])
def test_export_is_atomic(graded, tmp_path, monkeypatch, failure):
    output = tmp_path / "grades.csv"
    output.write_text("previous export\n")
    failure(monkeypatch)
    with pytest.raises(UserError, match="cannot write .*grades.csv: .*; choose another --output"):
        export(graded, output)
    assert output.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]  # no partial temporary file
    monkeypatch.undo()
    export(graded, output)
    assert len(_read(output)) == 8


@pytest.mark.slow
def test_status_shows_graded_failed_and_pending(graded):
    rows = status_rows(graded, [ASSIGNMENT])
    assert [(r["student_id"], r["state"], r["score"], r["reasons"]) for r in rows] == [
        ("alice", "graded", "3/3", []),
        ("bob", "graded", "0/3", []),
        ("carol", "failed", "0/3", [f"missing notebook {NOTEBOOK}"]),
        ("dave", "pending", "", ["submitted, not graded yet"]),
    ]
    assert {r["assignment"] for r in rows} == {ASSIGNMENT}
    assert status_rows(graded, [ODD_ASSIGNMENT]) == []


def test_status_of_a_course_with_nothing_submitted(course):
    assert status_rows(course, [ASSIGNMENT]) == []


def test_export_says_pending_while_a_regrade_is_unfinished(course, tmp_path):
    """The gradebook has an old score, but the new submission is not graded yet."""
    with course.gradebook() as gb:
        gb.update_or_create_student("zed")
        gb.update_or_create_submission(ASSIGNMENT, "zed")
    assert [r["status"] for r in grade_rows(course)] == ["graded"]  # e.g. graded by nbgrader itself
    submission(course, "zed", SOLUTION, course.root / "submitted")
    assert [(r["student_id"], r["status"]) for r in grade_rows(course)] == [("zed", "pending")]
    assert [r["state"] for r in status_rows(course, [ASSIGNMENT])] == ["pending"]


def test_table_aligns_columns():
    rows = [{"a": "x", "b": 1.5}, {"a": "longer", "b": ""}]
    assert table(rows, ["a", "b"]).splitlines() == [
        "a       b",
        "------  ---",
        "x       1.5",
        "longer",
    ]
