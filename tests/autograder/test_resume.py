"""Batches survive a crash: SIGKILL the grader mid-batch, run it again, lose nothing.

Also: unchanged submissions are skipped (``--force`` regrades them), a
resubmission keeps its previous grade in force until it is regraded, and
``status`` and ``export`` agree on every student.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import LIMITS, run_cli
from toycourse import ASSIGNMENT, NOTEBOOK, SOLUTION, copy_of, submission

STUDENTS = {f"s{i:02d}": (SOLUTION if i % 2 == 0 else None) for i in range(8)}


def _class(course, folder: Path) -> Path:
    for student, body in STUDENTS.items():
        submission(course, student, body, folder)
    return folder


def _grade_cmd(course, folder: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "autograder",
        "--root",
        str(course.root),
        "grade",
        ASSIGNMENT,
        str(folder),
        "--workers",
        "1",
        "--no-progress",
        *LIMITS,
        *extra,
    ]


def _state(course) -> dict[str, tuple]:
    """Per student: (score in grading.json, score in the gradebook, status) — and nothing half-written."""
    autograded = course.root / "autograded"
    leftovers = [p for p in autograded.rglob(".*") if p.name.endswith((".partial", ".old"))]
    leftovers += [p for p in (course.root / "submitted").rglob(".*") if p.name.endswith((".partial", ".old"))]
    assert leftovers == [], leftovers
    state = {}
    with course.gradebook() as gb:
        assert len(gb.find_assignment(ASSIGNMENT).submissions) == len(STUDENTS)
        for student in STUDENTS:
            result = course.read_result(student, ASSIGNMENT)
            db = float(gb.find_submission(ASSIGNMENT, student).score)
            state[student] = (result["score"], db, result["status"])
    return state


@pytest.mark.slow
@pytest.mark.sandbox
def test_sigkill_mid_batch_then_resume(released_course, tmp_path):
    course = copy_of(released_course, tmp_path / "course")
    folder = _class(course, tmp_path / "subs")
    proc = subprocess.Popen(
        _grade_cmd(course, folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    graded_before_kill = []
    for line in proc.stderr:
        if line[:3] in STUDENTS and ": " in line:
            graded_before_kill.append(line.split(":")[0])
            if len(graded_before_kill) == 3:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the batch finished before it could be killed"
    # What was recorded before the kill is complete; the rest has no result yet.
    recorded = sorted(s for s in STUDENTS if course.read_result(s, ASSIGNMENT))
    assert set(graded_before_kill) <= set(recorded) and len(recorded) < len(STUDENTS)

    resumed = subprocess.run(_grade_cmd(course, folder), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"skipped {len(recorded)} submission(s) already graded" in resumed.stderr
    assert f"{len(STUDENTS) - len(recorded)} graded now, {len(recorded)} unchanged" in resumed.stdout
    state = _state(course)
    assert state == {
        s: ((3.0, 3.0, "graded") if body else (0.0, 0.0, "graded")) for s, body in STUDENTS.items()
    }

    # A third run has nothing left to do; --force regrades everyone to the same result.
    again = subprocess.run(_grade_cmd(course, folder), capture_output=True, text=True, timeout=300)
    assert f"0 graded now, {len(STUDENTS)} unchanged" in again.stdout
    forced = subprocess.run(
        _grade_cmd(course, folder, "--force"), capture_output=True, text=True, timeout=300
    )
    assert f"{len(STUDENTS)} graded now, 0 unchanged" in forced.stdout
    assert _state(course) == state
    deadline = time.monotonic() + 30  # nothing of the killed batch keeps running
    while time.monotonic() < deadline and _stray_processes(course):
        time.sleep(0.5)
    assert _stray_processes(course) == []


def _stray_processes(course) -> list[str]:
    """Command lines of autograder processes still working for this course."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if "autograder" in cmdline and str(course.root).encode() in environ + cmdline.encode():
            found.append(cmdline)
    return found


@pytest.mark.slow
@pytest.mark.sandbox
def test_resubmission_keeps_the_previous_grade_until_regraded(released_course, tmp_path):
    course = copy_of(released_course, tmp_path / "course")
    first = tmp_path / "first"
    submission(course, "ann", SOLUTION, first)
    assert run_cli("--root", course.root, "grade", ASSIGNMENT, first, "--no-progress", *LIMITS)[0] == 0

    # A new version arrives in submitted/ (as a crashed regrade leaves it): pending, old grade in force.
    second = tmp_path / "second"
    submission(course, "ann", None, second)
    stored = course.root / "submitted" / "ann" / ASSIGNMENT / NOTEBOOK
    stored.write_bytes((second / "ann" / ASSIGNMENT / NOTEBOOK).read_bytes())
    code, out, _ = run_cli("--root", course.root, "status", ASSIGNMENT, "--json")
    [row] = json.loads(out)
    assert (row["state"], row["score"]) == ("pending", "3/3")
    assert "previous grade (3/3) stays until it is regraded" in row["reasons"][0]
    grades = tmp_path / "grades.csv"
    run_cli("--root", course.root, "export", "--output", grades)
    with grades.open() as f:
        [exported] = list(csv.DictReader(f))
    assert (exported["status"], exported["score"]) == ("pending", "3")

    assert run_cli("--root", course.root, "grade", ASSIGNMENT, second, "--no-progress", *LIMITS)[0] == 0
    [row] = json.loads(run_cli("--root", course.root, "status", ASSIGNMENT, "--json")[1])
    assert (row["state"], row["score"]) == ("graded", "0/3")


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_new_release_makes_results_stale(released_course, tmp_path):
    course = copy_of(released_course, tmp_path / "course")
    subs = tmp_path / "subs"
    submission(course, "ann", SOLUTION, subs)
    assert run_cli("--root", course.root, "grade", ASSIGNMENT, subs, "--no-progress", *LIMITS)[0] == 0
    # Other limits (or another release, or another sandbox) grade afresh.
    code, out, _ = run_cli(
        "--root",
        course.root,
        "grade",
        ASSIGNMENT,
        subs,
        "--no-progress",
        "--timeout",
        "61",
        "--cell-timeout",
        "10",
    )
    assert code == 0 and "1 graded now, 0 unchanged" in out


def test_status_shortens_long_reasons(released_course, tmp_path):
    course = copy_of(released_course, tmp_path / "course")
    folder = course.root / "autograded" / "zed" / ASSIGNMENT
    folder.mkdir(parents=True)
    (course.root / "submitted" / "zed" / ASSIGNMENT).mkdir(parents=True)
    reasons = [f"{NOTEBOOK}: locked cell 'cell_{i}' was deleted; it was restored" * 3 for i in range(40)]
    result = {
        "student_id": "zed",
        "assignment": ASSIGNMENT,
        "status": "failed",
        "score": 0.0,
        "max_score": 3.0,
        "reasons": reasons,
        "tests": [],
    }
    (folder / "grading.json").write_text(json.dumps(result))
    code, out, _ = run_cli("--root", course.root, "status")
    assert code == 0
    row = out.splitlines()[2]
    assert len(row) < 120 and row.endswith("(+39 more)")
    assert "status --json" in out.splitlines()[-1]
    [full] = json.loads(run_cli("--root", course.root, "status", "--json")[1])
    assert full["reasons"] == reasons
