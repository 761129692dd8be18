"""``autograder feedback``: one page per student and assignment, as HTML and as JSON.

The page opens with a summary line, then the points per part (from the
notebook's "Part A ... (9 points)" headings) and, under each part, every
autograded test with its one-line description (the first line of the test
cell's docstring, as the student's notebook shows it), its points, whether it
passed, and what failed. It never shows hidden test code, inputs or values,
and never text from the student's own code (see ``docs/THREAT_MODEL.md``).
``feedback.json`` holds the same content for an LMS. Everything is escaped.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from .course import Course, UserError
from .reports import late_penalty, penalised

#: Reasons shown in full before the rest are summarised.
SHOWN_REASONS = 3

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 56rem; margin: 1rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; vertical-align: top; }}
.passed {{ color: #17692f; }} .failed, .not-run {{ color: #a4161a; }}
.note {{ background: #fff4e5; padding: .6rem 1rem; border-left: 4px solid #f0a202; }}
.summary {{ font-size: 1.15rem; }}
code {{ white-space: pre-wrap; word-break: break-word; }}
@media (max-width: 40rem) {{
  thead {{ display: none; }}
  tr, td {{ display: block; border: none; padding: .15rem 0; }}
  tr {{ border-bottom: 1px solid #ddd; padding: .5rem 0; }}
}}
</style></head><body>
<h1>{title}</h1>
<p class="summary"><strong>Score: {score:g} / {max_score:g}</strong> &middot; {summary} &middot; graded {graded_at}</p>
{notes}
{parts}
</body></html>
"""


def summarise(reasons: list[str], shown: int = SHOWN_REASONS) -> list[str]:
    """The first ``shown`` reasons, then one line counting the rest."""
    if len(reasons) <= shown + 1:
        return list(reasons)
    return [*reasons[:shown], f"... and {len(reasons) - shown} more like these"]


def content(result: dict, late_penalty: float = 0.0) -> dict:
    """What a student may see of a result, grouped by part: the schema of ``feedback.json``.

    ``score`` is the score in force: for a late submission, less
    ``late_penalty`` of it (the course's ``LatePolicy.penalty``), which a note
    explains; ``raw_score`` is the tests' total either way.
    """
    parts: dict[str, dict] = {}
    for test in result["tests"]:
        part = parts.setdefault(test.get("part") or "Tests", {"score": 0.0, "max_score": 0.0, "tests": []})
        part["score"] += test["score"]
        part["max_score"] += test["max_score"]
        part["tests"].append(
            {
                "description": test.get("description") or test["grade_id"],
                "grade_id": test["grade_id"],
                "score": test["score"],
                "max_score": test["max_score"],
                "status": test["status"],
                "message": test["message"],
            }
        )
    passed = sum(t["status"] == "passed" for t in result["tests"])
    late = bool(result.get("late"))
    score = penalised(result["score"], late, late_penalty)
    notes = summarise(result["reasons"])
    if late:
        taken = f": {late_penalty:.0%} of the score is taken off ({result['score']:g} -> {score:g})"
        notes.insert(0, "Submitted late" + (taken if score != result["score"] else "."))
    return {
        "student_id": result["student_id"],
        "assignment": result["assignment"],
        "score": score,
        "raw_score": result["score"],
        "late": late,
        "max_score": result["max_score"],
        "summary": f"{passed} of {len(result['tests'])} tests passed",
        "graded_at": result["graded_at"],
        "notes": notes,
        "parts": [{"title": title, **part} for title, part in parts.items()],
    }


def render(result: dict, late_penalty: float = 0.0) -> str:
    esc = html.escape
    page = content(result, late_penalty)
    sections = []
    for part in page["parts"]:
        rows = "\n".join(
            f"<tr><td>{esc(t['description'])}<br><small><code>{esc(t['grade_id'])}</code></small></td>"
            f"<td>{t['score']:g} / {t['max_score']:g}</td>"
            f'<td class="{t["status"].replace(" ", "-")}">{esc(t["status"])}</td>'
            f"<td><code>{esc(t['message'])}</code></td></tr>"
            for t in part["tests"]
        )
        sections.append(
            f"<h2>{esc(part['title'])}: {part['score']:g} / {part['max_score']:g}</h2>\n<table>\n"
            "<thead><tr><th>Test</th><th>Points</th><th>Result</th><th>What failed</th></tr></thead>\n"
            f"<tbody>\n{rows}\n</tbody></table>"
        )
    return PAGE.format(
        title=esc(f"{page['assignment']}: feedback for {page['student_id']}"),
        score=page["score"],
        max_score=page["max_score"],
        summary=esc(page["summary"]),
        graded_at=esc(page["graded_at"]),
        notes="".join(f'<p class="note">{esc(r)}</p>' for r in page["notes"]),
        parts="\n".join(sections) or "<p>No test ran.</p>",
    )


def write_feedback(course: Course, assignment_id: str) -> list[Path]:
    """Write ``feedback/<student>/<assignment>/feedback.html`` and ``feedback.json`` for every graded student."""
    course.check_assignment(assignment_id)
    graded = course.root / course.coursedir.autograded_directory
    penalty = late_penalty(course)
    written = []
    for student_dir in sorted(graded.iterdir() if graded.is_dir() else []):
        result = course.read_result(student_dir.name, assignment_id)
        if result is None:
            continue
        target = course.path("feedback", student_dir.name, assignment_id) / "feedback.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(result, penalty))
        target.with_suffix(".json").write_text(json.dumps(content(result, penalty), indent=1))
        written.append(target)
    if not written:
        raise UserError(f"no graded submissions of {assignment_id}: run `autograder grade` first")
    return written
