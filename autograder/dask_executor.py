"""Grading on a Dask cluster: ``autograder grade A PATH --executor dask [--scheduler tcp://HOST:PORT]``.

Without a scheduler address, :class:`DaskExecutor` starts a ``LocalCluster`` of
``workers`` processes on loopback for the batch and closes it afterwards. With
one, it connects to a cluster an instructor started (``dask scheduler`` on one
machine, ``dask worker tcp://HOST:PORT`` on each grading machine, every one
with the same course and virtualenv installed, and bubblewrap).

Jobs and results travel as plain data. The batch's resource (the test server,
which owns processes and sockets) travels as its recipe: a worker plugin
carries the executor's ``context`` to every worker, including one that joins
or is restarted mid-batch; each worker enters it on its first job and exits it
when the batch ends. A worker lost mid-batch loses no job: Dask runs the job
again on another worker, and a job whose workers kept dying (more often than
``distributed.scheduler.allowed-failures``) comes back as
:class:`~autograder.executor.Lost`, with the reason.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

from distributed import Client, LocalCluster, as_completed, get_worker
from distributed.comm import parse_address
from distributed.diagnostics.plugin import WorkerPlugin
from distributed.scheduler import KilledWorker

from .errors import UserError
from .executor import Context, Executor, Lost, R, T

#: Jobs submitted ahead per worker thread, so a free thread never waits for the parent.
JOBS_AHEAD_PER_THREAD = 2


class _ContextPlugin(WorkerPlugin):
    """Enters the batch's context on a worker, once, on its first job; exits it when the batch ends."""

    def __init__(self, context: Context) -> None:
        self.context = context  # pickled to each worker; locks and resources are made there

    def setup(self, worker: Any) -> None:
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._resource: object = None

    def resource(self) -> object:
        with self._lock:
            if self._stack is None:
                with ExitStack() as stack:
                    self._resource = stack.enter_context(self.context())
                    self._stack = stack.pop_all()
            return self._resource

    def teardown(self, worker: Any) -> None:
        with self._lock:
            if self._stack is not None:
                self._stack.close()
                self._stack = None


def _run(fn: Callable[..., R], plugin: str | None, job: object) -> R:
    """A job on a worker: ``fn(job)``, or ``fn(resource, job)`` with the batch's resource."""
    if plugin is None:
        return fn(job)
    return fn(get_worker().plugins[plugin].resource(), job)


def check_address(address: str) -> str:
    """``address`` as Dask takes it if it names a scheduler (``[tcp://]HOST:PORT``, ``tls://...``), else a UserError."""
    if "://" not in address:  # Dask's own default, as `dask worker HOST:PORT` takes it
        address = f"tcp://{address}"
    try:
        scheme, location = parse_address(address, strict=True)
    except ValueError:
        scheme, location = "", ""
    host, _, port = location.rpartition(":")
    if scheme not in ("tcp", "tls") or not host or not port.isdigit():
        raise UserError(
            f"--scheduler {address!r} is not a Dask scheduler address: give tcp://HOST:PORT "
            "(what `dask scheduler` prints, port 8786 by default)"
        )
    return address


class DaskExecutor(Executor):
    """Runs jobs on a Dask cluster: the one at ``scheduler``, or a local one made for the batch.

    Parameters
    ----------
    scheduler
        ``tcp://HOST:PORT`` of a running ``dask scheduler``; None for a
        ``LocalCluster`` of ``workers`` single-threaded processes on loopback,
        closed when the batch ends.
    workers
        The local cluster's size (default 2); not allowed with ``scheduler``,
        whose cluster has its own workers.
    connect_timeout
        Seconds to wait for the scheduler, and for it to have a worker.
    """

    def __init__(
        self, scheduler: str | None = None, *, workers: int | None = None, connect_timeout: float = 10.0
    ) -> None:
        if scheduler is not None and workers is not None:
            raise UserError(
                "--workers sets the size of a local Dask cluster; with --scheduler the cluster's own "
                "workers grade (start each with `dask worker ADDRESS --nthreads N`)"
            )
        self.scheduler = None if scheduler is None else check_address(scheduler)
        self.workers = 2 if workers is None else workers
        if self.workers < 1:
            raise ValueError(f"workers ({self.workers}) must be at least 1")
        self.connect_timeout = connect_timeout

    @contextmanager
    def _client(self) -> Iterator[Client]:
        if self.scheduler is None:
            with (
                LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                ) as cluster,
                Client(cluster) as client,
            ):
                yield client
            return
        try:
            client = Client(self.scheduler, timeout=self.connect_timeout)
        except (OSError, TimeoutError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise UserError(
                f"cannot reach the Dask scheduler at {self.scheduler} ({first}): is `dask scheduler` "
                "running there, and its port open to this machine?"
            ) from None
        with client:
            try:
                client.wait_for_workers(1, timeout=self.connect_timeout)
            except TimeoutError:
                raise UserError(
                    f"the Dask scheduler at {self.scheduler} has no workers after {self.connect_timeout:g} s: "
                    f"start them with `dask worker {self.scheduler}`"
                ) from None
            yield client

    def map_unordered(
        self, fn: Callable[..., R], jobs: Iterable[T], *, context: Context | None = None
    ) -> Iterator[R | Lost[T]]:
        with self._client() as client:
            plugin = None
            if context is not None:
                plugin = f"autograder-{uuid.uuid4().hex}"
                client.register_plugin(_ContextPlugin(context), name=plugin)
            try:
                yield from self._map(client, fn, jobs, plugin)
            finally:
                if plugin is not None:
                    with suppress(OSError, TimeoutError):  # the cluster is gone: nothing left to exit
                        client.unregister_worker_plugin(plugin)

    def _map(
        self, client: Client, fn: Callable[..., R], jobs: Iterable[T], plugin: str | None
    ) -> Iterator[R | Lost[T]]:
        ahead = JOBS_AHEAD_PER_THREAD * max(sum(client.nthreads().values()), 1)
        pending = iter(jobs)
        end = object()
        running = as_completed()
        owner: dict[str, T] = {}

        def submit() -> None:
            if client.status != "running":
                raise UserError(
                    f"lost the Dask scheduler{f' at {self.scheduler}' if self.scheduler else ''} mid-batch; "
                    "every result shown so far is recorded: run the same command again to grade the rest"
                )
            job = next(pending, end)
            if job is not end:
                future = client.submit(_run, fn, plugin, job, key=f"grade-{uuid.uuid4().hex}", pure=False)
                owner[future.key] = job
                running.add(future)

        try:
            for _ in range(ahead):
                submit()
            for future in running:
                job = owner.pop(future.key)
                if future.status == "error" and isinstance(future.exception(), KilledWorker):
                    yield Lost(
                        job,
                        f"the Dask workers running it kept dying ({str(future.exception()).splitlines()[0][:300]})",
                    )
                elif future.status == "cancelled":
                    yield Lost(job, "the Dask scheduler cancelled it (was the cluster restarted?)")
                else:
                    yield future.result()
                future.release()
                submit()
        finally:
            running.clear()
