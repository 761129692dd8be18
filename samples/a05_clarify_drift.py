"""Plausible wrong answers to assignment 05 (Clarify bias metrics and Model Monitor drift).

``WRONG_ANSWERS`` maps a variant name to replacement sources for solution cells
(by ``grade_id``); each variant must score less than full marks. ``PARTIAL`` is
one "partly right" student, worth roughly half the marks, for a demo class.
"""

from __future__ import annotations

ASSIGNMENT = "05_clarify_drift"
NOTEBOOK = "clarify_drift.ipynb"

_CI = '''def class_imbalance(facet) -> float:
    """Clarify's CI = (n_a - n_d) / (n_a + n_d), where facet marks the rows of group d."""
    facet = np.asarray(facet, dtype=bool)
    if facet.ndim != 1 or facet.all() or not facet.any():
        raise ValueError("facet must be 1-D with rows in both groups")
'''

_DPL = '''def dpl(facet, label) -> float:
    """Clarify's DPL = q_a - q_d: difference in the fractions of positive labels."""
    facet = np.asarray(facet, dtype=bool)
    label = np.asarray(label, dtype=bool)
    if facet.ndim != 1 or facet.shape != label.shape or facet.all() or not facet.any():
        raise ValueError("facet and label must be 1-D, of the same length, with rows in both groups")
'''

_DI = '''def disparate_impact(facet, y_pred) -> float:
    """Clarify's DI = q_d / q_a of predicted positives, with inf for x/0 and 0.0 for 0/0."""
    facet = np.asarray(facet, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    if facet.ndim != 1 or facet.shape != y_pred.shape or facet.all() or not facet.any():
        raise ValueError("facet and y_pred must be 1-D, of the same length, with rows in both groups")
'''

_RD = '''def recall_difference(facet, y_true, y_pred) -> float:
    """Clarify's RD = recall_a - recall_d; a group with no positive label has recall 0."""
    facet = np.asarray(facet, dtype=bool)
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    if facet.ndim != 1 or facet.shape != y_true.shape or facet.shape != y_pred.shape:
        raise ValueError("facet, y_true and y_pred must be 1-D and of the same length")
    if facet.all() or not facet.any():
        raise ValueError("both groups need at least one row")
'''

_LINF = '''def linf_distance(x, y) -> float:
    """Largest absolute difference between the empirical CDFs of samples x and y."""
'''

_LINF_CHECKS = """    for sample in (x, y):
        if sample.ndim != 1 or sample.size == 0 or not np.all(np.isfinite(sample)):
            raise ValueError("x and y must be non-empty 1-D samples of finite numbers")
"""

_NDCG = '''def ndcg(baseline_attributions: dict, live_attributions: dict) -> float:
    """NDCG of the live ranking of features, scored with the baseline attributions."""
    if set(baseline_attributions) != set(live_attributions) or not baseline_attributions:
        raise ValueError("baseline and live attributions must name the same, non-empty features")
'''


def _answer(number: int, value: str) -> str:
    return f'answer_q{number} = "{value}"\n'


# The sign flipped: (n_d - n_a) / n.
_CI_INVERTED = _CI + "    return float((2 * facet.sum() - facet.size) / facet.size)\n"

# q_d - q_a.
_DPL_SIGN = _DPL + "    return float(label[facet].mean() - label[~facet].mean())\n"

# Right value, but a NumPy float.
_DPL_NUMPY = _DPL + "    return label[~facet].mean() - label[facet].mean()\n"

# q_a / q_d: the ratio upside down.
_DI_INVERTED = (
    _DI
    + """    q_a, q_d = y_pred[~facet].mean(), y_pred[facet].mean()
    if q_d == 0:
        return math.inf if q_a > 0 else 0.0
    return float(q_a / q_d)
"""
)

# Plain division: ZeroDivisionError when no one in group a is predicted positive.
_DI_ZERO_DIVISION = (
    _DI
    + """    q_a, q_d = float(y_pred[~facet].mean()), float(y_pred[facet].mean())
    return q_d / q_a
"""
)

# Counts, not proportions.
_DPPL_COUNTS = '''def dppl(facet, y_pred) -> float:
    """Clarify's DPPL = q_a - q_d of the predicted labels."""
    facet = np.asarray(facet, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    if facet.ndim != 1 or facet.shape != y_pred.shape or facet.all() or not facet.any():
        raise ValueError("facet and y_pred must be 1-D, of the same length, with rows in both groups")
    return float(y_pred[~facet].sum() - y_pred[facet].sum())
'''

# Precision (TP / predicted positives) instead of recall.
_RD_PRECISION = (
    _RD
    + """    def precision(group):
        predicted = int((y_pred & group).sum())
        return float((y_true & y_pred & group).sum() / predicted) if predicted else 0.0

    return precision(~facet) - precision(facet)
"""
)

# 0/0 is not caught: a group with no positive label raises ZeroDivisionError.
_RD_ZERO_DIVISION = (
    _RD
    + """    def recall(group):
        return int((y_true & y_pred & group).sum()) / int((y_true & group).sum())

    return recall(~facet) - recall(facet)
"""
)

# Evaluates both CDFs only at the values of x: misses a gap at a value of y.
_LINF_X_POINTS_ONLY = (
    _LINF
    + """    x = np.sort(np.asarray(x, dtype=float))
    y = np.sort(np.asarray(y, dtype=float))
"""
    + _LINF_CHECKS
    + """    cdf_x = np.searchsorted(x, x, side="right") / x.size
    cdf_y = np.searchsorted(y, x, side="right") / y.size
    return float(np.max(np.abs(cdf_x - cdf_y)))
"""
)

# Sorts the caller's arrays in place.
_LINF_SORTS_IN_PLACE = (
    _LINF
    + """    if not isinstance(x, np.ndarray):
        x = np.asarray(x, dtype=float)
    if not isinstance(y, np.ndarray):
        y = np.asarray(y, dtype=float)
"""
    + _LINF_CHECKS
    + """    x.sort()
    y.sort()
    points = np.concatenate([x, y])
    cdf_x = np.searchsorted(x, points, side="right") / x.size
    cdf_y = np.searchsorted(y, points, side="right") / y.size
    return float(np.max(np.abs(cdf_x - cdf_y)))
"""
)

# CDFs over the distinct values only: repeated values are counted once.
_LINF_IGNORES_TIES = (
    _LINF
    + """    x = np.unique(np.asarray(x, dtype=float))
    y = np.unique(np.asarray(y, dtype=float))
"""
    + _LINF_CHECKS
    + """    points = np.concatenate([x, y])
    cdf_x = np.searchsorted(x, points, side="right") / x.size
    cdf_y = np.searchsorted(y, points, side="right") / y.size
    return float(np.max(np.abs(cdf_x - cdf_y)))
"""
)

# Gains taken from the live attributions instead of the baseline's.
_NDCG_LIVE_GAINS = (
    _NDCG
    + """    live_order = sorted(live_attributions, key=lambda f: (-live_attributions[f], f))
    ideal_order = sorted(baseline_attributions, key=lambda f: (-baseline_attributions[f], f))
    dcg = sum(live_attributions[f] / math.log2(i + 2) for i, f in enumerate(live_order))
    idcg = sum(baseline_attributions[f] / math.log2(i + 2) for i, f in enumerate(ideal_order))
    if idcg == 0:
        raise ValueError("every baseline attribution is zero")
    return float(dcg / idcg)
"""
)

# Off by one in the discount: log2(i + 2) with i counted from 1.
_NDCG_OFF_BY_ONE = (
    _NDCG
    + """    live_order = sorted(live_attributions, key=lambda f: (-live_attributions[f], f))
    ideal_order = sorted(baseline_attributions, key=lambda f: (-baseline_attributions[f], f))
    dcg = sum(baseline_attributions[f] / math.log2(i + 2) for i, f in enumerate(live_order, start=1))
    idcg = sum(baseline_attributions[f] / math.log2(i + 2) for i, f in enumerate(ideal_order, start=1))
    if idcg == 0:
        raise ValueError("every baseline attribution is zero")
    return float(dcg / idcg)
"""
)

# Ties broken by the dict's order instead of by name.
_NDCG_TIES_BY_ORDER = (
    _NDCG
    + """    live_order = sorted(live_attributions, key=lambda f: -live_attributions[f])
    ideal_order = sorted(baseline_attributions, key=lambda f: -baseline_attributions[f])
    dcg = sum(baseline_attributions[f] / math.log2(i + 2) for i, f in enumerate(live_order))
    idcg = sum(baseline_attributions[f] / math.log2(i + 2) for i, f in enumerate(ideal_order))
    if idcg == 0:
        raise ValueError("every baseline attribution is zero")
    return float(dcg / idcg)
"""
)

# Borrows the package's sketch-based distance (it is exact for small samples, but it needs a
# fresh sketch per call and rejects nothing the contract asks to reject).
_LINF_FROM_PACKAGE = '''from course.monitor import KLLSketch, sketch_distance as _package_linf


def linf_distance(x, y) -> float:
    """Largest absolute difference between the empirical CDFs of samples x and y."""
    a, b = KLLSketch(), KLLSketch()
    a.update(np.asarray(x, dtype=float).ravel())
    b.update(np.asarray(y, dtype=float).ravel())
    return _package_linf(a, b)
'''

WRONG_ANSWERS: dict[str, dict[str, str]] = {
    "ci_inverted": {"class_imbalance": _CI_INVERTED},
    "dpl_sign_flipped": {"dpl": _DPL_SIGN},
    "dpl_returns_numpy_float": {"dpl": _DPL_NUMPY},
    "di_inverted": {"disparate_impact": _DI_INVERTED},
    "di_zero_division": {"disparate_impact": _DI_ZERO_DIVISION},
    "dppl_counts_not_proportions": {"dppl": _DPPL_COUNTS},
    "rd_precision_not_recall": {"recall_difference": _RD_PRECISION},
    "rd_zero_division": {"recall_difference": _RD_ZERO_DIVISION},
    "linf_at_x_points_only": {"linf_distance": _LINF_X_POINTS_ONLY},
    "linf_sorts_in_place": {"linf_distance": _LINF_SORTS_IN_PLACE},
    "linf_ignores_ties": {"linf_distance": _LINF_IGNORES_TIES},
    "linf_from_package": {"linf_distance": _LINF_FROM_PACKAGE},
    "ndcg_live_gains": {"ndcg": _NDCG_LIVE_GAINS},
    "ndcg_discount_off_by_one": {"ndcg": _NDCG_OFF_BY_ONE},
    "ndcg_ties_by_dict_order": {"ndcg": _NDCG_TIES_BY_ORDER},
    "accuracy_decay_as_data_quality": {"q2": _answer(2, "data quality")},
    "latency_as_model_quality": {"q5": _answer(5, "model quality")},
}

# Part A right, DI inverted, RD on precision, L-inf at x's points, NDCG with live gains,
# two monitor answers wrong: about half.
PARTIAL: dict[str, str] = {
    "disparate_impact": _DI_INVERTED,
    "recall_difference": _RD_PRECISION,
    "linf_distance": _LINF_X_POINTS_ONLY,
    "ndcg": _NDCG_LIVE_GAINS,
    "q2": _answer(2, "data quality"),
    "q4": _answer(4, "model quality"),
}
