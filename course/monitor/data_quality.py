"""A data-quality monitoring run: captured traffic checked against the baseline's constraints.

Used by assignment 05. Mirrors one execution of a ``DefaultModelMonitor``
schedule: the current data's statistics are computed as for the baseline,
each constraint is evaluated, and ``constraint_violations.json`` lists what
failed, with Model Monitor's check types:

``missing_column_check`` / ``extra_column_check``
    a baseline feature absent from the current data, or a column the baseline
    does not know;
``completeness_check``
    a feature's share of present values fell below its ``completeness``;
``data_type_check``
    more than ``datatype_check_threshold`` of a numeric feature's values are
    not of its type (a negative value where ``is_non_negative`` holds is
    reported here too: the service documents no separate check type);
``categorical_values_check``
    more than ``domain_content_threshold`` of a string feature's values are
    outside its ``domains``;
``baseline_drift_check``
    the L-infinity distance between the baseline and current distributions
    (numeric: KLL CDFs with ``comparison_method`` Simple or Robust; string:
    value frequencies) exceeds ``comparison_threshold``
    (``categorical_comparison_threshold`` for strings).

Examples
--------
>>> import pandas as pd
>>> from course.monitor.statistics import suggest_constraints
>>> base = pd.DataFrame({"income": [1.0, 2.0, 3.0, 4.0] * 50, "grade": ["A", "B"] * 100})
>>> statistics = dataset_statistics(base)
>>> constraints = suggest_constraints(statistics, comparison_method="Simple")
>>> current = pd.DataFrame({"income": [5.0, 6.0] * 50, "grade": ["A", "C"] * 50})
>>> [(v["feature_name"], v["constraint_check_type"]) for v in check_data_quality(current, statistics, constraints)]
[('income', 'baseline_drift_check'), ('grade', 'categorical_values_check'), ('grade', 'baseline_drift_check')]
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from course.monitor.capture import CaptureData
from course.monitor.kll import KLLSketch, sketch_distance
from course.monitor.statistics import FeatureAccumulator, accumulate, dataset_statistics
from course.storage import LocalS3

__all__ = [
    "CHECK_TYPES",
    "categorical_distance",
    "check_data_quality",
    "run_data_quality_monitor",
]

CHECK_TYPES = (
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
)
"""The violation types of Model Monitor's prebuilt container."""


def _violation(feature: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}


def categorical_distance(baseline_buckets: list[dict[str, Any]], current: FeatureAccumulator) -> float:
    """L-infinity distance between two value-frequency distributions."""
    base_total = sum(b["count"] for b in baseline_buckets)
    base = {b["value"]: b["count"] / base_total for b in baseline_buckets}
    cur_total = sum(current.values.values())
    cur = {v: c / cur_total for v, c in current.values.items()}
    return max(abs(base.get(v, 0.0) - cur.get(v, 0.0)) for v in set(base) | set(cur))


def _feature_violations(
    name: str,
    baseline: dict[str, Any],
    constraint: dict[str, Any],
    current: FeatureAccumulator,
    config: dict[str, Any],
) -> list[dict[str, str]]:
    out = []
    total = current.num_present + current.num_missing
    completeness = current.num_present / total if total else 0.0
    if completeness < constraint["completeness"]:
        out.append(_violation(name, "completeness_check",
                              f"Data completeness {completeness:.4f} is below the baseline constraint {constraint['completeness']:.4f}"))  # fmt: skip
    kind = constraint["inferred_type"]
    if current.num_present == 0:
        return out
    if kind in ("Integral", "Fractional"):
        matching = current.num_integral if kind == "Integral" else current.num_numeric
        wrong = 1.0 - matching / current.num_present
        if wrong > config["datatype_check_threshold"]:
            out.append(_violation(name, "data_type_check",
                                  f"Data type match requirement is not met. Expected data type: {kind}, "
                                  f"{wrong:.2%} of values are not of that type (threshold "
                                  f"{config['datatype_check_threshold']:.0%})"))  # fmt: skip
        if (
            constraint.get("num_constraints", {}).get("is_non_negative")
            and current.num_numeric
            and current.minimum < 0
        ):
            out.append(_violation(name, "data_type_check",
                                  f"Constraint is_non_negative is violated: minimum value {current.minimum}"))  # fmt: skip
        drift = config["distribution_constraints"]
        if (
            drift.get("perform_comparison", "Enabled") == "Enabled"
            and current.num_numeric
            and "numerical_statistics" in baseline
        ):
            sketch = KLLSketch.from_dict(baseline["numerical_statistics"]["distribution"]["kll"]["sketch"])
            distance = sketch_distance(sketch, current.sketch, comparison_method=drift["comparison_method"])
            if distance > drift["comparison_threshold"]:
                out.append(_violation(name, "baseline_drift_check",
                                      f"Baseline drift distance: {distance:.4f} exceeds threshold: "
                                      f"{drift['comparison_threshold']} ({drift['comparison_method']})"))  # fmt: skip
    elif kind == "String":
        domains = constraint.get("string_constraints", {}).get("domains")
        if domains is not None and not current.too_many_values:
            outside = sum(c for v, c in current.values.items() if v not in set(domains))
            share = outside / current.num_present
            if share > config["domain_content_threshold"]:
                out.append(_violation(name, "categorical_values_check",
                                      f"Baseline has {len(domains)} values; {share:.2%} of current values are "
                                      f"outside them (threshold {config['domain_content_threshold']:.0%})"))  # fmt: skip
        drift = config["distribution_constraints"]
        stats = baseline.get("string_statistics", {})
        if (
            drift.get("perform_comparison", "Enabled") == "Enabled"
            and "distribution" in stats
            and not current.too_many_values
        ):
            distance = categorical_distance(stats["distribution"]["categorical"]["buckets"], current)
            limit = drift.get("categorical_comparison_threshold", drift["comparison_threshold"])
            if distance > limit:
                out.append(_violation(name, "baseline_drift_check",
                                      f"Baseline drift distance: {distance:.4f} exceeds threshold: {limit}"))  # fmt: skip
    return out


def check_data_quality(
    current: pd.DataFrame, statistics: dict[str, Any], constraints: dict[str, Any], *, seed: int = 0
) -> list[dict[str, str]]:
    """Evaluate ``constraints`` (with the baseline ``statistics``) on ``current``; return the violations.

    Parameters
    ----------
    current : pandas.DataFrame
        The data of this monitoring window: feature columns only.
    statistics, constraints : dict
        The baseline's ``statistics.json`` and ``constraints.json``.
    seed : int
        Seed of the current data's KLL sketches.

    Returns
    -------
    list of dict
        ``{"feature_name", "constraint_check_type", "description"}`` per violation.
    """
    if not isinstance(current, pd.DataFrame):
        raise TypeError(f"current must be a pandas DataFrame, got {type(current).__name__}")
    config = constraints.get("monitoring_config", {})
    if config.get("evaluate_constraints", "Enabled") != "Enabled":
        return []
    baseline_stats = {f["name"]: f for f in statistics["features"]}
    expected = [f["name"] for f in constraints["features"]]
    columns = [str(c) for c in current.columns]
    violations = []
    for name in expected:
        if name not in columns:
            violations.append(_violation(name, "missing_column_check",
                                         f"There are missing columns in current dataset. Number of columns in current "
                                         f"dataset: {len(columns)}, Number of columns in baseline constraints: {len(expected)}"))  # fmt: skip
    for name in columns:
        if name not in expected:
            violations.append(_violation(name, "extra_column_check",
                                         f"There are extra columns in current dataset. Number of columns in current "
                                         f"dataset: {len(columns)}, Number of columns in baseline constraints: {len(expected)}"))  # fmt: skip
    if len(current) == 0:
        return violations
    _, accumulators = accumulate(current.rename(columns=str), seed=seed)
    for constraint in constraints["features"]:
        name = constraint["name"]
        if name in accumulators:
            violations.extend(
                _feature_violations(
                    name, baseline_stats.get(name, {}), constraint, accumulators[name], config
                )
            )
    return violations


def run_data_quality_monitor(
    capture: CaptureData,
    *,
    statistics: dict[str, Any],
    constraints: dict[str, Any],
    output_s3_uri: str | None = None,
    seed: int = 0,
    s3: LocalS3 | None = None,
) -> dict[str, Any]:
    """One monitoring execution over captured traffic; writes its reports under ``output_s3_uri``.

    The features are the captured columns (``prediction``, ``event_id`` and
    ``inference_time`` are left out). Writes ``constraint_violations.json``,
    ``statistics.json`` (of the current data) and, when lines of the capture
    could not be read, ``malformed_records.json``.

    Returns
    -------
    dict
        ``{"item_count", "violations", "malformed_count", "malformed_records"}``.
    """
    features = capture.frame.drop(
        columns=["prediction", "event_id", "inference_time", "ground_truth"], errors="ignore"
    )
    violations = check_data_quality(features, statistics, constraints, seed=seed)
    result = {
        "item_count": len(features),
        "violations": violations,
        "malformed_count": len(capture.malformed),
        "malformed_records": list(capture.malformed),
    }
    if output_s3_uri is not None:
        s3 = s3 or LocalS3()
        prefix = output_s3_uri.rstrip("/")
        s3.put_object(
            f"{prefix}/constraint_violations.json", json.dumps({"violations": violations}, indent=2)
        )
        if len(features):
            s3.put_object(
                f"{prefix}/statistics.json", json.dumps(dataset_statistics(features, seed=seed), indent=2)
            )
        if capture.malformed:
            s3.put_object(f"{prefix}/malformed_records.json", json.dumps(capture.malformed, indent=2))
    return result
