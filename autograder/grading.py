"""``autograder grade``: prepare, execute in the sandbox, record in the gradebook.

The parent process does everything that touches the course: it reads the
submissions, restores locked and hidden test cells from the gradebook (as
``nbgrader autograde`` does), hands the prepared notebooks to an
:class:`~autograder.executor.Executor`, and, as each sandboxed run ends, writes
the scores to the gradebook, the executed notebook and a ``grading.json`` with
per-test results and reasons to ``autograded/<student>/<assignment>/``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
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
from .notebooks import is_autograded_test, score_tests
from .release import assignment_files
from .sandbox import Limits, Sandbox, SandboxRun
from .submissions import Submission, collect


@dataclass
class Job:
    """Everything a sandbox needs to grade one submission (plain data)."""

    student_id: str
    notebooks: dict[str, str]  # notebook file name -> prepared notebook JSON
    files: dict[str, bytes]
    limits: Limits


@dataclass
class Prepared:
    submission: Submission
    job: Job
    reasons: list[str] = field(default_factory=list)


def run_job(sandbox: Sandbox, job: Job) -> tuple[str, SandboxRun | None]:
    if not job.notebooks:
        return job.student_id, None
    return job.student_id, sandbox.run(job.notebooks, job.limits, files=job.files)


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
    """What grading needs from ``release/<assignment>``, read once per batch."""

    files: dict[str, bytes]  # data files the notebooks read
    locked: dict[str, dict[str, str]]  # notebook -> grade_id -> source of each locked cell

    @classmethod
    def load(cls, course: Course, assignment_id: str) -> Released:
        folder = course.path("release", ".", assignment_id)
        locked = {}
        for path in sorted(folder.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            locked[path.name] = {
                c.metadata.nbgrader["grade_id"]: c.source
                for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("locked") and not c.metadata.nbgrader.get("solution")
            }
        return cls(assignment_files(folder) if folder.is_dir() else {}, locked)


def prepare_notebook(
    course: Course, assignment_id: str, student_id: str, name: str, path: Path, locked: dict[str, str]
) -> tuple[str | None, list[str]]:
    """Sanitize one submitted notebook; return (prepared JSON or None, reasons)."""
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
    return nbformat.writes(nb), reasons


def prepare(
    course: Course, assignment_id: str, submission: Submission, limits: Limits, released: Released
) -> Prepared:
    notebooks, reasons = {}, list(submission.notes)
    for name, path in submission.notebooks.items():
        locked = released.locked.get(name, {})
        text, notes = prepare_notebook(course, assignment_id, submission.student_id, name, path, locked)
        reasons += notes
        if text is not None:
            notebooks[name] = text
    job = Job(submission.student_id, notebooks, released.files, limits)
    return Prepared(submission, job, reasons)


def _cell_name(nb: nbformat.NotebookNode, index: int) -> str:
    grade_id = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index} ({grade_id!r})" if grade_id else f"cell {index}"


def record(course: Course, assignment_id: str, prepared: Prepared, run: SandboxRun | None) -> dict:
    """Write the outcome of one submission to the gradebook and ``autograded/``."""
    student_id = prepared.submission.student_id
    reasons = list(prepared.reasons)
    executed: dict[str, nbformat.NotebookNode] = {}
    if run is not None:
        executed = {n: nbformat.reads(t, as_version=4) for n, t in run.executed.items()}
        for name in prepared.job.notebooks:
            if name not in executed:
                why = (
                    f"ran past the {prepared.job.limits.notebook_timeout:g} s time limit and was killed"
                    if run.killed
                    else f"stopped the grader (exit code {run.returncode}): {run.stderr.strip()[-300:]}"
                )
                reasons.append(f"{name} {why}; it was scored 0")
        for name, nb in executed.items():
            summary = nb.metadata.get("autograder", {})
            for index in summary.get("timed_out_cells", []):
                reasons.append(
                    f"{name}: {_cell_name(nb, index)} ran longer than "
                    f"{prepared.job.limits.cell_timeout:g} s and was interrupted"
                )
            stopped = summary.get("stopped")
            if stopped:
                where = summary.get("stopped_at_cell")
                at = f" in {_cell_name(nb, where)}" if where is not None else ""
                reasons.append(f"{name}: {stopped}{at}; the tests after that point did not run")
    complete = set(executed) == set(course.notebooks(assignment_id)) and not any(
        nb.metadata.get("autograder", {}).get("stopped") for nb in executed.values()
    )
    tests = []
    out_dir = course.path("autograded", student_id, assignment_id)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    with course.gradebook() as gb:
        gb.update_or_create_student(student_id)
        submission = gb.update_or_create_submission(assignment_id, student_id)
        for notebook in submission.notebooks:
            name = f"{notebook.name}.ipynb"
            nb = executed.get(name)
            scores = {}
            if nb is not None:
                nbformat.write(nb, out_dir / name)
                for result in score_tests(nb):
                    scores[result.grade_id] = result.score
                    tests.append({"notebook": name, **result.__dict__, "status": result.status})
            autograded = {
                c.metadata.nbgrader["grade_id"]
                for c in (nb.cells if nb is not None else [])
                if is_autograded_test(c)
            }
            for grade in notebook.grades:
                if grade.name in scores:
                    grade.auto_score = scores[grade.name]
                elif nb is None or grade.name not in autograded:
                    grade.auto_score = 0.0
                grade.needs_manual_grade = grade.manual_score is not None
        gb.db.commit()
        score, max_score = float(submission.score), float(submission.max_score)
    result = {
        "student_id": student_id,
        "assignment": assignment_id,
        "status": "graded" if complete else "failed",
        "score": score,
        "max_score": max_score,
        "reasons": reasons,
        "tests": tests,
        "seconds": round(run.seconds, 2) if run is not None else 0.0,
        "graded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    course.result_path(student_id, assignment_id).write_text(json.dumps(result, indent=1))
    return result


def _store_submitted(course: Course, assignment_id: str, submission: Submission) -> None:
    """Copy the files to ``submitted/`` and forget any earlier grade: the student is pending."""
    target = course.path("submitted", submission.student_id, assignment_id)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name, path in submission.notebooks.items():
        shutil.copyfile(path, target / name)
    course.result_path(submission.student_id, assignment_id).unlink(missing_ok=True)


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
) -> list[dict]:
    """Grade every submission of ``assignment_id`` found at ``path``; return the results."""
    course.check_assignment(assignment_id)
    with course.gradebook() as gb:
        try:
            gb.find_assignment(assignment_id)
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
        for submission in submissions:
            _store_submitted(course, assignment_id, submission)
        prepared: dict[str, Prepared] = {}
        released = Released.load(course, assignment_id)

        def jobs():
            # A background thread prepares submissions ahead, in order, so a free
            # sandbox never waits for the gradebook reads of the next one.
            with ThreadPoolExecutor(max_workers=1) as preparer:
                ahead = preparer.map(
                    lambda s: prepare(course, assignment_id, s, limits, released), submissions
                )
                for item in ahead:
                    prepared[item.submission.student_id] = item
                    yield item.job

        bar = tqdm(
            total=len(submissions),
            desc=f"grading {assignment_id}",
            unit="sub",
            disable=not progress,
            file=sys.stderr,
        )
        try:
            for student_id, run in executor.map_unordered(functools.partial(run_job, sandbox), jobs()):
                result = record(course, assignment_id, prepared[student_id], run)
                results.append(result)
                bar.update()
                write(format_result(result))
        finally:
            bar.close()
    return sorted(results, key=lambda r: r["student_id"])
