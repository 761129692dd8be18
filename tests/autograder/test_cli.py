"""The command line: bad input is one clear line and exit code 2; the happy path end to end."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest
from toycourse import ASSIGNMENT, NOTEBOOK, ROOT, SOLUTION, copy_of, make_course, submission

from autograder.cli import main

LIMITS = ["--timeout", "60", "--cell-timeout", "10"]


def fails(capsys, *argv) -> str:
    """Run the CLI, expect exit code 2 and one error line; return that line."""
    assert main([str(a) for a in argv]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = [line for line in captured.err.splitlines() if not line.startswith("sandbox: ")]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("autograder: error: ")
    return lines[0]


def argparse_fails(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("usage: autograder")
    return err.strip().splitlines()[-1]


def test_help_runs_as_a_module():
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: autograder")
    for command in ("release", "grade", "selftest", "feedback", "export", "status"):
        assert command in run.stdout


@pytest.mark.parametrize(
    "command", [["grade", "nope", "."], ["feedback", "nope"], ["status", "nope"], ["release", "nope"]]
)
def test_unknown_assignment(course, capsys, command):
    line = fails(capsys, "--root", course.root, *command)
    assert f"unknown assignment 'nope': the course has {ASSIGNMENT}" in line


def test_path_that_does_not_exist(course, capsys, tmp_path):
    line = fails(capsys, "--root", course.root, "grade", ASSIGNMENT, tmp_path / "nowhere")
    assert "nowhere does not exist: give a folder of submissions or an LMS zip file" in line


def test_path_that_is_not_a_zip(course, capsys, tmp_path):
    path = tmp_path / "grades.csv"
    path.write_text("student,score\n")
    line = fails(capsys, "--root", course.root, "grade", ASSIGNMENT, path)
    assert "grades.csv is neither a folder nor a zip file: give a folder of submissions or an LMS zip" in line


def test_zip_with_nothing_recognisable(course, capsys, tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "hello")
        zf.writestr("homework.ipynb", "{}")
    line = fails(capsys, "--root", course.root, "grade", ASSIGNMENT, archive)
    assert f"found neither <student>/{ASSIGNMENT}/*.ipynb folders nor Canvas file names" in line


def test_grade_before_release(tmp_path, capsys):
    unreleased = make_course(tmp_path / "unreleased")
    subs = tmp_path / "subs" / "alice" / ASSIGNMENT
    subs.mkdir(parents=True)
    shutil.copy(unreleased.root / "source" / ASSIGNMENT / NOTEBOOK, subs / NOTEBOOK)
    line = fails(capsys, "--root", unreleased.root, "grade", ASSIGNMENT, tmp_path / "subs")
    assert f"is not in the gradebook yet: run `autograder release {ASSIGNMENT}` first" in line


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--workers", "0", "argument --workers: must be a whole number greater than 0, got 0"),
        ("--workers", "two", "argument --workers: 'two' is not a whole number"),
        ("--workers", "2.5", "argument --workers: '2.5' is not a whole number"),
        ("--timeout", "-1", "argument --timeout: must be a number greater than 0, got -1"),
        ("--timeout", "nan", "argument --timeout: must be a number greater than 0, got nan"),
        ("--timeout", "inf", "argument --timeout: must be a number greater than 0, got inf"),
        ("--cell-timeout", "0", "argument --cell-timeout: must be a number greater than 0, got 0"),
        ("--memory-mb", "-5", "argument --memory-mb: must be a whole number greater than 0, got -5"),
    ],
)
def test_bad_numbers_are_argparse_errors(course, capsys, tmp_path, option, value, message):
    line = argparse_fails(capsys, "--root", course.root, "grade", ASSIGNMENT, tmp_path, option, value)
    assert line == f"autograder grade: error: {message}"


def test_unknown_export_format(course, capsys, tmp_path):
    line = argparse_fails(
        capsys, "--root", course.root, "export", "--format", "xlsx", "--output", tmp_path / "g"
    )
    assert "argument --format: invalid choice: 'xlsx'" in line


def test_export_to_a_missing_folder(course, capsys, tmp_path):
    line = fails(capsys, "--root", course.root, "export", "--output", tmp_path / "missing" / "grades.csv")
    assert "folder" in line and "missing does not exist" in line
    assert not (tmp_path / "missing").exists()


def test_export_with_an_empty_gradebook(course, capsys, tmp_path):
    line = fails(capsys, "--root", course.root, "export", "--output", tmp_path / "grades.csv")
    assert "the gradebook has no students yet: run `autograder grade` first" in line
    assert list(tmp_path.glob("*grades.csv*")) == []


def test_feedback_before_grading(course, capsys):
    line = fails(capsys, "--root", course.root, "feedback", ASSIGNMENT)
    assert f"no graded submissions of {ASSIGNMENT}: run `autograder grade` first" in line


def test_root_that_is_not_a_course(tmp_path, capsys):
    line = fails(capsys, "--root", tmp_path, "status")
    assert f"{tmp_path} is not a course folder: it has no nbgrader_config.py" in line


@pytest.mark.parametrize("command", [["status"], ["feedback", ASSIGNMENT], ["export", "--output", "g.csv"]])
def test_root_works_after_the_subcommand_too(course, tmp_path, capsys, command, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no course here: only --root can find it
    before = main(["--root", str(course.root), *command])
    out_before = capsys.readouterr()
    after = main([*command, "--root", str(course.root)])
    out_after = capsys.readouterr()
    assert (before, out_before.out, out_before.err) == (after, out_after.out, out_after.err)
    assert "no nbgrader_config.py found" not in out_after.err


def test_no_course_above_the_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = fails(capsys, "status")
    assert "no nbgrader_config.py found" in line and "pass --root" in line


def test_course_without_source_folder(tmp_path, capsys):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    line = fails(capsys, "--root", tmp_path, "grade", ASSIGNMENT, tmp_path)
    assert f"unknown assignment '{ASSIGNMENT}': the course has none" in line
    assert main(["--root", str(tmp_path), "status"]) == 0
    assert capsys.readouterr().out == "no submissions yet\n"


def test_status_before_any_submission(course, capsys):
    assert main(["--root", str(course.root), "status"]) == 0
    assert capsys.readouterr().out == "no submissions yet\n"


def run_cli(*argv) -> tuple[int, str, str]:
    """The CLI's exit code, stdout and stderr (usable from module-scoped fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def graded(released_course, tmp_path_factory):
    """A copy of the toy course graded through the CLI: alice full marks, bob blank, carol nothing."""
    tmp = tmp_path_factory.mktemp("cli")
    course = copy_of(released_course, tmp / "course")
    subs = tmp / "subs"
    submission(course, "alice", SOLUTION, subs)
    submission(course, "bob", None, subs)
    (subs / "carol" / ASSIGNMENT).mkdir(parents=True)
    code, out, err = run_cli(
        "--root", course.root, "grade", ASSIGNMENT, subs, "--workers", "2", "--no-progress", *LIMITS
    )
    return course, code, out, err


@pytest.mark.slow
def test_grade_prints_a_table(graded):
    _, code, out, err = graded
    assert code == 0, err
    assert out.splitlines() == [
        "student_id  score  status",
        "----------  -----  ------",
        "alice       3/3    graded",
        "bob         0/3    graded",
        "carol       0/3    failed",
        f"3 submissions of {ASSIGNMENT}: 3 graded now, 0 unchanged since they were graded; 1 could not be fully run",
    ]
    assert err.startswith("sandbox: ")
    assert "carol: 0/3 FAILED - missing notebook toy.ipynb" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_status_after_grading(graded):
    course = graded[0]
    code, out, _ = run_cli("--root", course.root, "status", ASSIGNMENT)
    assert code == 0
    lines = [line.split(None, 4) for line in out.splitlines()]
    assert lines[0] == ["student_id", "assignment", "state", "score", "reason"]
    assert lines[2:] == [
        ["alice", ASSIGNMENT, "graded", "3/3"],
        ["bob", ASSIGNMENT, "graded", "0/3"],
        ["carol", ASSIGNMENT, "failed", "0/3", f"missing notebook {NOTEBOOK}"],
    ]


@pytest.mark.slow
def test_export_csv(graded, tmp_path):
    course = graded[0]
    output = tmp_path / "grades.csv"
    code, out, _ = run_cli("--root", course.root, "export", "--output", output)
    assert (
        code == 0 and out == f"wrote 3 grades (a row per student and assignment) for 3 students to {output}\n"
    )
    with output.open(newline="") as f:
        rows = [(r["student_id"], r["score"], r["max_score"], r["status"]) for r in csv.DictReader(f)]
    assert rows == [("alice", "3", "3", "graded"), ("bob", "0", "3", "graded"), ("carol", "0", "3", "failed")]


@pytest.mark.slow
def test_export_canvas(graded, tmp_path):
    course = graded[0]
    output = tmp_path / "canvas.csv"
    code, _, _ = run_cli("--root", course.root, "export", "--format", "canvas", "--output", output)
    assert code == 0
    with output.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT],
        ["Points Possible", "", "", "", "", "3"],
        ["alice", "alice", "", "", "", "3"],
        ["bob", "bob", "", "", "", "0"],
        ["carol", "carol", "", "", "", "0"],
    ]


@pytest.mark.slow
def test_feedback_after_grading(graded):
    course = graded[0]
    code, out, _ = run_cli("--root", course.root, "feedback", ASSIGNMENT)
    assert code == 0
    pages = [f"feedback/{s}/{ASSIGNMENT}/feedback.html" for s in ("alice", "bob", "carol")]
    assert out.splitlines() == pages
    assert "Score: 3 / 3" in (course.root / pages[0]).read_text()
    assert "missing notebook toy.ipynb" in (course.root / pages[2]).read_text()


def test_export_to_a_folder_is_an_error(course, capsys, tmp_path):
    with course.gradebook() as gb:
        gb.update_or_create_student("alice")
    folder = tmp_path / "out"
    folder.mkdir()
    line = fails(capsys, "--root", course.root, "export", "--output", folder)
    assert f"cannot write {folder}: it is a folder" in line
    assert list(folder.iterdir()) == []
    assert list(tmp_path.glob(".out.*")) == []  # no temporary file left behind


@pytest.fixture(scope="module")
def lms_graded(released_course, tmp_path_factory):
    """The toy course with a 10% late policy, graded through the CLI from a Canvas zip
    (jane on time, john marked late; both full marks) and from a folder named as an
    LMS names people ('José García', full marks)."""
    tmp = tmp_path_factory.mktemp("lms")
    course = copy_of(released_course, tmp / "course")
    with (course.root / "nbgrader_config.py").open("a") as f:
        f.write("c.LatePolicy.penalty = 0.1\n")
    staged = tmp / "staged"
    archive = tmp / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(submission(course, "jane", SOLUTION, staged), "doejane_12345_67890_toy.ipynb")
        zf.write(submission(course, "john", SOLUTION, staged), "smithjohn_late_222_333_toy.ipynb")
    folders = tmp / "folders"
    submission(course, "José García", SOLUTION, folders)
    runs = [
        run_cli("--root", course.root, "grade", ASSIGNMENT, path, "--no-progress", "--workers", "1", *LIMITS)
        for path in (archive, folders)
    ]
    return course, runs


@pytest.mark.slow
def test_lms_names_grade_without_aborting(lms_graded):
    course, runs = lms_graded
    assert [code for code, _, _ in runs] == [0, 0], [err for _, _, err in runs]
    assert "Jose-Garcia" in runs[1][1] and "Traceback" not in runs[1][2]
    code, out, _ = run_cli("--root", course.root, "status", ASSIGNMENT)
    states = {line.split()[0]: line.split()[2:4] for line in out.splitlines()[2:]}
    assert states == {
        "12345": ["graded", "3/3"],
        "222": ["graded", "(late)"],
        "Jose-Garcia": ["graded", "3/3"],
    }
    john = next(line for line in out.splitlines() if line.startswith("222 "))
    assert john.split() == [
        "222",
        ASSIGNMENT,
        "graded",
        "(late)",
        "2.7/3",
        *"late: 10% taken off (3 -> 2.7)".split(),
    ]


@pytest.mark.slow
def test_late_policy_applies_to_exports_and_feedback(lms_graded, tmp_path):
    course, _ = lms_graded
    output = tmp_path / "grades.csv"
    assert run_cli("--root", course.root, "export", "--output", output)[0] == 0
    with output.open(newline="") as f:
        rows = {
            r["student_id"]: (r["name"], r["score"], r["late"], r["late_penalty"]) for r in csv.DictReader(f)
        }
    assert rows == {
        "12345": ("doejane", "3", "", ""),
        "222": ("smithjohn", "2.7", "yes", "0.3"),
        "Jose-Garcia": ("José García", "3", "", ""),
    }
    canvas = tmp_path / "canvas.csv"
    assert run_cli("--root", course.root, "export", "--format", "canvas", "--output", canvas)[0] == 0
    with canvas.open(newline="") as f:
        students = {row[1]: (row[0], row[5]) for row in list(csv.reader(f))[2:]}
    assert students == {
        "12345": ("doejane", "3"),
        "222": ("smithjohn", "2.7"),
        "Jose-Garcia": ("José García", "3"),
    }
    assert run_cli("--root", course.root, "feedback", ASSIGNMENT)[0] == 0
    page = json.loads((course.path("feedback", "222", ASSIGNMENT) / "feedback.json").read_text())
    assert (page["score"], page["raw_score"], page["late"]) == (2.7, 3, True)
    assert page["notes"][0] == "Submitted late: 10% of the score is taken off (3 -> 2.7)"
    assert "Score: 2.7 / 3" in (course.path("feedback", "222", ASSIGNMENT) / "feedback.html").read_text()


@pytest.mark.parametrize("value", ["1.5", "-0.1", "'ten'", "float('nan')", "True"])
def test_a_bad_late_policy_is_one_line(course, capsys, tmp_path, value):
    with course.gradebook() as gb:
        gb.update_or_create_student("alice")
    with (course.root / "nbgrader_config.py").open("a") as f:
        f.write(f"c.LatePolicy.penalty = {value}\n")
    out = tmp_path / "out"
    out.mkdir()
    line = fails(capsys, "--root", course.root, "export", "--output", out / "grades.csv")
    assert "nbgrader_config.py: LatePolicy.penalty must be a number from 0 to 1" in line
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_report_runs_notebooks_at_full_size_with_papermill(course, tmp_path):
    """`autograder report` injects metadata.autograder.report_parameters; --small keeps the cell's own sizes."""
    path = course.path("source", ".", ASSIGNMENT) / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    parameters = nbformat.v4.new_code_cell("n = 1", metadata={"tags": ["parameters"]})
    nb.cells[:0] = [parameters, nbformat.v4.new_code_cell('print(f"n is {n}")')]
    nb.metadata["autograder"] = {"report_parameters": {"n": 7}}
    nbformat.write(nb, path)
    for flags, expected in (([], "n is 7"), (["--small"], "n is 1")):
        out = tmp_path / ("small" if flags else "full")
        code, printed, err = run_cli("--root", course.root, "report", ASSIGNMENT, "--output", out, *flags)
        assert code == 0, err
        html = out / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
        assert printed.split() == [str(html)]
        executed = nbformat.read(out / ASSIGNMENT / NOTEBOOK, as_version=4)
        outputs = [o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs]
        assert f"{expected}\n" in outputs
        assert expected in html.read_text()
