"""Worker processes behind serverless and asynchronous endpoints (private).

Serverless: :class:`ServerlessPool` starts a worker process per concurrent
request when no idle one exists (a cold start: process start plus
``model_fn``), throttles past ``MaxConcurrency``, and stops workers idle for
``idle_seconds`` (scale to zero).

Asynchronous: :class:`AsyncQueue` keeps requests in a SQLite database (the
durable queue). Worker processes claim requests in transactions, write the
result to S3 and mark the request done in one transaction that also records
the notification. A supervisor in the endpoint process requeues the requests
of a worker that died (up to ``max_attempts`` in all, then records a failure),
fails requests past ``InvocationTimeoutSeconds`` or ``RequestTTLSeconds``,
publishes notifications, and scales the workers to zero on an empty backlog.
A request is answered once: only the worker that holds it may mark it done,
and its output key is fixed, so a retry rewrites the same object.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import sqlite3
import time
import uuid
from multiprocessing.connection import Connection
from typing import Any

from course.inference.handlers import HandlerError, InferenceHandler
from course.storage import LocalS3, NoSuchKey, parse_s3_uri

ASYNC_MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024
DEFAULT_INVOCATION_TIMEOUT_SECONDS = 900
MAX_INVOCATION_TIMEOUT_SECONDS = 3600
DEFAULT_REQUEST_TTL_SECONDS = 21600
MIN_REQUEST_TTL_SECONDS = 60
_SPAWN = multiprocessing.get_context("spawn")


class WorkerFailure(Exception):
    """A worker's handler failed or timed out: the container status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Throttled(Exception):
    """More concurrent invocations than ``MaxConcurrency``."""


def _serverless_worker(model_dir: str, connection: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        handler = InferenceHandler(model_dir)
    except Exception as error:  # noqa: BLE001 - reported to the endpoint, which answers a ModelError
        connection.send(("failed", f"model_fn failed: {type(error).__name__}: {error}"))
        return
    connection.send(("ready", None))
    while True:
        try:
            body, content_type, accept = connection.recv()
        except EOFError:
            return
        try:
            connection.send(("ok", *handler.invoke(body, content_type, accept)))
        except HandlerError as error:
            connection.send(("error", error.status_code, str(error)))


class _Worker:
    def __init__(self, process: multiprocessing.Process, connection: Connection) -> None:
        self.process, self.connection = process, connection
        self.last_used = time.monotonic()

    def stop(self) -> None:
        self.connection.close()
        self.process.terminate()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class ServerlessPool:
    """Worker processes of a serverless endpoint (see the module notes)."""

    def __init__(self, config: dict[str, Any], model_dir: str) -> None:
        self.max_concurrency: int = config["max_concurrency"]
        self.idle_seconds: float = config["idle_seconds"]
        self.model_dir = model_dir
        self.idle: list[_Worker] = []
        self.in_flight = 0
        self.cold_starts_ms: list[float] = []
        self.throttled = 0
        self.invocations = 0

    def _start_worker(self, timeout: float) -> tuple[_Worker, float]:
        start = time.perf_counter()
        parent, child = _SPAWN.Pipe()
        process = _SPAWN.Process(target=_serverless_worker, args=(self.model_dir, child), daemon=True)
        process.start()
        child.close()
        worker = _Worker(process, parent)
        if not parent.poll(timeout):
            worker.stop()
            raise WorkerFailure(0, f"the worker did not start within {timeout:g} s")
        status, message = parent.recv()
        if status != "ready":
            worker.stop()
            raise WorkerFailure(500, message)
        return worker, (time.perf_counter() - start) * 1000

    def _call(
        self, body: bytes, content_type: str, accept: str | None, timeout: float
    ) -> tuple[bytes, str, float]:
        worker, cold_ms = (self.idle.pop(), 0.0) if self.idle else self._start_worker(timeout)
        if cold_ms:
            self.cold_starts_ms.append(cold_ms)
        worker.connection.send((body, content_type, accept))
        if not worker.connection.poll(timeout):
            worker.stop()
            raise WorkerFailure(0, f"Your invocation timed out after {timeout:g} s.")
        reply = worker.connection.recv()
        worker.last_used = time.monotonic()
        self.idle.append(worker)
        if reply[0] == "error":
            raise WorkerFailure(reply[1], reply[2])
        return reply[1], reply[2], cold_ms

    async def invoke(
        self, body: bytes, content_type: str, accept: str | None, timeout: float
    ) -> tuple[bytes, str, float]:
        """Answer one request on a worker; return body, content type and cold start in ms (0 if warm).

        Raises
        ------
        Throttled
            If ``MaxConcurrency`` requests are already in flight.
        WorkerFailure
            If the handler failed or timed out.
        """
        if self.in_flight >= self.max_concurrency:
            self.throttled += 1
            raise Throttled(
                f"Rate exceeded: MaxConcurrency ({self.max_concurrency}) invocations are in flight"
            )
        self.in_flight += 1
        self.invocations += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, self._call, body, content_type, accept, timeout
            )
        finally:
            self.in_flight -= 1

    async def reap_idle(self) -> None:
        """Stop workers idle longer than ``idle_seconds``, forever (a background task)."""
        while True:
            await asyncio.sleep(min(0.5, self.idle_seconds / 4))
            now = time.monotonic()
            for worker in [w for w in self.idle if now - w.last_used > self.idle_seconds]:
                self.idle.remove(worker)
                worker.stop()

    def stats(self) -> dict[str, Any]:
        return {
            "workers": len(self.idle) + self.in_flight,
            "idle_workers": len(self.idle),
            "idle_pids": [worker.process.pid for worker in self.idle],
            "cold_starts_ms": list(self.cold_starts_ms),
            "throttled": self.throttled,
            "invocations": self.invocations,
        }

    def close(self) -> None:
        for worker in self.idle:
            worker.stop()
        self.idle.clear()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY, inference_id TEXT NOT NULL, input_location TEXT NOT NULL,
    output_location TEXT NOT NULL, failure_location TEXT NOT NULL, content_type TEXT NOT NULL,
    accept TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, enqueued REAL NOT NULL,
    ttl REAL NOT NULL, timeout REAL NOT NULL, started REAL, worker INTEGER, error TEXT, seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_status ON requests (status, seq);
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY, topic TEXT NOT NULL, message TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 0
);
"""


def _connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _finish(db: sqlite3.Connection, config: dict[str, Any], row: sqlite3.Row | tuple, *, ok: bool,
            error: str | None, worker: int | None) -> bool:  # fmt: skip
    """Mark a request done or failed and record its notification, in one transaction.

    With ``worker`` set, only a request that worker still holds is finished;
    returns whether the request was finished by this call.
    """
    request_id, inference_id, output_location, failure_location = row[0], row[1], row[3], row[4]
    db.execute("BEGIN IMMEDIATE")
    try:
        query = "UPDATE requests SET status = ?, error = ? WHERE id = ? AND status IN ('queued', 'running')"
        params: list[Any] = ["done" if ok else "failed", error, request_id]
        if worker is not None:
            query += " AND worker = ?"
            params.append(worker)
        finished = db.execute(query, params).rowcount == 1
        topic = config["notification_config"].get("SuccessTopic" if ok else "ErrorTopic")
        if finished and topic:
            message = {
                "awsRegion": "local", "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "receivedTime": None, "invocationStatus": "Completed" if ok else "Failed",
                "requestParameters": {"endpointName": config["endpoint_name"], "inputLocation": row[2]},
                "responseParameters": {"outputLocation" if ok else "failureLocation":
                                       output_location if ok else failure_location},
                "inferenceId": inference_id, "eventVersion": "1.0", "eventSource": "aws:sagemaker",
                "eventName": "InferenceResult", "failureReason": error,
            }  # fmt: skip
            db.execute("INSERT INTO notifications (id, topic, message) VALUES (?, ?, ?)",
                       (request_id, topic, json.dumps(message)))  # fmt: skip
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return finished


_COLUMNS = (
    "id, inference_id, input_location, output_location, failure_location, content_type, accept, enqueued, ttl"
)


def _async_worker(config: dict[str, Any], model_dir: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    handler = InferenceHandler(model_dir)
    db = _connect(config["db_path"])
    s3 = LocalS3(config["s3_root"])
    pid = os.getpid()
    while True:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(
            f"SELECT {_COLUMNS} FROM requests WHERE status = 'queued' ORDER BY seq LIMIT 1"
        ).fetchone()
        if row is not None:
            db.execute("UPDATE requests SET status = 'running', worker = ?, started = ?, attempts = attempts + 1 "
                       "WHERE id = ?", (pid, time.time(), row[0]))  # fmt: skip
        db.execute("COMMIT")
        if row is None:
            time.sleep(0.02)
            continue
        if time.time() > row[7] + row[8]:
            error = f"the request waited longer than its RequestTTLSeconds ({row[8]:g} s)"
            s3.put_object(row[4], error)
            _finish(db, config, row, ok=False, error=error, worker=pid)
            continue
        try:
            body = s3.get_object(row[2])
            if len(body) > ASYNC_MAX_PAYLOAD_BYTES:
                raise WorkerFailure(413, f"the input is larger than the 1 GB limit ({len(body)} bytes)")
            output, _ = handler.invoke(body, row[5], row[6])
        except (NoSuchKey, WorkerFailure, HandlerError) as error:
            message = str(error)
            s3.put_object(row[4], message)
            _finish(db, config, row, ok=False, error=message, worker=pid)
            continue
        try:
            s3.put_object(row[3], output)
        except ValueError as error:
            message = f"cannot write the output to {row[3]!r}: {error}"
            s3.put_object(row[4], message)
            _finish(db, config, row, ok=False, error=message, worker=pid)
            continue
        _finish(db, config, row, ok=True, error=None, worker=pid)


class AsyncQueue:
    """The durable request queue and workers of an asynchronous endpoint (see the module notes)."""

    def __init__(self, config: dict[str, Any], model_dir: str, s3: LocalS3) -> None:
        self.config, self.model_dir, self.s3 = config, model_dir, s3
        self.db = _connect(config["db_path"])
        self.db.executescript(_SCHEMA)
        self.workers: dict[int, multiprocessing.Process] = {}
        self.restarts = 0
        self.retried = 0
        self.last_busy = time.monotonic()
        self.seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM requests").fetchone()[0]

    def submit(self, headers: dict[str, str]) -> dict[str, str]:
        """Queue one ``InvokeEndpointAsync`` request; return its id and result locations.

        Raises
        ------
        ValueError
            For a missing or malformed ``InputLocation``, or settings out of range.
        """
        location = headers.get("x-amzn-sagemaker-inputlocation")
        if not location:
            raise ValueError("InputLocation is required: the s3:// URI of the request payload")
        parse_s3_uri(location)
        ttl = _int_header(headers, "x-amzn-sagemaker-requestttlseconds", "RequestTTLSeconds",
                          DEFAULT_REQUEST_TTL_SECONDS, MIN_REQUEST_TTL_SECONDS, DEFAULT_REQUEST_TTL_SECONDS)  # fmt: skip
        timeout = _int_header(headers, "x-amzn-sagemaker-invocationtimeoutseconds", "InvocationTimeoutSeconds",
                              DEFAULT_INVOCATION_TIMEOUT_SECONDS, 1, MAX_INVOCATION_TIMEOUT_SECONDS)  # fmt: skip
        request_id = str(uuid.uuid4())
        inference_id = headers.get("x-amzn-sagemaker-inference-id") or request_id
        output = f"{self.config['output_path'].rstrip('/')}/{request_id}.out"
        failure = f"{self.config['failure_path'].rstrip('/')}/{request_id}-error.out"
        self.seq += 1
        self.db.execute(
            "INSERT INTO requests (id, inference_id, input_location, output_location, failure_location, content_type,"
            " accept, status, enqueued, ttl, timeout, seq) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
            (request_id, inference_id, location, output, failure,
             headers.get("x-amzn-sagemaker-content-type", "application/octet-stream"),
             headers.get("x-amzn-sagemaker-accept"), time.time(), ttl, timeout, self.seq),
        )  # fmt: skip
        return {"InferenceId": inference_id, "OutputLocation": output, "FailureLocation": failure}

    def _start_worker(self) -> None:
        process = _SPAWN.Process(target=_async_worker, args=(self.config, self.model_dir), daemon=True)
        process.start()
        self.workers[process.pid] = process

    def _fail(self, row: tuple, error: str) -> None:
        self.s3.put_object(row[4], error)
        _finish(self.db, self.config, row, ok=False, error=error, worker=None)

    def step(self) -> None:
        """One round of supervision (see the module notes)."""
        for pid, process in list(self.workers.items()):
            if process.is_alive():
                continue
            del self.workers[pid]
            process.join()
            self.restarts += 1
            rows = self.db.execute(
                f"SELECT {_COLUMNS}, attempts FROM requests WHERE status = 'running' AND worker = ?", (pid,)
            ).fetchall()
            for row in rows:
                if row[-1] >= self.config["max_attempts"]:
                    self._fail(row, f"the worker died {row[-1]} times while processing this request")
                else:
                    self.retried += 1
                    self.db.execute("UPDATE requests SET status = 'queued', worker = NULL WHERE id = ? AND "
                                    "status = 'running'", (row[0],))  # fmt: skip
        now = time.time()
        for row in self.db.execute(
            f"SELECT {_COLUMNS}, worker, timeout FROM requests WHERE status = 'running' AND started + timeout < ?",
            (now,),
        ).fetchall():
            process = self.workers.pop(row[-2], None)
            if process is not None:
                process.kill()
                process.join()
            self._fail(row, f"the invocation took longer than InvocationTimeoutSeconds ({row[-1]:g} s)")
        backlog = self.db.execute(
            "SELECT COUNT(*) FROM requests WHERE status IN ('queued', 'running')"
        ).fetchone()[0]
        if backlog:
            self.last_busy = time.monotonic()
            while len(self.workers) < min(self.config["workers"], backlog):
                self._start_worker()
        elif self.workers and time.monotonic() - self.last_busy > self.config["idle_seconds"]:
            self._stop_workers()
        for note_id, topic, message in self.db.execute(
            "SELECT id, topic, message FROM notifications WHERE published = 0"
        ).fetchall():
            self.s3.put_object(f"{topic.rstrip('/')}/{note_id}.json", message)
            self.db.execute("UPDATE notifications SET published = 1 WHERE id = ?", (note_id,))

    async def supervise(self) -> None:
        """Run :meth:`step` every 50 ms, forever (a background task)."""
        while True:
            self.step()
            await asyncio.sleep(0.05)

    def stats(self) -> dict[str, Any]:
        counts = dict(self.db.execute("SELECT status, COUNT(*) FROM requests GROUP BY status").fetchall())
        return {
            "queued": counts.get("queued", 0), "running": counts.get("running", 0), "done": counts.get("done", 0),
            "failed": counts.get("failed", 0), "workers": sorted(self.workers), "restarts": self.restarts,
            "busy_workers": [row[0] for row in self.db.execute(
                "SELECT DISTINCT worker FROM requests WHERE status = 'running' ORDER BY worker")],
            "retried": self.retried,
            "notifications": self.db.execute("SELECT COUNT(*) FROM notifications WHERE published = 1").fetchone()[0],
        }  # fmt: skip

    def _stop_workers(self) -> None:
        for process in self.workers.values():
            process.terminate()
        for process in self.workers.values():
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join()
        self.workers.clear()

    def close(self) -> None:
        self._stop_workers()
        self.db.close()


def _int_header(headers: dict[str, str], name: str, what: str, default: int, low: int, high: int) -> int:
    raw = headers.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{what} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{what} ({value}) must be from {low} to {high}")
    return value
