"""The analysis.json report, its storage, reweighing and the output filter."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from course.clarify import (
    bias_comparison,
    bias_report,
    equal_acceptance_labels,
    posttraining_bias,
    pretraining_bias,
    read_bias_report,
    reweighing_weights,
    write_bias_report,
)
from course.storage import LocalS3


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    g = rng.choice(["a", "d", "e"], size=n, p=[0.6, 0.3, 0.1])
    x = rng.normal(size=n)
    y = (x - 0.8 * (g == "d") + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return pd.DataFrame({"g": g, "x": x, "y": y, "y_hat": (x - 1.0 * (g == "d") > 0).astype(int)})


def test_report_shape_and_values(df, tmp_path):
    report = bias_report(df, label="y", label_values_or_threshold=[1], facet_name="g",
                         facet_values_or_threshold=["d"], predicted_label="y_hat")  # fmt: skip
    assert report["version"] == "1.0"
    pre = report["pre_training_bias_metrics"]
    assert pre["label"] == "y" and pre["label_value_or_threshold"] == "1"
    group = pre["facets"]["g"][0]
    assert group["value_or_threshold"] == "d"
    expected = pretraining_bias(
        df, label="y", label_values_or_threshold=[1], facet_name="g", facet_values_or_threshold=["d"]
    )
    assert {m["name"]: m["value"] for m in group["metrics"]} == expected
    post = report["post_training_bias_metrics"]["facets"]["g"][0]["metrics"]
    assert [m["name"] for m in post] == [m for m in posttraining_bias(
        df, label="y", predicted_label="y_hat", label_values_or_threshold=[1], facet_name="g",
        facet_values_or_threshold=["d"])]  # fmt: skip
    s3 = LocalS3(tmp_path)
    uri = write_bias_report(report, "s3://my-bucket/clarify-output", s3=s3)
    assert uri == "s3://my-bucket/clarify-output/analysis.json"
    assert read_bias_report("s3://my-bucket/clarify-output", s3=s3) == json.loads(json.dumps(report))


def test_report_each_value_and_errors_recorded(df):
    report = bias_report(df, label="y", label_values_or_threshold=[1], facet_name="g", methods=["CI", "CDDL"])
    groups = report["pre_training_bias_metrics"]["facets"]["g"]
    assert sorted(g["value_or_threshold"] for g in groups) == ["a", "d", "e"]
    assert "post_training_bias_metrics" not in report
    with pytest.raises(ValueError, match="unknown metric"):
        bias_report(df, label="y", label_values_or_threshold=[1], facet_name="g", methods=["CI", "nope"])
    tiny = pd.DataFrame({"g": ["a", "d"], "y": ["yes", "no"]})
    entry = bias_report(tiny, label="y", label_values_or_threshold=["yes"], facet_name="g",
                        facet_values_or_threshold=["d"], methods=["KL"])  # fmt: skip
    metric = entry["pre_training_bias_metrics"]["facets"]["g"][0]["metrics"][0]
    assert metric["value"] is None and "share no label value" in metric["error"]


def test_infinity_is_written_as_a_string():
    df = pd.DataFrame({"g": ["a", "a", "d", "d"] * 5, "y": ["yes", "no", "yes", "no"] * 5, "x": range(20)})
    df["y_hat"] = np.where(df["g"] == "a", "yes", df["y"])
    report = bias_report(df, label="y", label_values_or_threshold=["yes"], facet_name="g",
                         facet_values_or_threshold=["d"], predicted_label="y_hat", methods=["DCR"])  # fmt: skip
    assert report["post_training_bias_metrics"]["facets"]["g"][0]["metrics"][0]["value"] == "-Infinity"
    json.dumps(report, allow_nan=False)


def test_reweighing_makes_label_independent_of_facet(df):
    config = {
        "label": "y",
        "label_values_or_threshold": [1],
        "facet_name": "g",
        "facet_values_or_threshold": ["d"],
    }
    w = reweighing_weights(df, **config)
    assert w.shape == (len(df),) and w.sum() == pytest.approx(len(df))
    d = (df["g"] == "d").to_numpy()
    y = df["y"].to_numpy() == 1
    assert np.average(y[d], weights=w[d]) == pytest.approx(np.average(y[~d], weights=w[~d]))
    assert pretraining_bias(df, **config, methods=["DPL"])["DPL"] > 0.1


def test_output_filter_equalizes_acceptance_only():
    scores = np.array([0.9, 0.8, 0.3, 0.6, 0.45, 0.4, 0.1, 0.2])
    facet = np.array([False, False, False, False, True, True, True, True])
    labels = equal_acceptance_labels(scores, facet)
    assert labels.tolist() == [1, 1, 0, 1, 1, 1, 0, 1]
    assert labels[facet].mean() == labels[~facet].mean()
    with pytest.raises(ValueError, match="group d"):
        equal_acceptance_labels(scores, np.zeros(8, dtype=bool))


def test_bias_comparison_table():
    table = bias_comparison({"before": {"DPL": 0.3, "DI": 0.5}, "after": {"DPL": 0.01, "DI": 0.97}})
    assert list(table.columns) == ["before", "after"] and table.loc["DI", "after"] == 0.97
