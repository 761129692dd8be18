"""Where grading jobs run.

An :class:`Executor` takes a function and its jobs and yields results as each
job finishes. Jobs and results are plain data, so an engine that ships them to
other machines (Dask, Ray, a queue) can implement :meth:`Executor.map_unordered`
without touching the rest of the grader.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(ABC):
    """Runs ``fn`` over jobs and yields results in completion order."""

    workers: int = 1

    @abstractmethod
    def map_unordered(self, fn: Callable[[T], R], jobs: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(job)`` for every job, each as soon as it is ready."""


class SerialExecutor(Executor):
    """One job at a time, in this process: simplest to debug."""

    def map_unordered(self, fn: Callable[[T], R], jobs: Iterable[T]) -> Iterator[R]:
        for job in jobs:
            yield fn(job)


class LocalProcessExecutor(Executor):
    """Up to ``workers`` jobs at once on this machine.

    Each job starts its own sandboxed process (see :mod:`autograder.sandbox`),
    so a thread per running job is enough to wait on it. At most ``workers``
    jobs are in flight; the rest are submitted as slots free up.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        if self.workers < 1:
            raise ValueError(f"workers ({self.workers}) must be at least 1")

    def map_unordered(self, fn: Callable[[T], R], jobs: Iterable[T]) -> Iterator[R]:
        pending = iter(jobs)
        end = object()
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            running: set[Future[R]] = set()
            try:
                while True:
                    while len(running) < self.workers:
                        job = next(pending, end)
                        if job is end:
                            break
                        running.add(pool.submit(fn, job))
                    if not running:
                        return
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield future.result()
            finally:
                for future in running:
                    future.cancel()


def make_executor(workers: int | None) -> Executor:
    """Serial for one worker, local processes otherwise (default: one per CPU)."""
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    if workers == 1:
        return SerialExecutor()
    return LocalProcessExecutor(workers)
