"""``autograder grade``: prepare, run on both sides, score, record in the gradebook.

The parent process does everything that touches the course: it reads the
submissions, restores locked cells from the gradebook (as ``nbgrader
autograde`` does), plans which side runs each cell (tests from the gradebook
only), hands the plans to an :class:`~autograder.executor.Executor` that sends
them to the batch's :class:`~autograder.sandbox.TestServer`, and, as each run
ends, scores the tests from the outcomes the trusted side observed, with
points from the gradebook, and writes the gradebook, the graded notebook and a
``grading.json`` with per-test results and reasons to
``autograded/<student>/<assignment>/``.

Batches survive a crash. Each result is recorded in one step per student: the
graded notebooks and ``grading.json`` are written to a scratch folder that
then replaces ``autograded/<student>/<assignment>/``, inside the gradebook
transaction that stores the scores, which commits last. A result also records
a fingerprint: the submission's content, the release it was graded against,
the sandbox and the limits. Running the same command again after a crash (or
any time) skips every submission whose recorded fingerprint matches and whose
gradebook scores agree (``force`` regrades them), so nothing is lost, graded
twice or half-written, and a resubmission keeps its previous grade in force
until the new one is recorded.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.reader import NotJSONError
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.preprocessors import (
    ClearOutput,
    DeduplicateIds,
    OverwriteCells,
    OverwriteKernelspec,
)
from tqdm import tqdm

from .course import Course, UserError
from .executor import Executor
from .notebooks import TEST_SETUP_TAG, assemble, plan
from .release import assignment_files
from .sandbox import Limits, Run, Sandbox, TestServer, TrustedNotebook
from .submissions import Submission, collect

#: A markdown heading that states points, e.g. "## Part A — Uncertainty scores (9 points)".
PART_HEADING = re.compile(r"^#{1,6}\s+(.*\(\s*\d+(?:\.\d+)?\s+points?\s*\))\s*$", re.MULTILINE)


@dataclass
class Job:
    """What the trusted side needs to grade one submission (plain data, no test code)."""

    student_id: str
    notebooks: dict[str, list[dict]]  # notebook file name -> cell plan (see notebooks.plan)


@dataclass
class Prepared:
    submission: Submission
    job: Job
    notebooks: dict[str, nbformat.NotebookNode]  # the prepared notebooks, for the graded copy
    reasons: list[str] = field(default_factory=list)
    fingerprint: dict = field(default_factory=dict)


def run_job(server: TestServer, job: Job) -> tuple[str, Run | None]:
    if not job.notebooks:
        return job.student_id, None
    return job.student_id, server.run({"notebooks": job.notebooks})


@functools.lru_cache(maxsize=4096)
def _check_cell_metadata(cell_type: str, metadata: str) -> None:
    """nbgrader's metadata check of one cell, remembered when it passes.

    A class's notebooks share nearly all their cell metadata, and nbgrader's own
    check compiles the JSON schema for every cell (a tenth of a second a notebook);
    the verdict depends only on the metadata and the cell type.
    """
    cell = nbformat.from_dict(
        {"cell_type": cell_type, "source": "", "metadata": {"nbgrader": json.loads(metadata)}}
    )
    MetadataValidator().validate_cell(cell)


def check_metadata(nb: nbformat.NotebookNode) -> None:
    """What nbgrader's CheckCellMetadata checks: valid metadata and unique grade ids."""
    seen = set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        _check_cell_metadata(cell.cell_type, json.dumps(meta, sort_keys=True))
        if meta.get("grade") or meta.get("solution") or meta.get("locked"):
            if meta["grade_id"] in seen:
                raise ValidationError(f"Duplicate grade id: {meta['grade_id']}")
            seen.add(meta["grade_id"])


@dataclass(frozen=True)
class Released:
    """What grading needs from the instructor's side, read once per batch.

    Tests, their points and the sources of setup cells come from the gradebook
    (what ``autograder release`` recorded); locked cells as the students received
    them, and which of them are test setup, from ``release/``.
    """

    files: dict[str, bytes]  # data files the notebooks read
    locked: dict[str, dict[str, str]]  # notebook -> grade_id -> source of each locked cell
    trusted: dict[str, TrustedNotebook]  # notebook -> what the trusted side runs
    points: dict[str, dict[str, float]]  # notebook -> test grade_id -> points
    # notebook -> test grade_id -> its "Part A ... (9 points)" heading, and its docstring's first line
    parts: dict[str, dict[str, str]] = field(default_factory=dict)
    descriptions: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, course: Course, assignment_id: str) -> Released:
        folder = course.path("release", ".", assignment_id)
        locked, trusted, points, parts = {}, {}, {}, {}
        with course.gradebook() as gb:
            assignment = gb.find_assignment(assignment_id)
            for notebook in assignment.notebooks:
                name = f"{notebook.name}.ipynb"
                sources = {c.name: c for c in notebook.source_cells}
                solutions = {c.name for c in notebook.solution_cells}
                tests = {
                    g.name: float(g.max_score)
                    for g in notebook.grade_cells
                    if g.cell_type == "code" and g.name not in solutions
                }
                tagged, locked[name], parts[name] = [], {}, {}
                if (folder / name).is_file():
                    released = nbformat.read(folder / name, as_version=4)
                    part = ""
                    for c in released.cells:
                        if c.cell_type == "markdown":
                            heading = PART_HEADING.search(c.source)
                            part = heading.group(1).strip() if heading else part
                        meta = c.metadata.get("nbgrader", {})
                        if meta.get("grade") and part:
                            parts[name][meta.get("grade_id")] = part
                        if meta.get("locked") and not meta.get("solution"):
                            locked[name][meta["grade_id"]] = c.source  # as the students received it
                            if TEST_SETUP_TAG in c.metadata.get("tags", []):
                                tagged.append(meta["grade_id"])
                setup = {
                    g: sources[g].source
                    for g in tagged
                    if g in sources and sources[g].locked and g not in tests and g not in solutions
                }
                trusted[name] = TrustedNotebook(setup, {g: sources[g].source for g in tests})
                points[name] = tests
        descriptions = {
            name: {g: _first_docstring_line(locked[name].get(g, "")) for g in tests}
            for name, tests in points.items()
        }
        return cls(
            assignment_files(folder) if folder.is_dir() else {}, locked, trusted, points, parts, descriptions
        )

    def digest(self) -> str:
        """A hash of everything here that decides a grade: change any of it and results are stale."""
        state = {
            "files": {k: hashlib.sha256(v).hexdigest() for k, v in self.files.items()},
            "locked": self.locked,
            "trusted": {k: dataclasses.asdict(v) for k, v in self.trusted.items()},
            "points": self.points,
        }
        return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def _first_docstring_line(source: str) -> str:
    """The first line of a cell's docstring (for a test: as students received it, never hidden text)."""
    try:
        docstring = ast.get_docstring(ast.parse(source)) or ""
    except SyntaxError:
        return ""
    return docstring.splitlines()[0] if docstring else ""


def submission_digest(notebooks: dict[str, Path]) -> str:
    """A hash of a submission's files (names and bytes)."""
    h = hashlib.sha256()
    for name, path in sorted(notebooks.items()):
        data = Path(path).read_bytes()
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def fingerprint(submission: Submission, release_digest: str, sandbox: Sandbox, limits: Limits) -> dict:
    """What a recorded result was graded from; equal fingerprints grade alike."""
    return {
        "submission": submission_digest(submission.notebooks),
        "release": release_digest,
        "sandbox": sandbox.isolation,
        "limits": dataclasses.asdict(limits),
    }


def prepare_notebook(
    course: Course, assignment_id: str, student_id: str, name: str, path: Path, locked: dict[str, str]
) -> tuple[nbformat.NotebookNode | None, list[str]]:
    """Sanitize one submitted notebook; return (the prepared notebook or None, reasons)."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except NotJSONError:
        return None, [
            f"{name} is not a valid notebook (not valid JSON: damaged or truncated); it was scored 0"
        ]
    except Exception as error:  # nbformat raises several unrelated types for bad files
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return None, [f"{name} is not a valid notebook ({first[:200]}); it was scored 0"]
    for index, cell in enumerate(nb.cells):  # nbformat accepts any JSON here; everything below needs this
        meta = cell.metadata.get("nbgrader", {})
        if not isinstance(meta, dict) or not isinstance(meta.get("grade_id", ""), str):
            return None, [f"{name}: nbgrader metadata is damaged (cell {index}); it was scored 0"]
    wrong = wrong_notebook(course, assignment_id, name, nb, locked)
    if wrong:
        return None, [wrong]
    reasons = []
    seen = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in locked:
            seen[grade_id] = cell.source
    for grade_id, source in locked.items():
        if grade_id not in seen:
            reasons.append(f"{name}: locked cell {grade_id!r} was deleted; it was restored")
        elif seen[grade_id] != source:
            reasons.append(f"{name}: locked cell {grade_id!r} was edited; it was restored")
    resources = {
        "nbgrader": {
            "notebook": Path(name).stem,
            "assignment": assignment_id,
            "student": student_id,
            "db_url": course.db_url,
        }
    }
    try:
        for preprocessor in (
            ClearOutput(config=course.config),
            DeduplicateIds(config=course.config),
            OverwriteKernelspec(config=course.config),
            OverwriteCells(config=course.config, add_missing_cells=True),
        ):
            nb, resources = preprocessor.preprocess(nb, resources)
        check_metadata(nb)
    except Exception as error:
        return None, [*reasons, f"{name}: nbgrader metadata is damaged ({error}); it was scored 0"]
    return nb, reasons


def _grade_ids(nb: nbformat.NotebookNode) -> set[str]:
    return {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}


def _released_ids(release_root: Path) -> dict[str, set[str]]:
    """``{"<assignment>/<notebook>": grade ids}`` of every released notebook of a course."""
    return {
        f"{p.parent.name}/{p.name}": _grade_ids(nbformat.read(p, as_version=4))
        for p in sorted(release_root.glob("*/*.ipynb"))
    }


def wrong_notebook(
    course: Course, assignment_id: str, name: str, nb: nbformat.NotebookNode, locked: dict[str, str]
) -> str | None:
    """One line saying so when ``nb`` is not this assignment's notebook, else None.

    It is not when fewer than half of the notebook's read-only cells are there
    (by nbgrader grade id); it names the released notebook it resembles most.
    """
    if not locked:
        return None
    ids = _grade_ids(nb)
    present = len(ids & set(locked))
    if present * 2 >= len(locked):
        return None
    others = _released_ids(course.root / course.coursedir.release_directory)
    best = max(others, key=lambda k: len(ids & others[k]), default=None)
    looks = (
        f"; it looks like {best}"
        if best and best != f"{assignment_id}/{name}" and len(ids & others[best]) * 2 >= len(others[best])
        else ""
    )
    return (
        f"{name} is not this assignment's notebook, or most of it was deleted: only {present} of the "
        f"{len(locked)} read-only cells of {assignment_id}/{name} are in it{looks}; it was scored 0 "
        "(was the wrong file uploaded?)"
    )


def prepare(
    course: Course, assignment_id: str, submission: Submission, released: Released, key: dict | None = None
) -> Prepared:
    notebooks, plans, reasons = {}, {}, list(submission.notes)
    for name, path in submission.notebooks.items():
        locked = released.locked.get(name, {})
        nb, notes = prepare_notebook(course, assignment_id, submission.student_id, name, path, locked)
        reasons += notes
        if nb is not None and name in released.trusted:
            notebooks[name] = nb
            plans[name] = plan(nb, released.trusted[name])
    return Prepared(submission, Job(submission.student_id, plans), notebooks, reasons, key or {})


def _cell_name(nb: nbformat.NotebookNode, index: int) -> str:
    grade_id = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index} ({grade_id!r})" if grade_id else f"cell {index}"


def record(
    course: Course,
    assignment_id: str,
    prepared: Prepared,
    run: Run | None,
    released: Released,
    limits: Limits,
) -> dict:
    """Score one submission from what the trusted side observed; write the gradebook and ``autograded/``."""
    student_id = prepared.submission.student_id
    reasons = list(prepared.reasons)
    graded = {}
    if run is not None:
        killed = f"ran past the {limits.notebook_timeout:g} s time limit and was killed"
        for name, nb in prepared.notebooks.items():
            result = assemble(
                name, nb, prepared.job.notebooks[name], run, released.points[name], killed_reason=killed
            )
            graded[name] = result
            for index in result.timed_out:
                reasons.append(
                    f"{name}: {_cell_name(nb, index)} ran longer than {limits.cell_timeout:g} s and was interrupted"
                )
            if result.stopped:
                at = f" in {_cell_name(nb, result.stopped_at)}" if result.stopped_at is not None else ""
                reasons.append(f"{name}: {result.stopped}{at}; the tests after that point did not run")
    complete = set(graded) == set(course.notebooks(assignment_id)) and not any(
        r.stopped for r in graded.values()
    )
    if prepared.fingerprint.get("sandbox") == "process":
        reasons.append("graded without a sandbox (--no-sandbox)")
    tests = []
    out_dir = course.path("autograded", student_id, assignment_id)
    scratch = _scratch_for(out_dir, "partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        with course.gradebook() as gb:
            gb.update_or_create_student(student_id)
            submission = gb.update_or_create_submission(assignment_id, student_id)
            for notebook in submission.notebooks:
                name = f"{notebook.name}.ipynb"
                result = graded.get(name)
                scores = {}
                if result is not None:
                    nbformat.write(result.nb, scratch / name)
                    for test in result.tests:
                        scores[test.grade_id] = test.score
                        tests.append(
                            {
                                **dataclasses.asdict(test),
                                "description": released.descriptions.get(name, {}).get(test.grade_id, ""),
                                "part": released.parts.get(name, {}).get(test.grade_id, ""),
                            }
                        )
                for grade in notebook.grades:
                    if grade.name in released.points.get(name, {}):
                        grade.auto_score = min(scores.get(grade.name, 0.0), float(grade.max_score))
                    grade.needs_manual_grade = grade.manual_score is not None
            gb.db.flush()
            score, max_score = float(submission.score), float(submission.max_score)
            result = {
                "student_id": student_id,
                "name": prepared.submission.name,
                "late": prepared.submission.late,
                "assignment": assignment_id,
                "status": "graded" if complete else "failed",
                "score": score,
                "max_score": max_score,
                "reasons": reasons,
                "tests": tests,
                "seconds": round(run.seconds, 2) if run is not None else 0.0,
                "graded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "fingerprint": prepared.fingerprint,
            }
            (scratch / "grading.json").write_text(json.dumps(result, indent=1))
            _replace_dir(scratch, out_dir)
            # A crash from here to the commit leaves grading.json ahead of the gradebook;
            # the next run sees that they disagree and grades the submission again.
            gb.db.commit()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def _scratch_for(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.{kind}"


def _replace_dir(new: Path, target: Path) -> None:
    """Put folder ``new`` at ``target``, replacing what is there, in two renames."""
    old = _scratch_for(target, "old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


def _recover_dir(target: Path) -> None:
    """Undo what a crash inside :func:`_replace_dir` or a scratch write left behind."""
    old = _scratch_for(target, "old")
    if old.exists() and not target.exists():
        os.rename(old, target)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(_scratch_for(target, "partial"), ignore_errors=True)


def up_to_date(result: dict | None, key: dict, recorded_score: float | None) -> bool:
    """Whether ``result`` was graded from ``key`` and the gradebook's score agrees with it."""
    return (
        result is not None
        and result.get("fingerprint") == key
        and recorded_score is not None
        and abs(recorded_score - result["score"]) <= 1e-9
    )


def _store_submitted(course: Course, assignment_id: str, submission: Submission) -> None:
    """Copy the files to ``submitted/`` in one step; an earlier grade stays until the new one is recorded."""
    target = course.path("submitted", submission.student_id, assignment_id)
    _recover_dir(target)
    scratch = _scratch_for(target, "partial")
    scratch.mkdir(parents=True)
    for name, path in submission.notebooks.items():
        shutil.copyfile(path, scratch / name)
    _replace_dir(scratch, target)


def format_result(result: dict) -> str:
    line = f"{result['student_id']}: {result['score']:g}/{result['max_score']:g}"
    if result["status"] == "failed":
        line += " FAILED"
    if result["reasons"]:
        line += " - " + "; ".join(result["reasons"])
    return line


def grade(
    course: Course,
    assignment_id: str,
    path: Path,
    *,
    executor: Executor,
    sandbox: Sandbox,
    limits: Limits,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
    force: bool = False,
) -> list[dict]:
    """Grade every submission of ``assignment_id`` found at ``path``; return the results.

    Submissions already graded from the same content, release, sandbox and
    limits are skipped (their recorded results are returned, marked
    ``"skipped": True``) unless ``force``.
    """
    course.check_assignment(assignment_id)
    with course.gradebook() as gb:
        try:
            recorded = {s.student.id: float(s.score) for s in gb.find_assignment(assignment_id).submissions}
        except Exception:
            raise UserError(
                f"{assignment_id} is not in the gradebook yet: run `autograder release {assignment_id}` first"
            ) from None
    expected = course.notebooks(assignment_id)
    write = echo or (lambda line: tqdm.write(line, file=sys.stderr))
    results = []
    with tempfile.TemporaryDirectory(prefix="autograder-collect-") as scratch:
        submissions = collect(Path(path), assignment_id, expected, Path(scratch))
        seen: dict[str, int] = {}
        for s in submissions:
            seen[s.student_id] = seen.get(s.student_id, 0) + 1
        duplicated = sorted(k for k, v in seen.items() if v > 1)
        if duplicated:
            raise UserError(f"{path}: more than one submission for {', '.join(duplicated)}")
        prepared: dict[str, Prepared] = {}
        released = Released.load(course, assignment_id)
        release_digest = released.digest()
        todo = []
        for submission in submissions:
            _recover_dir(course.path("autograded", submission.student_id, assignment_id))
            key = fingerprint(submission, release_digest, sandbox, limits)
            previous = course.read_result(submission.student_id, assignment_id)
            if not force and up_to_date(previous, key, recorded.get(submission.student_id)):
                results.append({**previous, "skipped": True})
                continue
            _store_submitted(course, assignment_id, submission)
            todo.append((submission, key))
        if results:
            write(
                f"skipped {len(results)} submission(s) already graded from the same files, release and "
                "settings (--force regrades them)"
            )
        server = TestServer(sandbox, released.trusted, released.files, limits)

        def jobs():
            # A background thread prepares submissions ahead, in order, so a free
            # sandbox never waits for the gradebook reads of the next one.
            with ThreadPoolExecutor(max_workers=1) as preparer:
                ahead = preparer.map(lambda t: prepare(course, assignment_id, t[0], released, t[1]), todo)
                for item in ahead:
                    prepared[item.submission.student_id] = item
                    yield item.job

        if not todo:
            return sorted(results, key=lambda r: r["student_id"])
        bar = tqdm(
            total=len(todo),
            desc=f"grading {assignment_id}",
            unit="sub",
            disable=not progress,
            file=sys.stderr,
        )
        try:
            with server:
                for student_id, run in executor.map_unordered(functools.partial(run_job, server), jobs()):
                    result = record(course, assignment_id, prepared[student_id], run, released, limits)
                    results.append(result)
                    bar.update()
                    write(format_result(result))
        finally:
            bar.close()
    return sorted(results, key=lambda r: r["student_id"])


def remove(course: Course, student_id: str, assignment_id: str | None = None) -> list[str]:
    """Take a student's submission of one assignment (or all of them, and the student) out of the course.

    Removes the gradebook's records and the student's folders under
    ``submitted/``, ``autograded/`` and ``feedback/``; returns what was removed.
    """
    with course.gradebook() as gb:
        try:
            student = gb.find_student(student_id)
        except Exception:
            known = sorted(s.id for s in gb.students)
            hint = (
                f"; the gradebook has {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}"
                if known
                else ""
            )
            raise UserError(f"no student {student_id!r} in the gradebook{hint}") from None
        assignments = (
            [assignment_id] if assignment_id else sorted(s.assignment.name for s in student.submissions)
        )
        removed = []
        if assignment_id:
            course.check_assignment(assignment_id)
        for name in assignments:
            try:
                gb.remove_submission(name, student_id)
            except Exception:
                if assignment_id:
                    raise UserError(f"{student_id} has no submission of {name} in the gradebook") from None
                continue
            removed.append(f"gradebook: {student_id}'s submission of {name}")
        if not assignment_id:
            gb.remove_student(student_id)
            removed.append(f"gradebook: student {student_id}")
    for step in ("submitted", "autograded", "feedback"):
        for name in assignments:
            folder = course.path(step, student_id, name)
            if folder.exists():
                shutil.rmtree(folder)
                removed.append(str(folder.relative_to(course.root)))
        parent = course.path(step, student_id, ".").resolve()
        if parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
    return removed
