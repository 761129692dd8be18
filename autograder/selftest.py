"""``autograder selftest``: do an assignment's tests catch wrong answers?

Each solution cell of ``source/<assignment>`` is mutated (see
:mod:`autograder.mutation`). Every mutant becomes one submission: the release
notebook with every solution filled in from the source and that one cell
mutated. The submissions are graded in one batch by :func:`autograder.grading.grade`,
the same path as ``autograder grade`` (sandbox, trusted test server forked per
submission, parallel executor), in a scratch copy of the course, so the
course's gradebook, ``submitted/`` and ``autograded/`` are never touched. An
unmutated control submission must get full marks.

A mutant is *killed* when its submission loses points. An exercise's
mutation score is the share of its mutants that are killed, leaving out the
mutants its author declared *equivalent* (they behave exactly like the
solution) in the solution cell's metadata::

    "autograder": {"equivalent_mutants": [
        {"mutant": "majority_vote-1a2b3c4d", "reason": "argmax already returns the smallest index"}
    ]}

Everything else that survives is a test gap, shown as a diff.

Demo cells (locked code cells that are neither tests, solutions nor
``test-setup``) are left out of the scratch course: they award no points, and
skipping them keeps a batch of hundreds of submissions fast. The control run
proves that nothing the tests need was left out.

The release gate (:func:`gate`) runs a selftest and refuses an exercise whose
score is below ``Selftest.threshold`` in ``nbgrader_config.py`` (default 0.9);
``Selftest.release_mutants`` samples that many mutants per assignment (default:
all of them).
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader import utils

from .course import CONFIG_FILE, Course, UserError
from .executor import Executor, make_executor
from .grading import grade
from .mutation import Mutant, mutate_cell, numpy_alias
from .notebooks import is_autograded_test, is_test_setup
from .release import generate
from .sandbox import Limits, Sandbox

#: Cell metadata key (under ``metadata.autograder``) that lists equivalent mutants.
EQUIVALENTS_KEY = "equivalent_mutants"
#: Mutation score an exercise needs for a release, unless ``Selftest.threshold`` says otherwise.
DEFAULT_THRESHOLD = 0.9
CONTROL = "solution"


@dataclass
class Exercise:
    """The mutation score of one solution cell."""

    notebook: str
    grade_id: str
    killed: list[Mutant] = field(default_factory=list)
    survived: list[Mutant] = field(default_factory=list)
    equivalent: list[tuple[Mutant, str]] = field(default_factory=list)

    @property
    def score(self) -> float | None:
        """Killed / (killed + survived); None when no non-equivalent mutant was graded."""
        counted = len(self.killed) + len(self.survived)
        return len(self.killed) / counted if counted else None

    def to_json(self) -> dict:
        return {
            "notebook": self.notebook,
            "grade_id": self.grade_id,
            "score": self.score,
            "killed": [m.id for m in self.killed],
            "survived": [_mutant_json(m) for m in self.survived],
            "equivalent": [{**_mutant_json(m), "reason": reason} for m, reason in self.equivalent],
        }


def _mutant_json(mutant: Mutant) -> dict:
    return {
        "id": mutant.id,
        "operator": mutant.operator,
        "line": mutant.line,
        "description": mutant.description,
        "diff": mutant.diff,
    }


@dataclass
class Report:
    """What a selftest found, exercise by exercise."""

    assignment: str
    seed: int
    total: int  # mutants generated
    graded: int  # mutants graded (all, or a sample)
    threshold: float
    seconds: float
    exercises: list[Exercise]
    unused_equivalents: list[str]  # declared ids that match no generated mutant

    def below(self) -> list[Exercise]:
        """The exercises scoring under the threshold."""
        return [e for e in self.exercises if e.score is not None and e.score < self.threshold]

    def to_json(self) -> dict:
        return {
            "assignment": self.assignment,
            "seed": self.seed,
            "mutants": self.total,
            "graded": self.graded,
            "threshold": self.threshold,
            "seconds": round(self.seconds, 1),
            "exercises": [e.to_json() for e in self.exercises],
            "unused_equivalents": self.unused_equivalents,
            "passed": not self.below(),
        }

    def summary(self) -> str:
        """A table of the scores."""
        rows = [("exercise", "killed", "survived", "equivalent", "score")]
        for e in self.exercises:
            score = "n/a" if e.score is None else f"{e.score:.0%}"
            mark = " < threshold" if e in self.below() else ""
            rows.append(
                (e.grade_id, str(len(e.killed)), str(len(e.survived)), str(len(e.equivalent)), score + mark)
            )
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [
            f"selftest {self.assignment}: {self.graded} of {self.total} mutants graded (seed {self.seed}) "
            f"in {self.seconds:.0f} s; threshold {self.threshold:.0%}"
        ]
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4] for r in rows
        ]
        return "\n".join(lines)

    def details(self) -> str:
        """Equivalent mutants with their reasons, then every survivor as a diff."""
        lines = []
        for e in self.exercises:
            for mutant, reason in e.equivalent:
                lines.append(f"equivalent {mutant.id} ({mutant.description}): {reason}")
        for declared in self.unused_equivalents:
            lines.append(
                f"declared equivalent {declared} matches no mutant any more: remove it from the metadata"
            )
        for e in self.exercises:
            for mutant in e.survived:
                lines.append(
                    f"\nSURVIVED {mutant.id} [{mutant.notebook}] {mutant.operator}: {mutant.description}"
                )
                lines.append(mutant.diff)
        return "\n".join(lines)


def _solution_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and utils.is_solution(c)]


def equivalents(nb: nbformat.NotebookNode) -> dict[str, str]:
    """``{mutant id: reason}`` declared in the solution cells' ``metadata.autograder``."""
    declared = {}
    for cell in _solution_cells(nb):
        grade_id = cell.metadata.nbgrader["grade_id"]
        entries = cell.metadata.get("autograder", {}).get(EQUIVALENTS_KEY, [])
        if not isinstance(entries, list):
            raise UserError(f"{grade_id}: metadata.autograder.{EQUIVALENTS_KEY} must be a list")
        for entry in entries:
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("mutant"), str)
                and isinstance(entry.get("reason"), str)
                and entry["reason"].strip()
            ):
                raise UserError(
                    f"{grade_id}: each entry of metadata.autograder.{EQUIVALENTS_KEY} needs "
                    f'"mutant" (an id printed by autograder selftest) and a non-empty "reason", got {entry!r}'
                )
            declared[entry["mutant"]] = entry["reason"].strip()
    return declared


def strip_declarations(folder: Path) -> None:
    """Remove ``metadata.autograder`` from released notebooks and their cells (authors' notes, not for students)."""
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        changed = nb.metadata.pop("autograder", None) is not None
        for cell in nb.cells:
            if "autograder" in cell.metadata:
                del cell.metadata["autograder"]
                changed = True
        if changed:
            nbformat.write(nb, path)


def generate_mutants(course: Course, assignment_id: str) -> list[Mutant]:
    """Every mutant of every solution cell of the assignment, in notebook and cell order."""
    found = []
    for name in course.notebooks(assignment_id):
        nb = nbformat.read(course.path("source", ".", assignment_id) / name, as_version=4)
        alias = numpy_alias([c.source for c in nb.cells if c.cell_type == "code"])
        for cell in _solution_cells(nb):
            found += mutate_cell(
                cell.source, notebook=name, grade_id=cell.metadata.nbgrader["grade_id"], numpy=alias
            )
    return found


def sample(mutants: list[Mutant], n: int | None, seed: int) -> list[Mutant]:
    """``n`` mutants chosen with ``seed``, stratified by exercise (all when ``n`` is None).

    Each exercise gets a share of ``n`` proportional to its number of mutants
    (largest remainders round up), so a one-line answer cell does not take as
    much of a small sample as a function with dozens of mutants; within an
    exercise the mutants are drawn at random. The sample keeps the mutants'
    original order.

    >>> from autograder.mutation import mutate_cell
    >>> mutants = mutate_cell("a = 1", notebook="nb", grade_id="a") + mutate_cell(
    ...     "b = x + y * 2 - 1", notebook="nb", grade_id="b"
    ... )
    >>> [m.grade_id for m in sample(mutants, 4, seed=0)]
    ['a', 'b', 'b', 'b']
    """
    if n is None or n >= len(mutants):
        return list(mutants)
    rng = random.Random(seed)
    by_exercise: dict[tuple[str, str], list[int]] = {}
    for index, mutant in enumerate(mutants):
        by_exercise.setdefault((mutant.notebook, mutant.grade_id), []).append(index)
    shares = {key: n * len(indices) / len(mutants) for key, indices in by_exercise.items()}
    quotas = {key: int(share) for key, share in shares.items()}
    by_remainder = sorted(shares, key=lambda key: (-(shares[key] - quotas[key]), list(shares).index(key)))
    for key in by_remainder[: n - sum(quotas.values())]:
        quotas[key] += 1
    chosen = [i for key, indices in by_exercise.items() for i in rng.sample(indices, quotas[key])]
    return [mutants[i] for i in sorted(chosen)]


def _is_demo(cell: nbformat.NotebookNode) -> bool:
    return (
        cell.cell_type == "code"
        and utils.is_locked(cell)
        and not utils.is_solution(cell)
        and not is_autograded_test(cell)
        and not is_test_setup(cell)
    )


def _scratch_course(course: Course, assignment_id: str, root: Path) -> Course:
    """A released copy of the assignment under ``root``, without demo cells, with its own gradebook."""
    shutil.copy(course.root / CONFIG_FILE, root / CONFIG_FILE)
    source = course.path("source", ".", assignment_id)
    target = root / source.relative_to(course.root)
    shutil.copytree(source, target)
    for path in sorted(target.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if not _is_demo(c)]
        nbformat.write(nb, path)
    scratch = Course(root, db_url=f"sqlite:///{root / 'gradebook.db'}")
    generate(scratch, assignment_id)
    return scratch


def _write_submission(
    scratch: Course, assignment_id: str, student: str, folder: Path, mutant: Mutant | None
) -> None:
    """The release notebooks with every solution from the source; ``mutant``'s cell replaced."""
    out = folder / student / assignment_id
    out.mkdir(parents=True)
    for name in scratch.notebooks(assignment_id):
        source = nbformat.read(scratch.path("source", ".", assignment_id) / name, as_version=4)
        answers = {c.metadata.nbgrader["grade_id"]: c.source for c in _solution_cells(source)}
        nb = copy.deepcopy(nbformat.read(scratch.path("release", ".", assignment_id) / name, as_version=4))
        for cell in _solution_cells(nb):
            grade_id = cell.metadata.nbgrader["grade_id"]
            cell.source = answers[grade_id]
            if mutant is not None and mutant.notebook == name and mutant.grade_id == grade_id:
                cell.source = mutant.source
        nbformat.write(nb, out / name)


def threshold(course: Course) -> float:
    """``Selftest.threshold`` from ``nbgrader_config.py`` (default 0.9), checked."""
    value = course.config.get("Selftest", {}).get("threshold", DEFAULT_THRESHOLD)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise UserError(
            f"{CONFIG_FILE}: Selftest.threshold must be a number between 0 and 1 (0.9 = 90%), got {value!r}"
        )
    return float(value)


def release_mutants(course: Course) -> int | None:
    """``Selftest.release_mutants`` from ``nbgrader_config.py``: mutants per assignment at release (None: all)."""
    value = course.config.get("Selftest", {}).get("release_mutants", None)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise UserError(
            f"{CONFIG_FILE}: Selftest.release_mutants must be a whole number >= 1, or None for every mutant; "
            f"got {value!r}"
        )
    return value


def selftest(
    course: Course,
    assignment_id: str,
    *,
    sandbox: Sandbox,
    limits: Limits,
    executor: Executor,
    mutants: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> Report:
    """Grade the assignment's mutants (all, or ``mutants`` of them chosen with ``seed``); score each exercise.

    Parameters
    ----------
    course : Course
        The course whose ``source/<assignment_id>`` is tested; nothing in it is written.
    assignment_id : str
        The assignment, e.g. ``"01_labeling"``.
    sandbox, limits, executor
        How each submission is graded, as for :func:`autograder.grading.grade`.
    mutants : int, optional
        Grade a sample of this many (see :func:`sample`); default every mutant.
    seed : int
        Seed of the sample.
    progress : bool
        Show grading's progress bar.

    Returns
    -------
    Report
        Scores per exercise, survivors, equivalents, timing.

    Raises
    ------
    UserError
        If the assignment is unknown, ``mutants`` is not positive, an
        equivalence declaration is malformed, or the unmutated solution does
        not get full marks.
    """
    course.check_assignment(assignment_id)
    if mutants is not None and mutants < 1:
        raise UserError(f"--mutants must be at least 1, got {mutants}")
    started = time.monotonic()
    declared: dict[str, str] = {}
    exercises: dict[tuple[str, str], Exercise] = {}
    for name in course.notebooks(assignment_id):
        nb = nbformat.read(course.path("source", ".", assignment_id) / name, as_version=4)
        declared.update(equivalents(nb))
        for cell in _solution_cells(nb):
            grade_id = cell.metadata.nbgrader["grade_id"]
            exercises[(name, grade_id)] = Exercise(name, grade_id)
    everything = generate_mutants(course, assignment_id)
    chosen = sample(everything, mutants, seed)
    students = {f"m{i:04d}": m for i, m in enumerate(chosen)}
    with tempfile.TemporaryDirectory(prefix="autograder-selftest-") as tmp:
        root = Path(tmp) / "course"
        root.mkdir()
        scratch = _scratch_course(course, assignment_id, root)
        folder = Path(tmp) / "submissions"
        _write_submission(scratch, assignment_id, CONTROL, folder, None)
        for student, mutant in students.items():
            _write_submission(scratch, assignment_id, student, folder, mutant)
        results = grade(
            scratch,
            assignment_id,
            folder,
            executor=executor,
            sandbox=sandbox,
            limits=limits,
            progress=progress,
            echo=lambda line: None,
        )
    by_student = {r["student_id"]: r for r in results}
    control = by_student[CONTROL]
    if control["score"] < control["max_score"] or control["status"] != "graded":
        failed = [t["grade_id"] for t in control["tests"] if t["status"] != "passed"]
        raise UserError(
            f"selftest {assignment_id}: the unmutated solution scored {control['score']:g}/"
            f"{control['max_score']:g} (failed: {', '.join(failed) or 'none'}; "
            f"{'; '.join(control['reasons']) or 'no reason given'}). Selftest leaves out demo cells: "
            "tag a cell the tests or solutions need 'test-setup', or fix the source"
        )
    for student, mutant in students.items():
        result = by_student[student]
        exercise = exercises[(mutant.notebook, mutant.grade_id)]
        if mutant.id in declared:
            exercise.equivalent.append((mutant, declared[mutant.id]))
        elif result["score"] < result["max_score"]:
            exercise.killed.append(mutant)
        else:
            exercise.survived.append(mutant)
    known = {m.id for m in everything}
    return Report(
        assignment=assignment_id,
        seed=seed,
        total=len(everything),
        graded=len(chosen),
        threshold=threshold(course),
        seconds=time.monotonic() - started,
        exercises=list(exercises.values()),
        unused_equivalents=sorted(set(declared) - known),
    )


def gate(
    course: Course,
    assignment_id: str,
    sandbox: Sandbox,
    limits: Limits,
    *,
    mutants: int | None = None,
    echo: Callable[[str], None] | None = None,
) -> Report:
    """The release gate: a selftest (``mutants``, else ``Selftest.release_mutants``) that must meet the threshold.

    Parameters
    ----------
    course, assignment_id, sandbox, limits
        As for :func:`selftest`; one worker per CPU.
    mutants : int, optional
        Sample size; default ``Selftest.release_mutants`` from ``nbgrader_config.py``.
    echo : callable, optional
        Receives the score table.

    Returns
    -------
    Report
        The selftest's report, when every exercise meets the threshold.

    Raises
    ------
    UserError
        Naming each exercise below ``Selftest.threshold`` and its survivors.
    """
    report = selftest(
        course,
        assignment_id,
        sandbox=sandbox,
        limits=limits,
        executor=make_executor(None),
        mutants=mutants if mutants is not None else release_mutants(course),
    )
    if echo is not None:
        echo(report.summary())
    below = report.below()
    if below:
        names = ", ".join(
            f"{e.grade_id} ({e.score:.0%}: {', '.join(m.id for m in e.survived)})" for e in below
        )
        raise UserError(
            f"{assignment_id}: mutation score below {report.threshold:.0%} for {names}; strengthen the tests, "
            "or declare a mutant that behaves exactly like the solution equivalent "
            "(see `autograder selftest` and docs/AUTHORING.md)"
        )
    return report


def report_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=1)
