"""``autograder feedback``: one HTML page per student and assignment.

The page lists every autograded test with its points, whether it passed, and
the error message (``ename: evalue``). It never shows the code of test cells,
so hidden tests stay hidden (nbgrader's own feedback renders the whole graded
notebook, hidden tests included). Everything from the submission is escaped.
"""

from __future__ import annotations

import html
from pathlib import Path

from .course import Course, UserError

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; vertical-align: top; }}
.passed {{ color: #17692f; }} .failed, .not-run {{ color: #a4161a; }}
.note {{ background: #fff4e5; padding: .6rem 1rem; border-left: 4px solid #f0a202; }}
code {{ white-space: pre-wrap; }}
</style></head><body>
<h1>{title}</h1>
<p><strong>Score: {score:g} / {max_score:g}</strong> &middot; graded {graded_at}</p>
{notes}
<table>
<thead><tr><th>Test</th><th>Points</th><th>Result</th><th>Message</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def render(result: dict) -> str:
    esc = html.escape
    rows = "\n".join(
        f"<tr><td><code>{esc(t['grade_id'])}</code></td>"
        f"<td>{t['score']:g} / {t['max_score']:g}</td>"
        f'<td class="{t["status"].replace(" ", "-")}">{esc(t["status"])}</td>'
        f"<td><code>{esc(t['message'])}</code></td></tr>"
        for t in result["tests"]
    )
    notes = "".join(f'<p class="note">{esc(r)}</p>' for r in result["reasons"])
    return PAGE.format(
        title=esc(f"{result['assignment']}: feedback for {result['student_id']}"),
        score=result["score"],
        max_score=result["max_score"],
        graded_at=esc(result["graded_at"]),
        notes=notes,
        rows=rows or '<tr><td colspan="4">No test ran.</td></tr>',
    )


def write_feedback(course: Course, assignment_id: str) -> list[Path]:
    """Write ``feedback/<student>/<assignment>/feedback.html`` for every graded student."""
    course.check_assignment(assignment_id)
    graded = course.root / course.coursedir.autograded_directory
    written = []
    for student_dir in sorted(graded.iterdir() if graded.is_dir() else []):
        result = course.read_result(student_dir.name, assignment_id)
        if result is None:
            continue
        target = course.path("feedback", student_dir.name, assignment_id) / "feedback.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(result))
        written.append(target)
    if not written:
        raise UserError(f"no graded submissions of {assignment_id}: run `autograder grade` first")
    return written
