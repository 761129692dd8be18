"""Query strategies: which unlabeled objects go to humans next.

Every strategy has one signature, so a student's own plugs in wherever a
strategy is accepted::

    strategy(proba, n_instances) -> indices

``proba`` holds the model's class probabilities for the unlabeled pool only
(one row per pool object), so a strategy can never pick an object that is
already labeled. It returns ``n_instances`` distinct row indices into
``proba``, the most informative first.

The only built-in strategy, chosen by name (see ``STRATEGY_NAMES``), is
``"random"``, the baseline. Uncertainty scores and top-k selection are graded
exercises, so the package does not ship them: compose your own into a strategy
with ``uncertainty_strategy(score, select)``.

Examples
--------
>>> import numpy as np
>>> def max_proba_first(proba, n_instances):
...     return np.argsort(-proba.max(axis=1), kind="stable")[:n_instances]
>>> proba = np.array([[0.5, 0.5], [0.9, 0.1], [0.7, 0.3]])
>>> select_batch(max_proba_first, proba, 2)
array([1, 2])
>>> select_batch(lambda proba, n_instances: np.array([0, 0]), proba, 2)
Traceback (most recent call last):
...
ValueError: strategy '<lambda>' returned the same index twice; indices must be distinct
>>> resolve_strategy("margin")
Traceback (most recent call last):
...
ValueError: strategy 'margin' is not built in: uncertainty scores are graded exercises, so the package does not ship them; pass your own, strategy=uncertainty_strategy(score, select) with your score(proba) -> scores and select(scores, n_instances) -> indices
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course.labeling._validation import check_n_instances, check_proba

__all__ = ["STRATEGY_NAMES", "QueryStrategy", "resolve_strategy", "select_batch", "uncertainty_strategy"]

QueryStrategy = Callable[[np.ndarray, int], np.ndarray]
STRATEGY_NAMES = ("random",)
_EXERCISE_NAMES = ("least_confidence", "margin", "entropy")


def uncertainty_strategy(
    score: Callable[[np.ndarray], np.ndarray],
    select: Callable[[np.ndarray, int], np.ndarray],
) -> QueryStrategy:
    """Compose a score ``score(proba) -> scores`` and a selection ``select(scores, k) -> indices``.

    This is how the notebook plugs a student's uncertainty score and top-k
    selection into a labeling job: ``strategy=uncertainty_strategy(margin, top_k_of_pool)``.

    Parameters
    ----------
    score : callable
        ``score(proba) -> scores``, one score per row of ``proba``.
    select : callable
        ``select(scores, n_instances) -> indices`` into ``scores``.

    Returns
    -------
    callable
        The strategy ``strategy(proba, n_instances) = select(score(proba), n_instances)``.

    Examples
    --------
    >>> import numpy as np
    >>> def gini(proba):
    ...     return 1.0 - (proba**2).sum(axis=1)
    >>> def lowest_first(scores, n_instances):
    ...     return np.argsort(scores, kind="stable")[:n_instances]
    >>> strategy = uncertainty_strategy(gini, lowest_first)
    >>> select_batch(strategy, np.array([[0.5, 0.5], [0.9, 0.1], [0.7, 0.3]]), 2)
    array([1, 2])
    """

    def strategy(proba: np.ndarray, n_instances: int) -> np.ndarray:
        return select(score(proba), n_instances)

    strategy.__name__ = f"{getattr(score, '__name__', 'score')}_top_k"
    return strategy


def _random_strategy(seed: int | np.random.Generator) -> QueryStrategy:
    rng = np.random.default_rng(seed)

    def random(proba: np.ndarray, n_instances: int) -> np.ndarray:
        proba = check_proba(proba)
        check_n_instances(n_instances, proba.shape[0])
        return rng.choice(proba.shape[0], size=n_instances, replace=False)

    return random


def resolve_strategy(strategy: str | QueryStrategy, *, seed: int | np.random.Generator = 0) -> QueryStrategy:
    """The callable for a strategy name (``"random"``, seeded by ``seed``), or the callable itself.

    Raises
    ------
    ValueError
        For a name other than ``"random"``, saying what to pass instead.
    TypeError
        For anything that is neither a name nor a callable.
    """
    if callable(strategy):
        return strategy
    if not isinstance(strategy, str):
        raise TypeError(
            f"strategy must be 'random' or a callable strategy(proba, n_instances) -> indices, "
            f"got {type(strategy).__name__}"
        )
    if strategy == "random":
        return _random_strategy(seed)
    if strategy in _EXERCISE_NAMES:
        raise ValueError(
            f"strategy {strategy!r} is not built in: uncertainty scores are graded exercises, so the "
            "package does not ship them; pass your own, strategy=uncertainty_strategy(score, select) "
            "with your score(proba) -> scores and select(scores, n_instances) -> indices"
        )
    options = ", ".join(repr(name) for name in STRATEGY_NAMES)
    raise ValueError(
        f"unknown strategy {strategy!r}; use {options}, or pass a callable "
        "strategy(proba, n_instances) -> indices, such as uncertainty_strategy(score, select)"
    )


def select_batch(strategy: QueryStrategy, proba: np.ndarray, n_instances: int) -> np.ndarray:
    """Run a strategy callable on the pool's ``proba`` and check what it returns.

    ``run_labeling_job`` and ``learning_curve`` also accept the name
    ``"random"``; this runs a callable.

    Parameters
    ----------
    strategy : callable
        ``strategy(proba, n_instances) -> indices``.
    proba : np.ndarray
        ``(n_pool, n_classes)`` class probabilities of the unlabeled pool.
    n_instances : int
        How many objects to select, ``1 <= n_instances <= n_pool``.

    Returns
    -------
    np.ndarray
        ``(n_instances,)`` distinct integer row indices into ``proba``.

    Raises
    ------
    ValueError
        For an empty pool, ``n_instances`` outside ``[1, pool size]``, or a
        strategy returning anything but ``n_instances`` distinct row indices
        of ``proba``.
    """
    if not callable(strategy):
        raise ValueError(
            f"strategy must be a callable strategy(proba, n_instances) -> indices, got "
            f"{type(strategy).__name__}; compose your own with uncertainty_strategy(score, select)"
        )
    proba = check_proba(proba)
    check_n_instances(n_instances, proba.shape[0])
    name = getattr(strategy, "__name__", "strategy")
    indices = np.asarray(strategy(proba, n_instances))
    if indices.ndim != 1 or (indices.size and not np.issubdtype(indices.dtype, np.integer)):
        raise ValueError(
            f"strategy {name!r} must return a 1-D array of integer indices, got "
            f"shape {indices.shape} and dtype {indices.dtype}"
        )
    if indices.size != n_instances:
        raise ValueError(
            f"strategy {name!r} returned {indices.size} indices; it must return exactly "
            f"n_instances ({n_instances})"
        )
    if indices.min() < 0 or indices.max() >= proba.shape[0]:
        raise ValueError(f"strategy {name!r} returned an index outside the pool [0, {proba.shape[0]})")
    if np.unique(indices).size != indices.size:
        raise ValueError(f"strategy {name!r} returned the same index twice; indices must be distinct")
    return indices.astype(int)
