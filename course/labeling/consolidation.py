"""Answer consolidation: one label per object from several workers' answers.

A consolidation function has one signature, so a student's own plugs in
wherever a consolidation is accepted::

    consolidate(answers) -> labels

``answers`` is an ``(n_objects, n_workers)`` integer matrix: column ``w`` holds
worker ``w``'s class ids, and ``MISSING`` (-1) where that worker was not asked.
``labels`` is one class id per object.

The only built-in, chosen by name (see ``CONSOLIDATION_NAMES``), is
``"weighted"``: ``weighted_vote``, a one-coin Dawid-Skene model whose EM
iterations estimate each worker's accuracy and weight their votes by it. The
majority vote is a graded exercise, so the package does not ship it: pass your
own function.

Examples
--------
>>> import numpy as np
>>> answers = np.array([[2, 2, -1], [0, 1, -1]])
>>> agreement(answers, np.array([2, 0]))
array([1. , 0.5])
>>> resolve_consolidation("majority")
Traceback (most recent call last):
...
ValueError: consolidation 'majority' is not built in: the majority vote is a graded exercise, so the package does not ship it; pass your own function, consolidation=majority_vote, or use 'weighted'
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from course.labeling._validation import MISSING, check_answers

__all__ = [
    "CONSOLIDATION_NAMES",
    "Consolidation",
    "agreement",
    "resolve_consolidation",
    "run_consolidation",
    "weighted_vote",
]

Consolidation = Callable[[np.ndarray], np.ndarray]
CONSOLIDATION_NAMES = ("weighted",)


def _vote_counts(answers: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n_objects, n_classes)`` number of workers choosing each class."""
    counts = np.zeros((answers.shape[0], n_classes))
    for k in range(n_classes):
        counts[:, k] = (answers == k).sum(axis=1)
    return counts


def weighted_vote(
    answers: np.ndarray, *, n_classes: int | None = None, n_iter: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """One-coin Dawid-Skene: labels and per-worker accuracy estimated by EM.

    Each worker ``w`` is modelled by one accuracy ``a_w``: right with
    probability ``a_w``, otherwise any other class uniformly. EM starts from the
    vote fractions, then alternates worker accuracies (M step) and per-object
    class posteriors (E step). Ties in the final posterior go to the smallest
    class id.

    Parameters
    ----------
    answers : np.ndarray
        ``(n_objects, n_workers)`` class ids, ``MISSING`` (-1) where a worker was not asked.
    n_classes : int, optional
        Number of classes (default: the largest answer + 1).
    n_iter : int
        EM iterations.

    Returns
    -------
    labels : np.ndarray
        ``(n_objects,)`` integer labels.
    accuracy : np.ndarray
        ``(n_workers,)`` estimated accuracy of each worker (NaN for a worker who answered nothing).

    Raises
    ------
    ValueError
        If ``answers`` is not a 2-D matrix of class ids or some object has no answer.

    Examples
    --------
    >>> labels, accuracy = weighted_vote(np.array([[1, 1, 0], [2, 2, 2], [0, 0, -1]]))
    >>> labels
    array([1, 2, 0])
    """
    answers = check_answers(answers)
    if answers.shape[0] == 0:
        return np.zeros(0, dtype=int), np.full(answers.shape[1], np.nan)
    n_classes = int(answers.max()) + 1 if n_classes is None else n_classes
    n_classes = max(n_classes, 2)
    given = answers != MISSING
    posterior = _vote_counts(answers, n_classes)
    posterior /= posterior.sum(axis=1, keepdims=True)
    accuracy = np.full(answers.shape[1], np.nan)
    for _ in range(n_iter):
        rows, workers = np.nonzero(given)
        agree = np.zeros(answers.shape[1])
        np.add.at(agree, workers, posterior[rows, answers[rows, workers]])
        n_given = given.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            accuracy = np.where(n_given > 0, agree / n_given, np.nan)
        acc = np.clip(np.nan_to_num(accuracy, nan=1.0 / n_classes), 1e-3, 1 - 1e-3)
        prior = np.clip(posterior.mean(axis=0), 1e-6, None)
        log_post = np.tile(np.log(prior), (answers.shape[0], 1))
        wrong = np.log((1 - acc) / (n_classes - 1))
        log_post += np.where(given, wrong, 0.0).sum(axis=1, keepdims=True)
        np.add.at(log_post, (rows, answers[rows, workers]), np.log(acc[workers]) - wrong[workers])
        log_post -= log_post.max(axis=1, keepdims=True)
        posterior = np.exp(log_post)
        posterior /= posterior.sum(axis=1, keepdims=True)
    return posterior.argmax(axis=1), accuracy


def resolve_consolidation(
    consolidation: str | Consolidation, *, n_classes: int | None = None
) -> Consolidation:
    """The callable for a consolidation name, or the callable itself.

    Parameters
    ----------
    consolidation : str or callable
        ``"weighted"`` or ``consolidate(answers) -> labels``.
    n_classes : int, optional
        Number of classes, for ``"weighted"`` (default: the largest answer + 1).

    Raises
    ------
    ValueError
        For a name other than ``"weighted"``, saying what to pass instead.
    TypeError
        For anything that is neither a name nor a callable.
    """
    if callable(consolidation):
        return consolidation
    if not isinstance(consolidation, str):
        raise TypeError(
            f"consolidation must be 'weighted' or a callable consolidate(answers) -> labels, "
            f"got {type(consolidation).__name__}"
        )
    if consolidation == "weighted":

        def weighted(answers: np.ndarray) -> np.ndarray:
            return weighted_vote(answers, n_classes=n_classes)[0]

        return functools.update_wrapper(weighted, weighted_vote)
    if consolidation == "majority":
        raise ValueError(
            "consolidation 'majority' is not built in: the majority vote is a graded exercise, so the "
            "package does not ship it; pass your own function, consolidation=majority_vote, or use 'weighted'"
        )
    options = ", ".join(repr(name) for name in CONSOLIDATION_NAMES)
    raise ValueError(
        f"unknown consolidation {consolidation!r}; use {options}, or pass a callable "
        "consolidate(answers) -> labels, such as your majority_vote"
    )


def run_consolidation(
    consolidation: str | Consolidation, answers: np.ndarray, *, n_classes: int
) -> np.ndarray:
    """Run a consolidation on an answer matrix and check it returns one valid class per object.

    Parameters
    ----------
    consolidation : str or callable
        ``"weighted"`` or ``consolidate(answers) -> labels``.
    answers : np.ndarray
        ``(n_objects, n_workers)`` class ids, ``MISSING`` (-1) where a worker was not asked.
    n_classes : int
        Labels must be class ids in ``[0, n_classes)``.

    Returns
    -------
    np.ndarray
        ``(n_objects,)`` integer labels.

    Raises
    ------
    ValueError
        For bad answers, an unknown name, or labels of the wrong shape or range.
    """
    answers = check_answers(answers)
    labels = np.asarray(resolve_consolidation(consolidation, n_classes=n_classes)(answers))
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
    answers = check_answers(answers)
    given = (answers != MISSING).sum(axis=1)
    return (answers == np.asarray(labels)[:, None]).sum(axis=1) / given
