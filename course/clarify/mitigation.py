"""Bias mitigation: reweighing before training, and an output filter that only hides bias.

Used by assignment 05. Clarify measures bias; mitigating it is up to you.
Reweighing (Kamiran and Calders, 2012) gives each (group, label) cell the
weight ``P(group) * P(label) / P(group, label)``, so that in the weighted data
the label is independent of the facet; a model retrained with these sample
weights learns less of the historical bias.

An output filter (a lower acceptance threshold for group d, chosen so that
both groups are accepted at the same rate) makes DPPL zero without changing
the model: its scores, and what they depend on, stay the same, and the
difference moves to the error rates. It hides the bias rather than fixing it.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"g": ["a", "a", "a", "d"], "y": [1, 1, 0, 0]})
>>> reweighing_weights(df, label="y", label_values_or_threshold=[1],
...                    facet_name="g", facet_values_or_threshold=["d"]).round(3).tolist()
[0.75, 0.75, 1.5, 0.5]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from course.clarify._groups import check_frame, facet_mask, label_mask

__all__ = ["bias_comparison", "equal_acceptance_labels", "reweighing_weights"]


def reweighing_weights(
    df: pd.DataFrame,
    *,
    label: Any,
    label_values_or_threshold: Any,
    facet_name: Any,
    facet_values_or_threshold: Any,
) -> np.ndarray:
    """Kamiran-Calders sample weights that make the label independent of the facet.

    Parameters are those of :func:`course.clarify.pretraining_bias`.

    Returns
    -------
    numpy.ndarray
        One weight per row of ``df``; they add up to ``len(df)``.
    """
    df = check_frame(df)
    facet = facet_mask(df, facet_name, facet_values_or_threshold).mask
    positive = label_mask(df, label, label_values_or_threshold).mask
    n = len(df)
    weights = np.empty(n)
    for group in (facet, ~facet):
        for outcome in (positive, ~positive):
            cell = group & outcome
            if cell.any():
                weights[cell] = group.sum() * outcome.sum() / (n * cell.sum())
    return weights


def equal_acceptance_labels(scores: Any, facet: Any, *, probability_threshold: float = 0.5) -> np.ndarray:
    """An output filter: group d's threshold is lowered until it is accepted as often as group a.

    Parameters
    ----------
    scores : array-like of float
        The model's score per row.
    facet : array-like of bool
        True for the rows of the sensitive group d.
    probability_threshold : float
        The threshold group a keeps.

    Returns
    -------
    numpy.ndarray of int
        0/1 labels. The model is unchanged: this only moves a threshold.

    >>> equal_acceptance_labels([0.9, 0.2, 0.4, 0.3], [False, False, True, True]).tolist()
    [1, 0, 1, 0]
    """
    values = np.asarray(scores, dtype=float)
    in_d = np.asarray(facet).astype(bool)
    if values.ndim != 1 or in_d.shape != values.shape:
        raise ValueError("scores and facet must be 1-D arrays of the same length")
    if not 0 < np.count_nonzero(in_d) < in_d.size:
        raise ValueError("facet must mark some rows as group d and leave some in group a")
    labels = (values > probability_threshold).astype(int)
    rate_a = labels[~in_d].mean()
    n_accept = int(round(rate_a * in_d.sum()))
    order = np.argsort(-values[in_d], kind="stable")
    d_labels = np.zeros(int(in_d.sum()), dtype=int)
    d_labels[order[:n_accept]] = 1
    labels[in_d] = d_labels
    return labels


def bias_comparison(reports: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Metrics side by side: one column per named result (``{"before": {...}, "after": {...}}``).

    >>> bias_comparison({"before": {"DPPL": 0.3}, "after": {"DPPL": 0.05}})
          before  after
    DPPL     0.3   0.05
    """
    if not reports:
        raise ValueError("give at least one named set of metrics")
    return pd.DataFrame({name: pd.Series(dict(values), dtype=float) for name, values in reports.items()})
