"""Reference implementations the labeling job runs on by default (private).

These are the answers to graded exercises of assignment 01: the notebook never
imports them. Its test cells call the student's own functions by name, and the
job accepts the student's functions in place of these (``strategy=``,
``consolidation=``, ``threshold=``).

Conventions shared with the notebook:

- Scores are "higher = more informative": least confidence ``1 - max p``,
  margin ``1 - (p_1 - p_2)``, entropy ``-sum p log p`` (natural log, ``0 log 0 = 0``).
- Top-k selection breaks ties by the smaller index (a stable sort).
- Majority vote breaks ties by the smallest class id among the tied classes.
- The auto-labeling threshold is the smallest validation confidence ``t`` such
  that the objects with confidence ``>= t`` reach the target accuracy, or
  ``inf`` (auto-label nothing) when no ``t`` does.
"""

from __future__ import annotations

import math

import numpy as np

MISSING = -1
"""Marks "this worker did not label this object" in an answer matrix."""


def check_proba(proba: np.ndarray) -> np.ndarray:
    """Return ``proba`` as a float array after checking it holds class probabilities."""
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2:
        raise ValueError(
            f"proba must be 2-D (n_samples, n_classes), got shape {proba.shape}; "
            "pass the output of predict_proba"
        )
    if proba.shape[1] == 0:
        raise ValueError("proba has no class columns; pass the output of predict_proba")
    if not np.all(np.isfinite(proba)) or np.any(proba < 0):
        raise ValueError("proba must hold finite, non-negative probabilities")
    if proba.shape[0] and not np.allclose(proba.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("each row of proba must sum to 1; pass the output of predict_proba")
    return proba


def least_confidence(proba: np.ndarray) -> np.ndarray:
    """``1 - max_k p_k`` per row, in ``[0, 1 - 1/n_classes]``."""
    proba = check_proba(proba)
    if proba.shape[0] == 0:
        return np.zeros(0)
    return 1.0 - proba.max(axis=1)


def margin(proba: np.ndarray) -> np.ndarray:
    """``1 - (p_1 - p_2)`` per row (``p_2 = 0`` with one class), in ``[0, 1]``."""
    proba = check_proba(proba)
    if proba.shape[0] == 0:
        return np.zeros(0)
    if proba.shape[1] == 1:
        return 1.0 - proba[:, 0]
    top2 = -np.partition(-proba, 1, axis=1)[:, :2]
    return 1.0 - (top2[:, 0] - top2[:, 1])


def entropy(proba: np.ndarray) -> np.ndarray:
    """``-sum_k p_k log p_k`` per row (natural log, ``0 log 0 = 0``), in ``[0, log n_classes]``."""
    proba = check_proba(proba)
    logs = np.log(np.where(proba > 0, proba, 1.0))
    return np.maximum(-(proba * logs).sum(axis=1), 0.0)


def top_k(scores: np.ndarray, n_instances: int, *, labeled: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``n_instances`` highest scores among the unlabeled rows.

    Highest score first; equal scores by increasing index.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {scores.shape}")
    if np.any(np.isnan(scores)):
        raise ValueError("scores contain NaN; check the scoring function")
    if labeled is None:
        labeled = np.zeros(scores.shape, dtype=bool)
    labeled = np.asarray(labeled, dtype=bool)
    if labeled.shape != scores.shape:
        raise ValueError(f"labeled mask has shape {labeled.shape} but scores have shape {scores.shape}")
    check_n_instances(n_instances, int((~labeled).sum()))
    pool = np.flatnonzero(~labeled)
    order = np.argsort(-scores[pool], kind="stable")
    return pool[order[:n_instances]]


def check_n_instances(n_instances: int, n_pool: int) -> None:
    """Raise a ValueError unless ``1 <= n_instances <= n_pool``."""
    if isinstance(n_instances, bool) or not isinstance(n_instances, int | np.integer):
        raise ValueError(f"n_instances must be an int, got {type(n_instances).__name__}")
    if n_pool == 0:
        raise ValueError("the unlabeled pool is empty: there is nothing left to query")
    if n_instances < 1:
        raise ValueError(f"n_instances ({n_instances}) must be >= 1")
    if n_instances > n_pool:
        raise ValueError(
            f"n_instances ({n_instances}) is larger than the unlabeled pool ({n_pool}); "
            "ask for at most the pool size"
        )


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, *, target_accuracy: float = 0.95) -> float:
    """Smallest confidence ``t`` whose auto-labels (confidence ``>= t``) reach the target."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    if confidence.ndim != 1 or confidence.shape != correct.shape:
        raise ValueError(
            "confidence and correct must be 1-D arrays of the same length, got shapes "
            f"{confidence.shape} and {correct.shape}"
        )
    if confidence.size == 0:
        raise ValueError("the validation set is empty: label some objects before choosing")
    if not 0.0 < target_accuracy <= 1.0:
        raise ValueError(f"target_accuracy ({target_accuracy}) must be in (0, 1]")
    order = np.argsort(-confidence, kind="stable")
    sorted_conf = confidence[order]
    hits = np.cumsum(correct[order])
    counts = np.arange(1, confidence.size + 1)
    group_end = np.append(sorted_conf[1:] != sorted_conf[:-1], True)
    meets = group_end & (hits / counts >= target_accuracy - 1e-12)
    if not meets.any():
        return math.inf
    return float(sorted_conf[np.flatnonzero(meets)[-1]])


def check_answers(answers: np.ndarray) -> np.ndarray:
    """Return ``answers`` as an int matrix after checking every object has an answer."""
    answers = np.asarray(answers)
    if answers.ndim != 2:
        raise ValueError(f"answers must be 2-D (n_objects, n_workers), got shape {answers.shape}")
    if answers.size and not np.issubdtype(answers.dtype, np.integer):
        raise ValueError(f"answers must hold integer class ids, got dtype {answers.dtype}")
    answers = answers.astype(int)
    if np.any(answers < MISSING):
        raise ValueError(f"answers must be class ids >= 0, or {MISSING} for 'no answer'")
    if answers.shape[0] and np.any((answers == MISSING).all(axis=1)):
        row = int(np.flatnonzero((answers == MISSING).all(axis=1))[0])
        raise ValueError(f"object {row} has no answer from any worker")
    return answers


def vote_counts(answers: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n_objects, n_classes)`` number of workers choosing each class."""
    counts = np.zeros((answers.shape[0], n_classes))
    for k in range(n_classes):
        counts[:, k] = (answers == k).sum(axis=1)
    return counts


def majority_vote(answers: np.ndarray) -> np.ndarray:
    """Most frequent answer per row; ties go to the smallest class id."""
    answers = check_answers(answers)
    if answers.shape[0] == 0:
        return np.zeros(0, dtype=int)
    return vote_counts(answers, int(answers.max()) + 1).argmax(axis=1)


def weighted_vote(
    answers: np.ndarray, *, n_classes: int | None = None, n_iter: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """One-coin Dawid-Skene: labels and per-worker accuracy estimated by EM.

    Each worker ``w`` is modelled by one accuracy ``a_w``: right with
    probability ``a_w``, otherwise any other class uniformly. EM starts from the
    vote fractions, then alternates worker accuracies (M step) and per-object
    class posteriors (E step). Ties in the final posterior go to the smallest
    class id.
    """
    answers = check_answers(answers)
    if answers.shape[0] == 0:
        return np.zeros(0, dtype=int), np.full(answers.shape[1], np.nan)
    n_classes = int(answers.max()) + 1 if n_classes is None else n_classes
    n_classes = max(n_classes, 2)
    given = answers != MISSING
    posterior = vote_counts(answers, n_classes)
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
