"""``autograder export`` and ``autograder status``."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

from .course import Course, UserError

EXPORT_FORMATS = ("csv", "canvas")


def grade_rows(course: Course) -> list[dict]:
    """One row per student and assignment in the gradebook; no submission scores 0."""
    rows = []
    with course.gradebook() as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            for student in sorted(gb.students, key=lambda s: s.id):
                try:
                    submission = gb.find_submission(assignment.name, student.id)
                except Exception:
                    score, status = 0.0, "missing"
                else:
                    score = float(submission.score)
                    result = course.read_result(student.id, assignment.name)
                    if result:
                        status = result["status"]
                    elif course.path("submitted", student.id, assignment.name).is_dir():
                        status = "pending"  # resubmitted; the score is the previous grading's
                    else:
                        status = "graded"  # graded by nbgrader itself
                rows.append(
                    {
                        "student_id": student.id,
                        "assignment": assignment.name,
                        "score": score,
                        "max_score": float(assignment.max_score),
                        "status": status,
                    }
                )
    return rows


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["student_id", "assignment", "score", "max_score", "status"])
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "score": f"{row['score']:g}", "max_score": f"{row['max_score']:g}"})
    return out.getvalue()


def _canvas(rows: list[dict]) -> str:
    """Canvas's gradebook import layout: a column per assignment, a 'Points Possible' row."""
    assignments = sorted({r["assignment"] for r in rows})
    max_scores = {r["assignment"]: r["max_score"] for r in rows}
    students: dict[str, dict[str, float]] = {}
    for row in rows:
        students.setdefault(row["student_id"], {})[row["assignment"]] = row["score"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments])
    writer.writerow(["Points Possible", "", "", "", "", *(f"{max_scores[a]:g}" for a in assignments)])
    for student_id, scores in sorted(students.items()):
        writer.writerow([student_id, student_id, "", "", "", *(f"{scores.get(a, 0):g}" for a in assignments)])
    return out.getvalue()


def export(course: Course, output: Path, fmt: str = "csv") -> int:
    """Write the grades to ``output`` atomically; return the number of rows."""
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    output = Path(output)
    if not output.parent.resolve().is_dir():
        raise UserError(
            f"cannot write {output}: folder {output.parent} does not exist; create it or choose another --output"
        )
    if output.is_dir():
        raise UserError(
            f"cannot write {output}: it is a folder; give a file name such as {output / 'grades.csv'}"
        )
    rows = grade_rows(course)
    if not rows:
        raise UserError("the gradebook has no students yet: run `autograder grade` first")
    text = _csv(rows) if fmt == "csv" else _canvas(rows)
    fd, tmp = tempfile.mkstemp(dir=output.parent.resolve(), prefix=f".{output.name}.")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a grades file is not
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(rows)


def status_rows(course: Course, assignments: list[str]) -> list[dict]:
    """graded / failed / pending for every submission in ``submitted/``."""
    rows = []
    submitted = course.root / course.coursedir.submitted_directory
    for assignment_id in assignments:
        students = sorted(
            p.name
            for p in (submitted.iterdir() if submitted.is_dir() else [])
            if (p / assignment_id).is_dir()
        )
        for student_id in students:
            result = course.read_result(student_id, assignment_id)
            if result is None:
                rows.append(
                    {
                        "student_id": student_id,
                        "assignment": assignment_id,
                        "state": "pending",
                        "score": "",
                        "reason": "submitted, not graded yet",
                    }
                )
            else:
                rows.append(
                    {
                        "student_id": student_id,
                        "assignment": assignment_id,
                        "state": result["status"],
                        "score": f"{result['score']:g}/{result['max_score']:g}",
                        "reason": "; ".join(result["reasons"]),
                    }
                )
    return rows


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain text table."""
    widths = {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines.append("  ".join("-" * widths[c] for c in columns))
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join(lines)
