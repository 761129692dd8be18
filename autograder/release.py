"""``autograder release``: check the source, generate the student version, check it fails."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI

from .course import CONFIG_FILE, Course, UserError
from .notebooks import (
    TEST_SETUP_TAG,
    NotebookRun,
    assemble,
    first_error,
    plan,
    solution_names,
    trusted_notebook,
)
from .sandbox import Limits, Sandbox, TestServer


def assignment_files(folder: Path) -> dict[str, bytes]:
    """The non-notebook files of an assignment folder (data the notebooks read)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts
    }


def execute(folder: Path, sandbox: Sandbox, limits: Limits) -> dict[str, NotebookRun]:
    """Grade every notebook of an instructor's assignment folder against itself, both sides as in grading."""
    notebooks = {p.name: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}
    trusted = {name: trusted_notebook(nb) for name, nb in notebooks.items()}
    cells = {name: plan(nb, trusted[name][0]) for name, nb in notebooks.items()}
    server = TestServer(sandbox, {n: t for n, (t, _) in trusted.items()}, assignment_files(folder), limits)
    with server:
        run = server.run({"notebooks": cells})
    if run.crashed:
        raise UserError(f"{folder}: could not be executed: {run.crashed}")
    return {
        name: assemble(
            name, nb, cells[name], run, trusted[name][1], killed_reason="it was killed at the time limit"
        )
        for name, nb in notebooks.items()
    }


def check_source(course: Course, assignment_id: str, sandbox: Sandbox, limits: Limits) -> None:
    """Every cell of the instructor's notebooks runs cleanly and every test passes."""
    folder = course.path("source", ".", assignment_id)
    for name, result in execute(folder, sandbox, limits).items():
        if not result.tests:
            raise UserError(f"{folder / name}: has no autograded test cells")
        error = first_error(result.nb)
        failed = next((t for t in result.tests if t.status != "passed"), None)
        if error:
            index, grade_id, message = error
            raise UserError(
                f"{folder / name}: cell {index}{f' ({grade_id!r})' if grade_id else ''} failed "
                f"in the solution: {message}"
            )
        if failed:
            raise UserError(
                f"{folder / name}: test cell {failed.cell_index} ({failed.grade_id!r}) failed "
                f"in the solution: {failed.message}"
            )
        answers = solution_names(result.nb)
        for grade_id, names in result.student_names.items():
            borrowed = [n for n in names if n not in answers]
            if borrowed:
                raise UserError(
                    f"{folder / name}: test cell {grade_id!r} reads {', '.join(map(repr, borrowed))} from the "
                    "student's side, but no solution cell defines it; tag the locked cell that defines it "
                    f"{TEST_SETUP_TAG!r} so the tests get their own copy (see docs/AUTHORING.md)"
                )


def check_release(course: Course, assignment_id: str, sandbox: Sandbox, limits: Limits) -> None:
    """Every autograded test of the student version fails: the stub scores zero."""
    folder = course.path("release", ".", assignment_id)
    for name, result in execute(folder, sandbox, limits).items():
        for test in result.tests:
            if test.score > 0:
                raise UserError(
                    f"{folder.relative_to(course.root) / name}: test cell {test.cell_index} ({test.grade_id!r}) passes "
                    "on the unanswered release version; make it fail on the stub"
                )


def generate(course: Course, assignment_id: str) -> Path:
    """Generate ``release/<assignment>`` through nbgrader (also records it in the gradebook)."""
    api = NbGraderAPI(coursedir=course.coursedir, config=course.config)
    result = api.generate_assignment(assignment_id, force=True, create=True)
    if not result["success"]:
        detail = (result.get("error") or result.get("log") or "").strip().splitlines()
        raise UserError(
            f"nbgrader could not generate {assignment_id}: {detail[-1] if detail else 'no detail'}"
        )
    from .selftest import strip_declarations  # selftest grades a generated release: imports this module

    target = course.path("release", ".", assignment_id)
    strip_declarations(target)
    return target


def release(
    course: Course,
    assignment_id: str,
    sandbox: Sandbox,
    limits: Limits,
    *,
    mutants: int | None = None,
    echo: Callable[[str], None] | None = None,
) -> Path:
    """Check the source, then generate and check a trial release in a scratch course.

    The last check is the mutation-score gate (:func:`autograder.selftest.gate`,
    ``mutants`` per assignment; its table goes to ``echo``). Only when every
    check passes is ``release/<assignment>`` written and the gradebook
    updated, so a refused release changes nothing.
    """
    from .selftest import gate  # selftest grades a generated release: imports this module

    course.check_assignment(assignment_id)
    check_source(course, assignment_id, sandbox, limits)
    with tempfile.TemporaryDirectory(prefix="autograder-release-") as tmp:
        scratch = Path(tmp)
        shutil.copy(course.root / CONFIG_FILE, scratch / CONFIG_FILE)
        source = course.path("source", ".", assignment_id)
        shutil.copytree(source, scratch / source.relative_to(course.root))
        trial = Course(scratch, db_url=f"sqlite:///{scratch / 'gradebook.db'}")
        generate(trial, assignment_id)
        check_release(trial, assignment_id, sandbox, limits)
    gate(course, assignment_id, sandbox, limits, mutants=mutants, echo=echo)
    return generate(course, assignment_id)
