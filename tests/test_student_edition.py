"""The student edition holds no answers, and its notebooks run as a student gets them.

``autograder release`` builds it (``autograder/edition.py``); these tests build
it from the committed ``release/`` and check, line by line, that no solution
and no hidden test of ``source/`` reaches it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import Course
from autograder.edition import (
    INSTRUCTOR_ONLY,
    INSTRUCTOR_ONLY_MARK,
    build_student_edition,
    student_requirements,
)

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course(ROOT)
ASSIGNMENTS = COURSE.assignments()

#: Lines shorter than this are code any program has (``else:``, ``return out``).
MIN_CHARS = 24
#: Solution lines the package may share, with why that gives nothing away.
SHARED = {
    'raise ValueError(f"answers must be 2-D (n_objects, n_workers), got shape {answers.shape}")': (
        "the ValueError the exercise text asks for on non-2-D answers; the package validates its own inputs alike"
    ),
    "proba = np.asarray(proba, dtype=float)": "converting an array-like argument, as every function taking probabilities does",
    "answers = np.asarray(answers)": "converting an array-like argument",
    "if answers.shape[0] == 0:": "the empty-input case the exercise text states",
}


def _split(source: str) -> tuple[list[str], list[str]]:
    """(lines inside solution and hidden-test blocks, lines outside them: what the release keeps), stripped."""
    inside, outside, hidden = [], [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS")):
            hidden = True
        elif stripped.startswith(("### END SOLUTION", "### END HIDDEN TESTS")):
            hidden = False
        else:
            (inside if hidden else outside).append(stripped)
    return inside, outside


def secret_lines() -> dict[str, str]:
    """Every distinctive line of a solution or hidden test in source/ -> where it is from.

    A line the notebook also shows outside those blocks (a visible test or a
    demo using the same input) is no secret and is left out.
    """
    found = {}
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        split = [(cell, *_split(cell.source)) for cell in nb.cells]
        shown = {line for _, _, outside in split for line in outside}
        for cell, inside, _ in split:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "?")
            for line in inside:
                if len(line) >= MIN_CHARS and not line.startswith("#") and line not in shown:
                    found.setdefault(line, f"{path.relative_to(ROOT)} ({grade_id})")
    return found


def _edition_lines(edition: Path) -> dict[str, Path]:
    lines = {}
    for path in sorted(edition.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            text = "\n".join(cell.source for cell in nb.cells)
        else:
            try:
                text = path.read_text()
            except UnicodeDecodeError:
                continue
        for line in text.splitlines():
            lines.setdefault(line.strip(), path)
    return lines


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("dist") / "student"
    archive = build_student_edition(COURSE, target)
    assert archive == target.with_suffix(".zip")
    return target


def test_edition_holds_only_what_students_need(edition):
    top = sorted(p.name for p in edition.iterdir())
    assert top == sorted(
        [
            *ASSIGNMENTS,
            "course",
            "pyproject.toml",
            "environment.yml",
            "Makefile",
            "README.md",
            ".gitignore",
            "jupyter_config",
        ]
    )
    everything = {p.relative_to(edition).parts[0] for p in edition.rglob("*")}
    for instructor in (
        "source",
        "samples",
        "autograder",
        "tests",
        "benchmarks",
        "nbgrader_config.py",
        "gradebook.db",
    ):
        assert instructor not in everything
    assert not list(edition.rglob("__pycache__"))
    with zipfile.ZipFile(edition.with_suffix(".zip")) as zf:
        zipped = sorted(n.removeprefix("student/") for n in zf.namelist())
    assert zipped == sorted(str(p.relative_to(edition)) for p in edition.rglob("*") if p.is_file())


def test_no_solution_or_hidden_test_line_reaches_students(edition):
    secrets = secret_lines()
    assert len(secrets) > 50, "the scan found almost nothing to look for: is source/ empty?"
    assert all(line in secrets for line in SHARED), "a SHARED line is no longer in any solution: remove it"
    present = _edition_lines(edition)
    leaks = [
        f"{line!r} from {where} is in {present[line].relative_to(edition)}"
        for line, where in secrets.items()
        if line in present and line not in SHARED
    ]
    assert leaks == []


def test_the_scan_would_see_a_leak(edition, tmp_path):
    """The check above is not vacuous: a solution line copied into the package is found."""
    line = next(line for line in secret_lines() if line not in SHARED)
    (edition / "course" / "_leak.py").write_text(f"def f():\n    {line}\n")
    try:
        assert line in _edition_lines(edition)
    finally:
        (edition / "course" / "_leak.py").unlink()


def test_instructor_only_modules_stay_behind(tmp_path):
    """A module of the package marked instructor-only is not in the edition; the rest of the package is."""
    probe = ROOT / "course" / "_probe_instructor_only.py"
    probe.write_text(f"{INSTRUCTOR_ONLY_MARK} — a test's probe\nANSWER = 42\n")
    try:
        edition = build_student_edition(COURSE, tmp_path / "student").with_suffix("")
    finally:
        probe.unlink()
    assert not (edition / "course" / probe.name).exists()
    assert (edition / "course" / "checks.py").is_file()
    with zipfile.ZipFile(edition.with_suffix(".zip")) as zf:
        assert f"student/course/{probe.name}" not in zf.namelist()


def test_student_requirements_leave_out_the_instructors_tools():
    requirements, requires_python = student_requirements(COURSE)
    names = {r.split(">")[0].split("=")[0].split(";")[0].strip().lower() for r in requirements}
    assert names.isdisjoint(INSTRUCTOR_ONLY)
    assert {"jupyterlab", "nbgrader", "pandas", "scikit-learn"} <= names
    assert requires_python == ">=3.11,<3.14"


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_edition_notebooks_run_and_fail_only_where_work_is_left(edition, assignment, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(edition))
    for path in sorted((edition / assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        probe = nbformat.v4.new_code_cell(
            f"import course\nassert course.__file__.startswith({str(edition)!r}), course.__file__"
        )
        nb.cells.insert(0, probe)
        NotebookClient(
            nb, timeout=300, allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        assert not any(o.output_type == "error" for o in nb.cells[0].outputs), nb.cells[0].outputs
        answers = _solution_names(ROOT / "source" / assignment / path.name)
        stubs, failed = 0, []
        for cell in nb.cells[1:]:
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            meta = cell.metadata.get("nbgrader", {})
            if not errors or meta.get("grade"):
                continue  # a test may fail: the student has not answered yet
            ename, evalue = errors[0].ename, errors[0].evalue
            stubs += ename == "NotImplementedError"
            missing = re.fullmatch(r"name '(\w+)' is not defined", evalue)
            allowed = ename == "NotImplementedError" or (
                # a name an answer defines, or one a cell that already failed would have defined
                ename == "NameError"
                and missing is not None
                and (missing[1] in answers or any(re.search(rf"\b{missing[1]}\b\s*=", s) for s in failed))
            )
            failed.append(cell.source)
            assert allowed, (
                f"{path.name}: a cell the student does not write fails: {ename}: {evalue}\n{cell.source}"
            )
        assert stubs > 0, "no solution stub raised: are the release notebooks stubs?"


def _solution_names(path: Path) -> set[str]:
    from autograder.notebooks import solution_names

    return set(solution_names(nbformat.read(path, as_version=4)))
