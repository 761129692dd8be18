"""Grading on Dask: the same results as the local executor, no submission lost with a worker, clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import cloudpickle
import dask
import pytest
from distributed import Client, LocalCluster
from toycourse import ASSIGNMENT, SOLUTION, copy_of, submission

from autograder.dask_executor import DaskExecutor
from autograder.errors import UserError
from autograder.executor import Executor, Lost, SerialExecutor
from autograder.grading import grade

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module

LIMITS = ["--timeout", "60", "--cell-timeout", "10"]
BODIES = {
    "alice": SOLUTION,
    "bob": "def add(a, b):\n    return a - b",
    "carol": "def add(a, b):\n    return float(a + b) if a >= 0 else 0",
}
#: Each submission sleeps this long before defining add, so a worker can be killed while it grades.
SLOW = "import time\ntime.sleep(3)\n"


def grade_cli(course, folder, *options: str) -> subprocess.CompletedProcess:
    """``autograder grade`` as an instructor runs it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "autograder", "--root", str(course.root), "grade", ASSIGNMENT, str(folder)]
        + [*LIMITS, "--no-progress", *options],
        capture_output=True,
        text=True,
        timeout=300,
    )


def scores(course) -> dict[str, tuple[str, float, dict[str, float]]]:
    """student -> (status, score, {test grade id: score}), from each grading.json."""
    found = {}
    for path in sorted(course.root.glob(f"autograded/*/{ASSIGNMENT}/grading.json")):
        result = json.loads(path.read_text())
        tests = {t["grade_id"]: t["score"] for t in result["tests"]}
        found[result["student_id"]] = (result["status"], result["score"], tests)
    return found


def test_a_local_dask_cluster_grades_exactly_like_the_local_executor(course, tmp_path):
    folder = tmp_path / "class"
    for student, body in BODIES.items():
        submission(course, student, body, folder)
    other = copy_of(course, tmp_path / "other")
    local = grade_cli(course, folder, "--workers", "2")
    assert local.returncode == 0, local.stderr
    dask_run = grade_cli(other, folder, "--executor", "dask", "--workers", "2")
    assert dask_run.returncode == 0, dask_run.stderr
    expected = scores(course)
    assert set(expected) == set(BODIES)
    assert expected["alice"] == ("graded", 3.0, {"add_visible": 1.0, "add_hidden": 2.0})
    assert expected["bob"][1] < 3.0
    assert scores(other) == expected
    assert dask_run.stdout.splitlines()[-1] == local.stdout.splitlines()[-1]


@pytest.fixture
def cluster():
    """A two-worker cluster on loopback that the test can watch and hurt."""
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
        ) as cluster,
        Client(cluster) as client,
    ):
        yield cluster, client


def test_a_worker_killed_mid_batch_loses_no_submission(course, tmp_path, cluster):
    cluster, client = cluster
    folder = tmp_path / "class"
    students = [f"s{i}" for i in range(3)]
    for student in students:
        submission(course, student, SLOW + SOLUTION, folder)
    killed: list[int] = []

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                time.sleep(1.5)  # inside the submission's sleep
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    run = grade_cli(course, folder, "--executor", "dask", "--scheduler", cluster.scheduler_address)
    killer.join()
    assert run.returncode == 0, run.stderr
    assert killed, "no worker was busy to kill"
    assert scores(course) == {s: ("graded", 3.0, {"add_visible": 1.0, "add_hidden": 2.0}) for s in students}


class Counter:
    """A context that logs, to a file, each process that enters or exits it (each worker is one)."""

    def __init__(self, path) -> None:
        self.path = path

    def __enter__(self) -> str:
        with open(self.path, "a") as log:
            log.write(f"enter {os.getpid()}\n")
        return "resource"

    def __exit__(self, *exc: object) -> None:
        with open(self.path, "a") as log:
            log.write(f"exit {os.getpid()}\n")


def _square_or_die(resource: str, x: int) -> tuple[tuple[str, int], int]:
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # the worker running job 3 dies, every time
    return (resource, x * x), x


def test_dask_enters_the_context_once_per_worker_and_gives_up_on_a_job_whose_workers_keep_dying(tmp_path):
    log = tmp_path / "log"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        results = list(
            DaskExecutor(workers=2).map_unordered(_square_or_die, range(8), context=lambda: Counter(log))
        )
    lost = {r.job: r.reason for r in results if isinstance(r, Lost)}
    done = {x: r for r, x in (r for r in results if not isinstance(r, Lost))}
    # Every job comes back once: its result, or lost with a reason. Job 3 always kills its worker;
    # with no failure allowed, a job waiting on the same worker is lost with it.
    assert len(results) == 8 and sorted([*lost, *done]) == list(range(8))
    assert 3 in lost and all(done[x] == ("resource", x * x) for x in done)
    assert all(reason.startswith("the Dask workers running it kept dying (") for reason in lost.values())
    lines = log.read_text().splitlines()
    entered = [line.split()[1] for line in lines if line.startswith("enter")]
    exited = [line.split()[1] for line in lines if line.startswith("exit")]
    assert len(entered) == len(set(entered))  # once per worker process (a restarted worker is a new one)
    assert exited and set(exited) <= set(entered)  # every worker alive at the end exited it


def test_a_scheduler_without_workers_is_a_clear_error():
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster:
        executor = DaskExecutor(cluster.scheduler_address, connect_timeout=1)
        with pytest.raises(UserError, match="has no workers after 1 s: start them with `dask worker"):
            list(executor.map_unordered(abs, [1]))


class LosesTheFirstJob(Executor):
    """Gives up on the first job, as Dask does when its workers keep dying, and runs the rest here."""

    def map_unordered(self, fn, jobs, *, context=None):
        jobs = iter(jobs)
        yield Lost(next(jobs), "the Dask workers running it kept dying")
        yield from SerialExecutor().map_unordered(fn, jobs, context=context)


def test_a_lost_submission_is_reported_never_recorded_and_graded_by_the_next_run(
    course, tmp_path, sandbox, limits
):
    folder = tmp_path / "class"
    for student in ("alice", "bob"):
        submission(course, student, SOLUTION, folder)
    lines: list[str] = []
    first = grade(
        course,
        ASSIGNMENT,
        folder,
        executor=LosesTheFirstJob(),
        sandbox=sandbox,
        limits=limits,
        progress=False,
        echo=lines.append,
    )
    (lost,) = [r for r in first if r["status"] == "not graded"]
    (kept,) = [r for r in first if r["status"] == "graded"]
    assert lost["reasons"] == ["the Dask workers running it kept dying"]
    assert f"{lost['student_id']}: 0/3 NOT GRADED - the Dask workers running it kept dying" in lines
    assert course.read_result(lost["student_id"], ASSIGNMENT) is None
    again = grade(
        course,
        ASSIGNMENT,
        folder,
        executor=SerialExecutor(),
        sandbox=sandbox,
        limits=limits,
        progress=False,
        echo=lines.append,
    )
    assert {r["student_id"]: (r["status"], r["score"], bool(r.get("skipped"))) for r in again} == {
        lost["student_id"]: ("graded", 3.0, False),
        kept["student_id"]: ("graded", 3.0, True),
    }
