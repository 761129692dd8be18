"""Where grading jobs run.

An :class:`Executor` takes a function and its jobs and yields results as each
job finishes. Jobs and results are plain data, so an engine that ships them to
other machines implements :meth:`Executor.map_unordered` without touching the
rest of the grader: serial and local threads here, Dask in
:mod:`autograder.dask_executor`.

What a job needs that cannot travel as data (the batch's test server, with its
processes and sockets) travels as a recipe: ``context``, a picklable callable
that returns a context manager. Each process that runs jobs enters it once and
passes what it yields to every job it runs there; it is exited when the batch
ends.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import UserError

T = TypeVar("T")
R = TypeVar("R")

#: How jobs get their per-process resource: ``context()`` is entered once per process.
Context = Callable[[], AbstractContextManager[Any]]


@dataclass(frozen=True)
class Lost(Generic[T]):
    """A job the engine gave up on without a result: its workers were lost more often than it retries.

    Only engines that run jobs on other processes they do not own yield these
    (see :class:`~autograder.dask_executor.DaskExecutor`); the grader reports
    the job with ``reason`` and records nothing for it, so running the batch
    again grades it.
    """

    job: T
    reason: str


class Executor(ABC):
    """Runs ``fn`` over jobs and yields results in completion order."""

    workers: int = 1

    @abstractmethod
    def map_unordered(
        self, fn: Callable[..., R], jobs: Iterable[T], *, context: Context | None = None
    ) -> Iterator[R | Lost[T]]:
        """Yield ``fn(job)``, or ``fn(resource, job)`` with a ``context``, for every job, as each is ready.

        Parameters
        ----------
        fn
            A module-level function (engines that ship it elsewhere pickle it by name).
        jobs
            Plain data; taken from the iterable only as a job can start, so a lazy
            iterable is never read far ahead.
        context
            When given, entered once in each process that runs jobs; what it
            yields is passed as ``fn``'s first argument.
        """


class SerialExecutor(Executor):
    """One job at a time, in this process: simplest to debug."""

    def map_unordered(
        self, fn: Callable[..., R], jobs: Iterable[T], *, context: Context | None = None
    ) -> Iterator[R]:
        with _caller(context) as call:
            for job in jobs:
                yield call(fn, job)


class LocalProcessExecutor(Executor):
    """Up to ``workers`` jobs at once on this machine.

    Each job starts its own sandboxed process (see :mod:`autograder.sandbox`),
    so a thread per running job is enough to wait on it. At most ``workers``
    jobs are in flight; the rest are submitted as slots free up. ``context`` is
    entered once, in this process, and shared by every thread.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        if self.workers < 1:
            raise ValueError(f"workers ({self.workers}) must be at least 1")

    def map_unordered(
        self, fn: Callable[..., R], jobs: Iterable[T], *, context: Context | None = None
    ) -> Iterator[R]:
        pending = iter(jobs)
        end = object()
        with _caller(context) as call, ThreadPoolExecutor(max_workers=self.workers) as pool:
            running: set[Future[R]] = set()
            try:
                while True:
                    while len(running) < self.workers:
                        job = next(pending, end)
                        if job is end:
                            break
                        running.add(pool.submit(call, fn, job))
                    if not running:
                        return
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield future.result()
            finally:
                for future in running:
                    future.cancel()


@contextmanager
def _caller(context: Context | None) -> Iterator[Callable[[Callable[..., R], object], R]]:
    """How this process calls a job's function: with the resource ``context`` gives, entered meanwhile."""
    if context is None:
        yield lambda fn, job: fn(job)
        return
    with context() as resource:
        yield lambda fn, job: fn(resource, job)


def make_executor(workers: int | None, *, engine: str = "local", scheduler: str | None = None) -> Executor:
    """The executor the command line asked for.

    ``engine="local"``: serial for one worker, local processes otherwise
    (default: one per CPU). ``engine="dask"``: a Dask cluster, the one at
    ``scheduler`` or else a local one of ``workers`` processes (default 2).
    """
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    if engine == "dask":
        from .dask_executor import DaskExecutor  # Dask is imported only when asked for

        return DaskExecutor(scheduler, workers=workers)
    if engine != "local":
        raise ValueError(f"unknown executor {engine!r}: use 'local' or 'dask'")
    if scheduler is not None:
        raise UserError(
            f"--scheduler {scheduler} needs --executor dask (the local executor has no scheduler)"
        )
    if workers == 1:
        return SerialExecutor()
    return LocalProcessExecutor(workers)
