"""SageMaker Model Monitor, locally: baselines, data capture, and the four monitor types.

Used by assignment 05 (``source/05_clarify_drift``).

- ``kll``: the KLL quantile sketch Deequ keeps per numeric feature, and the
  L-infinity distance between two sketches' CDFs (``sketch_distance``, the
  data quality monitor's drift distance; it takes sketches, not samples).
- ``statistics``: ``suggest_baseline`` writes ``statistics.json`` and
  ``constraints.json`` in Model Monitor's shape, streaming large inputs.
- ``capture``: endpoint data capture and ground truth in SageMaker's JSON Lines format.
- ``data_quality``: a monitoring run writing ``constraint_violations.json``.
- ``quality``: model quality, bias drift and feature attribution drift.
- ``schedule``: an hourly schedule simulated over captured traffic.
"""

from course.monitor.capture import (
    CaptureData,
    merge_ground_truth,
    read_capture,
    write_capture,
    write_ground_truth,
)
from course.monitor.data_quality import CHECK_TYPES, check_data_quality, run_data_quality_monitor
from course.monitor.kll import KLLSketch, sketch_distance
from course.monitor.quality import (
    DEFAULT_NDCG_THRESHOLD,
    attribution_drift,
    bias_drift,
    check_model_quality,
    model_quality_statistics,
    suggest_model_quality_constraints,
)
from course.monitor.schedule import hourly_windows, plot_violations, simulate_schedule
from course.monitor.statistics import (
    DEFAULT_MONITORING_CONFIG,
    dataset_statistics,
    read_baseline,
    suggest_baseline,
    suggest_constraints,
)

__all__ = [
    "CHECK_TYPES",
    "DEFAULT_MONITORING_CONFIG",
    "DEFAULT_NDCG_THRESHOLD",
    "CaptureData",
    "KLLSketch",
    "attribution_drift",
    "bias_drift",
    "check_data_quality",
    "check_model_quality",
    "dataset_statistics",
    "hourly_windows",
    "sketch_distance",
    "merge_ground_truth",
    "model_quality_statistics",
    "plot_violations",
    "read_baseline",
    "read_capture",
    "run_data_quality_monitor",
    "simulate_schedule",
    "suggest_baseline",
    "suggest_constraints",
    "suggest_model_quality_constraints",
    "write_capture",
    "write_ground_truth",
]
