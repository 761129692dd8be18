"""Model quality against scikit-learn, bias drift, attribution drift, ground truth merge, the schedule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from course.clarify import posttraining_bias
from course.monitor import (
    attribution_drift,
    bias_drift,
    check_model_quality,
    merge_ground_truth,
    model_quality_statistics,
    read_capture,
    simulate_schedule,
    suggest_model_quality_constraints,
    write_capture,
    write_ground_truth,
)
from course.storage import LocalS3


def reference_ndcg(baseline: dict[str, float], live: dict[str, float]) -> float:
    """The instructor's NDCG, written independently for these tests."""
    live_order = sorted(live, key=lambda f: -live[f])
    ideal_order = sorted(baseline, key=lambda f: -baseline[f])
    dcg = sum(baseline[f] / math.log2(i + 2) for i, f in enumerate(live_order))
    idcg = sum(baseline[f] / math.log2(i + 2) for i, f in enumerate(ideal_order))
    return dcg / idcg


def test_binary_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 300)
    score = np.clip(y_true * 0.3 + rng.random(300) * 0.7, 0, 1)
    y_pred = (score > 0.5).astype(int)
    stats = model_quality_statistics(y_true, y_pred, problem_type="BinaryClassification", y_score=score)
    m = stats["binary_classification_metrics"]
    assert m["accuracy"]["value"] == skm.accuracy_score(y_true, y_pred)
    assert m["precision"]["value"] == skm.precision_score(y_true, y_pred)
    assert m["recall"]["value"] == skm.recall_score(y_true, y_pred)
    assert m["f1"]["value"] == skm.f1_score(y_true, y_pred)
    assert m["auc"]["value"] == skm.roc_auc_score(y_true, score)
    assert all(0 < entry["standard_deviation"] < 0.1 for entry in m.values())
    assert stats["dataset"]["item_count"] == 300


def test_regression_metrics_and_thresholds():
    y_true = np.array([1.0, 2.0, 3.0, 4.0])
    y_pred = np.array([1.5, 2.0, 2.0, 4.5])
    m = model_quality_statistics(y_true, y_pred, problem_type="Regression")["regression_metrics"]
    assert m["mae"]["value"] == pytest.approx(0.5)
    assert m["rmse"]["value"] == pytest.approx(math.sqrt(1.5 / 4))
    assert m["r2"]["value"] == pytest.approx(skm.r2_score(y_true, y_pred))
    constraints = suggest_model_quality_constraints({"regression_metrics": m})
    assert constraints["regression_constraints"]["mae"]["comparison_operator"] == "GreaterThanThreshold"
    assert constraints["regression_constraints"]["r2"]["comparison_operator"] == "LessThanThreshold"
    worse = model_quality_statistics(y_true, y_pred + 2, problem_type="Regression")
    names = {v["metric_name"] for v in check_model_quality(worse, constraints)}
    assert names == {"mae", "mse", "rmse", "r2"}
    assert check_model_quality({"regression_metrics": m}, constraints) == []
    with pytest.raises(ValueError, match="problem_type"):
        model_quality_statistics(y_true, y_pred, problem_type="Binary")
    with pytest.raises(ValueError, match="0 or 1"):
        model_quality_statistics(y_true, y_pred, problem_type="BinaryClassification")


def _lending(n: int, seed: int, penalty: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "d"], size=n, p=[0.6, 0.4])
    x = rng.normal(size=n)
    y = (x + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return pd.DataFrame({"g": g, "x": x, "y": y, "y_hat": (x - penalty * (g == "d") > 0).astype(int)})


def test_bias_drift_interval_and_violation():
    config = {"label": "y", "label_values_or_threshold": [1], "facet_name": "g",
              "facet_values_or_threshold": ["d"], "predicted_label": "y_hat"}  # fmt: skip
    fair = bias_drift(_lending(600, 0, 0.0), metric="DPPL", allowed_range=(-0.1, 0.1), **config)
    assert fair["violation"] is False
    lo, hi = fair["confidence_interval"]
    assert lo <= fair["value"] <= hi
    assert fair["value"] == posttraining_bias(_lending(600, 0, 0.0), **config, methods=["DPPL"])["DPPL"]
    drifted = bias_drift(_lending(600, 0, 1.0), metric="DPPL", allowed_range=(-0.1, 0.1), **config)
    assert drifted["violation"] is True and drifted["confidence_interval"][0] > 0.1
    pre = bias_drift(_lending(300, 1, 0.0), metric="CI", allowed_range=(-1.0, 1.0), **config)
    assert pre["violation"] is False
    with pytest.raises(ValueError, match="unknown metric"):
        bias_drift(_lending(50, 0, 0.0), metric="XX", allowed_range=(0, 1), **config)


def test_attribution_drift_uses_the_given_ndcg():
    baseline = {"income": 0.5, "debt": 0.3, "age": 0.1, "zip": 0.05}
    same_order = {"income": 0.4, "debt": 0.35, "age": 0.2, "zip": 0.01}
    assert attribution_drift(baseline, same_order, ndcg=reference_ndcg) == {
        "ndcg": 1.0,
        "threshold": 0.9,
        "violation": False,
    }
    flipped = {"income": 0.01, "debt": 0.1, "age": 0.3, "zip": 0.5}
    result = attribution_drift(baseline, flipped, ndcg=reference_ndcg)
    assert result["violation"] is True and result["ndcg"] == pytest.approx(reference_ndcg(baseline, flipped))
    with pytest.raises(ValueError, match="same features"):
        attribution_drift(baseline, {"income": 1.0}, ndcg=reference_ndcg)


def test_ground_truth_merge_and_schedule(tmp_path):
    s3 = LocalS3(tmp_path)
    df = _lending(48, 2, 0.0)
    times = pd.date_range("2024-05-01T00:00Z", periods=48, freq="15min")
    ids = [f"e{i}" for i in range(48)]
    write_capture(df[["g", "x"]], df["y_hat"].tolist(), times, destination_s3_uri="s3://my-bucket/capture",
                  endpoint_name="loans", event_ids=ids, s3=s3)  # fmt: skip
    write_ground_truth(ids[::2], df["y"].tolist()[::2], ground_truth_s3_uri="s3://my-bucket/gt", s3=s3)
    capture = read_capture("s3://my-bucket/capture/loans", feature_names=["g", "x"], s3=s3)
    merged = merge_ground_truth(capture, "s3://my-bucket/gt", s3=s3)
    assert (
        len(merged) == 24 and (merged["ground_truth"].astype(int).to_numpy() == df["y"].to_numpy()[::2]).all()
    )
    schedule = simulate_schedule(
        capture.frame, monitors={"rows": len, "flag": lambda w: {"violation": len(w) > 3}}
    )
    assert schedule["window_start"].nunique() == 12
    assert schedule[schedule["monitor"] == "rows"]["violations"].tolist() == [4] * 12
    assert schedule[schedule["monitor"] == "flag"]["violations"].sum() == 12
    with pytest.raises(TypeError, match="a monitor must return"):
        simulate_schedule(capture.frame, monitors={"bad": lambda w: "x"})


def test_the_notebooks_answers_agree_with_the_package():
    """The instructor's NDCG and L-infinity distance (source notebook) against the package and a reference."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "samples"))
    from solutions import solution_namespace

    from course.monitor import KLLSketch, sketch_distance

    answers = solution_namespace("05_clarify_drift")
    rng = np.random.default_rng(5)
    for _ in range(10):
        names = [f"f{i}" for i in range(6)]
        baseline, live = (dict(zip(names, rng.random(6).tolist(), strict=True)) for _ in range(2))
        assert answers["ndcg"](baseline, live) == pytest.approx(reference_ndcg(baseline, live))
        result = attribution_drift(baseline, live, ndcg=answers["ndcg"])
        assert result["violation"] == (result["ndcg"] < 0.9)
        x, y = rng.normal(size=rng.integers(1, 60)), rng.normal(0.3, size=rng.integers(1, 60))
        a, b = KLLSketch(), KLLSketch()
        a.update(x)
        b.update(y)
        assert answers["linf_distance"](x, y) == pytest.approx(sketch_distance(a, b), abs=1e-12)
