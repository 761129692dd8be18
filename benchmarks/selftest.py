"""Mutation testing: every mutant of every assignment, and what leaving out demo cells saves.

For each assignment, runs ``autograder selftest`` on the full set of mutants and
prints its table, the time and the seconds per mutant. Fails (exit 1) when an
exercise is below the course's threshold (``Selftest.threshold``), so ``make
bench`` is the full gate that CI samples.

Baseline, same run, same sample: the naive way to grade mutants, as
``autograder grade`` on submissions of the unchanged release (demo cells and
all) in a scratch course. Selftest leaves demo cells out; the ratio of the two
times per mutant shows what that saves (it matters for 01, whose demos train
models and run the labeling job).

Usage: python benchmarks/selftest.py [ASSIGNMENT...] [--baseline-mutants 6] [--workers 2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "samples"))
from build_class import fill  # noqa: E402

from autograder.course import Course  # noqa: E402
from autograder.executor import LocalProcessExecutor  # noqa: E402
from autograder.grading import grade  # noqa: E402
from autograder.release import generate  # noqa: E402
from autograder.sandbox import Limits, detect  # noqa: E402
from autograder.selftest import generate_mutants, sample, selftest  # noqa: E402

LIMITS = Limits(cell_timeout=60, notebook_timeout=300)


def naive_seconds_per_mutant(course: Course, assignment: str, n: int, workers: int) -> float:
    """Grade ``n`` sampled mutants as plain submissions of the full release; seconds per mutant."""
    mutants = sample(generate_mutants(course, assignment), n, 0)
    with tempfile.TemporaryDirectory(prefix="bench-selftest-") as tmp:
        root = Path(tmp) / "course"
        root.mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", root)
        shutil.copytree(ROOT / "source" / assignment, root / "source" / assignment)
        scratch = Course(root, db_url=f"sqlite:///{root / 'gradebook.db'}")
        generate(scratch, assignment)
        folder = Path(tmp) / "class"
        for i, mutant in enumerate(mutants):
            source = nbformat.read(root / "source" / assignment / mutant.notebook, as_version=4)
            release = nbformat.read(root / "release" / assignment / mutant.notebook, as_version=4)
            out = folder / f"m{i:04d}" / assignment
            out.mkdir(parents=True)
            nbformat.write(fill(release, source, {mutant.grade_id: mutant.source}), out / mutant.notebook)
        started = time.monotonic()
        grade(
            scratch,
            assignment,
            folder,
            executor=LocalProcessExecutor(workers),
            sandbox=detect(),
            limits=LIMITS,
            progress=False,
            echo=lambda line: None,
        )
        return (time.monotonic() - started) / len(mutants)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    parser.add_argument("--baseline-mutants", type=int, default=6, help="mutants in the naive baseline")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    course = Course(ROOT)
    failed = False
    for assignment in args.assignments or course.assignments():
        report = selftest(
            course,
            assignment,
            sandbox=detect(),
            limits=LIMITS,
            executor=LocalProcessExecutor(args.workers),
        )
        print(report.summary())
        print(report.details())
        per_mutant = report.seconds / max(report.graded, 1)
        naive = naive_seconds_per_mutant(course, assignment, args.baseline_mutants, args.workers)
        print(
            f"{assignment}: {report.seconds:.0f} s for {report.graded} mutants, {per_mutant:.2f} s per mutant; "
            f"naive grading of the full release {naive:.2f} s per mutant ({naive / per_mutant:.1f}x)\n"
        )
        failed = failed or bool(report.below())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
