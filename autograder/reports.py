"""``autograder export`` and ``autograder status``."""

from __future__ import annotations

import csv
import io
import os
import tempfile
import textwrap
from pathlib import Path

from .course import CONFIG_FILE, Course, UserError
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


def late_penalty(course: Course) -> float:
    """``LatePolicy.penalty`` from ``nbgrader_config.py``: the share of a late submission's score taken off.

    0 (the default) only flags late submissions; 0.1 takes 10% off; 1 makes a
    late submission score 0. A submission is late when the LMS said so (Canvas
    names its file ``..._late_...``). The gradebook keeps the raw score; the
    policy applies where grades leave it (export, status, feedback), so a
    changed policy applies at the next export.
    """
    value = course.config.get("LatePolicy", {}).get("penalty", 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise UserError(
            f"{CONFIG_FILE}: LatePolicy.penalty must be a number from 0 to 1 "
            f"(0.1 takes 10% off a late submission's score), got {value!r}"
        )
    return float(value)


def penalised(score: float, late: bool, penalty: float) -> float:
    """The score in force after the late policy: ``score`` less ``penalty`` of it when late."""
    return round(score * (1 - penalty), 6) if late else score


def grade_rows(course: Course) -> list[dict]:
    """One row per student and assignment in the gradebook.

    ``status`` is ``missing`` where the student has no submission (score 0 in
    CSV, blank in Canvas); a pending resubmission carries the grade in force.
    ``score`` is after the late policy (:func:`late_penalty`), and
    ``late_penalty`` the points it took off.
    """
    penalty = late_penalty(course)
    rows = []
    with course.gradebook() as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            for student in sorted(gb.students, key=lambda s: s.id):
                row = {
                    "student_id": student.id,
                    "name": "",
                    "assignment": assignment.name,
                    "score": 0.0,
                    "max_score": float(assignment.max_score),
                    "status": "missing",
                    "late": False,
                    "late_penalty": 0.0,
                }
                try:
                    submission = gb.find_submission(assignment.name, student.id)
                except Exception:
                    rows.append(row)
                    continue
                row["score"] = float(submission.score)
                if course.path("submitted", student.id, assignment.name).is_dir():
                    row["status"], result = submission_state(course, student.id, assignment.name)
                    if result:
                        row["name"], row["late"] = result.get("name", ""), bool(result.get("late"))
                else:
                    row["status"] = "graded"  # graded by nbgrader itself
                final = penalised(row["score"], row["late"], penalty)
                row["score"], row["late_penalty"] = final, round(row["score"] - final, 6)
                rows.append(row)
    return rows


def _csv(rows: list[dict]) -> tuple[str, int]:
    out = io.StringIO()
    fields = ["student_id", "name", "assignment", "score", "max_score", "status", "late", "late_penalty"]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                **row,
                "score": f"{row['score']:g}",
                "max_score": f"{row['max_score']:g}",
                "late": "yes" if row["late"] else "",
                "late_penalty": f"{row['late_penalty']:g}" if row["late_penalty"] else "",
            }
        )
    return out.getvalue(), len(rows)


def _canvas(rows: list[dict]) -> tuple[str, int]:
    """Canvas's gradebook import layout: a column per assignment graded here, a 'Points Possible' row.

    Only assignments with at least one submission graded here get a column, and
    a student without a submission gets a blank cell, never 0: importing the
    file leaves every other grade in Canvas as it was.
    """
    graded = sorted({r["assignment"] for r in rows if r["status"] != "missing"})
    max_scores = {r["assignment"]: r["max_score"] for r in rows}
    students: dict[str, dict] = {}
    for row in rows:
        entry = students.setdefault(row["student_id"], {"name": row["name"], "scores": {}})
        entry["name"] = entry["name"] or row["name"]
        if row["status"] != "missing":
            entry["scores"][row["assignment"]] = row["score"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *graded])
    writer.writerow(["Points Possible", "", "", "", "", *(f"{max_scores[a]:g}" for a in graded)])
    for student_id, entry in sorted(students.items()):
        scores = entry["scores"]
        cells = [f"{scores[a]:g}" if a in scores else "" for a in graded]
        writer.writerow([entry["name"] or student_id, student_id, "", "", "", *cells])
    return out.getvalue(), len(students)


def export(course: Course, output: Path, fmt: str = "csv") -> tuple[int, int]:
    """Write the grades to ``output`` atomically; return (students, grade rows written)."""
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
    text, written = _csv(rows) if fmt == "csv" else _canvas(rows)
    try:
        fd, tmp = tempfile.mkstemp(dir=output.parent.resolve(), prefix=f".{output.name}.")
    except OSError as error:
        raise UserError(
            f"cannot write {output}: {error.strerror or error}; choose another --output"
        ) from None
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a grades file is not
        os.replace(tmp, output)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(
            f"cannot write {output}: {error.strerror or error}; choose another --output"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len({r["student_id"] for r in rows}), written


def status_rows(course: Course, assignments: list[str]) -> list[dict]:
    """graded / failed / pending for every submission in ``submitted/``, with the full reasons.

    The score is the one in force, after the late policy (:func:`late_penalty`).
    """
    penalty = late_penalty(course)
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
            if result and result.get("late"):
                row["state"] += " (late)"
            if result is None:
                rows.append({**row, "score": "", "reasons": ["submitted, not graded yet"]})
                continue
            final = penalised(result["score"], bool(result.get("late")), penalty)
            score = f"{final:g}/{result['max_score']:g}"
            reasons = list(result["reasons"])
            if final != result["score"]:
                reasons.insert(0, f"late: {penalty:.0%} taken off ({result['score']:g} -> {final:g})")
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
