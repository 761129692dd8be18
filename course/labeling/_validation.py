"""Input checks shared by the labeling modules (private).

None of these answers a graded exercise: they check what the package's own
functions receive, so that a wrong input fails with a message saying what to
pass instead.
"""

from __future__ import annotations

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
