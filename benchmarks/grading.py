"""Grading speed: `autograder grade` against plain `nbgrader autograde`, same run.

Grades N full-marks submissions of an assignment (default 00) with both tools, each in a
fresh copy of the course, alternating the two for R rounds, and prints each
time, the medians and the ratio (nbgrader / autograder). Both must give every
submission full marks, or the run fails. The sandbox is on (bubblewrap when
installed; the autograder prints which).

Goal (issue 2): at least 1.8x faster than plain nbgrader on 2 cores.

Usage: python benchmarks/grading.py [--assignment 00_platform_map] [--submissions 40] [--rounds 3] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "samples"))
from build_class import fill, sample_modules  # noqa: E402

from autograder.course import Course  # noqa: E402
from autograder.release import generate  # noqa: E402

DEFAULT_ASSIGNMENT = "00_platform_map"
BIN = Path(sys.executable).parent
# One BLAS thread for both tools, as the sandbox uses: without it plain nbgrader's kernels
# oversubscribe the cores and the comparison flatters the autograder.
ENV = {
    **os.environ,
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def fresh_course(tmp: Path, assignment: str) -> Course:
    tmp.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", tmp)
    shutil.copytree(ROOT / "source" / assignment, tmp / "source" / assignment)
    course = Course(tmp)
    generate(course, assignment)
    return course


def write_class(course: Course, folder: Path, n: int, assignment: str) -> None:
    notebook = sample_modules()[assignment].NOTEBOOK
    source = nbformat.read(course.path("source", ".", assignment) / notebook, as_version=4)
    release = nbformat.read(course.path("release", ".", assignment) / notebook, as_version=4)
    text = nbformat.writes(fill(release, source))
    for i in range(n):
        target = folder / f"student{i:03d}" / assignment / notebook
        target.parent.mkdir(parents=True)
        target.write_text(text)


def full_marks(course: Course, n: int, assignment: str) -> bool:
    with course.gradebook() as gb:
        subs = gb.find_assignment(assignment).submissions
        return len(subs) == n and all(s.score == s.max_score > 0 for s in subs)


def run(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return seconds


def time_autograder(tmp: Path, n: int, workers: int | None, assignment: str) -> float:
    course = fresh_course(tmp / "course", assignment)
    write_class(course, tmp / "class", n, assignment)
    argv = [str(BIN / "autograder"), "grade", assignment, str(tmp / "class"), "--no-progress"]
    seconds = run(argv + (["--workers", str(workers)] if workers else []), course.root)
    assert full_marks(course, n, assignment), "autograder did not give every submission full marks"
    return seconds


def time_nbgrader(tmp: Path, n: int, assignment: str) -> float:
    course = fresh_course(tmp / "course", assignment)
    write_class(course, course.root / "submitted", n, assignment)
    seconds = run([str(BIN / "nbgrader"), "autograde", assignment], course.root)
    assert full_marks(course, n, assignment), "nbgrader did not give every submission full marks"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="default: CPU count")
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT)
    args = parser.parse_args()
    ours, theirs = [], []
    print(f"grading {args.submissions} full-marks submissions of {args.assignment}, {os.cpu_count()} CPUs")
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as tmp:
            theirs.append(time_nbgrader(Path(tmp) / "nbgrader", args.submissions, args.assignment))
            ours.append(
                time_autograder(Path(tmp) / "autograder", args.submissions, args.workers, args.assignment)
            )
        print(
            f"round {round_}: nbgrader autograde {theirs[-1]:.1f} s, autograder grade {ours[-1]:.1f} s, "
            f"ratio {theirs[-1] / ours[-1]:.2f}x"
        )
    ratio = statistics.median(t / o for t, o in zip(theirs, ours, strict=True))
    print(
        f"median: nbgrader autograde {statistics.median(theirs):.1f} s, "
        f"autograder grade {statistics.median(ours):.1f} s, "
        f"median ratio {ratio:.2f}x (goal >= 1.8x)"
    )


if __name__ == "__main__":
    main()
