# course: instructor-only — the answers to 05's Parts A and B; the package uses them only when the student has not supplied theirs
"""The instructor's CI, DPL, DI, DPPL and RD: what assignment 05 asks students to write.

This module is left out of the student edition and is an empty file inside
the grading sandbox, so :mod:`course.clarify.bias` imports it inside
``try``/``except ImportError``. The instructor's side (tests, the trusted
grader, doctests) always has it. Each function has the signature and
contract of the notebook's exercise: 1-D boolean masks (numbers read as
booleans), a built-in ``float`` back, inputs untouched, ``ValueError`` for
another shape, different lengths or an empty group.

>>> class_imbalance([True, False, False, False])
0.5
>>> recall_difference([False, False, True, True], [True, True, True, False], [True, False, False, True])
0.5
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["class_imbalance", "disparate_impact", "dpl", "dppl", "recall_difference"]


def _masks(**arrays: Any) -> list[np.ndarray]:
    """The arguments as 1-D boolean arrays of one length with both groups present, or a ValueError."""
    masks = [np.asarray(value, dtype=bool) for value in arrays.values()]
    for name, mask in zip(arrays, masks, strict=True):
        if mask.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {mask.shape}")
    if len({mask.size for mask in masks}) > 1:
        sizes = ", ".join(f"{name} {mask.size}" for name, mask in zip(arrays, masks, strict=True))
        raise ValueError(f"the masks must have the same length, got {sizes}")
    facet = masks[0]
    if facet.all() or not facet.any():
        raise ValueError("both groups (a and d) need at least one row")
    return masks


def class_imbalance(facet: Any) -> float:
    """CI = (n_a - n_d) / (n_a + n_d), where ``facet`` marks the rows of group d."""
    (facet,) = _masks(facet=facet)
    n_d = int(facet.sum())
    n_a = facet.size - n_d
    return float((n_a - n_d) / (n_a + n_d))


def dpl(facet: Any, label: Any) -> float:
    """DPL = q_a - q_d, the difference in the fractions of positive labels."""
    facet, label = _masks(facet=facet, label=label)
    return float(label[~facet].mean() - label[facet].mean())


def disparate_impact(facet: Any, y_pred: Any) -> float:
    """DI = q_d / q_a of the predicted positives; ``inf`` for x/0 and 0.0 for 0/0."""
    facet, y_pred = _masks(facet=facet, y_pred=y_pred)
    q_a, q_d = float(y_pred[~facet].mean()), float(y_pred[facet].mean())
    if q_a == 0.0:
        return math.inf if q_d > 0 else 0.0
    return q_d / q_a


def dppl(facet: Any, y_pred: Any) -> float:
    """DPPL = q_a - q_d of the predicted labels."""
    facet, y_pred = _masks(facet=facet, y_pred=y_pred)
    return float(y_pred[~facet].mean() - y_pred[facet].mean())


def recall_difference(facet: Any, y_true: Any, y_pred: Any) -> float:
    """RD = recall_a - recall_d; a group with no positive label has recall 0."""
    facet, y_true, y_pred = _masks(facet=facet, y_true=y_true, y_pred=y_pred)

    def recall(group: np.ndarray) -> float:
        positives = int((y_true & group).sum())
        return float((y_true & y_pred & group).sum() / positives) if positives else 0.0

    return recall(~facet) - recall(facet)
