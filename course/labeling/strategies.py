"""Query strategies: which unlabeled objects go to humans next.

Every strategy has one signature, so a student's own plugs in wherever a
built-in name is accepted::

    strategy(proba, n_instances) -> indices

``proba`` holds the model's class probabilities for the unlabeled pool only
(one row per pool object), so a strategy can never pick an object that is
already labeled. It returns ``n_instances`` distinct row indices into
``proba``, the most informative first.

Built-in strategies are chosen by name (see ``STRATEGY_NAMES``): ``"random"``
(the baseline), and the uncertainty strategies ``"least_confidence"``,
``"margin"`` and ``"entropy"``, each a score (higher = more informative)
followed by batch top-k selection (ties by the smaller index).

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
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course.labeling import _reference

__all__ = ["STRATEGY_NAMES", "QueryStrategy", "select_batch", "uncertainty_strategy"]

QueryStrategy = Callable[[np.ndarray, int], np.ndarray]
STRATEGY_NAMES = ("random", "least_confidence", "margin", "entropy")
UNCERTAINTY_STRATEGY_NAMES = STRATEGY_NAMES[1:]

_SCORES = {
    "least_confidence": _reference.least_confidence,
    "margin": _reference.margin,
    "entropy": _reference.entropy,
}


def uncertainty_strategy(
    score: Callable[[np.ndarray], np.ndarray],
    select: Callable[[np.ndarray, int], np.ndarray],
) -> QueryStrategy:
    """Compose a score ``score(proba) -> scores`` and a selection ``select(scores, k) -> indices``.

    This is how the notebook plugs a student's uncertainty score and top-k
    selection into a labeling job: ``strategy=uncertainty_strategy(entropy, top_k)``.
    """

    def strategy(proba: np.ndarray, n_instances: int) -> np.ndarray:
        return select(score(proba), n_instances)

    strategy.__name__ = f"{getattr(score, '__name__', 'score')}_top_k"
    return strategy


def _random_strategy(seed: int | np.random.Generator) -> QueryStrategy:
    rng = np.random.default_rng(seed)

    def random(proba: np.ndarray, n_instances: int) -> np.ndarray:
        proba = _reference.check_proba(proba)
        _reference.check_n_instances(n_instances, proba.shape[0])
        return rng.choice(proba.shape[0], size=n_instances, replace=False)

    return random


def _builtin(name: str) -> QueryStrategy:
    score = _SCORES[name]

    def strategy(proba: np.ndarray, n_instances: int) -> np.ndarray:
        return _reference.top_k(score(proba), n_instances)

    strategy.__name__ = name
    return strategy


def _resolve_strategy(strategy: str | QueryStrategy, *, seed: int | np.random.Generator = 0) -> QueryStrategy:
    """The callable for a strategy name (``"random"`` is seeded), or the callable itself."""
    if callable(strategy):
        return strategy
    if strategy == "random":
        return _random_strategy(seed)
    if strategy in _SCORES:
        return _builtin(strategy)
    options = ", ".join(repr(name) for name in STRATEGY_NAMES)
    raise ValueError(
        f"unknown strategy {strategy!r}; use one of {options}, or pass a callable "
        "strategy(proba, n_instances) -> indices"
    )


def select_batch(strategy: QueryStrategy, proba: np.ndarray, n_instances: int) -> np.ndarray:
    """Run a strategy callable on the pool's ``proba`` and check what it returns.

    Built-in strategies are chosen by name in ``run_labeling_job`` and
    ``learning_curve``; this runs your own.

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
            f"{type(strategy).__name__}; built-in strategies are chosen by name in "
            "run_labeling_job and learning_curve"
        )
    chooser = strategy
    proba = _reference.check_proba(proba)
    _reference.check_n_instances(n_instances, proba.shape[0])
    name = getattr(chooser, "__name__", "strategy")
    indices = np.asarray(chooser(proba, n_instances))
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
