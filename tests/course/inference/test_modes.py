"""Serverless, asynchronous, multi-model and shadow endpoints."""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time

import pytest
from botocore.exceptions import ClientError
from sklearn.linear_model import LogisticRegression

from course.inference import (
    AsyncInferenceConfig,
    Endpoint,
    Model,
    MultiDataModel,
    ProductionVariant,
    ServerlessInferenceConfig,
    create_model_artifact,
    extract_model_artifact,
)

from .conftest import SLOW_SCRIPT


def _wait(predicate, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.slow
def test_serverless_cold_start_warm_reuse_scale_to_zero_and_throttling(s3, model, iris):
    X, _ = iris
    slow = create_model_artifact(
        model, "s3://models/slow-sl/model.tar.gz", inference_script=SLOW_SCRIPT, s3=s3
    )
    config = ServerlessInferenceConfig(memory_size_in_mb=1024, max_concurrency=1, idle_seconds=1.0)
    with Model(slow, s3=s3).deploy(
        endpoint_name="serverless", serverless_inference_config=config
    ) as endpoint:
        client = endpoint.runtime_client()

        def invoke(row: str) -> dict:
            return client.invoke_endpoint(
                EndpointName="serverless", Body=row.encode(), ContentType="text/csv"
            )

        first = invoke("0,3.5,1.4,0.2")
        cold = float(first["ResponseMetadata"]["HTTPHeaders"]["x-local-model-setup-time-ms"])
        assert cold > 0 and json.loads(first["Body"].read()) == model.predict([[0, 3.5, 1.4, 0.2]]).tolist()
        warm = invoke("0,3.5,1.4,0.2")
        assert float(warm["ResponseMetadata"]["HTTPHeaders"]["x-local-model-setup-time-ms"]) == 0.0
        # A 2-second request holds the only slot: a second one at the same time is throttled.
        background = threading.Thread(target=invoke, args=("2,3.5,1.4,0.2",))
        background.start()
        _wait(
            lambda: (
                endpoint.stats()["serverless"]["workers"] == 1
                and endpoint.stats()["serverless"]["idle_workers"] == 0
            )
        )
        with pytest.raises(ClientError) as raised:
            invoke("0,3.5,1.4,0.2")
        assert raised.value.response["Error"]["Code"] == "ThrottlingException"
        background.join()
        _wait(lambda: endpoint.stats()["serverless"]["workers"] == 0)
        again = invoke("0,3.5,1.4,0.2")
        assert float(again["ResponseMetadata"]["HTTPHeaders"]["x-local-model-setup-time-ms"]) > 0
        stats = endpoint.stats()["serverless"]
        assert len(stats["cold_starts_ms"]) == 2 and stats["throttled"] == 1
        big = b"1,2,3,4\n" * (4 * 1024 * 1024 // 8 + 1)
        with pytest.raises(ClientError) as raised:
            client.invoke_endpoint(EndpointName="serverless", Body=big, ContentType="text/csv")
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
        pids = [endpoint.pid, *endpoint.stats()["serverless"]["idle_pids"]]
        assert len(pids) == 2
    for pid in pids:  # the endpoint and its worker are gone
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"memory_size_in_mb": 1000}, "MemorySizeInMB"), ({"memory_size_in_mb": 7168}, "MemorySizeInMB"),
     ({"max_concurrency": 0}, "MaxConcurrency"), ({"max_concurrency": 201}, "MaxConcurrency")],
)  # fmt: skip
def test_serverless_limits(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ServerlessInferenceConfig(**kwargs)


def test_serverless_has_no_variants_or_capture(s3, model_uri):
    from course.inference import DataCaptureConfig

    variant = ProductionVariant(Model(model_uri, s3=s3), serverless_config=ServerlessInferenceConfig())
    with pytest.raises(ValueError, match="serverless"):
        Endpoint(
            "sl", [variant], data_capture_config=DataCaptureConfig(destination_s3_uri="s3://capture/x"), s3=s3
        )


@pytest.mark.slow
def test_async_requests_survive_a_killed_worker(s3, model, iris):
    X, _ = iris
    slow = create_model_artifact(
        model, "s3://models/slow-async/model.tar.gz", inference_script=SLOW_SCRIPT, s3=s3
    )
    config = AsyncInferenceConfig(
        output_path="s3://async/out", failure_path="s3://async/failed", max_concurrent_invocations_per_instance=2,
        notification_config={"SuccessTopic": "s3://async/topics/success", "ErrorTopic": "s3://async/topics/error"},
        idle_seconds=1.0,
    )  # fmt: skip
    with Model(slow, s3=s3).deploy(endpoint_name="async", async_inference_config=config) as endpoint:
        client = endpoint.runtime_client()
        n = 30
        submitted = []
        for i in range(n):
            row = X[i].copy()
            row[0] = 0.05  # seconds the slow handler sleeps
            s3.put_object(f"s3://async/in/{i}.csv", ",".join(map(repr, row.tolist())))
            response = client.invoke_endpoint_async(
                EndpointName="async", InputLocation=f"s3://async/in/{i}.csv", ContentType="text/csv",
                Accept="text/csv", InferenceId=f"req-{i}",
            )  # fmt: skip
            assert response["InferenceId"] == f"req-{i}" and response["OutputLocation"].startswith(
                "s3://async/out/"
            )
            submitted.append(response)
        s3.put_object("s3://async/in/bad.csv", "1,2,x,4")
        bad = client.invoke_endpoint_async(
            EndpointName="async", InputLocation="s3://async/in/bad.csv", ContentType="text/csv"
        )
        _wait(
            lambda: len(endpoint.stats()["async"]["workers"]) == 2 and endpoint.stats()["async"]["done"] >= 3
        )
        os.kill(endpoint.stats()["async"]["workers"][0], signal.SIGKILL)
        _wait(
            lambda: (lambda a: a["done"] + a["failed"] == n + 1 and a["notifications"] == n + 1)(
                endpoint.stats()["async"]
            )
        )
        stats = endpoint.stats()["async"]
        assert stats["done"] == n and stats["failed"] == 1 and stats["restarts"] >= 1
        for i, response in enumerate(submitted):
            row = [0.05, *X[i, 1:].tolist()]
            assert s3.get_object(response["OutputLocation"]).decode().strip() == str(model.predict([row])[0])
        assert (
            not s3.exists(bad["OutputLocation"])
            and "status" not in s3.get_object(bad["FailureLocation"]).decode()
        )
        success = [json.loads(s3.get_object(u)) for u in s3.list_objects("s3://async/topics/success/")]
        assert sorted(m["inferenceId"] for m in success) == sorted(f"req-{i}" for i in range(n))
        errors = [json.loads(s3.get_object(u)) for u in s3.list_objects("s3://async/topics/error/")]
        assert [m["invocationStatus"] for m in errors] == ["Failed"]
        _wait(lambda: endpoint.stats()["async"]["workers"] == [])  # scale to zero on an empty backlog
        with pytest.raises(ClientError) as raised:
            client.invoke_endpoint_async(
                EndpointName="async", InputLocation="s3://async/in/0.csv", InvocationTimeoutSeconds=3601
            )
        assert raised.value.response["Error"]["Code"] == "ValidationError"
        with pytest.raises(ClientError) as raised:
            client.invoke_endpoint(EndpointName="async", Body=b"1,2,3,4", ContentType="text/csv")
        assert raised.value.response["Error"]["Code"] == "ValidationError"


@pytest.mark.slow
def test_async_invocation_timeout_fails_the_request(s3, model):
    slow = create_model_artifact(
        model, "s3://models/slow-async2/model.tar.gz", inference_script=SLOW_SCRIPT, s3=s3
    )
    config = AsyncInferenceConfig(output_path="s3://async2/out", max_concurrent_invocations_per_instance=1)
    with Model(slow, s3=s3).deploy(endpoint_name="async2", async_inference_config=config) as endpoint:
        s3.put_object("s3://async2/in/slow.csv", "30,3.5,1.4,0.2")
        s3.put_object("s3://async2/in/fast.csv", "0,3.5,1.4,0.2")
        client = endpoint.runtime_client()
        slow_request = client.invoke_endpoint_async(EndpointName="async2", InputLocation="s3://async2/in/slow.csv",
                                                    ContentType="text/csv", InvocationTimeoutSeconds=1)  # fmt: skip
        fast = client.invoke_endpoint_async(EndpointName="async2", InputLocation="s3://async2/in/fast.csv",
                                            ContentType="text/csv")  # fmt: skip
        _wait(lambda: s3.exists(fast["OutputLocation"]))
        assert "InvocationTimeoutSeconds" in s3.get_object(slow_request["FailureLocation"]).decode()
        assert not s3.exists(slow_request["OutputLocation"])


@pytest.mark.slow
def test_multi_model_loads_on_demand_and_evicts_least_recently_used(s3, iris, tmp_path):
    X, y = iris
    sizes = {}
    for name, C in [("a", 0.01), ("b", 1.0), ("c", 100.0)]:
        uri = create_model_artifact(
            LogisticRegression(C=C, max_iter=500).fit(X, y), f"s3://mme-src/{name}/model.tar.gz", s3=s3
        )
        sizes[name] = uri
    mme = MultiDataModel("mme", "s3://mme/models/", s3=s3)
    for name, uri in sizes.items():
        mme.add_model(uri, f"{name}.tar.gz")
    assert mme.list_models() == ["a.tar.gz", "b.tar.gz", "c.tar.gz"]
    extracted = [extract_model_artifact(uri, tmp_path / name, s3=s3) for name, uri in sizes.items()]
    largest = max(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) for folder in extracted)
    # Room for any two models at a time, never three.
    with mme.deploy(memory_limit_mb=(2 * largest + 1) / 2**20) as endpoint:
        client = endpoint.runtime_client()

        def call(target: str) -> list:
            body = client.invoke_endpoint(EndpointName="mme", Body=b"5.9,3.0,5.1,1.8", ContentType="text/csv",
                                          TargetModel=target)["Body"].read()  # fmt: skip
            return json.loads(body)

        models = {
            name: LogisticRegression(C=C, max_iter=500).fit(X, y)
            for name, C in [("a", 0.01), ("b", 1.0), ("c", 100.0)]
        }
        for target in ["a.tar.gz", "b.tar.gz", "a.tar.gz", "c.tar.gz", "a.tar.gz", "b.tar.gz"]:
            assert call(target) == models[target[0]].predict([[5.9, 3.0, 5.1, 1.8]]).tolist()
        stats = endpoint.stats()["models"]
        assert stats["loads"] == {"a.tar.gz": 1, "b.tar.gz": 2, "c.tar.gz": 1}
        assert stats["hits"] == {"a.tar.gz": 2}
        assert stats["evictions"] == ["b.tar.gz", "c.tar.gz"]
        with pytest.raises(ClientError) as raised:
            call("missing.tar.gz")
        assert raised.value.response["Error"]["Code"] == "ValidationError"
        with pytest.raises(ClientError):
            client.invoke_endpoint(EndpointName="mme", Body=b"5.9,3.0,5.1,1.8", ContentType="text/csv")

        def request(
            method: str, path: str, body: bytes | None = None, headers: dict | None = None
        ) -> tuple[int, bytes]:
            connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=30)
            try:
                connection.request(method, path, body=body, headers=headers or {})
                response = connection.getresponse()
                return response.status, response.read()
            finally:
                connection.close()

        status, listed = request("GET", "/models")
        assert status == 200 and [m["modelName"] for m in json.loads(listed)["models"]] == [
            "a.tar.gz",
            "b.tar.gz",
        ]
        assert request("DELETE", "/models/a.tar.gz")[0] == 200
        assert (
            request("POST", "/models", json.dumps({"model_name": "extra", "url": sizes["c"]}).encode())[0]
            == 200
        )
        assert (
            request("POST", "/models", json.dumps({"model_name": "extra", "url": sizes["c"]}).encode())[0]
            == 409
        )
        status, body = request(
            "POST", "/models/extra/invoke", b"5.9,3.0,5.1,1.8", {"Content-Type": "text/csv"}
        )
        assert status == 200 and json.loads(body) == models["c"].predict([[5.9, 3.0, 5.1, 1.8]]).tolist()
        assert request("DELETE", "/models/nothing")[0] == 404


@pytest.mark.slow
def test_shadow_variant_gets_copies_and_only_production_answers(s3, model_uri, proba_uri, iris):
    X, _ = iris
    production = ProductionVariant(Model(model_uri, s3=s3), variant_name="production")
    shadow = ProductionVariant(Model(proba_uri, s3=s3), variant_name="shadow", initial_variant_weight=0.5)
    with Endpoint("shadowed", [production], shadow_production_variants=[shadow], s3=s3, seed=1) as endpoint:
        client = endpoint.runtime_client()
        for row in X[:40]:
            response = client.invoke_endpoint(EndpointName="shadowed", Body=",".join(map(repr, row.tolist())),
                                              ContentType="text/csv")  # fmt: skip
            assert response["InvokedProductionVariant"] == "production"
        _wait(
            lambda: (
                endpoint.describe_endpoint()["ShadowProductionVariants"][0]["Invocations"]
                == len(endpoint.stats()["shadow"])
            )
        )
        log = endpoint.stats()["shadow"]
        assert 5 <= len(log) <= 35  # about half of 40 requests
        assert all(entry["outputs_equal"] is False and entry["max_abs_difference"] is None for entry in log)
        assert all(
            entry["shadow_latency_ms"] > 0 and entry["production_variant"] == "production" for entry in log
        )
    with pytest.raises(ValueError, match="shadow"):
        Endpoint("two", [production, ProductionVariant(Model(model_uri, s3=s3), variant_name="p2")],
                 shadow_production_variants=[shadow], s3=s3)  # fmt: skip
