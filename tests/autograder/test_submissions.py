"""Finding submissions: nbgrader folders, zips of them, Canvas downloads, hostile zips."""

from __future__ import annotations

import csv
import zipfile

import pytest
from toycourse import ASSIGNMENT, NOTEBOOK, SOLUTION, submission

from autograder.course import UserError
from autograder.executor import SerialExecutor
from autograder.grading import grade
from autograder.reports import export, status_rows
from autograder.submissions import collect

EXPECTED = [NOTEBOOK]


def _write(folder, files: dict[str, str]):
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def _zip(path, files: dict[str, str | bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def _collect(path, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    return {s.student_id: s for s in collect(path, ASSIGNMENT, EXPECTED, scratch)}


NBGRADER_LAYOUT = {
    f"alice/{ASSIGNMENT}/{NOTEBOOK}": "alice",
    f"bob/{ASSIGNMENT}/{NOTEBOOK}": "bob",
    f"bob/{ASSIGNMENT}/scratch.txt": "not a notebook",
    f"carol/other_assignment/{NOTEBOOK}": "carol, another assignment",
}


def _contents(submissions):
    return {sid: {n: p.read_text() for n, p in s.notebooks.items()} for sid, s in submissions.items()}


def test_nbgrader_folder(tmp_path):
    subs = _write(tmp_path / "subs", NBGRADER_LAYOUT)
    found = _collect(subs, tmp_path)
    assert _contents(found) == {"alice": {NOTEBOOK: "alice"}, "bob": {NOTEBOOK: "bob"}}
    assert all(s.notes == [] for s in found.values())


@pytest.mark.parametrize("top", ["", "submissions/", "download/submissions/"])
def test_zip_of_nbgrader_folder(tmp_path, top):
    archive = _zip(tmp_path / "subs.zip", {top + name: text for name, text in NBGRADER_LAYOUT.items()})
    found = _collect(archive, tmp_path)
    assert _contents(found) == {"alice": {NOTEBOOK: "alice"}, "bob": {NOTEBOOK: "bob"}}
    assert all(p.is_relative_to(tmp_path / "scratch") for s in found.values() for p in s.notebooks.values())


CANVAS = {
    "doejane_12345_67890_toy.ipynb": "jane",
    "smithjohn_late_222_333_toy-1.ipynb": "john, newest",
    "smithjohn_LATE_222_111_toy.ipynb": "john, oldest",
    "smithjohn_late_222_250_toy-2.ipynb": "john, middle",
    "leeann_444_555_My Copy of toy.ipynb": "ann, renamed",
}


@pytest.mark.parametrize("top", ["", "submissions/"])
def test_canvas_zip(tmp_path, top):
    archive = _zip(tmp_path / "canvas.zip", {top + name: text for name, text in CANVAS.items()})
    found = _collect(archive, tmp_path)
    assert _contents(found) == {
        "12345": {NOTEBOOK: "jane"},
        "222": {NOTEBOOK: "john, newest"},
        "444": {NOTEBOOK: "ann, renamed"},
    }
    assert found["12345"].notes == found["222"].notes == []
    assert found["444"].notes == [f"accepted My Copy of toy.ipynb as {NOTEBOOK}"]
    assert {k: (s.name, s.late) for k, s in found.items()} == {
        "12345": ("doejane", False),
        "222": ("smithjohn", True),  # Canvas's _late marker of the newest file
        "444": ("leeann", False),
    }


def test_canvas_zip_in_a_folder_named_like_the_assignment(tmp_path):
    files = {f"submissions/{ASSIGNMENT}/{name}": text for name, text in CANVAS.items()}
    found = _collect(_zip(tmp_path / "canvas.zip", files), tmp_path)
    assert sorted(found) == ["12345", "222", "444"]


def test_renamed_notebook_in_nbgrader_folder_is_accepted_with_a_note(tmp_path):
    subs = _write(tmp_path / "subs", {f"alice/{ASSIGNMENT}/Untitled1.ipynb": "alice"})
    found = _collect(subs, tmp_path)
    assert _contents(found) == {"alice": {NOTEBOOK: "alice"}}
    assert found["alice"].notes == [f"accepted Untitled1.ipynb as {NOTEBOOK}"]


def test_missing_notebook_is_noted(tmp_path):
    subs = tmp_path / "subs"
    (subs / "alice" / ASSIGNMENT).mkdir(parents=True)
    found = _collect(subs, tmp_path)
    assert found["alice"].notebooks == {}
    assert found["alice"].notes == [f"missing notebook {NOTEBOOK}"]


def test_multi_notebook_assignment_matches_by_name(tmp_path):
    subs = _write(tmp_path / "subs", {f"alice/{ASSIGNMENT}/b.ipynb": "b", f"alice/{ASSIGNMENT}/x.ipynb": "x"})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    [alice] = collect(subs, ASSIGNMENT, ["a.ipynb", "b.ipynb"], scratch)
    assert {n: p.read_text() for n, p in alice.notebooks.items()} == {"a.ipynb": "x", "b.ipynb": "b"}
    assert alice.notes == ["accepted x.ipynb as a.ipynb"]


@pytest.mark.parametrize(
    "evil",
    [
        "../evil.ipynb",
        "../../evil.ipynb",
        "alice/toy/../../../evil.ipynb",
        "./../evil.ipynb",
        "{tmp}/evil.ipynb",
        "/{tmp}/evil.ipynb",
    ],
)
def test_zip_slip_entries_stay_inside_scratch(tmp_path, evil):
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    evil = evil.format(tmp=tmp_path.as_posix())
    archive = work / "subs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"alice/{ASSIGNMENT}/{NOTEBOOK}", "alice")
        # ZipFile.writestr strips leading slashes from names; a hand-made ZipInfo keeps them
        info = zipfile.ZipInfo("x")
        info.filename = evil
        zf.writestr(info, "evil")
    assert evil in zipfile.ZipFile(archive).namelist()
    found = _collect(archive, work)
    assert _contents(found) == {"alice": {NOTEBOOK: "alice"}}
    scratch = work / "scratch"
    escaped = [p for p in tmp_path.rglob("evil*") if not p.is_relative_to(scratch)]
    assert escaped == []


def test_zip_entries_that_are_not_notebooks_are_not_extracted(tmp_path):
    archive = _zip(
        tmp_path / "subs.zip",
        {
            f"alice/{ASSIGNMENT}/{NOTEBOOK}": "alice",
            f"alice/{ASSIGNMENT}/run.sh": "rm -rf /",
            f"__MACOSX/alice/{ASSIGNMENT}/._{NOTEBOOK}": "resource fork",
        },
    )
    _collect(archive, tmp_path)
    extracted = sorted(str(p.relative_to(tmp_path / "scratch")) for p in (tmp_path / "scratch").rglob("*.*"))
    assert extracted == [f"alice/{ASSIGNMENT}/{NOTEBOOK}"]


@pytest.mark.parametrize(
    "name, safe",
    [
        ("bad name", "bad-name"),
        ("-rf", "rf"),
        ("ünïcode", "unicode"),
        ("José García", "Jose-Garcia"),
        ("王伟", "student-0c6e5fe880"),
    ],
)
def test_lms_names_become_safe_stable_ids(tmp_path, name, safe):
    subs = _write(
        tmp_path / "subs", {f"{name}/{ASSIGNMENT}/{NOTEBOOK}": "x", f"bob/{ASSIGNMENT}/{NOTEBOOK}": "b"}
    )
    found = collect(subs, ASSIGNMENT, [NOTEBOOK], tmp_path / "scratch")
    assert [(s.student_id, s.name) for s in found] == sorted([(safe, name), ("bob", "")])


def test_names_that_share_a_safe_id_are_told_apart_and_reported(tmp_path):
    subs = _write(
        tmp_path / "subs",
        {f"José García/{ASSIGNMENT}/{NOTEBOOK}": "1", f"Jose Garcia/{ASSIGNMENT}/{NOTEBOOK}": "2"},
    )
    found = collect(subs, ASSIGNMENT, [NOTEBOOK], tmp_path / "scratch")
    ids = [s.student_id for s in found]
    assert len(set(ids)) == 2 and all(i.startswith("Jose-Garcia-") for i in ids)
    assert sorted(s.name for s in found) == ["Jose Garcia", "José García"]
    for s in found:
        assert "map to the same student id 'Jose-Garcia'" in s.notes[0] and repr(s.student_id) in s.notes[0]
    again = collect(subs, ASSIGNMENT, [NOTEBOOK], tmp_path / "scratch2")
    assert [s.student_id for s in again] == ids  # stable


def test_hidden_folders_are_not_students(tmp_path):
    subs = _write(
        tmp_path / "subs", {f".git/{ASSIGNMENT}/{NOTEBOOK}": "x", f"bob/{ASSIGNMENT}/{NOTEBOOK}": "b"}
    )
    assert list(_collect(subs, tmp_path)) == ["bob"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nowhere", "does not exist: give a folder of submissions or an LMS zip file"),
        (
            lambda p: _write(p, {"grades.csv": "a,b"}) / "grades.csv",
            "is neither a folder nor a zip file: give a folder of submissions",
        ),
        (
            lambda p: _zip(p / "x.zip", {"readme.txt": "hi", "notes.ipynb": "{}"}),
            "found neither <student>/toy/",
        ),
        (lambda p: _write(p / "empty", {f"alice/other/{NOTEBOOK}": "x"}), "no <student>/toy/ folders found"),
        (
            lambda p: _zip(p / "x.zip", {"a.ipynb": "{}", "a.ipynb/b.ipynb": "{}"}),
            "cannot extract .a.ipynb/b.ipynb.",
        ),
    ],
    ids=["missing", "not-zip", "unrecognised-zip", "no-student-folders", "file-and-folder"],
)
def test_bad_paths_are_clear_errors(tmp_path, make, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        _collect(make(tmp_path), tmp_path)


@pytest.mark.slow
def test_grading_a_canvas_zip(course, tmp_path, sandbox, limits):
    subs = tmp_path / "subs"
    notebooks = {
        "jane": submission(course, "jane", SOLUTION, subs),
        "john_old": submission(course, "john_old", SOLUTION, subs),
        "john_new": submission(course, "john_new", None, subs),
    }
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(notebooks["jane"], "doejane_12345_67890_toy.ipynb")
        zf.write(notebooks["john_old"], "smithjohn_222_111_toy.ipynb")
        zf.write(notebooks["john_new"], "smithjohn_LATE_222_333_toy-1.ipynb")
    results = grade(
        course,
        ASSIGNMENT,
        archive,
        executor=SerialExecutor(),
        sandbox=sandbox,
        limits=limits,
        progress=False,
        echo=lambda line: None,
    )
    assert [(r["student_id"], r["score"], r["status"]) for r in results] == [
        ("12345", 3, "graded"),
        ("222", 0, "graded"),  # the newest submission (333) is the unanswered one
    ]
    with course.gradebook() as gb:
        assert sorted(s.id for s in gb.students) == ["12345", "222"]
        assert gb.find_submission(ASSIGNMENT, "12345").score == 3
    stored = course.path("submitted", "222", ASSIGNMENT) / NOTEBOOK
    assert stored.read_bytes() == notebooks["john_new"].read_bytes()
    assert [(r["name"], r["late"]) for r in results] == [("doejane", False), ("smithjohn", True)]
    rows = {r["student_id"]: r for r in status_rows(course, [ASSIGNMENT])}
    assert (rows["12345"]["state"], rows["222"]["state"]) == ("graded", "graded (late)")
    output = tmp_path / "grades.csv"
    export(course, output)
    with output.open() as f:
        exported = {r["student_id"]: (r["name"], r["late"]) for r in csv.DictReader(f)}
    assert exported == {"12345": ("doejane", ""), "222": ("smithjohn", "yes")}
