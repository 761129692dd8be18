"""Model quality, bias drift and feature attribution drift monitors.

Used by assignment 05. Besides data quality, Model Monitor has three monitor
types, each catching a failure the others miss:

- **Model quality** (``ModelQualityMonitor``) needs ground truth merged with
  the captured predictions: it computes accuracy, precision, recall, f1 and
  AUC (binary classification) or MAE, MSE, RMSE and R2 (regression), and
  compares them with the baseline's thresholds (``LessThanThreshold`` for
  metrics where higher is better, ``GreaterThanThreshold`` for errors).
- **Bias drift** (``ModelBiasMonitor``) recomputes a Clarify bias metric on
  live data. A bootstrap confidence interval accounts for the sampling noise
  of a small window: a violation is raised only when the whole interval lies
  outside the allowed range.
- **Feature attribution drift** (``ModelExplainabilityMonitor``) compares the
  ranking of features by live global SHAP value with the baseline's, by the
  normalized discounted cumulative gain, NDCG = DCG / iDCG, where DCG scores
  the live ranking with the *baseline* attributions; it alerts below 0.90.
  The NDCG itself is a graded exercise of assignment 05, so
  :func:`attribution_drift` takes it as a function.

Examples
--------
>>> stats = model_quality_statistics([1, 0, 1, 1], [1, 0, 0, 1], problem_type="BinaryClassification",
...                                  y_score=[0.9, 0.2, 0.4, 0.8])
>>> stats["binary_classification_metrics"]["accuracy"]["value"]
0.75
>>> constraints = suggest_model_quality_constraints(stats)
>>> constraints["binary_classification_constraints"]["recall"]
{'threshold': 0.6666666666666666, 'comparison_operator': 'LessThanThreshold'}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from course.clarify import POSTTRAINING_METRICS, PRETRAINING_METRICS, posttraining_bias, pretraining_bias
from course.clarify.bias import bias_masks, posttraining_from_masks, pretraining_from_masks

__all__ = [
    "DEFAULT_NDCG_THRESHOLD",
    "attribution_drift",
    "bias_drift",
    "check_model_quality",
    "model_quality_statistics",
    "suggest_model_quality_constraints",
]

DEFAULT_NDCG_THRESHOLD = 0.90
"""Model Monitor's feature attribution drift alerts when NDCG falls below this."""

_PROBLEM_KEYS = {
    "BinaryClassification": ("binary_classification_metrics", "binary_classification_constraints"),
    "Regression": ("regression_metrics", "regression_constraints"),
}
_LOWER_IS_BETTER = {"mae", "mse", "rmse"}


def _binary_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray | None
) -> dict[str, Callable[[np.ndarray], float]]:
    out: dict[str, Callable[[np.ndarray], float]] = {
        "accuracy": lambda i: skm.accuracy_score(y_true[i], y_pred[i]),
        "precision": lambda i: skm.precision_score(y_true[i], y_pred[i], zero_division=0.0),
        "recall": lambda i: skm.recall_score(y_true[i], y_pred[i], zero_division=0.0),
        "f1": lambda i: skm.f1_score(y_true[i], y_pred[i], zero_division=0.0),
    }
    if y_score is not None:
        out["auc"] = lambda i: (
            skm.roc_auc_score(y_true[i], y_score[i]) if len(np.unique(y_true[i])) == 2 else math.nan
        )
    return out


def _regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Callable[[np.ndarray], float]]:
    return {
        "mae": lambda i: skm.mean_absolute_error(y_true[i], y_pred[i]),
        "mse": lambda i: skm.mean_squared_error(y_true[i], y_pred[i]),
        "rmse": lambda i: math.sqrt(skm.mean_squared_error(y_true[i], y_pred[i])),
        "r2": lambda i: skm.r2_score(y_true[i], y_pred[i]),
    }


def model_quality_statistics(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    *,
    problem_type: str,
    y_score: Sequence[float] | None = None,
    n_bootstrap: int = 30,
    seed: int = 0,
) -> dict[str, Any]:
    """Model quality metrics in the shape of Model Monitor's model quality ``statistics.json``.

    Parameters
    ----------
    y_true, y_pred : sequence
        Ground truth and predicted labels (0/1 for ``BinaryClassification``) or values.
    problem_type : {"BinaryClassification", "Regression"}
    y_score : sequence of float, optional
        Positive-class scores, for AUC.
    n_bootstrap : int
        Resamples behind each metric's ``standard_deviation``.
    seed : int

    Returns
    -------
    dict
        ``{"version", "dataset": {"item_count"}, "<problem>_metrics": {name: {"value", "standard_deviation"}}}``.
    """
    if problem_type not in _PROBLEM_KEYS:
        raise ValueError(f"problem_type must be one of {list(_PROBLEM_KEYS)}, got {problem_type!r}")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or y_true.size == 0:
        raise ValueError("y_true and y_pred must be non-empty 1-D sequences of the same length")
    score = None if y_score is None else np.asarray(y_score, dtype=float)
    if score is not None and score.shape != y_true.shape:
        raise ValueError("y_score must have one score per row")
    if problem_type == "BinaryClassification":
        y_true, y_pred = y_true.astype(int), y_pred.astype(int)
        if not set(np.unique(np.concatenate([y_true, y_pred]))) <= {0, 1}:
            raise ValueError("binary classification labels must be 0 or 1")
        functions = _binary_metrics(y_true, y_pred, score)
    else:
        functions = _regression_metrics(y_true.astype(float), y_pred.astype(float))
    rng = np.random.default_rng(seed)
    everything = np.arange(y_true.size)
    resamples = [rng.integers(0, y_true.size, size=y_true.size) for _ in range(n_bootstrap)]
    values = {}
    for name, fn in functions.items():
        boot = [fn(i) for i in resamples]
        values[name] = {
            "value": float(fn(everything)),
            "standard_deviation": float(np.nanstd(boot)) if boot else 0.0,
        }
    return {
        "version": 0.0,
        "dataset": {"item_count": int(y_true.size)},
        _PROBLEM_KEYS[problem_type][0]: values,
    }


def suggest_model_quality_constraints(statistics: Mapping[str, Any]) -> dict[str, Any]:
    """Constraints with the baseline's own values as thresholds, as Model Monitor suggests them."""
    for stats_key, constraints_key in _PROBLEM_KEYS.values():
        if stats_key in statistics:
            return {
                "version": 0.0,
                constraints_key: {
                    name: {
                        "threshold": entry["value"],
                        "comparison_operator": "GreaterThanThreshold"
                        if name in _LOWER_IS_BETTER
                        else "LessThanThreshold",
                    }
                    for name, entry in statistics[stats_key].items()
                },
            }
    raise ValueError(
        f"statistics has none of {[k for k, _ in _PROBLEM_KEYS.values()]}; pass model_quality_statistics' output"
    )


def check_model_quality(
    statistics: Mapping[str, Any], constraints: Mapping[str, Any]
) -> list[dict[str, str]]:
    """Violations of the model quality constraints: ``{"metric_name", "constraint_check_type", "description"}``.

    >>> stats = {"regression_metrics": {"rmse": {"value": 3.0, "standard_deviation": 0.1}}}
    >>> check_model_quality(stats, {"regression_constraints": {"rmse": {"threshold": 2.5,
    ...                     "comparison_operator": "GreaterThanThreshold"}}})[0]["description"]
    "Metric rmse with 3.0 was GreaterThanThreshold '2.5'"
    """
    violations = []
    for stats_key, constraints_key in _PROBLEM_KEYS.values():
        for name, rule in constraints.get(constraints_key, {}).items():
            if name not in statistics.get(stats_key, {}):
                continue
            value = statistics[stats_key][name]["value"]
            operator = rule["comparison_operator"]
            if operator not in ("LessThanThreshold", "GreaterThanThreshold"):
                raise ValueError(
                    f"comparison_operator {operator!r} of {name} is not LessThanThreshold or GreaterThanThreshold"
                )
            broken = (
                value < rule["threshold"] if operator == "LessThanThreshold" else value > rule["threshold"]
            )
            if broken:
                violations.append({
                    "metric_name": name, "constraint_check_type": operator,
                    "description": f"Metric {name} with {round(value, 4)} was {operator} '{round(rule['threshold'], 4)}'",
                })  # fmt: skip
    return violations


def bias_drift(
    df: pd.DataFrame,
    *,
    metric: str,
    allowed_range: tuple[float, float],
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    **bias_config: Any,
) -> dict[str, Any]:
    """A Clarify bias metric on live data, with a bootstrap confidence interval, against an allowed range.

    Parameters
    ----------
    df : pandas.DataFrame
        Live data with the columns ``bias_config`` names (merged ground truth
        for label-based metrics).
    metric : str
        A pre- or post-training metric abbreviation (``"DPPL"``, ``"DI"``, ...);
        not FT, CDDL or CDDPL.
    allowed_range : (low, high)
        The values the baseline accepts, e.g. ``(-0.1, 0.1)`` for DPPL.
    n_bootstrap, confidence, seed
        Resamples of the rows, the interval's coverage, and the resampling seed.
    **bias_config
        ``label``, ``label_values_or_threshold``, ``facet_name``,
        ``facet_values_or_threshold``, and ``predicted_label`` for
        post-training metrics (as in :func:`course.clarify.posttraining_bias`).

    Returns
    -------
    dict
        ``{"metric", "value", "confidence_interval": [lo, hi], "allowed_range", "violation"}``;
        ``violation`` is True when the interval does not overlap the allowed range.
    """
    low, high = allowed_range
    if not low <= high:
        raise ValueError(f"allowed_range {allowed_range} must be (low, high) with low <= high")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence ({confidence}) must be between 0 and 1")
    if metric not in PRETRAINING_METRICS + POSTTRAINING_METRICS:
        raise ValueError(
            f"unknown metric {metric!r}; choose one of {list(PRETRAINING_METRICS + POSTTRAINING_METRICS)}"
        )
    if metric in ("FT", "CDDL", "CDDPL"):
        raise ValueError(
            f"bias_drift resamples rows of masks; {metric} needs features or groups, so it is not supported"
        )
    pre = metric in PRETRAINING_METRICS
    config = {k: v for k, v in bias_config.items() if not (pre and k == "predicted_label")}
    compute = pretraining_bias if pre else posttraining_bias
    value = compute(df, **config, methods=[metric])[metric]
    facet, y, y_hat = bias_masks(df, **{k: v for k, v in config.items() if k != "group_name"})
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n_bootstrap):
        rows = rng.integers(0, len(df), size=len(df))
        try:
            if pre:
                samples.append(pretraining_from_masks(facet[rows], y[rows], None, [metric])[metric])
            else:
                samples.append(
                    posttraining_from_masks(facet[rows], y[rows], y_hat[rows], None, None, [metric])[metric]
                )
        except ValueError:
            continue  # a resample with an empty group says nothing about the metric
    finite = np.array([s for s in samples if math.isfinite(s)])
    if finite.size == 0:
        raise ValueError(f"no bootstrap resample gave a finite {metric}; the window is too small")
    tail = (1 - confidence) / 2
    lo, hi = (float(q) for q in np.quantile(finite, [tail, 1 - tail]))
    return {
        "metric": metric,
        "value": value,
        "confidence_interval": [lo, hi],
        "allowed_range": [float(low), float(high)],
        "violation": bool(hi < low or lo > high),
    }


def attribution_drift(
    baseline_attributions: Mapping[str, float],
    live_attributions: Mapping[str, float],
    *,
    ndcg: Callable[[dict[str, float], dict[str, float]], float],
    threshold: float = DEFAULT_NDCG_THRESHOLD,
) -> dict[str, Any]:
    """Feature attribution drift: the NDCG of the live ranking against the baseline's, and whether it alerts.

    Parameters
    ----------
    baseline_attributions, live_attributions : mapping of feature name to global SHAP value
        Both must name the same features.
    ndcg : callable
        ``ndcg(baseline_attributions, live_attributions) -> float``: your
        NDCG from assignment 05 (the package does not ship it).
    threshold : float
        Alert when NDCG is below it (Model Monitor uses 0.90).

    Returns
    -------
    dict
        ``{"ndcg", "threshold", "violation"}``.
    """
    baseline, live = dict(baseline_attributions), dict(live_attributions)
    if set(baseline) != set(live):
        raise ValueError(
            f"baseline and live attributions must name the same features; "
            f"only in baseline: {sorted(set(baseline) - set(live))}, only live: {sorted(set(live) - set(baseline))}"
        )
    if not baseline:
        raise ValueError("no features: attribution drift needs at least one feature's attribution")
    score = float(ndcg(baseline, live))
    return {"ndcg": score, "threshold": threshold, "violation": score < threshold}
