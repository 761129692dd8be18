"""The ``sagemaker-featurestore-runtime`` REST API over HTTP, served from a local store.

boto3 talks to it unchanged::

    with FeatureStoreRuntimeServer(store) as server:
        client = boto3.client("sagemaker-featurestore-runtime", endpoint_url=server.endpoint_url,
                              region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        client.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c1")

Routes (the API's REST protocol): ``PUT /FeatureGroup/{name}`` (PutRecord),
``GET /FeatureGroup/{name}`` (GetRecord), ``DELETE /FeatureGroup/{name}``
(DeleteRecord) and ``POST /BatchGetRecord``. Errors have the API's shape: an
HTTP status, the ``x-amzn-ErrorType`` header and a JSON body with
``__type`` and ``message`` (boto3 raises ``ClientError`` with that code).
Signatures are not checked; the server listens on the loopback interface.

The server runs in a background thread of the calling process and is
stopped by :meth:`FeatureStoreRuntimeServer.stop`, at the end of a ``with``
block, or at interpreter exit. ``python -m course.feature_store.server
--root DIR`` runs one in its own process until interrupted.

Examples
--------
>>> import tempfile, json, urllib.request
>>> from course.feature_store import FeatureStore
>>> with FeatureStore(tempfile.mkdtemp()) as store, FeatureStoreRuntimeServer(store) as server:
...     request = urllib.request.Request(server.endpoint_url + "/FeatureGroup/nope?RecordIdentifierValueAsString=1")
...     try:
...         urllib.request.urlopen(request)
...     except urllib.error.HTTPError as error:
...         print(error.code, error.headers["x-amzn-ErrorType"])
404 ResourceNotFound
"""

from __future__ import annotations

import argparse
import atexit
import json
import threading
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from course.feature_store.errors import ResourceNotFound, ValidationError
from course.feature_store.feature_group import FeatureGroup, FeatureStore, batch_get_record

__all__ = ["FeatureStoreRuntimeServer"]


def _group_name(name_or_arn: str) -> str:
    """A feature group name from the URI segment, which may be an ARN (``...:feature-group/name``)."""
    name = unquote(name_or_arn)
    if name.startswith("arn:") and "feature-group/" in name:
        return name.rsplit("feature-group/", 1)[1]
    return name


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = -1  # a buffered writer: status line, headers and body leave in one send when the request ends
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no line per request on stderr."""

    def _send(self, status: int, payload: dict[str, Any] | None, *, error_type: str | None = None) -> None:
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if error_type is not None:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            raise ValidationError("the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ValidationError("the request body must be a JSON object")
        return body

    def _dispatch(self, method: str) -> None:
        try:
            url = urlsplit(self.path)
            query = parse_qs(url.query, keep_blank_values=True)
            body = self._body() if method in ("PUT", "POST") else {}
            payload = self._route(method, url.path, query, body)
        except (ValidationError, ResourceNotFound) as error:
            self._send(error.status, {"__type": error.code, "message": str(error)}, error_type=error.code)
        except (
            Exception
        ) as error:  # an unexpected failure is the API's InternalFailure, never a dropped connection
            message = f"{type(error).__name__}: {error}"
            self._send(500, {"__type": "InternalFailure", "message": message}, error_type="InternalFailure")
        else:
            self._send(200, payload)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]
    ) -> dict[str, Any]:
        store = self.server.store
        if path == "/BatchGetRecord" and method == "POST":
            return batch_get_record(
                store,
                body.get("Identifiers"),
                expiration_time_response=body.get("ExpirationTimeResponse", "Disabled"),
            )
        parts = path.split("/")
        if len(parts) != 3 or parts[1] != "FeatureGroup" or not parts[2]:
            raise ValidationError(f"unknown operation {method} {path}")
        group: FeatureGroup = store.feature_group(_group_name(parts[2]))

        def single(name: str, *, required: bool = True) -> str | None:
            values = query.get(name)
            if not values:
                if required:
                    raise ValidationError(f"the request needs the query parameter {name}")
                return None
            return values[-1]

        if method == "GET":
            group._require_online()
            return group._get(
                single("RecordIdentifierValueAsString"),
                query.get("FeatureName"),
                single("ExpirationTimeResponse", required=False) or "Disabled",
            )
        if method == "PUT":
            if "Record" not in body:
                raise ValidationError("PutRecord needs a Record")
            group.put_record(
                body["Record"], target_stores=body.get("TargetStores"), ttl_duration=body.get("TtlDuration")
            )
            return {}
        if method == "DELETE":
            group.delete_record(
                single("RecordIdentifierValueAsString"),
                single("EventTime"),
                deletion_mode=single("DeletionMode", required=False) or "SoftDelete",
                target_stores=query.get("TargetStores"),
            )
            return {}
        raise ValidationError(f"unknown operation {method} {path}")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_POST(self) -> None:
        self._dispatch("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    store: FeatureStore


class FeatureStoreRuntimeServer:
    """A local endpoint of the Feature Store runtime API over ``store``.

    Parameters
    ----------
    store : FeatureStore
        The store whose feature groups it serves.
    host : str, optional
        Loopback address to listen on.
    port : int, optional
        0 (the default) picks a free port; see :attr:`endpoint_url`.
    """

    _running: ClassVar[weakref.WeakSet[FeatureStoreRuntimeServer]] = weakref.WeakSet()

    def __init__(self, store: FeatureStore, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not isinstance(store, FeatureStore):
            raise ValidationError(f"store must be a FeatureStore, got {type(store).__name__}")
        self.store = store
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        """``http://host:port`` of the running server (pass it to boto3 as ``endpoint_url``)."""
        if self._server is None:
            raise ValidationError("the server is not running; call start() or use it in a with block")
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def running(self) -> bool:
        """Whether the server is accepting requests."""
        return self._server is not None

    @classmethod
    def running_servers(cls) -> list[FeatureStoreRuntimeServer]:
        """Servers of this process that are still running."""
        return [server for server in cls._running if server.running]

    def start(self) -> FeatureStoreRuntimeServer:
        """Start listening (in a background thread); returns self."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.store = self.store
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="feature-store-runtime", daemon=True
        )
        self._thread.start()
        self._running.add(self)
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop the server and release its port. Calling it again does nothing."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()
        self._running.discard(self)
        atexit.unregister(self.stop)

    def __enter__(self) -> FeatureStoreRuntimeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve a store folder until interrupted: ``python -m course.feature_store.server --root DIR``."""
    parser = argparse.ArgumentParser(description="Serve the Feature Store runtime API over a local store.")
    parser.add_argument("--root", required=True, help="the FeatureStore folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    with (
        FeatureStore(args.root) as store,
        FeatureStoreRuntimeServer(store, host=args.host, port=args.port) as server,
    ):
        print(server.endpoint_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
