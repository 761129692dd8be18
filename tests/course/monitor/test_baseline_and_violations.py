"""Baseline statistics and constraints, data capture, and the violations of a monitoring run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from course.monitor import (
    CHECK_TYPES,
    check_data_quality,
    dataset_statistics,
    read_baseline,
    read_capture,
    run_data_quality_monitor,
    suggest_baseline,
    suggest_constraints,
    write_capture,
)
from course.storage import LocalS3


@pytest.fixture
def s3(tmp_path) -> LocalS3:
    return LocalS3(tmp_path / "s3")


@pytest.fixture
def baseline() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 2000
    return pd.DataFrame({
        "income": rng.normal(50.0, 10.0, size=n),
        "age": rng.integers(18, 80, size=n),
        "grade": rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.3, 0.2]),
    })  # fmt: skip


def test_statistics_shape_and_values(baseline):
    stats = dataset_statistics(baseline)
    assert stats["dataset"] == {"item_count": 2000}
    income, age, grade = stats["features"]
    assert [income["inferred_type"], age["inferred_type"], grade["inferred_type"]] == [
        "Fractional",
        "Integral",
        "String",
    ]
    num = income["numerical_statistics"]
    assert num["common"] == {"num_present": 2000, "num_missing": 0}
    assert num["mean"] == pytest.approx(baseline["income"].mean())
    assert num["sum"] == pytest.approx(baseline["income"].sum())
    assert num["std_dev"] == pytest.approx(baseline["income"].std(ddof=0))
    assert (num["min"], num["max"]) == (baseline["income"].min(), baseline["income"].max())
    buckets = num["distribution"]["kll"]["buckets"]
    assert len(buckets) == 10 and sum(b["count"] for b in buckets) == 2000
    counts, _ = np.histogram(baseline["income"], bins=10, range=(num["min"], num["max"]))
    assert max(abs(b["count"] - c) for b, c in zip(buckets, counts, strict=True)) <= 0.02 * 2000
    assert num["distribution"]["kll"]["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0}
    strings = grade["string_statistics"]
    assert strings["distinct_count"] == 3.0
    assert {b["value"]: b["count"] for b in strings["distribution"]["categorical"]["buckets"]} == {
        k: float(v) for k, v in baseline["grade"].value_counts().items()
    }


def test_streamed_csv_equals_the_frame(baseline, tmp_path):
    path = tmp_path / "train.csv"
    baseline.to_csv(path, index=False)
    from course.monitor import statistics as module

    streamed = dataset_statistics(path)
    small_chunks = module.CHUNK_ROWS
    try:
        module.CHUNK_ROWS = 300
        chunked = dataset_statistics(path)
    finally:
        module.CHUNK_ROWS = small_chunks
    for a, b in zip(streamed["features"], chunked["features"], strict=True):
        assert a["inferred_type"] == b["inferred_type"]
        if "numerical_statistics" in a:
            for key in ("mean", "sum", "std_dev", "min", "max"):
                assert a["numerical_statistics"][key] == pytest.approx(
                    b["numerical_statistics"][key], rel=1e-12
                )
    headless = tmp_path / "headless.csv"
    baseline.to_csv(headless, index=False, header=False)
    assert [f["name"] for f in dataset_statistics(headless, header=False)["features"]] == [
        "_c0",
        "_c1",
        "_c2",
    ]


def test_suggest_baseline_writes_both_files(baseline, s3):
    stats, constraints = suggest_baseline(baseline.assign(income=baseline["income"] - 60),
                                          output_s3_uri="s3://my-bucket/baseline", s3=s3)  # fmt: skip
    assert list(read_baseline("s3://my-bucket/baseline", s3=s3)) == json.loads(
        json.dumps([stats, constraints])
    )
    by_name = {f["name"]: f for f in constraints["features"]}
    assert by_name["income"]["num_constraints"] == {"is_non_negative": False}
    assert by_name["age"]["num_constraints"] == {"is_non_negative": True}
    assert by_name["grade"]["string_constraints"] == {"domains": ["A", "B", "C"]}
    assert by_name["grade"]["completeness"] == 1.0
    config = constraints["monitoring_config"]
    assert config["datatype_check_threshold"] == 0.1 and config["domain_content_threshold"] == 0.1
    assert config["distribution_constraints"]["comparison_threshold"] == 0.1
    assert config["distribution_constraints"]["comparison_method"] == "Robust"
    with pytest.raises(ValueError, match="Simple' or 'Robust"):
        suggest_constraints(stats, comparison_method="robust")


def test_no_violation_on_fresh_data_from_the_same_distribution(baseline):
    stats = dataset_statistics(baseline)
    constraints = suggest_constraints(stats)
    rng = np.random.default_rng(9)
    fresh = pd.DataFrame({"income": rng.normal(50, 10, 500), "age": rng.integers(18, 80, 500),
                          "grade": rng.choice(["A", "B", "C"], 500, p=[0.5, 0.3, 0.2])})  # fmt: skip
    assert check_data_quality(fresh, stats, constraints) == []


def test_every_check_type_fires(baseline):
    stats = dataset_statistics(baseline)
    constraints = suggest_constraints(stats, comparison_method="Simple")
    rng = np.random.default_rng(1)
    n = 500
    income = rng.normal(60.0, 10.0, n)
    income[:100] = np.nan
    current = pd.DataFrame({
        "income": income,
        "age": np.where(np.arange(n) < 100, "unknown", rng.integers(18, 80, n).astype(str)),
        "grade": rng.choice(["A", "B", "D"], n),
        "channel": "web",
    })  # fmt: skip
    found = {
        (v["feature_name"], v["constraint_check_type"])
        for v in check_data_quality(current, stats, constraints)
    }
    assert found == {
        ("income", "completeness_check"),
        ("income", "baseline_drift_check"),
        ("age", "data_type_check"),
        ("grade", "categorical_values_check"),
        ("grade", "baseline_drift_check"),
        ("channel", "extra_column_check"),
    }
    missing = check_data_quality(current.drop(columns=["grade", "channel"]), stats, constraints)
    assert ("grade", "missing_column_check") in {
        (v["feature_name"], v["constraint_check_type"]) for v in missing
    }
    assert {v["constraint_check_type"] for v in missing} <= set(CHECK_TYPES)


def test_negative_value_breaks_is_non_negative(baseline):
    stats = dataset_statistics(baseline)
    constraints = suggest_constraints(stats)
    current = baseline.sample(300, random_state=0).assign(age=lambda d: d["age"].where(d.index % 50 != 0, -1))
    violations = check_data_quality(current, stats, constraints)
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [
        ("age", "data_type_check")
    ]
    assert "is_non_negative" in violations[0]["description"]


def test_capture_round_trip_and_malformed_lines(baseline, s3):
    rows = baseline.iloc[:30]
    times = pd.date_range("2024-05-01T10:00Z", periods=30, freq="7min")
    uris = write_capture(rows, np.linspace(0, 1, 30), times, destination_s3_uri="s3://my-bucket/capture",
                         endpoint_name="loans", s3=s3)  # fmt: skip
    assert uris[0] == "s3://my-bucket/capture/loans/AllTraffic/2024/05/01/10/capture-2024050110.jsonl"
    line = json.loads(s3.get_object(uris[0]).decode().splitlines()[0])
    assert set(line) == {"captureData", "eventMetadata", "eventVersion"}
    assert line["captureData"]["endpointInput"]["encoding"] == "CSV"
    broken = s3.get_object(uris[1]).decode() + "{not json\n" + json.dumps({"captureData": {}}) + "\n"
    s3.put_object(uris[1], broken)
    capture = read_capture("s3://my-bucket/capture/loans", feature_names=list(baseline.columns), s3=s3)
    assert len(capture.frame) == 30 and len(capture.malformed) == 2
    assert {m["uri"] for m in capture.malformed} == {uris[1]}
    assert capture.frame["income"].astype(float).to_numpy() == pytest.approx(rows["income"].to_numpy())
    window = read_capture("s3://my-bucket/capture/loans", feature_names=list(baseline.columns), s3=s3,
                          start_time="2024-05-01T11:00Z", end_time="2024-05-01T12:00Z")  # fmt: skip
    assert window.frame["inference_time"].dt.hour.unique().tolist() == [11]
    stats = dataset_statistics(baseline)
    result = run_data_quality_monitor(capture, statistics=stats, constraints=suggest_constraints(stats),
                                      output_s3_uri="s3://my-bucket/monitoring/run1", s3=s3)  # fmt: skip
    assert result["malformed_count"] == 2 and result["item_count"] == 30
    written = json.loads(s3.get_object("s3://my-bucket/monitoring/run1/constraint_violations.json"))
    assert written == {"violations": result["violations"]}
    assert len(json.loads(s3.get_object("s3://my-bucket/monitoring/run1/malformed_records.json"))) == 2


def test_bad_inputs(baseline):
    with pytest.raises(ValueError, match="no rows"):
        dataset_statistics(baseline.iloc[:0])
    with pytest.raises(TypeError, match="DataFrame"):
        check_data_quality(baseline.to_numpy(), {}, {})
    with pytest.raises(ValueError, match="same length"):
        write_capture(
            baseline.iloc[:3], [0.1], ["2024-01-01"] * 3, destination_s3_uri="s3://b-1/x", endpoint_name="e"
        )
