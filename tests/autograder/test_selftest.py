"""``autograder selftest``: weak tests score low, strong tests high, equivalents are left out."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from toycourse import ASSIGNMENT, NOTEBOOK, ROOT, _meta

from autograder.cli import main
from autograder.course import Course, UserError
from autograder.executor import LocalProcessExecutor
from autograder.mutation import Mutant
from autograder.release import release
from autograder.selftest import (
    Exercise,
    Report,
    generate_mutants,
    release_mutants,
    sample,
    selftest,
    threshold,
)

SOLUTION = '''def count_above(values, limit):
    """How many values are strictly above limit (limit >= 0, else ValueError)."""
    ### BEGIN SOLUTION
    if limit < 0:
        raise ValueError(f"limit ({limit}) must be >= 0")
    return sum(1 for v in values if v > limit)
    ### END SOLUTION'''
WEAK = '''"""count_above counts (weak: one easy case)."""
assert count_above([1, 5, 9], 4) == 2'''
STRONG = '''"""count_above: boundaries, empty input, the error."""
from course.checks import check_equal
check_equal(count_above([1, 5, 9], 4), 2)
check_equal(count_above([4, 5, 3], 4), 1)
check_equal(count_above([0, 1], 0), 1)
check_equal(count_above([], 2), 0)
check_equal(count_above([7, 8, 9, 10], 2), 4)
try:
    count_above([1], -1)
except ValueError as err:
    assert "limit" in str(err)
else:
    raise AssertionError("a negative limit should raise ValueError")'''


def _course(root, test: str, equivalents: list[dict] | None = None) -> Course:
    solution_meta = _meta("count_above", solution=True)
    if equivalents is not None:
        solution_meta["autograder"] = {"equivalent_mutants": equivalents}
    cells = [
        nbformat.v4.new_markdown_cell("# Toy\nWrite `count_above`.", metadata=_meta("intro", locked=True)),
        nbformat.v4.new_code_cell("print('a demo cell')", metadata=_meta("demo", locked=True)),
        nbformat.v4.new_code_cell(SOLUTION, metadata=solution_meta),
        nbformat.v4.new_code_cell(
            test, metadata=_meta("count_above_test", grade=True, locked=True, points=2)
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    nbformat.write(nb, root / "source" / ASSIGNMENT / NOTEBOOK)
    return Course(root)


def _snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(course, sandbox, limits, **kwargs) -> Report:
    return selftest(
        course, ASSIGNMENT, sandbox=sandbox, limits=limits, executor=LocalProcessExecutor(2), **kwargs
    )


@pytest.mark.slow
def test_weak_tests_score_low_and_equivalents_are_left_out(tmp_path, sandbox, limits, capsys):
    probe = generate_mutants(_course(tmp_path / "probe", WEAK), ASSIGNMENT)
    flip = next(m for m in probe if m.description == "`>` changed to `>=`")
    course = _course(tmp_path / "weak", WEAK, [{"mutant": flip.id, "reason": "a test only"}])
    before = _snapshot(course.root)
    assert main(["--root", str(course.root), "selftest", ASSIGNMENT, "--json", "--no-progress"]) == 1
    report = json.loads(capsys.readouterr().out)
    [exercise] = report["exercises"]
    assert report["passed"] is False and report["graded"] == report["mutants"] == len(probe)
    assert [e["id"] for e in exercise["equivalent"]] == [flip.id]
    assert exercise["equivalent"][0]["reason"] == "a test only"
    survived = {m["description"] for m in exercise["survived"]}
    assert "`if limit < 0:` removed" in survived
    assert "remove_raise" in {m["operator"] for m in exercise["survived"]}
    assert flip.description not in survived
    counted = len(exercise["killed"]) + len(exercise["survived"])
    assert counted == len(probe) - 1
    assert exercise["score"] == pytest.approx(len(exercise["killed"]) / counted)
    assert exercise["score"] < 0.7
    assert all(m["diff"].startswith("--- count_above (solution)") for m in exercise["survived"])
    assert _snapshot(course.root) == before  # no gradebook, release, submitted or autograded in the course


@pytest.mark.slow
def test_strong_tests_kill_every_mutant(tmp_path, sandbox, limits):
    course = _course(tmp_path / "strong", STRONG)
    report = _run(course, sandbox, limits)
    [exercise] = report.exercises
    assert exercise.survived == [], [m.diff for m in exercise.survived]
    assert exercise.score == 1.0 and len(exercise.killed) == report.total > 10
    assert report.below() == []
    assert "count_above" in report.summary() and "100%" in report.summary()


@pytest.mark.slow
def test_a_solution_that_fails_its_own_tests_is_refused(tmp_path, sandbox, limits):
    course = _course(tmp_path / "broken", STRONG.replace("== 2", "== 3").replace("), 2)", "), 3)"))
    with pytest.raises(UserError, match="the unmutated solution scored 0/2"):
        _run(course, sandbox, limits, mutants=1)


def _mutant(grade_id: str, n: int) -> Mutant:
    return Mutant(f"{grade_id}-{n}", "nb.ipynb", grade_id, "remove", n, "", "", "")


def test_sample_is_deterministic_and_proportional():
    mutants = [_mutant("a", i) for i in range(30)] + [_mutant("b", i) for i in range(10)]
    chosen = sample(mutants, 8, 0)
    assert chosen == sample(mutants, 8, 0) and len(chosen) == 8
    assert sum(m.grade_id == "b" for m in chosen) == 2
    assert chosen == sorted(chosen, key=mutants.index)
    assert sample(mutants, 8, 1) != chosen
    assert sample(mutants, None, 0) == mutants == sample(mutants, 100, 0)
    assert len(sample(mutants, 3, 0)) == 3


def test_score_leaves_out_equivalents_and_is_none_without_mutants():
    exercise = Exercise("nb.ipynb", "a", killed=[_mutant("a", 1)] * 19, survived=[_mutant("a", 2)])
    exercise.equivalent.append((_mutant("a", 3), "same behaviour"))
    assert exercise.score == 0.95
    assert Exercise("nb.ipynb", "b").score is None


def _fails(capsys, *argv) -> str:
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = [line for line in err.splitlines() if not line.startswith("sandbox: ")]
    return line


def test_unknown_assignment(tmp_path, capsys):
    course = _course(tmp_path / "c", STRONG)
    line = _fails(capsys, "--root", course.root, "selftest", "nope")
    assert line == f"autograder: error: unknown assignment 'nope': the course has {ASSIGNMENT}"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"mutant": "count_above-00000000"}, 'needs "mutant" .* and a non-empty "reason"'),
        ("count_above-00000000", 'needs "mutant"'),
    ],
)
def test_malformed_equivalent_declarations(tmp_path, capsys, entry, message):
    course = _course(tmp_path / "c", STRONG, [entry])
    line = _fails(capsys, "--root", course.root, "selftest", ASSIGNMENT)
    assert line.startswith(
        "autograder: error: count_above: each entry of metadata.autograder.equivalent_mutants"
    )
    with pytest.raises(UserError, match=message):
        selftest(course, ASSIGNMENT, sandbox=None, limits=None, executor=None)


@pytest.mark.parametrize(("value", "bad"), [("1.5", "1.5"), ("'high'", "'high'"), ("True", "True")])
def test_bad_threshold_in_the_config(tmp_path, capsys, value, bad):
    course = _course(tmp_path / "c", STRONG)
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write(f"c.Selftest.threshold = {value}\n")
    with pytest.raises(UserError, match=rf"Selftest.threshold must be a number between 0 and 1 .*got {bad}"):
        threshold(Course(course.root))


@pytest.mark.parametrize("argv", [["--mutants", "0"], ["--mutants", "x"], ["--seed", "one"]])
def test_bad_options(tmp_path, capsys, argv):
    course = _course(tmp_path / "c", STRONG)
    with pytest.raises(SystemExit) as exit_info:
        main(["--root", str(course.root), "selftest", ASSIGNMENT, *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "usage: autograder" in err


@pytest.mark.slow
def test_release_refuses_an_exercise_below_the_threshold(tmp_path, sandbox, limits):
    course = _course(tmp_path / "weak", WEAK)
    lines = []
    with pytest.raises(
        UserError, match=r"toy: mutation score below 90% for count_above \(\d+%: count_above-"
    ):
        release(course, ASSIGNMENT, sandbox, limits, echo=lines.append)
    assert "count_above" in lines[0] and "< threshold" in lines[0]
    assert not course.path("release", ".", ASSIGNMENT).exists()


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "'all'"])
def test_bad_release_mutants_in_the_config(tmp_path, value):
    course = _course(tmp_path / "c", STRONG)
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write(f"c.Selftest.release_mutants = {value}\n")
    with pytest.raises(UserError, match="Selftest.release_mutants must be a whole number >= 1, or None"):
        release_mutants(Course(course.root))


def test_config_defaults(tmp_path):
    course = _course(tmp_path / "c", STRONG)
    (course.root / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n")
    assert threshold(Course(course.root)) == 0.9 and release_mutants(Course(course.root)) is None
