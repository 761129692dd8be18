"""Grading speed: `autograder grade` against plain `nbgrader autograde`, same run.

Grades N full-marks submissions of an assignment (default 00) with both tools, each in a
fresh copy of the course, alternating the two for R rounds, and prints each
time, the medians and the ratio (nbgrader / autograder). Both must give every
submission full marks, or the run fails. The sandbox is on (bubblewrap when
installed; the autograder prints which).

Goal (issue 2): at least 1.8x faster than plain nbgrader on 2 cores.

With ``--load`` it measures a large batch instead (issue 13): it grades N copies
of a full-marks submission (default 60; ``--submissions 500`` for the issue's
figure) with the local executor and with Dask on a local cluster of the same
number of workers, alternating them for R rounds (default 1), and prints for
each the throughput (submissions per minute, overall and between the first and
last result), the peak RSS of the grading process (the parent: it writes the
gradebook) and how much it grew per submission after the first fifth of the
batch (flat memory: about 0), every failure with its reason, and the ratio
Dask / local. Before that it splits one submission's time on the trusted
side into fixed overhead (sandbox and Python start, agent, kernel handshake),
the notebook's imports, and its other cells, medians of 5 runs: the baseline
for pre-warmed sandboxes.

Usage: python benchmarks/grading.py [--assignment 00_platform_map] [--submissions 40] [--rounds 3] [--workers N]
       python benchmarks/grading.py --load [--submissions 500] [--rounds 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "samples"))
from build_class import fill, sample_modules  # noqa: E402

from autograder.course import Course  # noqa: E402
from autograder.grading import Released, prepare  # noqa: E402
from autograder.release import generate  # noqa: E402
from autograder.sandbox import Limits, TestServer, detect  # noqa: E402
from autograder.submissions import collect  # noqa: E402

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


def notebook_imports(cells: list[dict]) -> str:
    """The top-level import statements of a plan's student cells, as one cell."""
    lines = []
    for cell in cells:
        if cell["kind"] == "student":
            try:
                tree = ast.parse(cell["source"])
            except SyntaxError:
                continue
            lines += [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    return "\n".join(dict.fromkeys(lines))


def overhead(tmp: Path, assignment: str, repeats: int = 5) -> dict[str, float]:
    """Median seconds of one submission on the trusted side: fixed, imports, other cells."""
    course = fresh_course(tmp / "course", assignment)
    write_class(course, tmp / "class", 1, assignment)
    released = Released.load(course, assignment)
    (submission,) = collect(tmp / "class", assignment, course.notebooks(assignment), tmp / "scratch")
    job = prepare(course, assignment, submission, released).job
    first = {name: cells[0]["index"] for name, cells in job.notebooks.items()}

    def one_cell(source: str) -> dict:
        return {
            "notebooks": {n: [{"index": i, "kind": "student", "source": source}] for n, i in first.items()}
        }

    jobs = {
        "fixed": one_cell("pass"),
        "imports": one_cell("\n".join(notebook_imports(cells) for cells in job.notebooks.values())),
        "full": {"notebooks": job.notebooks},
    }
    seconds: dict[str, list[float]] = {kind: [] for kind in jobs}
    with TestServer(detect(), released.trusted, released.files, Limits()) as server:
        server.run(jobs["full"])  # warm the page cache
        for _ in range(repeats):
            for kind, one in jobs.items():
                run = server.run(one)
                assert not (run.killed or run.crashed), f"{kind} run did not finish"
                seconds[kind].append(run.seconds)

    def paired(more: str, less: str) -> float:  # runs alternate, so a difference is taken within a round
        return statistics.median(a - b for a, b in zip(seconds[more], seconds[less], strict=True))

    return {
        "fixed": statistics.median(seconds["fixed"]),
        "imports": paired("imports", "fixed"),
        "cells": paired("full", "imports"),
        "total": statistics.median(seconds["full"]),
    }


@dataclass
class Batch:
    """One graded batch as seen from outside the grading process."""

    seconds: float = 0.0
    first_result: float = 0.0
    last_result: float = 0.0
    peak_rss: int = 0
    rss_at: list[tuple[int, int]] = field(default_factory=list)  # (results so far, parent RSS then)
    summary: list[str] = field(default_factory=list)  # the CLI's closing lines

    def per_minute(self, n: int) -> float:
        return 60 * n / self.seconds

    def steady_per_minute(self, n: int) -> float:
        return 60 * (n - 1) / (self.last_result - self.first_result) if n > 1 else float("nan")

    def growth_per_submission(self) -> float:
        """Bytes the parent grew per submission after the first fifth of the batch (least squares)."""
        tail = self.rss_at[len(self.rss_at) // 5 :]
        if len(tail) < 3:
            return float("nan")
        return statistics.linear_regression([d for d, _ in tail], [r for _, r in tail]).slope


RESULT_LINE = re.compile(r"^student\d+: ")


def grade_batch(tmp: Path, n: int, workers: int, executor: str, assignment: str) -> Batch:
    course = fresh_course(tmp / "course", assignment)
    write_class(course, tmp / "class", n, assignment)
    argv = [str(BIN / "autograder"), "grade", assignment, str(tmp / "class"), "--no-progress"]
    argv += ["--workers", str(workers), "--executor", executor]
    batch, done = Batch(), threading.Event()
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=course.root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    parent = psutil.Process(proc.pid)

    def rss() -> int:
        try:
            return parent.memory_info().rss
        except psutil.Error:
            return 0

    def sample() -> None:
        while not done.wait(0.05):
            batch.peak_rss = max(batch.peak_rss, rss())

    sampler = threading.Thread(target=sample)
    sampler.start()
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout))
    reader.start()
    errors = []
    for line in proc.stderr:
        if RESULT_LINE.match(line):
            now = time.perf_counter() - started
            batch.first_result = batch.first_result or now
            batch.last_result = now
            batch.rss_at.append((len(batch.rss_at) + 1, rss()))
        else:
            errors.append(line)
    code = proc.wait()
    batch.seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    reader.join()
    if code != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{''.join(errors)[-2000:]}")
    start = next(i for i, line in enumerate(out) if line.startswith(f"{n} submissions"))
    batch.summary = [line.rstrip() for line in out[start:]]
    if not full_marks(course, n, assignment):
        print("\n".join(batch.summary))
        sys.exit(f"--executor {executor} did not give every submission full marks (failures above)")
    return batch


def load(args: argparse.Namespace) -> None:
    n, workers = args.submissions or 60, args.workers or 2
    print(f"load: {n} full-marks submissions of {args.assignment}, {workers} workers, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        split = overhead(Path(tmp), args.assignment)
    print(
        f"one submission on the trusted side (median of 5, alone): {split['total']:.2f} s = "
        f"fixed {split['fixed']:.2f} s (sandbox and Python start, agent, kernel handshake) + "
        f"imports {split['imports']:.2f} s + other cells {split['cells']:.2f} s; "
        f"fixed + imports are {100 * (split['fixed'] + split['imports']) / split['total']:.0f}%"
    )
    rates: dict[str, list[float]] = {"local": [], "dask": []}
    for round_ in range(1, (args.rounds or 1) + 1):
        for executor in rates:
            with tempfile.TemporaryDirectory() as tmp:
                batch = grade_batch(Path(tmp), n, workers, executor, args.assignment)
            rates[executor].append(batch.per_minute(n))
            print(
                f"round {round_} {executor:>5}: {batch.seconds:.1f} s, {batch.per_minute(n):.1f} submissions/min "
                f"({batch.steady_per_minute(n):.1f} between first and last result); parent peak RSS "
                f"{batch.peak_rss / 2**20:.0f} MiB, growth {batch.growth_per_submission() / 1024:+.1f} KiB/submission"
            )
            for line in batch.summary:
                print(f"    {line}")
    ratio = statistics.median(d / local for d, local in zip(rates["dask"], rates["local"], strict=True))
    print(
        f"median: local {statistics.median(rates['local']):.1f}, dask {statistics.median(rates['dask']):.1f} "
        f"submissions/min; dask / local {ratio:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=None, help="default 40; with --load 60")
    parser.add_argument("--rounds", type=int, default=None, help="default 3; with --load 1")
    parser.add_argument("--workers", type=int, default=None, help="default: CPU count; with --load 2")
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT)
    parser.add_argument("--load", action="store_true", help="a large batch: local vs Dask, memory, overhead")
    args = parser.parse_args()
    if args.load:
        load(args)
        return
    args.submissions, args.rounds = args.submissions or 40, args.rounds or 3
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
