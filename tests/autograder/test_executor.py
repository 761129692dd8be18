"""Executors: every job runs once, in parallel where asked, results as they finish."""

from __future__ import annotations

import threading

import pytest

from autograder.executor import LocalProcessExecutor, SerialExecutor, make_executor

WAIT = 10  # seconds before a blocked job gives up, so a broken executor fails instead of hanging


@pytest.mark.parametrize("executor", [SerialExecutor(), LocalProcessExecutor(3)], ids=["serial", "local"])
def test_every_job_gives_one_result(executor):
    results = list(executor.map_unordered(lambda x: x * x, iter(range(10))))
    assert sorted(results) == [x * x for x in range(10)]


def test_serial_runs_in_order_in_this_thread():
    threads = []

    def fn(x):
        threads.append(threading.get_ident())
        return x

    assert list(SerialExecutor().map_unordered(fn, [3, 1, 2])) == [3, 1, 2]
    assert set(threads) == {threading.get_ident()}


def test_local_runs_jobs_concurrently():
    barrier = threading.Barrier(2, timeout=WAIT)

    def fn(x):
        barrier.wait()  # raises BrokenBarrierError unless both jobs are running at once
        return x

    assert sorted(LocalProcessExecutor(2).map_unordered(fn, [1, 2])) == [1, 2]


def test_local_yields_results_as_they_complete():
    fast_done = threading.Event()

    def fn(job):
        if job == "slow":
            return "slow" if fast_done.wait(WAIT) else "slow gave up: the fast result was held back"
        return "fast"

    results = LocalProcessExecutor(2).map_unordered(fn, ["slow", "fast"])
    assert next(results) == "fast"
    fast_done.set()
    assert list(results) == ["slow"]


def test_local_never_runs_more_than_workers_jobs():
    lock = threading.Lock()
    active, peak = 0, 0
    barrier = threading.Barrier(2, timeout=WAIT)  # every job waits for a partner: 2 must overlap

    def fn(x):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        barrier.wait()
        with lock:
            active -= 1
        return x

    pulled = []

    def jobs():
        for x in range(8):
            pulled.append(x)
            yield x

    results = LocalProcessExecutor(2).map_unordered(fn, jobs())
    first = next(results)
    assert len(pulled) == 2  # jobs are taken from the iterator only as slots free up
    assert sorted([first, *results]) == list(range(8))
    assert peak == 2


def test_local_propagates_a_job_error():
    def fn(x):
        if x == 2:
            raise RuntimeError("job 2 broke")
        return x

    with pytest.raises(RuntimeError, match="job 2 broke"):
        list(LocalProcessExecutor(2).map_unordered(fn, range(4)))


def test_local_runs_a_none_job():
    assert sorted(LocalProcessExecutor(2).map_unordered(lambda x: x or 0, [None, 1]), key=str) == [0, 1]


@pytest.mark.parametrize("workers", [0, -1])
def test_make_executor_rejects_fewer_than_one_worker(workers):
    with pytest.raises(ValueError, match="at least 1"):
        make_executor(workers)


def test_local_rejects_negative_workers():
    with pytest.raises(ValueError, match=r"workers \(-2\) must be at least 1"):
        LocalProcessExecutor(-2)


class Resource:
    """A context that records how it is used."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __enter__(self) -> str:
        self.log.append("enter")
        return "resource"

    def __exit__(self, *exc: object) -> None:
        self.log.append("exit")


@pytest.mark.parametrize("executor", [SerialExecutor(), LocalProcessExecutor(3)], ids=["serial", "local"])
def test_a_context_is_entered_once_and_given_to_every_job(executor):
    log: list[str] = []
    results = executor.map_unordered(lambda r, x: (r, x), range(6), context=lambda: Resource(log))
    assert sorted(results) == [("resource", x) for x in range(6)]
    assert log == ["enter", "exit"]


@pytest.mark.parametrize("executor", [SerialExecutor(), LocalProcessExecutor(2)], ids=["serial", "local"])
def test_a_context_is_exited_when_a_job_fails(executor):
    log: list[str] = []

    def fn(resource, x):
        if x == 1:
            raise RuntimeError("job 1 broke")
        return x

    with pytest.raises(RuntimeError, match="job 1 broke"):
        list(executor.map_unordered(fn, range(3), context=lambda: Resource(log)))
    assert log == ["enter", "exit"]


def test_make_executor_for_dask_starts_nothing_until_used():
    from autograder.dask_executor import DaskExecutor

    executor = make_executor(None, engine="dask")
    assert isinstance(executor, DaskExecutor)
    assert (executor.scheduler, executor.workers) == (None, 2)
    assert make_executor(None, engine="dask", scheduler="10.1.2.3:8786").scheduler == "tcp://10.1.2.3:8786"
