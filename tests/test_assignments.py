"""Gates for every assignment: release in sync, and the self-test on a sample class.

The sample class (samples/build_class.py) is graded once per assignment with the
real toolchain and sandbox: the solution must earn full marks, the untouched
release zero, every plausible wrong answer less than full, and the broken
submissions a clear, attributed result. A fixed sample of generated wrong
answers (``autograder selftest``) must all lose points; ``make bench`` grades
every one of them.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.course import Course
from autograder.executor import LocalProcessExecutor
from autograder.grading import grade
from autograder.release import generate
from autograder.sandbox import Limits, detect
from autograder.selftest import selftest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "samples"))
import build_class  # noqa: E402

ASSIGNMENTS = Course(ROOT).assignments()
SAMPLES = build_class.sample_modules()
#: Generated wrong answers graded per assignment in CI (seed 0); ``make bench`` grades all.
SELFTEST_MUTANTS = 20


def _copy_course(tmp: Path, assignment: str) -> Course:
    shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    shutil.copytree(ROOT / "source" / assignment, tmp / "source" / assignment)
    return Course(tmp)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_has_a_sample_module(assignment):
    assert assignment in SAMPLES, f"add samples/a{assignment}.py with WRONG_ANSWERS and PARTIAL"
    assert len(SAMPLES[assignment].WRONG_ANSWERS) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_matches_regeneration(assignment, tmp_path):
    course = _copy_course(tmp_path, assignment)
    generated = generate(course, assignment)
    committed = ROOT / "release" / assignment
    names = sorted(p.name for p in generated.iterdir())
    assert names == sorted(p.name for p in committed.iterdir()), "run `autograder release`"
    for name in names:
        if name.endswith(".ipynb"):
            fresh = json.loads((generated / name).read_text())
            assert json.loads((committed / name).read_text()) == fresh, (
                f"release/{assignment}/{name} is stale: run `autograder release {assignment}`"
            )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_have_no_outputs(assignment):
    for folder in ("source", "release"):
        for path in (ROOT / folder / assignment).glob("*.ipynb"):
            nb = json.loads(path.read_text())
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    assert cell["outputs"] == [] and cell["execution_count"] is None, path


@pytest.fixture(scope="module", params=[a for a in ASSIGNMENTS if a in SAMPLES])
def graded_class(request, tmp_path_factory):
    assignment = request.param
    tmp = tmp_path_factory.mktemp(f"class_{assignment}")
    (tmp / "course").mkdir()
    course = _copy_course(tmp / "course", assignment)
    generate(course, assignment)
    build_class.build(course.root, tmp / "class")
    results = grade(
        course,
        assignment,
        tmp / "class",
        executor=LocalProcessExecutor(2),
        sandbox=detect(),
        limits=Limits(cell_timeout=60, notebook_timeout=300),
        progress=False,
        echo=lambda line: None,
    )
    return assignment, {r["student_id"]: r for r in results}


@pytest.mark.slow
def test_solution_gets_full_marks(graded_class):
    _, results = graded_class
    full = results["full_marks"]
    assert full["status"] == "graded" and full["reasons"] == []
    assert full["max_score"] > 0 and full["score"] == full["max_score"]
    assert all(t["status"] == "passed" for t in full["tests"])


@pytest.mark.slow
def test_release_stub_gets_zero(graded_class):
    _, results = graded_class
    blank = results["blank"]
    assert blank["status"] == "graded" and blank["score"] == 0
    assert all(t["status"] == "failed" and t["message"] for t in blank["tests"])


@pytest.mark.slow
def test_every_wrong_answer_loses_points(graded_class):
    assignment, results = graded_class
    full = results["full_marks"]["max_score"]
    for name in SAMPLES[assignment].WRONG_ANSWERS:
        result = results[f"wrong_{name}"]
        assert result["status"] == "graded", (name, result["reasons"])
        assert 0 <= result["score"] < full, f"wrong answer {name!r} got full marks"


@pytest.mark.slow
def test_partial_student_is_between(graded_class):
    _, results = graded_class
    assert 0 < results["partial"]["score"] < results["partial"]["max_score"]


@pytest.mark.slow
def test_broken_submissions_get_attributed_results(graded_class):
    _, results = graded_class
    broken = results["broken_json"]
    assert broken["status"] == "failed" and broken["score"] == 0
    assert "is not a valid notebook" in broken["reasons"][0]
    crashes = results["crashes"]
    assert crashes["status"] == "failed"
    assert any("kernel died" in r for r in crashes["reasons"])
    assert any(t["status"] == "not run" for t in crashes["tests"])
    missing = results["missing_notebook"]
    assert missing["status"] == "failed" and missing["score"] == 0
    assert any("missing notebook" in r for r in missing["reasons"])


@pytest.mark.slow
def test_edited_and_deleted_tests_are_restored(graded_class):
    assignment, results = graded_class
    edited = results["edits_tests"]
    assert any("was edited; it was restored" in r for r in edited["reasons"])
    assert any("was deleted; it was restored" in r for r in edited["reasons"])
    first_wrong = next(iter(SAMPLES[assignment].WRONG_ANSWERS))
    assert edited["score"] == results[f"wrong_{first_wrong}"]["score"]
    assert len(edited["tests"]) == len(results["full_marks"]["tests"])


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_papermill_runs_every_notebook_with_injected_parameters(assignment, tmp_path):
    """What `make report` does, at the parameters cell's own sizes: papermill injects them."""
    from autograder.report import default_parameters, run_report

    pages = run_report(Course(ROOT), [assignment], tmp_path, small=True)
    assert [p.name for p in pages] == [
        p.with_suffix(".html").name for p in sorted((ROOT / "source" / assignment).glob("*.ipynb"))
    ]
    for page in pages:
        executed = nbformat.read(page.with_suffix(".ipynb"), as_version=4)
        injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and default_parameters(executed), "the parameters cell assigns no literal"
        assert "<html" in page.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_sampled_mutants_lose_points(assignment, tmp_path):
    report = selftest(
        _copy_course(tmp_path, assignment),
        assignment,
        sandbox=detect(),
        limits=Limits(cell_timeout=60, notebook_timeout=300),
        executor=LocalProcessExecutor(2),
        mutants=SELFTEST_MUTANTS,
        seed=0,
    )
    assert report.graded == min(SELFTEST_MUTANTS, report.total)
    assert [m.id for e in report.exercises for m in e.survived] == [], report.details()
    assert report.unused_equivalents == []
