"""Real-time endpoints: the container contract, the runtime API through boto3, variants, capture, errors."""

from __future__ import annotations

import http.client
import json
import os

import numpy as np
import pytest
from botocore.exceptions import ClientError
from scipy.stats import binomtest

from course.inference import (
    DataCaptureConfig,
    Endpoint,
    Model,
    ProductionVariant,
    create_model_artifact,
    read_capture,
)
from course.storage import LocalS3

from .conftest import FAILING_SCRIPT, SLOW_SCRIPT


def _csv(X: np.ndarray) -> bytes:
    return "\n".join(",".join(map(repr, row)) for row in X.tolist()).encode()


def _post(
    endpoint: Endpoint, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def endpoint(s3: LocalS3, model_uri: str, proba_uri: str) -> Endpoint:
    variants = [
        ProductionVariant(Model(model_uri, s3=s3), variant_name="A", initial_variant_weight=3.0),
        ProductionVariant(Model(proba_uri, s3=s3), variant_name="B", initial_variant_weight=1.0),
    ]
    capture = DataCaptureConfig(destination_s3_uri="s3://capture/data", sampling_percentage=50)
    with Endpoint("iris", variants, data_capture_config=capture, s3=s3, seed=0) as running:
        yield running
    assert not running.is_running


def _error_code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


def test_boto3_invoke_matches_in_process_predict(endpoint, model, iris):
    X, _ = iris
    client = endpoint.runtime_client()
    response = client.invoke_endpoint(
        EndpointName="iris",
        Body=_csv(X[:20]),
        ContentType="text/csv",
        Accept="application/json",
        TargetVariant="A",
    )
    assert response["InvokedProductionVariant"] == "A"
    assert response["ContentType"] == "application/json"
    assert json.loads(response["Body"].read()) == model.predict(X[:20]).tolist()


def test_json_in_csv_out_and_custom_predict_fn(endpoint, model, iris):
    X, _ = iris
    response = endpoint.runtime_client().invoke_endpoint(
        EndpointName="iris", Body=json.dumps(X[:5].tolist()), ContentType="application/json",
        Accept="text/csv", TargetVariant="B",
    )  # fmt: skip
    got = np.loadtxt(response["Body"].read().decode().splitlines(), delimiter=",")
    np.testing.assert_allclose(got, model.predict_proba(X[:5]), rtol=1e-12)


def test_container_contract_ping_and_invocations(endpoint, model, iris):
    X, _ = iris
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
    connection.request("GET", "/ping")
    assert connection.getresponse().status == 200
    connection.close()
    status, headers, body = _post(endpoint, "/invocations", _csv(X[:3]), {"Content-Type": "text/csv",
                                  "Accept": "text/csv", "X-Amzn-SageMaker-Target-Variant": "A"})  # fmt: skip
    assert status == 200 and headers["x-amzn-invoked-production-variant"] == "A"
    assert body.decode().split() == [str(c) for c in model.predict(X[:3])]


def test_weighted_split_and_target_variant(endpoint):
    client = endpoint.runtime_client()
    answered = [
        client.invoke_endpoint(EndpointName="iris", Body=b"5.1,3.5,1.4,0.2", ContentType="text/csv")[
            "InvokedProductionVariant"
        ]
        for _ in range(200)
    ]
    assert set(answered) == {"A", "B"}
    # share of A = 3 / (3 + 1); a two-sided binomial test at 0.001 fails a wrong split, not chance.
    assert binomtest(answered.count("A"), len(answered), 0.75).pvalue > 0.001
    targeted = {client.invoke_endpoint(EndpointName="iris", Body=b"5.1,3.5,1.4,0.2", ContentType="text/csv",
                                       TargetVariant="B")["InvokedProductionVariant"] for _ in range(20)}  # fmt: skip
    assert targeted == {"B"}


def test_update_weights_without_restart(endpoint):
    pid = endpoint.pid
    try:
        described = endpoint.update_endpoint_weights_and_capacities(
            DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredWeight": 0.0}]
        )
        assert {v["VariantName"]: v["CurrentWeight"] for v in described["ProductionVariants"]} == {
            "A": 0.0,
            "B": 1.0,
        }
        client = endpoint.runtime_client()
        answered = {client.invoke_endpoint(EndpointName="iris", Body=b"5.1,3.5,1.4,0.2",
                                           ContentType="text/csv")["InvokedProductionVariant"] for _ in range(30)}  # fmt: skip
        assert answered == {"B"}
        assert endpoint.pid == pid
    finally:
        endpoint.update_endpoint_weights_and_capacities(
            DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredWeight": 3.0}]
        )
    with pytest.raises(ValueError, match="unknown variants"):
        endpoint.update_endpoint_weights_and_capacities(
            DesiredWeightsAndCapacities=[{"VariantName": "Z", "DesiredWeight": 1}]
        )
    with pytest.raises(ValueError, match="DesiredWeight"):
        endpoint.update_endpoint_weights_and_capacities(
            DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredWeight": -1}]
        )


def test_data_capture_format_and_sampling(endpoint, s3):
    endpoint.flush_data_capture()
    before = len(read_capture("s3://capture/data/iris/", s3=s3))
    client = endpoint.runtime_client()
    for i in range(100):
        client.invoke_endpoint(EndpointName="iris", Body=f"5.1,3.5,1.4,{i / 100}".encode(), ContentType="text/csv",
                               Accept="text/csv", TargetVariant="A", InferenceId=f"req-{i}")  # fmt: skip
    endpoint.flush_data_capture()
    records = read_capture("s3://capture/data/iris/A/", s3=s3)
    new = [r for r in records if r["eventMetadata"].get("inferenceId", "").startswith("req-")]
    assert binomtest(len(new), 100, 0.5).pvalue > 0.001
    record = new[0]
    assert record["eventVersion"] == "0"
    assert set(record["captureData"]) == {"endpointInput", "endpointOutput"}
    request = record["captureData"]["endpointInput"]
    assert (
        request["mode"] == "INPUT"
        and request["encoding"] == "CSV"
        and request["observedContentType"] == "text/csv"
    )
    i = int(record["eventMetadata"]["inferenceId"].split("-")[1])
    assert request["data"] == f"5.1,3.5,1.4,{i / 100}"
    assert record["captureData"]["endpointOutput"]["mode"] == "OUTPUT"
    assert (
        record["eventMetadata"]["inferenceTime"].endswith("Z")
        and len(record["eventMetadata"]["eventId"]) == 36
    )
    keys = s3.list_objects("s3://capture/data/iris/A/")
    assert all(k.endswith(".jsonl") and k.count("/") == 10 for k in keys)
    assert len(read_capture("s3://capture/data/iris/", s3=s3)) >= before + len(new)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [(b"1,2,3\n4,5", "text/csv", 400), (b"1,x,3,4", "text/csv", 400), (b"[[1, 2, 3, 4]", "application/json", 400),
     (b"1,2,3,4", "application/xml", 415), (b"", "text/csv", 400)],
)  # fmt: skip
def test_bad_input_is_a_model_error_and_the_server_keeps_serving(endpoint, body, content_type, status):
    client = endpoint.runtime_client()
    with pytest.raises(ClientError) as raised:
        client.invoke_endpoint(EndpointName="iris", Body=body, ContentType=content_type, TargetVariant="A")
    assert _error_code(raised.value) == "ModelError"
    assert raised.value.response["OriginalStatusCode"] == status
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    raw_status, _, message = _post(endpoint, "/invocations", body, {"Content-Type": content_type})
    assert raw_status == status and message
    ok = client.invoke_endpoint(
        EndpointName="iris", Body=b"5.1,3.5,1.4,0.2", ContentType="text/csv", TargetVariant="A"
    )
    assert ok["Body"].read() == b"[0]"


def test_validation_errors(endpoint):
    client = endpoint.runtime_client()
    with pytest.raises(ClientError) as raised:
        client.invoke_endpoint(
            EndpointName="iris", Body=b"1,2,3,4", ContentType="text/csv", TargetVariant="C"
        )
    assert (
        _error_code(raised.value) == "ValidationError" and "'C'" in raised.value.response["Error"]["Message"]
    )
    with pytest.raises(ClientError) as raised:
        client.invoke_endpoint(EndpointName="other", Body=b"1,2,3,4", ContentType="text/csv")
    assert _error_code(raised.value) == "ValidationError"
    with pytest.raises(ClientError) as raised:
        client.invoke_endpoint(
            EndpointName="iris", Body=b"1,2,3,4", ContentType="text/csv", TargetModel="a.tar.gz"
        )
    assert _error_code(raised.value) == "ValidationError"


def test_payload_over_6_mb_is_refused_with_413(endpoint):
    big = b"1.0,2.0,3.0,4.0\n" * (6 * 1024 * 1024 // 16 + 1)
    status, _, message = _post(endpoint, "/invocations", big, {"Content-Type": "text/csv"})
    assert status == 413 and b"6 MB" in message
    with pytest.raises(ClientError) as raised:
        endpoint.runtime_client().invoke_endpoint(EndpointName="iris", Body=big, ContentType="text/csv")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert _error_code(raised.value) == "ValidationError"
    just_under = b"5.1,3.5,1.4,0.2\n" * (6 * 1024 * 1024 // 16)
    assert len(just_under) <= 6 * 1024 * 1024
    status, _, _ = _post(
        endpoint,
        "/invocations",
        just_under,
        {"Content-Type": "text/csv", "X-Amzn-SageMaker-Target-Variant": "A"},
    )
    assert status == 200


@pytest.mark.slow
def test_handler_errors_and_timeouts(s3, model):
    failing = create_model_artifact(
        model, "s3://models/failing/model.tar.gz", inference_script=FAILING_SCRIPT, s3=s3
    )
    slow = create_model_artifact(model, "s3://models/slow/model.tar.gz", inference_script=SLOW_SCRIPT, s3=s3)
    variants = [ProductionVariant(Model(failing, s3=s3), variant_name="failing", initial_variant_weight=0),
                ProductionVariant(Model(slow, s3=s3), variant_name="slow")]  # fmt: skip
    with Endpoint("errors", variants, s3=s3, invocation_timeout_seconds=0.5) as endpoint:
        client = endpoint.runtime_client()
        with pytest.raises(ClientError) as raised:
            client.invoke_endpoint(
                EndpointName="errors", Body=b"1,2,3,4", ContentType="text/csv", TargetVariant="failing"
            )
        assert raised.value.response["OriginalStatusCode"] == 500
        assert "the model exploded" in raised.value.response["OriginalMessage"]
        with pytest.raises(ClientError) as raised:
            client.invoke_endpoint(EndpointName="errors", Body=b"2,2,3,4", ContentType="text/csv")
        assert (
            _error_code(raised.value) == "ModelError"
            and "timed out" in raised.value.response["Error"]["Message"]
        )
        fast = client.invoke_endpoint(EndpointName="errors", Body=b"0,2,3,4", ContentType="text/csv")
        assert fast["InvokedProductionVariant"] == "slow"


@pytest.mark.slow
def test_several_endpoints_at_once_and_all_stopped(s3, model_uri):
    endpoints = [Model(model_uri, s3=s3).deploy(endpoint_name=f"parallel-{i}") for i in range(2)]
    try:
        assert len({e.port for e in endpoints}) == 2
        for e in endpoints:
            body = (
                e.runtime_client()
                .invoke_endpoint(
                    EndpointName=e.endpoint_name, Body=b"6.7,3.0,5.2,2.3", ContentType="text/csv"
                )["Body"]
                .read()
            )
            assert body == b"[2]"
    finally:
        pids = [e.pid for e in endpoints]
        for e in endpoints:
            e.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_bad_configurations_are_refused(s3, model_uri):
    model = Model(model_uri, s3=s3)
    with pytest.raises(ValueError, match="unique"):
        Endpoint(
            "dup",
            [ProductionVariant(model, variant_name="A"), ProductionVariant(model, variant_name="A")],
            s3=s3,
        )
    with pytest.raises(ValueError, match="EndpointName"):
        Endpoint("bad_name!", [ProductionVariant(model)], s3=s3)
    with pytest.raises(ValueError, match="InitialVariantWeight"):
        ProductionVariant(model, initial_variant_weight=-1)
    with pytest.raises(ValueError, match="sampling_percentage"):
        DataCaptureConfig(destination_s3_uri="s3://capture/x", sampling_percentage=101)
    with pytest.raises(ValueError, match="no model artifact"):
        Model("s3://models/missing/model.tar.gz", s3=s3)


@pytest.mark.slow
def test_a_broken_handler_script_fails_start_with_its_log(s3, model):
    script = "def transform_fn(model, body, content_type, accept):\n    pass\n\ndef input_fn(body, content_type):\n    pass\n"
    uri = create_model_artifact(model, "s3://models/broken/model.tar.gz", inference_script=script, s3=s3)
    endpoint = Endpoint("broken", [ProductionVariant(Model(uri, s3=s3))], s3=s3)
    with pytest.raises(RuntimeError, match="transform_fn replaces"):
        endpoint.start()
    assert not endpoint.is_running


def test_model_monitor_reads_an_endpoints_capture(s3, model_uri, iris):
    """Assignment 05's Model Monitor reads what an endpoint captured: same requests, values and answers."""
    from course.monitor import read_capture as monitor_read_capture

    X, _ = iris
    capture = DataCaptureConfig(destination_s3_uri="s3://capture/monitored", sampling_percentage=100)
    variants = [ProductionVariant(Model(model_uri, s3=s3), variant_name="only")]
    with Endpoint("monitored", variants, data_capture_config=capture, s3=s3, seed=0) as endpoint:
        client = endpoint.runtime_client()
        for i in range(40):
            client.invoke_endpoint(EndpointName="monitored", Body=_csv(X[i : i + 1]), ContentType="text/csv",
                                   Accept="text/csv", InferenceId=f"monitor-{i}")  # fmt: skip
        endpoint.flush_data_capture()
    records = read_capture("s3://capture/monitored/monitored/", s3=s3)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    captured = monitor_read_capture("s3://capture/monitored/monitored/", feature_names=names, s3=s3)
    assert captured.malformed == []
    frame = captured.frame.set_index("event_id")
    assert len(frame) == len(records) == 40
    for record in records:
        row = frame.loc[record["eventMetadata"]["eventId"]]
        sent = [float(v) for v in record["captureData"]["endpointInput"]["data"].split(",")]
        assert [float(row[n]) for n in names] == sent
        assert str(row["prediction"]) == record["captureData"]["endpointOutput"]["data"].strip()
