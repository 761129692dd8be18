"""Answer consolidation: one label per object from several workers' answers.

A consolidation function has one signature, so a student's own plugs in
wherever a built-in name is accepted::

    consolidate(answers) -> labels

``answers`` is an ``(n_objects, n_workers)`` integer matrix: column ``w`` holds
worker ``w``'s class ids, and ``MISSING`` (-1) where that worker was not asked.
``labels`` is one class id per object.

Built-ins, by name: ``"majority"`` (most frequent answer; a tie goes to the
smallest class id among the tied classes) and ``"weighted"`` (one-coin
Dawid-Skene: a few EM iterations estimate each worker's accuracy and weight
their votes by it; ties again go to the smallest class id).

Examples
--------
>>> import numpy as np
>>> answers = np.array([[2, 2, -1], [0, 1, -1]])
>>> agreement(answers, np.array([2, 0]))
array([1. , 0.5])
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from course.labeling import _reference

__all__ = ["CONSOLIDATION_NAMES", "Consolidation", "agreement"]

Consolidation = Callable[[np.ndarray], np.ndarray]
CONSOLIDATION_NAMES = ("majority", "weighted")


def _resolve_consolidation(consolidation: str | Consolidation, *, n_classes: int) -> Consolidation:
    """The callable for a consolidation name, or the callable itself."""
    if callable(consolidation):
        return consolidation
    if consolidation == "majority":
        return _reference.majority_vote
    if consolidation == "weighted":

        def weighted(answers: np.ndarray) -> np.ndarray:
            return _reference.weighted_vote(answers, n_classes=n_classes)[0]

        return functools.update_wrapper(weighted, _reference.weighted_vote)
    options = ", ".join(repr(name) for name in CONSOLIDATION_NAMES)
    raise ValueError(
        f"unknown consolidation {consolidation!r}; use one of {options}, or pass a callable "
        "consolidate(answers) -> labels"
    )


def _consolidate(consolidation: str | Consolidation, answers: np.ndarray, *, n_classes: int) -> np.ndarray:
    """Run a consolidation on an answer matrix and check it returns one valid class per object.

    Private: with a built-in name this would hand out the majority vote.
    """
    answers = _reference.check_answers(answers)
    labels = np.asarray(_resolve_consolidation(consolidation, n_classes=n_classes)(answers))
    if labels.shape != (answers.shape[0],):
        raise ValueError(
            f"consolidation must return one label per object: expected shape "
            f"({answers.shape[0]},), got {labels.shape}"
        )
    if labels.size and (
        not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= n_classes
    ):
        raise ValueError(f"consolidation must return integer class ids in [0, {n_classes})")
    return labels.astype(int)


def agreement(answers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fraction of the answers given for each object that equal its label (its confidence)."""
    answers = _reference.check_answers(answers)
    given = (answers != _reference.MISSING).sum(axis=1)
    return (answers == np.asarray(labels)[:, None]).sum(axis=1) / given
