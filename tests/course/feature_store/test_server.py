"""The runtime API over HTTP, driven by boto3 unchanged."""

from __future__ import annotations

import socket
import subprocess
import sys

import boto3
import pytest
from botocore.exceptions import ClientError
from fs_helpers import as_dict, record

from course.feature_store import ValidationError
from course.feature_store.server import FeatureStoreRuntimeServer


def client(endpoint_url: str):
    return boto3.client(
        "sagemaker-featurestore-runtime", endpoint_url=endpoint_url, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x",
    )  # fmt: skip


@pytest.fixture
def runtime(store, customers):
    with FeatureStoreRuntimeServer(store) as server:
        yield client(server.endpoint_url)


def test_boto3_put_get_batch_delete(runtime, customers):
    runtime.put_record(FeatureGroupName="customers", Record=record("c1", 10.0, n_orders=2, segment="gold"))
    runtime.put_record(FeatureGroupName="customers", Record=record("c1", 5.0, n_orders=1))
    got = runtime.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c1")
    assert as_dict(got["Record"]) == as_dict(customers.get_record("c1"))
    assert as_dict(got["Record"])["n_orders"] == "2"
    subset = runtime.get_record(
        FeatureGroupName="customers", RecordIdentifierValueAsString="c1", FeatureNames=["segment"]
    )
    assert subset["Record"] == [{"FeatureName": "segment", "ValueAsString": "gold"}]
    assert "Record" not in runtime.get_record(
        FeatureGroupName="customers", RecordIdentifierValueAsString="zz"
    )
    batch = runtime.batch_get_record(
        Identifiers=[{"FeatureGroupName": "customers", "RecordIdentifiersValueAsString": ["c1", "zz"]}]
    )
    assert [r["RecordIdentifierValueAsString"] for r in batch["Records"]] == ["c1"]
    assert batch["Errors"] == [] and batch["UnprocessedIdentifiers"] == []
    runtime.delete_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c1", EventTime="11")
    assert customers.get_record("c1") is None
    assert customers.as_dataframe()["is_deleted"].tolist() == [False, False, True]


def test_ttl_over_http(runtime, customers, clock):
    runtime.put_record(
        FeatureGroupName="customers",
        Record=record("c1", 1_000.0),
        TtlDuration={"Unit": "Seconds", "Value": 30},
    )
    got = runtime.get_record(
        FeatureGroupName="customers", RecordIdentifierValueAsString="c1", ExpirationTimeResponse="Enabled"
    )
    assert got["ExpiresAt"] == "1970-01-01T00:17:10.000Z"
    clock.now = 1_030.0
    assert "Record" not in runtime.get_record(
        FeatureGroupName="customers", RecordIdentifierValueAsString="c1"
    )


@pytest.mark.parametrize(
    ("call", "code", "status"),
    [
        (lambda c: c.get_record(FeatureGroupName="orders", RecordIdentifierValueAsString="1"), "ResourceNotFound", 404),
        (lambda c: c.put_record(FeatureGroupName="orders", Record=record("c1", 1.0)), "ResourceNotFound", 404),
        (lambda c: c.put_record(FeatureGroupName="customers", Record=record("c1", "soon")), "ValidationError", 400),
        (lambda c: c.put_record(FeatureGroupName="customers", Record=record("c1", 1.0, n_orders="x")), "ValidationError", 400),
        (lambda c: c.put_record(FeatureGroupName="customers", Record=record("c1", 1.0),
                                TtlDuration={"Unit": "Months", "Value": 1}), "ValidationError", 400),
        (lambda c: c.batch_get_record(Identifiers=[{"FeatureGroupName": "customers",
                                                    "RecordIdentifiersValueAsString": [str(i) for i in range(101)]}]),
         "ValidationError", 400),
        (lambda c: c.delete_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c1",
                                   EventTime="1", DeletionMode="HardDelete"), "ValidationError", 400),
    ],
)  # fmt: skip
def test_errors_have_the_api_shape(runtime, customers, call, code, status):
    customers.put_record(record("c1", 5.0))
    with pytest.raises(ClientError) as raised:
        call(runtime)
    error = raised.value.response
    assert error["Error"]["Code"] == code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["Error"]["Message"]
    assert as_dict(customers.get_record("c1"))["event_time"] == "5.0"  # nothing lost


def test_group_arn_is_accepted(runtime, customers):
    customers.put_record(record("c1", 5.0))
    arn = "arn:aws:sagemaker:us-east-1:123456789012:feature-group/customers"
    assert runtime.get_record(FeatureGroupName=arn, RecordIdentifierValueAsString="c1")["Record"]


def test_stop_releases_the_port(store):
    server = FeatureStoreRuntimeServer(store).start()
    port = int(server.endpoint_url.rsplit(":", 1)[1])
    assert FeatureStoreRuntimeServer.running_servers() == [server]
    server.stop()
    server.stop()
    assert not server.running and FeatureStoreRuntimeServer.running_servers() == []
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    with pytest.raises(ValidationError, match="not running"):
        server.endpoint_url  # noqa: B018


def test_server_in_its_own_process(tmp_path):
    """``python -m course.feature_store.server`` serves a store folder until terminated."""
    from fs_helpers import DEFINITIONS

    from course.feature_store import FeatureGroup, FeatureStore

    with FeatureStore(tmp_path / "fs") as store:
        FeatureGroup(
            "customers", record_identifier_name="customer_id", event_time_feature_name="event_time",
            feature_definitions=DEFINITIONS, store=store,
        )  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "course.feature_store.server", "--root", str(tmp_path / "fs")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        endpoint = process.stdout.readline().strip()
        runtime = client(endpoint)
        runtime.put_record(FeatureGroupName="customers", Record=record("c9", 1.0, n_orders=5))
        got = runtime.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c9")
        assert as_dict(got["Record"])["n_orders"] == "5"
    finally:
        process.terminate()
        process.wait(timeout=10)
    with FeatureStore(tmp_path / "fs") as store:
        assert as_dict(store.feature_group("customers").get_record("c9"))["n_orders"] == "5"
