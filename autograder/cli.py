"""The ``autograder`` command line: release, grade, selftest, feedback, export, status, report, remove."""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

from . import sandbox as sandboxes
from .course import Course, UserError
from .edition import build_student_edition
from .executor import make_executor
from .feedback import write_feedback
from .grading import grade, remove
from .release import release
from .report import run_report
from .reports import EXPORT_FORMATS, export, short_reason, status_rows, table
from .selftest import report_json, selftest


def _positive(kind: type):
    """An argparse type: a finite number above 0 (a whole one when ``kind`` is int)."""
    what = "a whole number" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be {what} greater than 0, got {text}")
        return value

    return parse


def _limits(args: argparse.Namespace) -> sandboxes.Limits:
    return sandboxes.Limits(
        cell_timeout=args.cell_timeout, notebook_timeout=args.timeout, memory_mb=args.memory_mb
    )


def _sandbox(allow_unsandboxed: bool) -> sandboxes.Sandbox:
    box = sandboxes.detect(allow_unsandboxed=allow_unsandboxed)
    print(box.description, file=sys.stderr)
    return box


def cmd_release(course: Course, args: argparse.Namespace) -> int:
    assignments = args.assignments or course.assignments()
    for assignment_id in assignments:
        course.check_assignment(assignment_id)
    box = _sandbox(allow_unsandboxed=True)  # the instructor's own notebooks
    for assignment_id in assignments:
        target = release(course, assignment_id, box, _limits(args), mutants=args.mutants, echo=print)
        print(f"released {assignment_id} -> {target.relative_to(course.root)}")
    archive = build_student_edition(course)
    print(
        f"student edition -> {archive.with_suffix('').relative_to(course.root)}/ and "
        f"{archive.relative_to(course.root)} (give students this, never this repository)"
    )
    return 0


def cmd_grade(course: Course, args: argparse.Namespace) -> int:
    course.check_assignment(args.assignment)
    if not args.path.exists():
        raise UserError(f"{args.path} does not exist: give a folder of submissions or an LMS zip file")
    executor = make_executor(args.workers)
    box = _sandbox(allow_unsandboxed=args.no_sandbox)
    results = grade(
        course,
        args.assignment,
        args.path,
        executor=executor,
        sandbox=box,
        limits=_limits(args),
        progress=not args.no_progress,
        force=args.force,
    )
    rows = [
        {
            **r,
            "score": f"{r['score']:g}/{r['max_score']:g}",
            "status": r["status"] + (" (unchanged)" if r.get("skipped") else ""),
        }
        for r in results
    ]
    print(table(rows, ["student_id", "score", "status"]))
    failed = sum(r["status"] == "failed" for r in results)
    skipped = sum(bool(r.get("skipped")) for r in results)
    print(
        f"{len(results)} submissions of {args.assignment}: {len(results) - skipped} graded now, "
        f"{skipped} unchanged since they were graded; {failed} could not be fully run"
    )
    return 0


def cmd_selftest(course: Course, args: argparse.Namespace) -> int:
    course.check_assignment(args.assignment)
    report = selftest(
        course,
        args.assignment,
        sandbox=_sandbox(allow_unsandboxed=True),  # mutants of the instructor's own solutions
        limits=_limits(args),
        executor=make_executor(args.workers),
        mutants=args.mutants,
        seed=args.seed,
        progress=not args.no_progress,
    )
    if args.json:
        print(report_json(report))
    else:
        print(report.summary())
        print(report.details())
    return 1 if report.below() else 0


def cmd_feedback(course: Course, args: argparse.Namespace) -> int:
    for path in write_feedback(course, args.assignment):
        print(path.relative_to(course.root))
    return 0


def cmd_export(course: Course, args: argparse.Namespace) -> int:
    students, rows = export(course, args.output, args.format)
    what = "students" if args.format == "canvas" else "grades (a row per student and assignment)"
    print(f"wrote {rows} {what} for {students} students to {args.output}")
    return 0


def cmd_report(course: Course, args: argparse.Namespace) -> int:
    assignments = args.assignments or course.assignments()
    for assignment_id in assignments:
        course.check_assignment(assignment_id)
    output = args.output if args.output.is_absolute() else course.root / args.output
    for page in run_report(course, assignments, output, small=args.small):
        print(page)
    return 0


def cmd_remove(course: Course, args: argparse.Namespace) -> int:
    for line in remove(course, args.student, args.assignment):
        print(f"removed {line}")
    return 0


def cmd_status(course: Course, args: argparse.Namespace) -> int:
    assignments = [course.check_assignment(args.assignment)] if args.assignment else course.assignments()
    rows = status_rows(course, assignments)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print("no submissions yet")
        return 0
    shown = [{**r, "reason": short_reason(r["reasons"])} for r in rows]
    print(table(shown, ["student_id", "assignment", "state", "score", "reason"]))
    if any(short_reason(r["reasons"]) != "; ".join(r["reasons"]) for r in rows):
        print(
            "reasons are shortened: `autograder status --json` or autograded/<student>/<assignment>/grading.json has them all"
        )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autograder", description=__doc__)
    root_help = "course folder (default: the nearest with nbgrader_config.py)"
    p.add_argument("--root", type=Path, help=root_help)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Global options work after the subcommand too: each subparser knows them, with a default
    # that leaves the value given before the subcommand alone.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=argparse.SUPPRESS, help=root_help)

    def limits(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--timeout",
            type=_positive(float),
            default=300.0,
            metavar="SECONDS",
            help="time limit per notebook (default 300)",
        )
        q.add_argument(
            "--cell-timeout",
            type=_positive(float),
            default=60.0,
            metavar="SECONDS",
            help="time limit per cell (default 60)",
        )
        q.add_argument(
            "--memory-mb",
            type=_positive(int),
            default=4096,
            metavar="MB",
            help="address-space limit of the notebook's kernel (default 4096)",
        )

    q = sub.add_parser(
        "release", parents=[common], help="check the source, generate release/, check the release fails"
    )
    q.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment")
    q.add_argument(
        "--mutants",
        type=_positive(int),
        default=None,
        metavar="N",
        help="mutants per assignment for the mutation-score gate (default: Selftest.release_mutants, else all)",
    )
    limits(q)
    q.set_defaults(run=cmd_release)

    q = sub.add_parser(
        "grade", parents=[common], help="grade submissions in sandboxes and record them in the gradebook"
    )
    q.add_argument("assignment", metavar="ASSIGNMENT")
    q.add_argument(
        "path",
        type=Path,
        metavar="PATH",
        help="PATH/<student_id>/<ASSIGNMENT>/*.ipynb, or an LMS zip (Canvas naming)",
    )
    q.add_argument(
        "--workers",
        type=_positive(int),
        default=None,
        help="parallel sandboxes (default: CPU count)",
    )
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    q.add_argument(
        "--force",
        action="store_true",
        help="regrade submissions already graded from the same files and settings",
    )
    q.add_argument(
        "--no-sandbox",
        action="store_true",
        help="grade even where no bubblewrap sandbox works (student code is then NOT isolated; results record it)",
    )
    limits(q)
    q.set_defaults(run=cmd_grade)

    q = sub.add_parser(
        "selftest",
        parents=[common],
        help="grade generated wrong answers (mutants) and report each exercise's mutation score",
    )
    q.add_argument("assignment", metavar="ASSIGNMENT")
    q.add_argument(
        "--mutants",
        type=_positive(int),
        default=None,
        metavar="N",
        help="grade a sample of N mutants (default: all)",
    )
    q.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    q.add_argument("--json", action="store_true", help="print the report as JSON")
    q.add_argument(
        "--workers", type=_positive(int), default=None, help="parallel sandboxes (default: CPU count)"
    )
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    limits(q)
    q.set_defaults(run=cmd_selftest)

    q = sub.add_parser("feedback", parents=[common], help="write each student's feedback HTML")
    q.add_argument("assignment", metavar="ASSIGNMENT")
    q.set_defaults(run=cmd_feedback)

    q = sub.add_parser("export", parents=[common], help="write grades as CSV")
    q.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    q.add_argument("--output", type=Path, required=True, metavar="FILE")
    q.set_defaults(run=cmd_export)

    q = sub.add_parser(
        "report", parents=[common], help="run every source notebook with papermill at full size, to HTML"
    )
    q.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment")
    q.add_argument("--small", action="store_true", help="the parameters cell's own (CI) sizes instead")
    q.add_argument(
        "--output", type=Path, default=Path("build/reports"), metavar="FOLDER", help="default: build/reports"
    )
    q.set_defaults(run=cmd_report)

    q = sub.add_parser(
        "remove", parents=[common], help="take a student's submission (or the student) out of the gradebook"
    )
    q.add_argument("student", metavar="STUDENT")
    q.add_argument(
        "assignment", nargs="?", metavar="ASSIGNMENT", help="default: every assignment, and the student"
    )
    q.set_defaults(run=cmd_remove)

    q = sub.add_parser(
        "status", parents=[common], help="graded, pending and failed submissions, with reasons"
    )
    q.add_argument("assignment", nargs="?", metavar="ASSIGNMENT")
    q.add_argument("--json", action="store_true", help="every row with its full list of reasons, as JSON")
    q.set_defaults(run=cmd_status)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # nbgrader's gradebook and nbformat warn about their own internals; instructors can't act on it
    warnings.filterwarnings("ignore", module=r"(nbgrader|nbformat|sqlalchemy)(\..*)?$")
    warnings.filterwarnings("ignore", message=".*(not in session|missing an id field).*")
    try:
        course = Course(args.root)
        return args.run(course, args)
    except UserError as error:
        print(f"autograder: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "autograder: interrupted; finished results are saved (see `autograder status`)",
            file=sys.stderr,
        )
        return 130
