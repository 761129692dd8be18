"""``autograder export`` and ``autograder status``."""

from __future__ import annotations

import csv
import io
import os
import tempfile
import textwrap
from pathlib import Path

from .course import Course, UserError
from .grading import submission_digest

#: Width of the reason column in ``status``; the full text is in ``--json`` and grading.json.
REASON_WIDTH = 60


def submission_state(course: Course, student_id: str, assignment_id: str) -> tuple[str, dict | None]:
    """(graded / failed / pending, the result in force or None) for a stored submission.

    A submission whose files differ from those its recorded result was graded
    from is pending; the earlier result stays in force until it is regraded.
    """
    result = course.read_result(student_id, assignment_id)
    if result is None:
        return "pending", None
    folder = course.path("submitted", student_id, assignment_id)
    graded_from = result.get("fingerprint", {}).get("submission")
    if graded_from and folder.is_dir():
        if submission_digest({p.name: p for p in folder.glob("*.ipynb")}) != graded_from:
            return "pending", result
    return result["status"], result


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
                    if course.path("submitted", student.id, assignment.name).is_dir():
                        status, _ = submission_state(course, student.id, assignment.name)
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
    """graded / failed / pending for every submission in ``submitted/``, with the full reasons."""
    rows = []
    submitted = course.root / course.coursedir.submitted_directory
    for assignment_id in assignments:
        students = sorted(
            p.name
            for p in (submitted.iterdir() if submitted.is_dir() else [])
            if (p / assignment_id).is_dir()
        )
        for student_id in students:
            state, result = submission_state(course, student_id, assignment_id)
            row = {"student_id": student_id, "assignment": assignment_id, "state": state}
            if result is None:
                rows.append({**row, "score": "", "reasons": ["submitted, not graded yet"]})
                continue
            score = f"{result['score']:g}/{result['max_score']:g}"
            reasons = list(result["reasons"])
            if state == "pending":
                reasons.insert(0, f"resubmitted; the previous grade ({score}) stays until it is regraded")
            rows.append({**row, "score": score, "reasons": reasons})
    return rows


def short_reason(reasons: list[str], width: int = REASON_WIDTH) -> str:
    """The first reason, cut to ``width``, and how many more there are."""
    if not reasons:
        return ""
    more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
    return textwrap.shorten(reasons[0], width=max(width - len(more), 20), placeholder="...") + more


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain text table."""
    widths = {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines.append("  ".join("-" * widths[c] for c in columns))
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join(lines)
