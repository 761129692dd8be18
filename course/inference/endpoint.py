"""Real-time, serverless, asynchronous and multi-model endpoints on local processes.

Each :class:`Endpoint` is one server process (uvicorn running a Starlette
app) on a port of ``127.0.0.1``. It answers the model container contract
(``GET /ping``, ``POST /invocations``) and the ``sagemaker-runtime`` REST API,
so ``boto3.client("sagemaker-runtime", endpoint_url=endpoint.url)`` works
unchanged (:meth:`Endpoint.runtime_client` builds one). Several endpoints can
run at once; each is stopped by :meth:`Endpoint.stop`, by leaving its
``with`` block, when the Python process exits, or when its parent dies.

Used by assignment 04 (``source/04_inference``).

Examples
--------
>>> import tempfile
>>> from sklearn.linear_model import LogisticRegression
>>> from course.inference import Model, create_model_artifact
>>> from course.storage import LocalS3
>>> s3 = LocalS3(tempfile.mkdtemp())
>>> uri = create_model_artifact(LogisticRegression().fit([[0.0], [1.0]], [0, 1]),
...                             "s3://my-bucket/models/model.tar.gz", s3=s3)
>>> with Model(uri, s3=s3).deploy(endpoint_name="demo") as endpoint:
...     response = endpoint.runtime_client().invoke_endpoint(
...         EndpointName="demo", Body=b"0.9", ContentType="text/csv", Accept="text/csv")
...     response["Body"].read(), response["InvokedProductionVariant"]
(b'1\\n', 'AllTraffic')
"""

from __future__ import annotations

import atexit
import http.client
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.inference._plugins import dump_function, plug_in
from course.inference.artifact import extract_model_artifact
from course.inference.capture import DataCaptureConfig
from course.platform import REALTIME_MAX_PAYLOAD_MB, REALTIME_MAX_SECONDS, SERVERLESS_MAX_PAYLOAD_MB
from course.storage import LocalS3, parse_s3_uri

__all__ = [
    "AsyncInferenceConfig",
    "Endpoint",
    "Model",
    "MultiDataModel",
    "ProductionVariant",
    "ServerlessInferenceConfig",
    "runtime_client",
]

MB = 1024 * 1024
_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
STARTUP_SECONDS = 60.0
"""How long :meth:`Endpoint.start` waits for ``GET /ping`` (SageMaker allows 4 minutes)."""

_RUNNING: set[Endpoint] = set()


def _check_name(value: str, what: str) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} is invalid: use 1-63 letters, digits and hyphens, starting and "
            "ending with a letter or digit (such as 'churn-model-1')"
        )


def runtime_client(url: str) -> Any:
    """A boto3 ``sagemaker-runtime`` client that talks to the local endpoint at ``url``.

    Credentials are placeholders (the local server does not check signatures)
    and botocore's retries are off, so each call is one HTTP request and its
    error comes back as is.
    """
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sagemaker-runtime", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=REALTIME_MAX_SECONDS + 10),
    )  # fmt: skip


class Model:
    """A model artifact plus its handlers, ready to deploy (the SDK's ``Model``).

    Parameters
    ----------
    model_data : str
        ``s3://.../model.tar.gz`` made by :func:`create_model_artifact`.
    name : str, optional
        The model's name; defaults to one derived from the artifact key.
    s3 : LocalS3, optional
        The object store; the default store when omitted.
    """

    def __init__(self, model_data: str, *, name: str | None = None, s3: LocalS3 | None = None) -> None:
        parse_s3_uri(model_data)
        self.model_data = model_data
        self.s3 = s3 or LocalS3()
        if not self.s3.exists(model_data):
            raise ValueError(
                f"no model artifact at {model_data!r}; create it with create_model_artifact first"
            )
        default = re.sub(
            r"[^a-zA-Z0-9]+", "-", model_data.rsplit("/", 2)[-2] if "/" in model_data else "model"
        )
        self.name = name or default.strip("-")[:63] or "model"

    def __repr__(self) -> str:
        return f"Model(model_data={self.model_data!r}, name={self.name!r})"

    def deploy(
        self,
        initial_instance_count: int = 1,
        instance_type: str = "ml.m5.large",
        *,
        endpoint_name: str | None = None,
        variant_name: str = "AllTraffic",
        data_capture_config: DataCaptureConfig | None = None,
        serverless_inference_config: ServerlessInferenceConfig | None = None,
        async_inference_config: AsyncInferenceConfig | None = None,
        seed: int | None = None,
    ) -> Endpoint:
        """Start an endpoint with this model as its only variant and return it (running).

        Use it as a context manager, or call :meth:`Endpoint.stop`.
        """
        variant = ProductionVariant(
            self, variant_name=variant_name, initial_instance_count=initial_instance_count,
            instance_type=instance_type, serverless_config=serverless_inference_config,
        )  # fmt: skip
        endpoint = Endpoint(
            endpoint_name or self.name, [variant], data_capture_config=data_capture_config,
            async_inference_config=async_inference_config, s3=self.s3, seed=seed,
        )  # fmt: skip
        return endpoint.start()


class MultiDataModel:
    """Many model artifacts under one S3 prefix behind one endpoint (the SDK's ``MultiDataModel``).

    Parameters
    ----------
    name : str
        The model's name.
    model_data_prefix : str
        ``s3://bucket/prefix/`` holding the ``.tar.gz`` artifacts.
    s3 : LocalS3, optional
        The object store.
    """

    def __init__(self, name: str, model_data_prefix: str, *, s3: LocalS3 | None = None) -> None:
        _check_name(name, "model name")
        parse_s3_uri(model_data_prefix)
        self.name, self.s3 = name, s3 or LocalS3()
        self.model_data_prefix = (
            model_data_prefix if model_data_prefix.endswith("/") else model_data_prefix + "/"
        )

    def add_model(self, model_data_source: str, model_data_path: str | None = None) -> str:
        """Copy an artifact under the prefix as ``model_data_path`` (default: its file name)."""
        target = model_data_path or model_data_source.rsplit("/", 1)[-1]
        self.s3.put_object(self.model_data_prefix + target, self.s3.get_object(model_data_source))
        return self.model_data_prefix + target

    def list_models(self) -> list[str]:
        """The ``TargetModel`` names available under the prefix."""
        return [
            uri.removeprefix(self.model_data_prefix) for uri in self.s3.list_objects(self.model_data_prefix)
        ]

    def deploy(
        self,
        initial_instance_count: int = 1,
        instance_type: str = "ml.m5.large",
        *,
        endpoint_name: str | None = None,
        memory_limit_mb: float = 64,
        choose_evictions: Callable[[list, dict, str, int], list] | None = None,
    ) -> Endpoint:
        """Start the multi-model endpoint and return it (running).

        ``memory_limit_mb`` (local only) is the instance memory available to
        loaded models; past it, models are unloaded to make room.
        ``choose_evictions(loaded, sizes, new_model, memory_limit_bytes)``
        says which (assignment 04 Part D writes it; see
        :class:`~course.inference.multimodel.ModelCache`). The student
        edition has no default: pass your function.

        Raises
        ------
        ValueError
            If ``choose_evictions`` is missing where the package has no
            reference, or cannot be sent to the server process.
        """
        endpoint = Endpoint(
            endpoint_name or self.name, [ProductionVariant(None, initial_instance_count=initial_instance_count,
                                                           instance_type=instance_type)],
            s3=self.s3, multi_model={"model_data_prefix": self.model_data_prefix,
                                     "memory_limit_bytes": int(memory_limit_mb * MB)},
            choose_evictions=choose_evictions,
        )  # fmt: skip
        return endpoint.start()


@dataclass(frozen=True)
class ServerlessInferenceConfig:
    """Serverless capacity (the SDK's ``ServerlessInferenceConfig``).

    Parameters
    ----------
    memory_size_in_mb : int
        1024 to 6144 in steps of 1024.
    max_concurrency : int
        1 to 200 invocations at once; more are throttled.
    idle_seconds : float
        Local only: how long an idle worker lives before the endpoint scales
        to zero (SageMaker does not document its idle period).
    """

    memory_size_in_mb: int = 2048
    max_concurrency: int = 5
    idle_seconds: float = 60.0

    def __post_init__(self) -> None:
        allowed = tuple(range(1024, 6145, 1024))
        if self.memory_size_in_mb not in allowed or isinstance(self.memory_size_in_mb, bool):
            raise ValueError(f"MemorySizeInMB ({self.memory_size_in_mb!r}) must be one of {allowed}")
        if (
            isinstance(self.max_concurrency, bool)
            or not isinstance(self.max_concurrency, int)
            or not 1 <= self.max_concurrency <= 200
        ):
            raise ValueError(f"MaxConcurrency ({self.max_concurrency!r}) must be an int from 1 to 200")
        if not self.idle_seconds > 0:
            raise ValueError(f"idle_seconds ({self.idle_seconds!r}) must be > 0")


@dataclass(frozen=True)
class AsyncInferenceConfig:
    """Asynchronous inference settings (the SDK's ``AsyncInferenceConfig``).

    Parameters
    ----------
    output_path : str
        ``S3OutputPath``: where ``<InferenceId>.out`` results go.
    failure_path : str, optional
        ``S3FailurePath``: where ``<InferenceId>-error.out`` goes; defaults to ``output_path``.
    max_concurrent_invocations_per_instance : int
        How many requests the workers process at once (one process each).
    notification_config : dict, optional
        ``{"SuccessTopic": "s3://...", "ErrorTopic": "s3://..."}``: locally a
        topic is an S3 prefix that receives one JSON message per outcome
        (SageMaker publishes to Amazon SNS).
    idle_seconds : float
        Local only: an empty backlog for this long scales the workers to zero.
    max_attempts : int
        Local only: a request whose worker died is retried this many times in
        all before it is recorded as failed.
    """

    output_path: str
    failure_path: str | None = None
    max_concurrent_invocations_per_instance: int = 2
    notification_config: dict[str, str] | None = None
    idle_seconds: float = 30.0
    max_attempts: int = 3

    def __post_init__(self) -> None:
        parse_s3_uri(self.output_path)
        if self.failure_path is not None:
            parse_s3_uri(self.failure_path)
        for key, topic in (self.notification_config or {}).items():
            if key not in ("SuccessTopic", "ErrorTopic"):
                raise ValueError(f"notification_config key {key!r} must be 'SuccessTopic' or 'ErrorTopic'")
            parse_s3_uri(topic)
        if not 1 <= self.max_concurrent_invocations_per_instance <= 1000:
            raise ValueError("max_concurrent_invocations_per_instance must be from 1 to 1000")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts ({self.max_attempts}) must be >= 1")


@dataclass(frozen=True)
class ProductionVariant:
    """One variant of an endpoint: a model, its traffic weight and capacity.

    Parameters
    ----------
    model : Model
        What the variant serves (None only inside a multi-model endpoint).
    variant_name : str
        ``VariantName``, unique within the endpoint.
    initial_variant_weight : float
        ``InitialVariantWeight``; the variant's share of traffic is its weight
        divided by the sum of the weights.
    initial_instance_count, instance_type :
        Recorded, not simulated: one process serves each endpoint.
    serverless_config : ServerlessInferenceConfig, optional
        Makes the endpoint serverless.
    """

    model: Model | None
    variant_name: str = "AllTraffic"
    initial_variant_weight: float = 1.0
    initial_instance_count: int = 1
    instance_type: str = "ml.m5.large"
    serverless_config: ServerlessInferenceConfig | None = None

    def __post_init__(self) -> None:
        _check_name(self.variant_name, "VariantName")
        weight = self.initial_variant_weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight >= 0:
            raise ValueError(
                f"InitialVariantWeight of {self.variant_name!r} ({weight!r}) must be a number >= 0"
            )
        if self.serverless_config is None and self.initial_instance_count < 1:
            raise ValueError(f"initial_instance_count ({self.initial_instance_count}) must be >= 1")


class Endpoint:
    """An endpoint: one or more production variants served by a local process.

    Parameters
    ----------
    endpoint_name : str
        ``EndpointName``; the runtime API checks it on every request.
    production_variants : list of ProductionVariant
        At least one, with distinct names.
    shadow_production_variants : list of ProductionVariant, optional
        At most one shadow variant, next to exactly one production variant. A
        request is copied to it with probability shadow weight / production
        weight (capped at 1); only the production variant answers.
    data_capture_config : DataCaptureConfig, optional
        Capture requests and responses to S3 (real-time endpoints only).
    async_inference_config : AsyncInferenceConfig, optional
        Makes the endpoint asynchronous.
    multi_model : dict, optional
        Set by :meth:`MultiDataModel.deploy`.
    s3 : LocalS3, optional
        The object store.
    router : callable, optional
        ``route_requests(weights, draws, target_variants) -> list`` of
        variant names (assignment 04 Part A): the endpoint calls it once per
        request without ``TargetVariant``, with the current weights (a dict
        in variant order), one uniform draw and ``[None]``. Needed only with
        several production variants; the student edition has no default, so
        pass yours.
    choose_evictions : callable, optional
        For a multi-model endpoint, which models to unload (assignment 04
        Part D; see :class:`~course.inference.multimodel.ModelCache`).
    seed : int, optional
        Seeds routing, data capture sampling and shadow sampling.
    invocation_timeout_seconds : float
        Local only, for tests: the 60 s limit on one invocation.
    max_payload_mb : int, optional
        Local only: the request size limit; 6 MB (4 MB serverless) by
        default. Batch transform raises it to its ``MaxPayloadInMB``.
    threads : int
        Local only: how many invocations the process runs at once.

    Raises
    ------
    ValueError
        For a configuration SageMaker refuses (duplicate variant names,
        serverless with data capture or several variants, ...), or a missing
        ``router``/``choose_evictions`` where the package has no reference.
    """

    def __init__(
        self,
        endpoint_name: str,
        production_variants: list[ProductionVariant],
        *,
        shadow_production_variants: list[ProductionVariant] | None = None,
        data_capture_config: DataCaptureConfig | None = None,
        async_inference_config: AsyncInferenceConfig | None = None,
        multi_model: dict[str, Any] | None = None,
        s3: LocalS3 | None = None,
        router: Callable[[dict, list, list], list] | None = None,
        choose_evictions: Callable[[list, dict, str, int], list] | None = None,
        seed: int | None = None,
        invocation_timeout_seconds: float = REALTIME_MAX_SECONDS,
        max_payload_mb: int | None = None,
        threads: int = 4,
    ) -> None:
        _check_name(endpoint_name, "EndpointName")
        shadows = list(shadow_production_variants or [])
        variants = list(production_variants)
        if not variants:
            raise ValueError("an endpoint needs at least one ProductionVariant")
        names = [v.variant_name for v in variants + shadows]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique within an endpoint, got {names}")
        serverless = [v for v in variants if v.serverless_config is not None]
        if serverless and (len(variants) > 1 or shadows or data_capture_config or async_inference_config):
            raise ValueError(
                "a serverless endpoint has exactly one variant and no shadow variant, data capture or "
                "asynchronous config (as in SageMaker)"
            )
        if shadows and (len(variants) != 1 or len(shadows) != 1):
            raise ValueError("a shadow test has exactly one production variant and one shadow variant")
        if (async_inference_config or multi_model) and (len(variants) > 1 or shadows):
            raise ValueError("locally, asynchronous and multi-model endpoints have one variant and no shadow")
        if (async_inference_config or multi_model) and data_capture_config:
            raise ValueError("locally, data capture is available on real-time endpoints only")
        if multi_model is None and any(v.model is None for v in variants + shadows):
            raise ValueError("every ProductionVariant needs a model")
        self.endpoint_name = endpoint_name
        self.production_variants = variants
        self.shadow_production_variants = shadows
        self.data_capture_config = data_capture_config
        self.async_inference_config = async_inference_config
        self.multi_model = multi_model
        self.s3 = s3 or LocalS3()
        self.seed = seed
        self.invocation_timeout_seconds = invocation_timeout_seconds
        self.max_payload_mb = max_payload_mb
        self.threads = threads
        if serverless:
            self.kind = "serverless"
        elif async_inference_config:
            self.kind = "async"
        elif multi_model:
            self.kind = "multi-model"
        else:
            self.kind = "realtime"
        self._router = dump_function(plug_in(router, role="route_requests")) if len(variants) > 1 else None
        self._evictions = (
            dump_function(plug_in(choose_evictions, role="choose_evictions")) if multi_model else None
        )
        self.port: int | None = None
        self._process: subprocess.Popen | None = None
        self._folder: Path | None = None
        self._client: Any = None

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self.is_running else "stopped"
        return f"Endpoint({self.endpoint_name!r}, {self.kind}, {state})"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, the ``endpoint_url`` for boto3."""
        if self.port is None:
            raise RuntimeError(f"endpoint {self.endpoint_name!r} is not running; call start() first")
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The server process id while it runs."""
        return self._process.pid if self.is_running else None

    def _config(self, folder: Path) -> dict[str, Any]:
        def variant_spec(v: ProductionVariant, weight: float) -> dict[str, Any]:
            spec = {"name": v.variant_name, "weight": float(weight), "model_dir": None}
            if v.model is not None:
                model_dir = folder / "models" / v.variant_name
                extract_model_artifact(v.model.model_data, model_dir, s3=v.model.s3)
                spec["model_dir"] = str(model_dir)
            return spec

        max_mb = SERVERLESS_MAX_PAYLOAD_MB if self.kind == "serverless" else REALTIME_MAX_PAYLOAD_MB
        max_mb = self.max_payload_mb or max_mb
        config: dict[str, Any] = {
            "endpoint_name": self.endpoint_name,
            "kind": self.kind,
            "s3_root": str(self.s3.root),
            "seed": self.seed,
            "invocation_timeout_seconds": self.invocation_timeout_seconds,
            "max_payload_bytes": max_mb * MB,
            "threads": self.threads,
            "variants": [variant_spec(v, v.initial_variant_weight) for v in self.production_variants],
            "shadow_variants": [
                variant_spec(v, v.initial_variant_weight) for v in self.shadow_production_variants
            ],
            "data_capture": self.data_capture_config.to_dict() if self.data_capture_config else None,
        }
        if self.kind == "serverless":
            sc = self.production_variants[0].serverless_config
            config["serverless"] = {"max_concurrency": sc.max_concurrency, "idle_seconds": sc.idle_seconds,
                                    "memory_size_in_mb": sc.memory_size_in_mb}  # fmt: skip
        if self.kind == "async":
            ac = self.async_inference_config
            config["async"] = {
                "endpoint_name": self.endpoint_name, "output_path": ac.output_path,
                "failure_path": ac.failure_path or ac.output_path, "workers": ac.max_concurrent_invocations_per_instance,
                "notification_config": ac.notification_config or {}, "idle_seconds": ac.idle_seconds,
                "max_attempts": ac.max_attempts, "db_path": str(folder / "queue.sqlite3"), "s3_root": str(self.s3.root),
            }  # fmt: skip
        if self._router is not None:
            config["router_path"] = str(folder / "router.pkl")
            (folder / "router.pkl").write_bytes(self._router)
        if self.kind == "multi-model":
            (folder / "evictions.pkl").write_bytes(self._evictions)
            config["multi_model"] = {**self.multi_model, "work_dir": str(folder / "models"),
                                     "evictions_path": str(folder / "evictions.pkl")}  # fmt: skip
        return config

    def start(self) -> Endpoint:
        """Start the server process and wait until ``GET /ping`` answers 200; return self.

        Raises
        ------
        RuntimeError
            If it is already running, or the process exits or does not become
            healthy within ``STARTUP_SECONDS`` (the message quotes its log,
            where an error in ``model_fn`` or ``inference.py`` shows).
        """
        if self.is_running:
            raise RuntimeError(f"endpoint {self.endpoint_name!r} is already running at {self.url}")
        self._folder = Path(tempfile.mkdtemp(prefix=f"endpoint-{self.endpoint_name}-"))
        try:
            config_path = self._folder / "config.json"
            config_path.write_text(json.dumps(self._config(self._folder)))
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            sock.listen(1024)
            self.port = sock.getsockname()[1]
            with open(self._folder / "server.log", "wb") as log:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "course.inference._server", str(config_path), str(sock.fileno())],
                    pass_fds=[sock.fileno()], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )  # fmt: skip
            sock.close()
            _RUNNING.add(self)
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"endpoint {self.endpoint_name!r} exited while starting (code {self._process.returncode}); "
                    f"its log:\n{self.logs()[-3000:]}"
                )
            try:
                status, _ = self._request("GET", "/ping", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(
            f"endpoint {self.endpoint_name!r} did not answer GET /ping within {STARTUP_SECONDS:g} s; "
            f"its log:\n{self.logs()[-3000:]}"
        )

    def logs(self) -> str:
        """The server's log (its stdout and stderr)."""
        if self._folder is None or not (self._folder / "server.log").exists():
            return ""
        return (self._folder / "server.log").read_text(errors="replace")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and remove its files. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        _RUNNING.discard(self)
        self.port = None
        self._client = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    delete_endpoint = stop

    def __enter__(self) -> Endpoint:
        if not self.is_running:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _request(
        self, method: str, path: str, body: bytes | None = None, *, timeout: float = 30
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _admin(self, method: str, path: str, payload: Any = None) -> Any:
        if not self.is_running:
            raise RuntimeError(f"endpoint {self.endpoint_name!r} is not running")
        status, body = self._request(method, path, None if payload is None else json.dumps(payload).encode())
        result = json.loads(body)
        if status != 200:
            raise ValueError(result.get("message", result))
        return result

    def runtime_client(self) -> Any:
        """A boto3 ``sagemaker-runtime`` client for this endpoint (see :func:`runtime_client`)."""
        if self._client is None:
            self._client = runtime_client(self.url)
        return self._client

    def describe_endpoint(self) -> dict[str, Any]:
        """``EndpointName``, ``EndpointStatus`` and each variant's ``CurrentWeight`` and invocation count."""
        return self._admin("GET", "/_local/describe")

    def update_endpoint_weights_and_capacities(
        self, DesiredWeightsAndCapacities: list[dict[str, Any]]
    ) -> dict[str, Any]:  # noqa: N803
        """Change variant weights without restarting, as the SageMaker API of that name.

        Parameters
        ----------
        DesiredWeightsAndCapacities : list of dict
            ``[{"VariantName": "A", "DesiredWeight": 0.2}, ...]``.

        Raises
        ------
        ValueError
            For an unknown variant or a negative weight.
        """
        desired = {}
        for item in DesiredWeightsAndCapacities:
            name, weight = item.get("VariantName"), item.get("DesiredWeight")
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight >= 0:
                raise ValueError(f"DesiredWeight of {name!r} ({weight!r}) must be a number >= 0")
            desired[name] = weight
        return self._admin("POST", "/_local/weights", desired)

    def flush_data_capture(self) -> int:
        """Write buffered capture records to S3 now; return how many were written.

        The endpoint also writes them every second and when it stops.
        """
        return self._admin("POST", "/_local/flush")["written"]

    def stats(self) -> dict[str, Any]:
        """Invocation counts, the shadow log, and the multi-model, serverless or asynchronous statistics."""
        return self._admin("GET", "/_local/stats")


@atexit.register
def _stop_all() -> None:
    for endpoint in list(_RUNNING):
        endpoint.stop()
