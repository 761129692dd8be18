"""Feedback pages: every test with points and status, no hidden test code, escaped output."""

from __future__ import annotations

import json
import re

import pytest
from toycourse import ASSIGNMENT, HIDDEN, NOTEBOOK, SOLUTION, copy_of, grade_quietly, submission

from autograder.course import UserError
from autograder.feedback import content, render, write_feedback

SCRIPT = "<script>alert(1)</script>"
BODIES = {
    "alice": SOLUTION,
    "bob": None,  # the release stub: raise NotImplementedError()
    "mallory": f'def add(a, b):\n    raise ValueError("{SCRIPT}")',
    "nohidden": "def add(a, b):\n    return a + b if a > -5 else 0",  # fails only the hidden line
}
ROW = re.compile(
    r"<tr><td>(?P<description>[^<]*)<br><small><code>(?P<test>[^<]*)</code></small></td><td>(?P<points>[^<]*)</td>"
    r'<td class="(?P<cls>[^"]*)">(?P<status>[^<]*)</td><td><code>(?P<message>[^<]*)</code></td></tr>'
)


@pytest.fixture(scope="module")
def pages(released_course, tmp_path_factory, sandbox, limits) -> dict[str, str]:
    """Student id -> feedback HTML, after one grading run."""
    tmp = tmp_path_factory.mktemp("feedback")
    course = copy_of(released_course, tmp / "course")
    subs = tmp / "subs"
    for student, body in BODIES.items():
        submission(course, student, body, subs)
    (subs / "carol" / ASSIGNMENT).mkdir(parents=True)
    grade_quietly(course, subs, sandbox, limits)
    paths = write_feedback(course, ASSIGNMENT)
    assert paths == [
        course.path("feedback", s, ASSIGNMENT) / "feedback.html" for s in sorted([*BODIES, "carol"])
    ]
    for path in paths:
        assert json.loads(path.with_suffix(".json").read_text())["assignment"] == ASSIGNMENT
    return {p.parent.parent.name: p.read_text() for p in paths}


def _rows(page: str) -> list[tuple[str, str, str, str]]:
    return [(m["test"], m["points"], m["status"], m["message"]) for m in ROW.finditer(page)]


@pytest.mark.slow
def test_full_marks_page(pages):
    page = pages["alice"]
    assert "Score: 3 / 3</strong> &middot; 2 of 2 tests passed" in page
    assert _rows(page) == [("add_visible", "1 / 1", "passed", ""), ("add_hidden", "2 / 2", "passed", "")]
    assert 'class="note"' not in page
    descriptions = [m["description"] for m in ROW.finditer(page)]
    assert descriptions == ["add returns an int for ints.", "add works on negative numbers (hidden)."]
    assert "<h2>Tests: 3 / 3</h2>" in page  # the toy notebook has no "Part ... (N points)" headings


@pytest.mark.slow
def test_each_test_has_points_and_status(pages):
    assert _rows(pages["bob"]) == [
        (
            "add_visible",
            "0 / 1",
            "failed",
            "your code raised NotImplementedError at: check_equal(add(1, 2), 3)",
        ),
        (
            "add_hidden",
            "0 / 2",
            "failed",
            "your code raised NotImplementedError at: check_equal(add(-1, 1), 0)",
        ),
    ]
    visible, hidden = _rows(pages["nohidden"])
    assert visible == ("add_visible", "1 / 1", "passed", "")
    # a failure in the hidden part says so, and nothing of the check's message (inputs, values)
    assert hidden == ("add_hidden", "0 / 2", "failed", "a hidden test failed (AssertionError)")
    assert "Score: 1 / 3" in pages["nohidden"]


@pytest.mark.slow
def test_missing_notebook_page_says_why(pages):
    page = pages["carol"]
    assert f'<p class="note">missing notebook {NOTEBOOK}</p>' in page
    assert "No test ran." in page and _rows(page) == []


@pytest.mark.slow
@pytest.mark.parametrize("student", [*BODIES, "carol"])
def test_no_hidden_test_code(pages, student):
    page = pages[student]
    assert "check_equal(add(-5, -5), -10)" not in page
    assert "BEGIN HIDDEN TESTS" not in page
    assert "add(-5" not in page
    hidden = HIDDEN.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
    for line in hidden.strip().splitlines():  # visible test lines may be quoted; hidden ones never
        assert line not in page


@pytest.mark.slow
def test_student_output_is_escaped(pages):
    page = pages["mallory"]
    # what student code raised is named by its type only: its message never reaches feedback
    message = "your code raised ValueError at: check_equal(add(1, 2), 3)"
    assert ("add_visible", "0 / 1", "failed", message) in _rows(page)
    assert "<script" not in page and "alert(1)" not in page


def test_render_escapes_every_field():
    page = render(
        {
            "student_id": "a<b",
            "assignment": "x&y",
            "score": 0.5,
            "max_score": 2,
            "graded_at": "<now>",
            "reasons": ['toy.ipynb: cell 3 ("<i>") ran too long'],
            "tests": [
                {"grade_id": "<id>", "score": 0, "max_score": 1, "status": "not run", "message": "a > b & c"}
            ],
        }
    )
    assert "<title>x&amp;y: feedback for a&lt;b</title>" in page
    assert "Score: 0.5 / 2" in page and "graded &lt;now&gt;" in page
    assert '<meta name="viewport"' in page
    assert '<p class="note">toy.ipynb: cell 3 (&quot;&lt;i&gt;&quot;) ran too long</p>' in page
    assert _rows(page) == [("&lt;id&gt;", "0 / 1", "not run", "a &gt; b &amp; c")]
    assert 'class="not-run"' in page


def test_parts_get_subtotals_and_long_reason_lists_a_summary():
    def test(grade_id, part, score, max_score):
        status = "passed" if score == max_score else "failed"
        return {
            "grade_id": grade_id,
            "part": part,
            "description": f"{grade_id} works",
            "score": score,
            "max_score": max_score,
            "status": status,
            "message": "",
        }

    result = {
        "student_id": "ann",
        "assignment": "a",
        "score": 5,
        "max_score": 9,
        "graded_at": "now",
        "reasons": [f"locked cell 'c{i}' was edited; it was restored" for i in range(50)],
        "tests": [
            test("a1", "Part A — Scores (6 points)", 4, 4),
            test("a2", "Part A — Scores (6 points)", 0, 2),
            test("b1", "Part B — Batch (3 points)", 1, 3),
        ],
    }
    page = content(result)
    assert [(p["title"], p["score"], p["max_score"]) for p in page["parts"]] == [
        ("Part A — Scores (6 points)", 4, 6),
        ("Part B — Batch (3 points)", 1, 3),
    ]
    assert page["summary"] == "1 of 3 tests passed"
    assert page["notes"][:3] == result["reasons"][:3] and page["notes"][3] == "... and 47 more like these"
    assert len(page["notes"]) == 4
    html_page = render(result)
    assert "<h2>Part A — Scores (6 points): 4 / 6</h2>" in html_page and html_page.count('class="note"') == 4


def test_feedback_before_grading_is_an_error(course):
    with pytest.raises(
        UserError, match=f"no graded submissions of {ASSIGNMENT}: run `autograder grade` first"
    ):
        write_feedback(course, ASSIGNMENT)
    with pytest.raises(UserError, match="unknown assignment 'nope'"):
        write_feedback(course, "nope")
