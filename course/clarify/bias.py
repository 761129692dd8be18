"""Pre- and post-training bias metrics with SageMaker Clarify's definitions.

Used by assignment 05 (``source/05_clarify_drift``). The rows whose facet
takes one of the listed values (or, for a continuous facet, exceeds the
threshold) form the sensitive group *d*; every other row is group *a*. The
label values (or an exclusive lower threshold) define the positive outcome.
Values agree with AWS's open-source Clarify library (``smclarify``),
including its edge rules:

- KL, JS, LP, TVD and KS compare the two groups' (binary) label
  distributions over the label values present in *both* groups; KL uses the
  natural log, LP is the L2 norm, TVD half the L1 norm and KS the largest
  absolute difference.
- A ratio whose denominator is zero is ``+inf`` (or ``-inf``), and ``0/0`` is 0;
  a difference of two infinite ratios is 0.
- FT (the flip test) trains a k-nearest-neighbour classifier (k = 5, or 1
  when group *a* has at most 9 rows) on group *a*'s features and predicted
  labels, and counts how group *d*'s predictions would flip.

CI, DPL, DI, DPPL and RD are the metrics assignment 05 asks students to
write (Parts A and B), so the package does not ship them: the student hands
their functions over with :func:`use_metrics`, and every function here
(reports, bias drift, mitigation comparisons) then computes those five with
the student's code. On the instructor's side an instructor-only reference
(``course/clarify/_reference.py``) fills in whatever was not handed over; in
the student edition and the grading sandbox it is absent, and asking for one
of the five before handing it over raises :class:`MissingMetricError`, which
says which Part writes it.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"sex": ["f", "m", "m", "m", "f", "m"], "approved": [0, 1, 1, 0, 1, 1]})
>>> pretraining_bias(df, label="approved", label_values_or_threshold=[1],
...                  facet_name="sex", facet_values_or_threshold=["f"], methods=["CI", "DPL"])
{'CI': 0.3333333333333333, 'DPL': 0.25}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.neighbors import KNeighborsClassifier

from course.clarify._groups import check_column, check_frame, facet_mask, label_mask, predicted_mask

try:
    from course.clarify._reference import class_imbalance, disparate_impact, dpl, dppl, recall_difference
except ImportError:  # student edition, grading sandbox: the student supplies these (use_metrics)
    _REFERENCE: dict[str, Callable[..., float]] = {}
else:
    _REFERENCE = {
        "CI": class_imbalance,
        "DPL": dpl,
        "DI": disparate_impact,
        "DPPL": dppl,
        "RD": recall_difference,
    }

__all__ = [
    "METRIC_DESCRIPTIONS",
    "STUDENT_METRICS",
    "MissingMetricError",
    "bias_masks",
    "POSTTRAINING_METRICS",
    "PRETRAINING_METRICS",
    "posttraining_bias",
    "posttraining_from_masks",
    "predicted_labels_from_scores",
    "pretraining_bias",
    "pretraining_from_masks",
    "use_metrics",
]

PRETRAINING_METRICS = ("CDDL", "CI", "DPL", "JS", "KL", "KS", "LP", "TVD")
"""Clarify's pre-training metrics, in the order its report lists them."""

POSTTRAINING_METRICS = ("AD", "CDDPL", "DAR", "DCA", "DCR", "DI", "DPPL", "DRR", "FT", "GE", "RD", "SD", "TE")
"""Clarify's post-training metrics, in the order its report lists them."""

METRIC_DESCRIPTIONS = {
    "CI": "Class Imbalance (CI)",
    "DPL": "Difference in Positive Proportions in Labels (DPL)",
    "KL": "Kullback-Liebler Divergence (KL)",
    "JS": "Jensen-Shannon Divergence (JS)",
    "LP": "L-p Norm (LP)",
    "TVD": "Total Variation Distance (TVD)",
    "KS": "Kolmogorov-Smirnov Distance (KS)",
    "CDDL": "Conditional Demographic Disparity in Labels (CDDL)",
    "DPPL": "Difference in Positive Proportions in Predicted Labels (DPPL)",
    "DI": "Disparate Impact (DI)",
    "DCA": "Difference in Conditional Acceptance (DCA)",
    "DCR": "Difference in Conditional Rejection (DCR)",
    "RD": "Recall Difference (RD)",
    "SD": "Specificity Difference (SD)",
    "DAR": "Difference in Acceptance Rates (DAR)",
    "DRR": "Difference in Rejection Rates (DRR)",
    "AD": "Accuracy Difference (AD)",
    "TE": "Treatment Equality (TE)",
    "FT": "Flip Test (FT)",
    "CDDPL": "Conditional Demographic Disparity in Predicted Labels (CDDPL)",
    "GE": "Generalized Entropy (GE)",
}
"""Each metric's name as Clarify's report describes it."""

STUDENT_METRICS = {
    "CI": ("Part A", "class_imbalance(facet)"),
    "DPL": ("Part A", "dpl(facet, label)"),
    "DI": ("Part B", "disparate_impact(facet, y_pred)"),
    "DPPL": ("Part B", "dppl(facet, y_pred)"),
    "RD": ("Part B", "recall_difference(facet, y_true, y_pred)"),
}
"""The metrics students write in assignment 05: where, and the signature the package calls."""

_supplied: dict[str, Callable[..., float]] = {}


class MissingMetricError(RuntimeError):
    """One of :data:`STUDENT_METRICS` was asked for before the student handed their function over."""


def use_metrics(**functions: Callable[..., float] | None) -> None:
    """Hand your CI, DPL, DI, DPPL and RD from assignment 05 to the package.

    From then on :func:`pretraining_bias`, :func:`posttraining_bias` and
    everything built on them (bias reports, bias drift, comparisons)
    compute these metrics with your functions. The package calls them with
    boolean NumPy masks (copies, so a function that changes its arguments
    changes nothing here): ``CI(facet)``, ``DPL(facet, label)``,
    ``DI(facet, y_pred)``, ``DPPL(facet, y_pred)`` and
    ``RD(facet, y_true, y_pred)``, where ``facet`` marks group d.

    Parameters
    ----------
    **functions : callable or None
        Keyword arguments named after the metrics in :data:`STUDENT_METRICS`
        (``CI=class_imbalance``). ``None`` forgets a function handed over
        before. Metrics not named keep what they had.

    Raises
    ------
    ValueError
        A name that is not one of the five metrics, or a value that is
        neither callable nor None.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a", "a", "d"], "y": [1, 0, 1]})
    >>> def my_ci(facet):
    ...     return 0.25
    >>> use_metrics(CI=my_ci)
    >>> pretraining_bias(df, label="y", label_values_or_threshold=[1], facet_name="g",
    ...                  facet_values_or_threshold=["d"], methods=["CI"])
    {'CI': 0.25}
    >>> use_metrics(CI=None)  # forget it again
    """
    unknown = sorted(set(functions) - set(STUDENT_METRICS))
    if unknown:
        raise ValueError(
            f"use_metrics takes the metrics {list(STUDENT_METRICS)} as keywords "
            f"(use_metrics(CI=class_imbalance)); got {unknown}"
        )
    for name, function in functions.items():
        if function is not None and not callable(function):
            raise ValueError(
                f"{name} must be a function such as {STUDENT_METRICS[name][1]}, got {type(function).__name__}"
            )
    for name, function in functions.items():
        if function is None:
            _supplied.pop(name, None)
        else:
            _supplied[name] = function


def _student_metric(name: str, *masks: np.ndarray) -> float:
    """One of the students' metrics: their function if handed over, else the reference, else an error."""
    function = _supplied.get(name) or _REFERENCE.get(name)
    if function is None:
        part, signature = STUDENT_METRICS[name]
        raise MissingMetricError(
            f"{name} is one of the metrics you write in assignment 05 ({part} of clarify_drift.ipynb: "
            f"{signature}); the package does not ship it. Run that Part, then hand your function over "
            f"with course.clarify.use_metrics({name}={signature.split('(')[0]}) and call again."
        )
    return float(function(*(mask.copy() for mask in masks)))


_NEEDS_GROUP = {"CDDL", "CDDPL"}
FT_NEIGHBORS = 5
"""k of the flip test's nearest-neighbour classifier (1 when group a has at most 9 rows)."""


def _divide(a: float, b: float) -> float:
    """``a / b`` with smclarify's rule: ``0/0`` is 0 and ``x/0`` is ``±inf``."""
    if b == 0:
        if a == 0:
            return 0.0
        return -math.inf if a < 0 else math.inf
    return a / b


def _check_groups(facet: np.ndarray) -> None:
    """Raise a ValueError unless the mask leaves rows in both group d (True) and group a (False)."""
    if not 0 < np.count_nonzero(facet) < facet.size:
        raise ValueError("both groups a and d need at least one row")


def _difference(x: float, y: float) -> float:
    """``x - y``, but 0 when both ratios are ``+inf`` (smclarify's rule)."""
    if x == y == math.inf:
        return 0.0
    return x - y


def _methods(methods: str | Sequence[str], available: tuple[str, ...], group_name: Any) -> list[str]:
    """The metrics to compute, checked; "all" leaves out CDDL/CDDPL when there is no group_name."""
    if isinstance(methods, str):
        if methods != "all":
            raise ValueError(
                f"methods must be 'all' or a list of metric names from {list(available)}, got {methods!r}"
            )
        return [m for m in available if group_name is not None or m not in _NEEDS_GROUP]
    chosen = list(methods)
    unknown = [m for m in chosen if m not in available]
    if unknown or not chosen:
        raise ValueError(
            f"unknown metric(s) {unknown or chosen}: choose from {list(available)} or pass 'all'"
        )
    needs = sorted(_NEEDS_GROUP.intersection(chosen))
    if needs and group_name is None:
        raise ValueError(f"{needs} need group_name: the column of subgroups to condition on")
    return chosen


def _pdf_aligned(positive: np.ndarray, facet: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label distributions of groups a and d over the label values present in both."""
    p_a, p_d = [], []
    for value in (False, True):
        a = np.mean(positive[~facet] == value)
        d = np.mean(positive[facet] == value)
        if a != 0 and d != 0:
            p_a.append(a)
            p_d.append(d)
    if not p_a:
        raise ValueError("groups a and d share no label value, so KL/JS/LP/TVD/KS are undefined")
    return np.array(p_a), np.array(p_d)


def _cdd(facet: np.ndarray, positive: np.ndarray, groups: pd.Series) -> float:
    """Conditional demographic disparity: subgroups' (rejected share - accepted share) of d, weighted by size."""
    if not positive.any():
        raise ValueError("CDD needs at least one positive outcome")
    if positive.all():
        raise ValueError("CDD needs at least one negative outcome")
    values = groups.to_numpy()
    counts, disparities = [], []
    for subgroup in np.unique(values):
        in_group = values == subgroup
        counts.append(float(in_group.sum()))
        accepted = (positive & in_group).sum()
        rejected = (~positive & in_group).sum()
        share_accepted = (positive & facet & in_group).sum() / accepted if accepted else 0
        share_rejected = (~positive & facet & in_group).sum() / rejected if rejected else 0
        disparities.append(share_rejected - share_accepted)
    return float(_divide(np.sum(np.array(counts) * np.array(disparities)), np.sum(counts)))


def _counts(facet: np.ndarray, y: np.ndarray, y_hat: np.ndarray) -> dict[str, int]:
    """Confusion-matrix counts per group: ``TP_a``, ``FN_d``, ...; plus predicted/observed sizes."""
    out = {}
    for name, group in (("a", ~facet), ("d", facet)):
        out[f"TP_{name}"] = int((y & y_hat & group).sum())
        out[f"FP_{name}"] = int((~y & y_hat & group).sum())
        out[f"FN_{name}"] = int((y & ~y_hat & group).sum())
        out[f"TN_{name}"] = int((~y & ~y_hat & group).sum())
    return out


def _flip_test(features: pd.DataFrame, facet: np.ndarray, y_hat: np.ndarray) -> float:
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise ValueError(
            f"FT needs numeric features, but column(s) {non_numeric} are not; encode or drop them, "
            "or leave FT out of methods"
        )
    if features.shape[1] == 0:
        raise ValueError("FT needs at least one feature column besides the facet, label and predicted label")
    X = features.to_numpy(dtype=float)
    n_a = int((~facet).sum())
    knn = KNeighborsClassifier(n_neighbors=FT_NEIGHBORS if n_a > 9 else 1)
    knn.fit(X[~facet], y_hat[~facet])
    as_if_a = knn.predict(X[facet]).astype(bool)
    model = y_hat[facet]
    return _divide(int((model & ~as_if_a).sum()) - int((~model & as_if_a).sum()), int(facet.sum()))


def _generalized_entropy(y: np.ndarray, y_hat: np.ndarray) -> float:
    benefit = y_hat.astype(int) - y.astype(int) + 1
    mean = benefit.mean()
    if mean == 0:
        raise ValueError("GE is undefined when every prediction is a false negative")
    return float(((benefit / mean) ** 2 - 1).sum() / (len(benefit) * 2 * 1))


def _pretraining_values(
    facet: np.ndarray, positive: np.ndarray, groups: pd.Series | None
) -> dict[str, Callable[[], float]]:

    def divergence(kind: str) -> float:
        p_a, p_d = _pdf_aligned(positive, facet)
        if kind == "KL":
            return float(np.sum(p_a * np.log(p_a / p_d)))
        if kind == "JS":
            p = 0.5 * (p_a + p_d)
            return float(0.5 * (np.sum(p_a * np.log(p_a / p)) + np.sum(p_d * np.log(p_d / p))))
        order = {"LP": 2, "TVD": 1, "KS": np.inf}[kind]
        norm = float(np.linalg.norm(p_a - p_d, order))
        return 0.5 * norm if kind == "TVD" else norm

    return {
        "CI": lambda: _student_metric("CI", facet),
        "DPL": lambda: _student_metric("DPL", facet, positive),
        **{kind: (lambda kind=kind: divergence(kind)) for kind in ("KL", "JS", "LP", "TVD", "KS")},
        "CDDL": lambda: _cdd(facet, positive, groups),
    }


def _group_series(df: pd.DataFrame, group_name: Any) -> pd.Series | None:
    return None if group_name is None else check_column(df, group_name, "group_name")


def pretraining_bias(
    df: pd.DataFrame,
    *,
    label: Any,
    label_values_or_threshold: Any,
    facet_name: Any,
    facet_values_or_threshold: Any,
    group_name: Any = None,
    methods: str | Sequence[str] = "all",
) -> dict[str, float]:
    """Clarify's pre-training bias metrics of a dataset: bias in the labels, before any model.

    Parameters
    ----------
    df : pandas.DataFrame
        The dataset; it is not modified.
    label : column name
        The observed label column.
    label_values_or_threshold : list or number
        Label values that are a positive outcome, or (for a continuous label)
        one number: labels above it are positive.
    facet_name : column name
        The sensitive attribute.
    facet_values_or_threshold : list or number
        Facet values forming the sensitive group d, or (for a continuous
        facet) one number: rows above it form d.
    group_name : column name, optional
        Subgroups for CDDL (conditional demographic disparity).
    methods : "all" or list of str
        Metric abbreviations from ``PRETRAINING_METRICS``. ``"all"`` leaves out
        CDDL when ``group_name`` is not given.

    Returns
    -------
    dict of str to float
        ``{"CI": ..., "DPL": ...}`` in the order requested.

    Raises
    ------
    ValueError
        Unknown column, a facet selection that is empty or covers every row,
        no positive label, unknown metric, or a metric undefined on this data.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [25.0, 40.0, 61.0, 70.0], "y": ["no", "yes", "yes", "no"]})
    >>> pretraining_bias(df, label="y", label_values_or_threshold=["yes"], facet_name="age",
    ...                  facet_values_or_threshold=[60], methods=["CI", "DPL", "KS"])
    {'CI': 0.0, 'DPL': 0.0, 'KS': 0.0}
    """
    df = check_frame(df)
    chosen = _methods(methods, PRETRAINING_METRICS, group_name)
    facet = facet_mask(df, facet_name, facet_values_or_threshold).mask
    positive = label_mask(df, label, label_values_or_threshold).mask
    return pretraining_from_masks(facet, positive, _group_series(df, group_name), chosen)


def pretraining_from_masks(
    facet: np.ndarray, positive: np.ndarray, groups: pd.Series | None, methods: Sequence[str]
) -> dict[str, float]:
    """Pre-training metrics from boolean masks (group d, positive label); for resampling loops."""
    _check_groups(facet)
    values = _pretraining_values(facet, positive, groups)
    return {name: float(values[name]()) for name in methods}


def posttraining_bias(
    df: pd.DataFrame,
    *,
    label: Any,
    predicted_label: Any,
    label_values_or_threshold: Any,
    facet_name: Any,
    facet_values_or_threshold: Any,
    group_name: Any = None,
    methods: str | Sequence[str] = "all",
) -> dict[str, float]:
    """Clarify's post-training bias metrics of a model's predicted labels.

    Parameters
    ----------
    df : pandas.DataFrame
        Features, the observed label and the predicted label; not modified.
        FT uses every column except the facet, the label and the predicted
        label as features (they must be numeric).
    label, predicted_label : column names
        Observed and predicted labels. Predicted labels follow the label's
        rule; turn scores into labels first with
        :func:`predicted_labels_from_scores`.
    label_values_or_threshold, facet_name, facet_values_or_threshold, group_name
        As in :func:`pretraining_bias` (``group_name`` is for CDDPL).
    methods : "all" or list of str
        Metric abbreviations from ``POSTTRAINING_METRICS``. ``"all"`` leaves
        out CDDPL when ``group_name`` is not given.

    Returns
    -------
    dict of str to float
        ``{"DPPL": ..., "DI": ...}`` in the order requested; ratios with a zero
        denominator are ``inf``.

    Raises
    ------
    ValueError
        As :func:`pretraining_bias`, and when no prediction is positive, label and
        predicted label are of different kinds, or FT meets a non-numeric feature.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [0.1, 0.4, 0.3, 0.9, 0.8, 0.2], "g": [1, 1, 1, 0, 0, 0],
    ...                    "y": [1, 0, 1, 1, 0, 1], "y_hat": [0, 0, 1, 1, 1, 1]})
    >>> posttraining_bias(df, label="y", predicted_label="y_hat", label_values_or_threshold=[1],
    ...                   facet_name="g", facet_values_or_threshold=[1], methods=["DPPL", "DI", "RD"])
    {'DPPL': 0.6666666666666667, 'DI': 0.3333333333333333, 'RD': 0.5}
    """
    df = check_frame(df)
    chosen = _methods(methods, POSTTRAINING_METRICS, group_name)
    facet = facet_mask(df, facet_name, facet_values_or_threshold).mask
    y = label_mask(df, label, label_values_or_threshold).mask
    y_hat = predicted_mask(df, predicted_label, label, label_values_or_threshold)
    features = df.drop(columns=list(dict.fromkeys([facet_name, label, predicted_label])))
    return posttraining_from_masks(facet, y, y_hat, features, _group_series(df, group_name), chosen)


def posttraining_from_masks(
    facet: np.ndarray,
    y: np.ndarray,
    y_hat: np.ndarray,
    features: pd.DataFrame | None,
    groups: pd.Series | None,
    methods: Sequence[str],
) -> dict[str, float]:
    """Post-training metrics from boolean masks (group d, positive label and prediction); for resampling loops.

    ``features`` (for FT) and ``groups`` (for CDDPL) may be None when those metrics are not asked for.
    """
    _check_groups(facet)
    if not y_hat.any():
        raise ValueError("post-training metrics need at least one positive prediction")
    chosen = list(methods)
    c = _counts(facet, y, y_hat)

    def ratio_gap(num_a: int, den_a: int, num_d: int, den_d: int, *, a_minus_d: bool) -> float:
        r_a, r_d = _divide(num_a, den_a), _divide(num_d, den_d)
        return _difference(r_a, r_d) if a_minus_d else _difference(r_d, r_a)

    pred_pos_a, pred_pos_d = c["TP_a"] + c["FP_a"], c["TP_d"] + c["FP_d"]
    pred_neg_a, pred_neg_d = c["TN_a"] + c["FN_a"], c["TN_d"] + c["FN_d"]
    n_a, n_d = int((~facet).sum()), int(facet.sum())
    values: dict[str, Callable[[], float]] = {
        "DPPL": lambda: _student_metric("DPPL", facet, y_hat),
        "DI": lambda: _student_metric("DI", facet, y_hat),
        "DCA": lambda: ratio_gap(
            c["TP_a"] + c["FN_a"], pred_pos_a, c["TP_d"] + c["FN_d"], pred_pos_d, a_minus_d=True
        ),
        "DCR": lambda: ratio_gap(
            c["TN_a"] + c["FP_a"], pred_neg_a, c["TN_d"] + c["FP_d"], pred_neg_d, a_minus_d=False
        ),
        "RD": lambda: _student_metric("RD", facet, y, y_hat),
        "SD": lambda: ratio_gap(
            c["TN_a"], c["TN_a"] + c["FP_a"], c["TN_d"], c["TN_d"] + c["FP_d"], a_minus_d=False
        ),
        "DAR": lambda: ratio_gap(c["TP_a"], pred_pos_a, c["TP_d"], pred_pos_d, a_minus_d=True),
        "DRR": lambda: ratio_gap(c["TN_a"], pred_neg_a, c["TN_d"], pred_neg_d, a_minus_d=False),
        "AD": lambda: ratio_gap(c["TP_a"] + c["TN_a"], n_a, c["TP_d"] + c["TN_d"], n_d, a_minus_d=True),
        "TE": lambda: ratio_gap(c["FN_a"], c["FP_a"], c["FN_d"], c["FP_d"], a_minus_d=False),
        "FT": lambda: _flip_test(features, facet, y_hat),
        "CDDPL": lambda: _cdd(facet, y_hat, groups),
        "GE": lambda: _generalized_entropy(y, y_hat),
    }
    return {name: float(values[name]()) for name in chosen}


def bias_masks(
    df: pd.DataFrame,
    *,
    label: Any,
    label_values_or_threshold: Any,
    facet_name: Any,
    facet_values_or_threshold: Any,
    predicted_label: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The boolean masks Clarify computes: group d, positive label, positive prediction (None without one).

    >>> df = pd.DataFrame({"g": ["a", "d", "d"], "y": ["no", "yes", "no"]})
    >>> [m.tolist() for m in bias_masks(df, label="y", label_values_or_threshold=["yes"],
    ...                                 facet_name="g", facet_values_or_threshold=["d"])[:2]]
    [[False, True, True], [False, True, False]]
    """
    df = check_frame(df)
    facet = facet_mask(df, facet_name, facet_values_or_threshold).mask
    y = label_mask(df, label, label_values_or_threshold).mask
    y_hat = (
        None
        if predicted_label is None
        else predicted_mask(df, predicted_label, label, label_values_or_threshold)
    )
    return facet, y, y_hat


def predicted_labels_from_scores(scores: Any, *, probability_threshold: float = 0.5) -> np.ndarray:
    """Turn model scores into 0/1 predicted labels: a score above the threshold is 1.

    Clarify's ``ModelPredictedLabelConfig(probability_threshold=0.5)`` does this
    before computing post-training metrics.

    >>> predicted_labels_from_scores([0.2, 0.5, 0.51])
    array([0, 0, 1])
    """
    values = np.asarray(scores, dtype=float)
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ValueError("scores must be a 1-D array of finite numbers (the positive class's score per row)")
    if not 0.0 <= probability_threshold <= 1.0:
        raise ValueError(f"probability_threshold ({probability_threshold}) must be between 0 and 1")
    return (values > probability_threshold).astype(int)
