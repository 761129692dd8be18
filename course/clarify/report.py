"""Clarify's bias report (``analysis.json``), written to the local S3 store.

Used by assignment 05. A Clarify processing job writes its results as
``analysis.json`` under the job's output S3 prefix::

    {"version": "1.0",
     "pre_training_bias_metrics": {
         "label": "approved", "label_value_or_threshold": "1",
         "facets": {"sex": [{"value_or_threshold": "f",
                             "metrics": [{"name": "CI", "description": "Class Imbalance (CI)",
                                          "value": 0.33}, ...]}]}},
     "post_training_bias_metrics": {...}}

A metric that is undefined on the data is reported with ``"value": null`` and
an ``"error"`` message, as Clarify does; infinite values are written as the
strings ``"Infinity"`` and ``"-Infinity"``.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"sex": ["f", "m", "m", "m", "f", "m"], "approved": [0, 1, 1, 0, 1, 1]})
>>> report = bias_report(df, label="approved", label_values_or_threshold=[1],
...                      facet_name="sex", facet_values_or_threshold=["f"], methods=["CI"])
>>> report["pre_training_bias_metrics"]["facets"]["sex"][0]["metrics"]
[{'name': 'CI', 'description': 'Class Imbalance (CI)', 'value': 0.3333333333333333}]
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from course.clarify._groups import check_column, check_frame, facet_mask, label_mask
from course.clarify.bias import (
    METRIC_DESCRIPTIONS,
    POSTTRAINING_METRICS,
    PRETRAINING_METRICS,
    posttraining_bias,
    pretraining_bias,
)
from course.storage import LocalS3

__all__ = ["bias_report", "read_bias_report", "write_bias_report"]

REPORT_NAME = "analysis.json"


def _json_value(value: float) -> float | str:
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _metric_entries(compute: Any, names: list[str], kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per metric; an undefined metric carries its error, as Clarify's MetricError does."""
    entries = []
    for name in names:
        entry: dict[str, Any] = {"name": name, "description": METRIC_DESCRIPTIONS[name]}
        try:
            entry["value"] = _json_value(compute(**kwargs, methods=[name])[name])
        except ValueError as error:
            entry["value"] = None
            entry["error"] = str(error)
        entries.append(entry)
    return entries


def _names(methods: str | Sequence[str], available: tuple[str, ...], group_name: Any) -> list[str]:
    if isinstance(methods, str) and methods == "all":
        return [m for m in available if group_name is not None or m not in ("CDDL", "CDDPL")]
    if isinstance(methods, str):
        raise ValueError(f"methods must be 'all' or a list of metric names, got {methods!r}")
    unknown = [m for m in methods if m not in PRETRAINING_METRICS + POSTTRAINING_METRICS]
    if unknown:
        raise ValueError(
            f"unknown metric(s) {unknown}: choose from {list(PRETRAINING_METRICS + POSTTRAINING_METRICS)}"
        )
    return [m for m in available if m in methods]


def bias_report(
    df: pd.DataFrame,
    *,
    label: Any,
    label_values_or_threshold: Any,
    facet_name: Any,
    facet_values_or_threshold: Any = None,
    predicted_label: Any = None,
    group_name: Any = None,
    methods: str | Sequence[str] = "all",
) -> dict[str, Any]:
    """Pre-training (and, given ``predicted_label``, post-training) bias metrics in Clarify's JSON shape.

    Parameters
    ----------
    df, label, label_values_or_threshold, facet_name, group_name
        As in :func:`course.clarify.pretraining_bias`.
    facet_values_or_threshold : list or number, optional
        The sensitive group. ``None`` reports each facet value against all
        the others, as Clarify does.
    predicted_label : column name, optional
        Adds ``post_training_bias_metrics``.
    methods : "all" or list of str
        Metric abbreviations of either stage; each stage computes its own.

    Returns
    -------
    dict
        The content of Clarify's ``analysis.json``.

    Raises
    ------
    ValueError
        Unknown column or metric, an empty sensitive group, no positive label.
    """
    df = check_frame(df)
    label_selection = label_mask(df, label, label_values_or_threshold)
    facet_series = check_column(df, facet_name, "facet_name")
    if facet_values_or_threshold is None:
        facets = [[value] for value in facet_series.unique()]
    else:
        facets = [facet_values_or_threshold]
    stages = [("pre_training_bias_metrics", pretraining_bias, PRETRAINING_METRICS, {})]
    if predicted_label is not None:
        check_column(df, predicted_label, "predicted_label")
        stages.append(
            (
                "post_training_bias_metrics",
                posttraining_bias,
                POSTTRAINING_METRICS,
                {"predicted_label": predicted_label},
            )
        )
    report: dict[str, Any] = {"version": "1.0"}
    for key, compute, available, extra in stages:
        names = _names(methods, available, group_name)
        groups = []
        for values in facets:
            selection = facet_mask(df, facet_name, values)
            kwargs = {
                "df": df, "label": label, "label_values_or_threshold": label_values_or_threshold,
                "facet_name": facet_name, "facet_values_or_threshold": values, "group_name": group_name, **extra,
            }  # fmt: skip
            groups.append(
                {
                    "value_or_threshold": selection.value_or_threshold,
                    "metrics": _metric_entries(compute, names, kwargs),
                }
            )
        report[key] = {
            "label": str(label),
            "facets": {str(facet_name): groups},
            "label_value_or_threshold": label_selection.value_or_threshold,
        }
    return report


def write_bias_report(report: dict[str, Any], output_s3_uri: str, *, s3: LocalS3 | None = None) -> str:
    """Write ``report`` as ``<output_s3_uri>/analysis.json`` and return that object's URI.

    >>> import tempfile
    >>> s3 = LocalS3(tempfile.mkdtemp())
    >>> write_bias_report({"version": "1.0"}, "s3://my-bucket/clarify", s3=s3)
    's3://my-bucket/clarify/analysis.json'
    >>> read_bias_report("s3://my-bucket/clarify", s3=s3)
    {'version': '1.0'}
    """
    uri = f"{output_s3_uri.rstrip('/')}/{REPORT_NAME}"
    (s3 or LocalS3()).put_object(uri, json.dumps(report, indent=2, allow_nan=False))
    return uri


def read_bias_report(output_s3_uri: str, *, s3: LocalS3 | None = None) -> dict[str, Any]:
    """Read the ``analysis.json`` that :func:`write_bias_report` wrote under ``output_s3_uri``."""
    return json.loads((s3 or LocalS3()).get_object(f"{output_s3_uri.rstrip('/')}/{REPORT_NAME}"))
