"""Batch transform: outputs against plain predict, splitting, mini-batches, filters, failures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.inference import Model
from course.inference._reference import mini_batches
from course.inference.batch import Transformer, apply_json_path


def _csv_lines(X: np.ndarray) -> list[str]:
    return [",".join(map(repr, row)) for row in X.tolist()]


@pytest.fixture(scope="module")
def inputs(s3, iris):
    """Two CSV files under one prefix: the first 100 iris rows and the last 50."""
    X, _ = iris
    s3.put_object("s3://batch/in/part-1.csv", "\n".join(_csv_lines(X[:100])) + "\n")
    s3.put_object("s3://batch/in/sub/part-2.csv", "\n".join(_csv_lines(X[100:])) + "\n")
    return "s3://batch/in/"


def _lines(s3, uri: str) -> list[str]:
    return s3.get_object(uri).decode().splitlines()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("strategy", "max_payload", "concurrency"),
    [("MultiRecord", 1, 2), ("SingleRecord", 6, 1), ("MultiRecord", 0, 1)],
)
def test_outputs_match_predict_in_order(
    s3, model_uri, model, iris, inputs, strategy, max_payload, concurrency
):
    X, _ = iris
    transformer = Transformer(
        Model(model_uri, s3=s3), output_path=f"s3://batch/out-{strategy}-{max_payload}", strategy=strategy,
        assemble_with="Line", accept="text/csv", max_payload=max_payload, max_concurrent_transforms=concurrency,
    )  # fmt: skip
    job = transformer.transform(inputs, content_type="text/csv", split_type="Line")
    assert job.status == "Completed" and job.failures == {} and job.records == 150
    out = f"s3://batch/out-{strategy}-{max_payload}"
    assert job.outputs == {
        "s3://batch/in/part-1.csv": f"{out}/part-1.csv.out",
        "s3://batch/in/sub/part-2.csv": f"{out}/sub/part-2.csv.out",
    }
    predicted = _lines(s3, f"{out}/part-1.csv.out") + _lines(s3, f"{out}/sub/part-2.csv.out")
    assert predicted == [str(c) for c in model.predict(X)]
    expected_requests = {"SingleRecord": 150, "MultiRecord": 2}[strategy]
    assert job.requests == expected_requests


@pytest.mark.slow
def test_split_none_sends_whole_files(s3, model_uri, model, iris, inputs):
    X, _ = iris
    job = Transformer(
        Model(model_uri, s3=s3), output_path="s3://batch/whole", accept="application/json"
    ).transform(inputs, content_type="text/csv")
    assert job.requests == 2
    assert json.loads(s3.get_object("s3://batch/whole/part-1.csv.out")) == model.predict(X[:100]).tolist()


@pytest.mark.slow
def test_a_record_over_the_payload_limit_fails_only_its_file(s3, model_uri, model, iris):
    X, _ = iris
    s3.put_object("s3://batch/big/good.csv", "\n".join(_csv_lines(X[:10])) + "\n")
    s3.put_object("s3://batch/big/bad.csv", "1,2,3,4\n" + "1" * (1024 * 1024 + 10) + ",2,3,4\n")
    job = Transformer(Model(model_uri, s3=s3), output_path="s3://batch/big-out", max_payload=1,
                      assemble_with="Line", accept="text/csv").transform("s3://batch/big/", split_type="Line")  # fmt: skip
    assert job.status == "Failed"
    assert (
        list(job.failures) == ["s3://batch/big/bad.csv"]
        and "record 1" in job.failures["s3://batch/big/bad.csv"]
    )
    assert not s3.exists("s3://batch/big-out/bad.csv.out")
    assert _lines(s3, "s3://batch/big-out/good.csv.out") == [str(c) for c in model.predict(X[:10])]


@pytest.mark.slow
def test_a_malformed_file_fails_and_writes_nothing(s3, model_uri):
    s3.put_object("s3://batch/malformed/a.csv", "1,2,3,4\n1,2,oops,4\n")
    job = Transformer(Model(model_uri, s3=s3), output_path="s3://batch/malformed-out").transform(
        "s3://batch/malformed/", split_type="Line"
    )
    assert job.status == "Failed" and "status 400" in job.failure_reason
    assert s3.list_objects("s3://batch/malformed-out/") == []


@pytest.mark.slow
def test_join_source_and_filters(s3, model_uri, model, iris):
    X, _ = iris
    rows = [f"id-{i}," + line for i, line in enumerate(_csv_lines(X[:30]))]
    s3.put_object("s3://batch/ids/a.csv", "\n".join(rows) + "\n")
    job = Transformer(Model(model_uri, s3=s3), output_path="s3://batch/ids-out", assemble_with="Line",
                      accept="text/csv", max_concurrent_transforms=2, max_payload=1).transform(
        "s3://batch/ids/", split_type="Line", input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]",
    )  # fmt: skip
    assert job.status == "Completed"
    expected = [f"id-{i},{c}" for i, c in enumerate(model.predict(X[:30]))]
    assert _lines(s3, "s3://batch/ids-out/a.csv.out") == expected


@pytest.mark.slow
def test_json_lines_join_source(s3, model_uri, model, iris):
    X, _ = iris
    lines = [json.dumps({"id": i, "features": row}) for i, row in enumerate(X[:5].tolist())]
    s3.put_object("s3://batch/jsonl/a.jsonl", "\n".join(lines) + "\n")
    job = Transformer(Model(model_uri, s3=s3), output_path="s3://batch/jsonl-out", assemble_with="Line",
                      accept="application/json", strategy="SingleRecord").transform(
        "s3://batch/jsonl/", content_type="application/json", split_type="Line", input_filter="$.features",
        join_source="Input", output_filter="$['id','SageMakerOutput']",
    )  # fmt: skip
    assert job.status == "Completed", job.failure_reason
    got = [json.loads(line) for line in _lines(s3, "s3://batch/jsonl-out/a.jsonl.out")]
    assert got == [{"id": i, "SageMakerOutput": [int(c)]} for i, c in enumerate(model.predict(X[:5]))]


@pytest.mark.slow
def test_unwritable_output_fails_the_file(s3, model_uri, inputs):
    s3.put_object("s3://batch/blocked/part-1.csv.out", b"x")  # a key that is also needed as a folder
    job = Transformer(Model(model_uri, s3=s3), output_path="s3://batch/blocked/part-1.csv.out/x").transform(
        inputs, split_type="Line"
    )
    assert job.status == "Failed" and "cannot write" in job.failure_reason


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"max_payload": 50, "max_concurrent_transforms": 3}, "more than 100"), ({"max_payload": 101}, "0 to 100"),
     ({"strategy": "Batch"}, "BatchStrategy"), ({"assemble_with": "Record"}, "AssembleWith")],
)  # fmt: skip
def test_bad_settings(s3, model_uri, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Transformer(Model(model_uri, s3=s3), output_path="s3://batch/x", **kwargs)


def test_bad_transform_arguments(s3, model_uri, inputs):
    transformer = Transformer(Model(model_uri, s3=s3), output_path="s3://batch/x")
    with pytest.raises(ValueError, match="no input objects"):
        transformer.transform("s3://batch/nothing-here/")
    with pytest.raises(ValueError, match="SplitType"):
        transformer.transform(inputs, split_type="RecordIO")
    with pytest.raises(ValueError, match="assemble_with='Line'"):
        transformer.transform(inputs, split_type="Line", join_source="Input")
    with pytest.raises(ValueError, match="JSONPath"):
        Transformer(Model(model_uri, s3=s3), output_path="s3://batch/x", assemble_with="Line").transform(
            inputs, split_type="Line", input_filter="features"
        )


def _brute_force_batches(sizes: list[int], limit: int) -> list[list[int]]:
    """Greedy packing, written independently: start a new batch whenever the next record would not fit."""
    batches: list[list[int]] = []
    room = 0
    for i, size in enumerate(sizes):
        if size + 1 > limit:
            raise ValueError
        if batches and size + 1 <= room:
            batches[-1].append(i)
            room -= size + 1
        else:
            batches.append([i])
            room = limit - size - 1
    return batches


@given(st.lists(st.integers(0, 30), max_size=40), st.integers(1, 40))
def test_mini_batches_against_brute_force(sizes, limit):
    records = [b"x" * n for n in sizes]
    try:
        expected = _brute_force_batches(sizes, limit)
    except ValueError:
        with pytest.raises(ValueError, match="MaxPayloadInMB"):
            mini_batches(records, limit)
        return
    got = mini_batches(records, limit)
    assert got == expected
    assert all(sum(len(records[i]) + 1 for i in batch) <= limit for batch in got)


def test_json_path_errors():
    assert apply_json_path("$", [1, 2]) == [1, 2]
    assert apply_json_path("$.a.b", {"a": {"b": 3}}) == 3
    with pytest.raises(ValueError, match="does not match"):
        apply_json_path("$.missing", {"a": 1})
    with pytest.raises(ValueError, match="cannot read"):
        apply_json_path("$..a", {"a": 1})
