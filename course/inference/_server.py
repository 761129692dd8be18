"""The endpoint process: a Starlette app served by uvicorn (private).

One process per endpoint, started by :class:`course.inference.Endpoint` with
``python -m course.inference._server CONFIG FD``: ``CONFIG`` is a JSON file
describing the endpoint, ``FD`` a listening socket the parent opened (so the
parent knows the port before the child starts). The app answers:

- the container contract: ``GET /ping`` and ``POST /invocations``;
- the ``sagemaker-runtime`` REST API: ``POST /endpoints/{name}/invocations``
  and ``POST /endpoints/{name}/async-invocations``, with AWS's error shapes
  (``X-Amzn-ErrorType`` header and a JSON body with ``message``);
- for multi-model endpoints, the container model API under ``/models``;
- ``/_local/...``: what the control plane does in SageMaker (update weights,
  describe, flush data capture, statistics), for the parent process only.

The process stops when it receives SIGTERM or when its parent dies.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from course.inference._plugins import load_function
from course.inference._workers import AsyncQueue, ServerlessPool, Throttled, WorkerFailure
from course.inference.capture import DataCaptureConfig, capture_key, capture_record
from course.inference.handlers import HandlerError, InferenceHandler, decode, media_type
from course.inference.multimodel import ModelCache
from course.storage import LocalS3

CAPTURE_FLUSH_SECONDS = 1.0
PARENT_CHECK_SECONDS = 0.5


class ApiError(Exception):
    """An error answered in the runtime API's shape: status, ``X-Amzn-ErrorType``, JSON body."""

    def __init__(self, status: int, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def response(self) -> Response:
        return JSONResponse(
            {"message": self.message, **self.fields},
            status_code=self.status,
            headers={"x-amzn-ErrorType": self.code},
        )


class ModelFailure(Exception):
    """A handler failed or timed out: the container's status and message."""

    def __init__(self, status: int, message: str, variant: str) -> None:
        super().__init__(message)
        self.status, self.message, self.variant = status, message, variant

    def api_error(self) -> ApiError:
        side = "client" if 400 <= self.status < 500 else "server"
        return ApiError(
            424,
            "ModelError",
            f'Received {side} error ({self.status}) from {self.variant} with message "{self.message}".',
            OriginalStatusCode=self.status,
            OriginalMessage=self.message,
            LogStreamArn=f"local/{self.variant}",
        )


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CaptureWriter:
    """Buffers capture records per variant and writes them as new JSON Lines objects."""

    def __init__(self, config: DataCaptureConfig, endpoint_name: str, s3: LocalS3, seed: int | None) -> None:
        self.config, self.endpoint_name, self.s3 = config, endpoint_name, s3
        self.random = random.Random(seed)
        self.buffers: dict[str, list[str]] = {}

    def sampled(self) -> bool:
        return self.config.enable_capture and self.random.random() * 100 < self.config.sampling_percentage

    def add(self, variant: str, record: dict[str, Any]) -> None:
        self.buffers.setdefault(variant, []).append(json.dumps(record))

    def flush(self) -> int:
        written = 0
        for variant, lines in list(self.buffers.items()):
            if lines:
                self.buffers[variant] = []
                uri = capture_key(
                    self.config.destination_s3_uri, self.endpoint_name, variant, datetime.now(UTC)
                )
                self.s3.put_object(uri, "\n".join(lines) + "\n")
                written += len(lines)
        return written


class Variant:
    """A production or shadow variant: its handler (or worker pool) and weight."""

    def __init__(self, name: str, weight: float, backend: Any) -> None:
        self.name, self.weight, self.backend = name, weight, backend
        self.invocations = 0


class EndpointState:
    """Everything one endpoint process holds."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.name: str = config["endpoint_name"]
        self.s3 = LocalS3(config["s3_root"])
        self.timeout: float = config["invocation_timeout_seconds"]
        self.max_payload: int = config["max_payload_bytes"]
        self.random = random.Random(config.get("seed"))
        self.executor = ThreadPoolExecutor(max_workers=config.get("threads", 4))
        self.variants: dict[str, Variant] = {}
        self.shadows: dict[str, Variant] = {}
        self.shadow_log: list[dict[str, Any]] = []
        self.model_cache: ModelCache | None = None
        self.serverless = None
        self.async_queue = None
        self.router = (
            load_function(Path(config["router_path"]).read_bytes()) if config.get("router_path") else None
        )
        capture = config.get("data_capture")
        self.capture = (
            CaptureWriter(DataCaptureConfig(**capture), self.name, self.s3, config.get("seed"))
            if capture
            else None
        )

    def load(self) -> None:
        """Load every variant's model (``model_fn``), or start the worker pools."""
        kind = self.config["kind"]
        if kind == "multi-model":
            mm = self.config["multi_model"]
            self.model_cache = ModelCache(
                mm["model_data_prefix"], s3=self.s3, memory_limit_bytes=mm["memory_limit_bytes"],
                work_dir=mm["work_dir"], choose_evictions=load_function(Path(mm["evictions_path"]).read_bytes()),
            )  # fmt: skip
        if kind == "serverless":
            self.serverless = ServerlessPool(
                self.config["serverless"], self.config["variants"][0]["model_dir"]
            )
        if kind == "async":
            self.async_queue = AsyncQueue(
                self.config["async"], self.config["variants"][0]["model_dir"], self.s3
            )
        for spec in self.config["variants"]:
            backend = InferenceHandler(spec["model_dir"]) if kind in ("realtime",) else None
            self.variants[spec["name"]] = Variant(spec["name"], spec["weight"], backend)
        for spec in self.config.get("shadow_variants", []):
            self.shadows[spec["name"]] = Variant(
                spec["name"], spec["weight"], InferenceHandler(spec["model_dir"])
            )

    def choose_variant(self, target: str | None) -> Variant:
        """SageMaker's routing: ``TargetVariant`` if given, else by weight with the endpoint's router.

        The router is the ``route_requests`` function handed to the endpoint
        (assignment 04 Part A), called with this request's random draw.
        """
        if target:
            if target not in self.variants:
                raise ApiError(
                    400, "ValidationError",
                    f"Target variant {target!r} is not a production variant of endpoint {self.name!r}; "
                    f"use one of {sorted(self.variants)}",
                )  # fmt: skip
            return self.variants[target]
        if all(v.weight <= 0 for v in self.variants.values()):
            raise ApiError(
                400, "ValidationError",
                f"every production variant of endpoint {self.name!r} has weight 0; set a weight "
                "with update_endpoint_weights_and_capacities or pass TargetVariant",
            )  # fmt: skip
        if self.router is None:  # one production variant: nothing to choose
            return next(iter(self.variants.values()))
        weights = {name: v.weight for name, v in self.variants.items()}
        try:
            chosen = self.router(weights, [self.random.random()], [None])
        except Exception as error:  # the router is the student's code: report whatever it raised
            raise ApiError(500, "InternalFailure", f"the endpoint's router raised {error!r}") from None
        if not isinstance(chosen, list) or len(chosen) != 1 or chosen[0] not in self.variants:
            raise ApiError(
                500, "InternalFailure",
                f"the endpoint's router returned {chosen!r}, not a list with one of {sorted(self.variants)}",
            )  # fmt: skip
        return self.variants[chosen[0]]

    async def run(self, handler: InferenceHandler, body: bytes, content_type: str, accept: str | None,
                  variant: str) -> tuple[bytes, str]:  # fmt: skip
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.executor, handler.invoke, body, content_type, accept)
        try:
            return await asyncio.wait_for(future, self.timeout)
        except HandlerError as error:
            raise ModelFailure(error.status_code, str(error), variant) from None
        except TimeoutError:
            raise ModelFailure(
                0, f"Your invocation timed out while waiting for a response from container {variant} "
                f"after {self.timeout:g} s.", variant,
            ) from None  # fmt: skip

    async def invoke(self, body: bytes, content_type: str, accept: str | None, *, target_variant: str | None,
                     target_model: str | None, inference_id: str | None) -> tuple[bytes, str, str, dict[str, str]]:  # fmt: skip
        """Answer one invocation: body, content type, answering variant, extra headers."""
        headers: dict[str, str] = {}
        if self.model_cache is not None:
            variant = next(iter(self.variants.values()))
            if not target_model:
                raise ApiError(400, "ValidationError", "a multi-model endpoint needs TargetModel, the artifact's path under the model prefix (such as 'model-a.tar.gz')")  # fmt: skip
            handler = await self._cached_model(target_model)
            variant.invocations += 1
            out, out_type = await self.run(handler, body, content_type, accept, variant.name)
            return out, out_type, variant.name, headers
        if target_model:
            raise ApiError(400, "ValidationError", f"endpoint {self.name!r} is not a multi-model endpoint; omit TargetModel")  # fmt: skip
        if self.async_queue is not None:
            raise ApiError(
                400,
                "ValidationError",
                f"endpoint {self.name!r} is asynchronous; call invoke_endpoint_async with an InputLocation",
            )
        variant = self.choose_variant(target_variant)
        variant.invocations += 1
        if self.serverless is not None:
            try:
                out, out_type, cold_ms = await self.serverless.invoke(
                    body, content_type, accept, self.timeout
                )
            except Throttled as error:
                raise ApiError(400, "ThrottlingException", str(error)) from None
            except WorkerFailure as failure:
                raise ModelFailure(failure.status, failure.message, variant.name) from None
            headers["x-local-model-setup-time-ms"] = f"{cold_ms:.3f}"
            return out, out_type, variant.name, headers
        start = time.perf_counter()
        out, out_type = await self.run(variant.backend, body, content_type, accept, variant.name)
        latency = time.perf_counter() - start
        event_id = str(uuid.uuid4())
        if self.capture is not None and self.capture.sampled():
            self.capture.add(variant.name, capture_record(
                self.capture.config, request=body, request_type=content_type, response=out,
                response_type=out_type, event_id=event_id, inference_time=_now_iso(), inference_id=inference_id,
            ))  # fmt: skip
        for shadow in self.shadows.values():
            if self.random.random() < shadow.weight / max(variant.weight, 1e-12):
                asyncio.get_running_loop().create_task(
                    self._shadow(shadow, body, content_type, accept, variant.name, out, latency, event_id)
                )
        return out, out_type, variant.name, headers

    async def _cached_model(self, target_model: str) -> InferenceHandler:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, self.model_cache.get, target_model)
        except LookupError as error:
            raise ApiError(400, "ValidationError", str(error.args[0])) from None
        except (HandlerError, ValueError, OSError) as error:
            raise ModelFailure(500, f"could not load model {target_model!r}: {error}", "primary") from None

    async def _shadow(self, shadow: Variant, body: bytes, content_type: str, accept: str | None,
                      production: str, production_out: bytes, production_latency: float, event_id: str) -> None:  # fmt: skip
        shadow.invocations += 1
        start = time.perf_counter()
        entry: dict[str, Any] = {"eventId": event_id, "production_variant": production, "shadow_variant": shadow.name,
                                 "production_latency_ms": production_latency * 1000}  # fmt: skip
        try:
            out, _ = await self.run(shadow.backend, body, content_type, accept, shadow.name)
            entry.update(shadow_latency_ms=(time.perf_counter() - start) * 1000, error=None,
                         outputs_equal=out == production_out, max_abs_difference=_max_abs_difference(production_out, out, accept))  # fmt: skip
        except ModelFailure as failure:
            entry.update(shadow_latency_ms=(time.perf_counter() - start) * 1000, error=failure.message,
                         outputs_equal=False, max_abs_difference=None)  # fmt: skip
        self.shadow_log.append(entry)

    def describe(self) -> dict[str, Any]:
        return {
            "EndpointName": self.name,
            "EndpointStatus": "InService",
            "ProductionVariants": [
                {"VariantName": v.name, "CurrentWeight": v.weight, "Invocations": v.invocations}
                for v in self.variants.values()
            ],
            "ShadowProductionVariants": [
                {"VariantName": v.name, "CurrentWeight": v.weight, "Invocations": v.invocations}
                for v in self.shadows.values()
            ],
        }


def _max_abs_difference(a: bytes, b: bytes, accept: str | None) -> float | None:
    """Largest absolute difference between two numeric responses, or None if they do not parse alike."""
    kind = media_type(accept) or "application/json"
    try:
        x, y = decode(a, kind), decode(b, kind)
    except HandlerError:
        return None
    if x.shape != y.shape:
        return None
    return float(np.max(np.abs(x - y))) if x.size else 0.0


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    too_large = f"the request payload is larger than the {limit // (1024 * 1024)} MB ({limit} bytes) limit; send smaller requests"
    if length is not None and int(length) > limit:
        raise ApiError(413, "ValidationError", too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "ValidationError", too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(config: dict[str, Any]) -> Starlette:
    """The endpoint's ASGI app for ``config`` (see :class:`course.inference.Endpoint`)."""
    state = EndpointState(config)

    async def ping(request: Request) -> Response:
        return Response(status_code=200)

    async def container_invocations(request: Request) -> Response:
        try:
            body = await _read_body(request, state.max_payload)
            out, out_type, variant, headers = await state.invoke(
                body, request.headers.get("content-type", ""), request.headers.get("accept"),
                target_variant=request.headers.get("x-amzn-sagemaker-target-variant"),
                target_model=request.headers.get("x-amzn-sagemaker-target-model"),
                inference_id=request.headers.get("x-amzn-sagemaker-inference-id"),
            )  # fmt: skip
        except ApiError as error:
            return Response(error.message, status_code=error.status, media_type="text/plain")
        except ModelFailure as failure:
            return Response(failure.message, status_code=failure.status or 500, media_type="text/plain")
        return Response(
            out, media_type=out_type, headers={"x-amzn-invoked-production-variant": variant, **headers}
        )

    async def runtime_invocations(request: Request) -> Response:
        try:
            _check_name(request)
            body = await _read_body(request, state.max_payload)
            out, out_type, variant, headers = await state.invoke(
                body, request.headers.get("content-type", "application/octet-stream"), request.headers.get("accept"),
                target_variant=request.headers.get("x-amzn-sagemaker-target-variant"),
                target_model=request.headers.get("x-amzn-sagemaker-target-model"),
                inference_id=request.headers.get("x-amzn-sagemaker-inference-id"),
            )  # fmt: skip
        except ApiError as error:
            return error.response()
        except ModelFailure as failure:
            return failure.api_error().response()
        headers["x-Amzn-Invoked-Production-Variant"] = variant
        return Response(out, media_type=out_type, headers=headers)

    async def runtime_async_invocations(request: Request) -> Response:
        try:
            _check_name(request)
            if state.async_queue is None:
                raise ApiError(400, "ValidationError", f"endpoint {state.name!r} is not an asynchronous endpoint; use invoke_endpoint")  # fmt: skip
            try:
                accepted = state.async_queue.submit(dict(request.headers))
            except ValueError as error:
                raise ApiError(400, "ValidationError", str(error)) from None
        except ApiError as error:
            return error.response()
        return JSONResponse(
            {"InferenceId": accepted["InferenceId"]}, status_code=202,
            headers={"X-Amzn-SageMaker-OutputLocation": accepted["OutputLocation"],
                     "X-Amzn-SageMaker-FailureLocation": accepted["FailureLocation"]},
        )  # fmt: skip

    def _check_name(request: Request) -> None:
        name = request.path_params["name"]
        if name != state.name:
            raise ApiError(
                400,
                "ValidationError",
                f"Endpoint {name} not found; this server hosts endpoint {state.name!r}",
            )

    async def list_models(request: Request) -> Response:
        cache = _require_cache()
        return JSONResponse({"models": cache.loaded()})

    async def load_model(request: Request) -> Response:
        cache = _require_cache()
        try:
            spec = await request.json()
            name, url = spec["model_name"], spec["url"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"message": 'send {"model_name": ..., "url": ...}'}, status_code=400)
        try:
            await asyncio.get_running_loop().run_in_executor(state.executor, cache.load_as, name, url)
        except LookupError as error:
            return JSONResponse({"message": str(error.args[0])}, status_code=404)
        except FileExistsError as error:
            return JSONResponse({"message": str(error)}, status_code=409)
        return JSONResponse({"model_name": name, "url": url})

    async def model_detail(request: Request) -> Response:
        cache = _require_cache()
        name = request.path_params["model"]
        info = cache.describe(name)
        if info is None:
            return JSONResponse({"message": f"model {name!r} is not loaded"}, status_code=404)
        if request.method == "DELETE":
            cache.unload(name)
        return JSONResponse(info)

    async def model_invoke(request: Request) -> Response:
        cache = _require_cache()
        name = request.path_params["model"]
        handler = cache.handler(name)
        if handler is None:
            return JSONResponse({"message": f"model {name!r} is not loaded"}, status_code=404)
        try:
            body = await _read_body(request, state.max_payload)
            out, out_type = await state.run(handler, body, request.headers.get("content-type", ""),
                                            request.headers.get("accept"), name)  # fmt: skip
        except ApiError as error:
            return Response(error.message, status_code=error.status)
        except ModelFailure as failure:
            return Response(failure.message, status_code=failure.status or 500)
        return Response(out, media_type=out_type)

    def _require_cache() -> ModelCache:
        if state.model_cache is None:
            raise ApiError(404, "ValidationError", "not a multi-model endpoint")
        return state.model_cache

    async def update_weights(request: Request) -> Response:
        desired = await request.json()
        unknown = sorted(set(desired) - set(state.variants))
        if unknown:
            return JSONResponse({"message": f"unknown variants {unknown}"}, status_code=400)
        for name, weight in desired.items():
            state.variants[name].weight = float(weight)
        return JSONResponse(state.describe())

    async def describe(request: Request) -> Response:
        return JSONResponse(state.describe())

    async def flush(request: Request) -> Response:
        written = state.capture.flush() if state.capture else 0
        return JSONResponse({"written": written})

    async def stats(request: Request) -> Response:
        result: dict[str, Any] = {"describe": state.describe(), "shadow": state.shadow_log}
        if state.model_cache is not None:
            result["models"] = state.model_cache.stats()
        if state.serverless is not None:
            result["serverless"] = state.serverless.stats()
        if state.async_queue is not None:
            result["async"] = state.async_queue.stats()
        return JSONResponse(result)

    async def api_error_handler(request: Request, error: Exception) -> Response:
        return error.response()

    @asynccontextmanager
    async def lifespan(app: Starlette):
        await asyncio.get_running_loop().run_in_executor(state.executor, state.load)
        tasks = [asyncio.create_task(_watch_parent())]
        if state.capture is not None:
            tasks.append(asyncio.create_task(_flush_capture(state)))
        if state.serverless is not None:
            tasks.append(asyncio.create_task(state.serverless.reap_idle()))
        if state.async_queue is not None:
            tasks.append(asyncio.create_task(state.async_queue.supervise()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if state.capture is not None:
                state.capture.flush()
            if state.serverless is not None:
                state.serverless.close()
            if state.async_queue is not None:
                state.async_queue.close()
            state.executor.shutdown(wait=False, cancel_futures=True)

    routes = [
        Route("/ping", ping, methods=["GET"]),
        Route("/invocations", container_invocations, methods=["POST"]),
        Route("/endpoints/{name}/invocations", runtime_invocations, methods=["POST"]),
        Route("/endpoints/{name}/async-invocations", runtime_async_invocations, methods=["POST"]),
        Route("/models", list_models, methods=["GET"]),
        Route("/models", load_model, methods=["POST"]),
        Route("/models/{model:path}/invoke", model_invoke, methods=["POST"]),
        Route("/models/{model:path}", model_detail, methods=["GET", "DELETE"]),
        Route("/_local/weights", update_weights, methods=["POST"]),
        Route("/_local/describe", describe, methods=["GET"]),
        Route("/_local/flush", flush, methods=["POST"]),
        Route("/_local/stats", stats, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={ApiError: api_error_handler})


async def _flush_capture(state: EndpointState) -> None:
    while True:
        await asyncio.sleep(CAPTURE_FLUSH_SECONDS)
        await asyncio.get_running_loop().run_in_executor(None, state.capture.flush)


async def _watch_parent() -> None:
    """Stop the server when the process that started it is gone."""
    parent = os.getppid()
    while True:
        await asyncio.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os.kill(os.getpid(), 15)
            return


def main(argv: list[str]) -> None:
    config_path, fd = argv[0], int(argv[1])
    with open(config_path) as f:
        config = json.load(f)
    sock = socket.socket(fileno=fd)
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(config),
            log_level="warning",
            http="httptools",
            loop="asyncio",
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=5,
        )  # fmt: skip
    )
    server.run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1:])
