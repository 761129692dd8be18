"""Learning curves: test accuracy against the number of human labels.

Pool-based active learning with exact labels: every strategy starts from the
same random initial sample (per seed), then repeatedly queries a batch from
the unlabeled pool, retrains and scores on a held-out test set.

Examples
--------
>>> from sklearn.model_selection import train_test_split
>>> data = load_digits_objects()
>>> X_pool, X_test, y_pool, y_test = train_test_split(
...     data.X, data.y, test_size=0.3, random_state=0)
>>> curve = learning_curve(X_pool, y_pool, X_test, y_test, strategies=["random"],
...     seeds=[0], initial_size=20, batch_size=20, max_labels=60, progress=False)
>>> curve["n_labels"].tolist()
[20, 40, 60]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from tqdm.auto import tqdm

from course.labeling.automated import default_estimator, predict_proba
from course.labeling.datasets import load_digits_objects  # noqa: F401  (doctest)
from course.labeling.strategies import QueryStrategy, resolve_strategy, select_batch

__all__ = ["labels_to_reach", "learning_curve"]


def learning_curve(
    X_pool: np.ndarray,
    y_pool: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    strategies: Iterable[str] | Mapping[str, str | QueryStrategy],
    seeds: Iterable[int] = range(5),
    initial_size: int = 20,
    batch_size: int = 10,
    max_labels: int = 300,
    estimator: BaseEstimator | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Test accuracy after each batch of labels, per strategy and seed.

    Parameters
    ----------
    X_pool, y_pool : np.ndarray
        Objects that may be labeled, and their (oracle) labels.
    X_test, y_test : np.ndarray
        Held-out set the accuracy is measured on.
    strategies : iterable of names, or mapping of name to name or callable
        Query strategies to compare: ``"random"`` or ``strategy(proba, n_instances) -> indices``,
        such as ``uncertainty_strategy(margin, select)`` from your own score and selection.
    seeds : iterable of int
        One run per seed: the seed draws the initial sample and drives ``"random"``.
    initial_size, batch_size, max_labels : int
        First random sample, labels per query, and where to stop.
    estimator : scikit-learn classifier, optional
        Refit after every batch (default: ``default_estimator()``).
    progress : bool
        Show a tqdm bar over (strategy, seed) runs.

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy``, ``seed``, ``n_labels``, ``accuracy``.

    Raises
    ------
    ValueError
        For an empty pool, no strategy or seed, an unknown strategy name, or
        sizes out of range.
    TypeError
        For a strategy that is neither a name nor a callable.
    """
    X_pool, X_test = np.asarray(X_pool, dtype=float), np.asarray(X_test, dtype=float)
    y_pool, y_test = np.asarray(y_pool, dtype=int), np.asarray(y_test, dtype=int)
    named = dict(strategies) if isinstance(strategies, Mapping) else {s: s for s in strategies}
    seeds = list(seeds)
    n_pool = len(y_pool)
    if n_pool == 0:
        raise ValueError("the pool is empty: give at least initial_size objects to label")
    if not named or not seeds:
        raise ValueError("give at least one strategy and one seed")
    if not 1 <= initial_size <= min(max_labels, n_pool):
        raise ValueError(
            f"initial_size ({initial_size}) must be between 1 and min(max_labels, pool size) "
            f"({min(max_labels, n_pool)})"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size ({batch_size}) must be >= 1")
    for strategy in named.values():
        resolve_strategy(strategy)
    estimator = default_estimator() if estimator is None else estimator
    n_classes = int(max(y_pool.max(), y_test.max())) + 1
    rows = []
    runs = [(name, seed) for name in named for seed in seeds]
    for name, seed in tqdm(runs, desc="learning curves", disable=not progress):
        rng = np.random.default_rng(seed)
        chooser = resolve_strategy(named[name], seed=rng)
        labeled = np.zeros(n_pool, dtype=bool)
        labeled[rng.choice(n_pool, size=initial_size, replace=False)] = True
        while True:
            model = clone(estimator).fit(X_pool[labeled], y_pool[labeled])
            accuracy = float(np.mean(model.predict(X_test) == y_test))
            rows.append((name, seed, int(labeled.sum()), accuracy))
            n_query = min(batch_size, max_labels - int(labeled.sum()), int((~labeled).sum()))
            if n_query <= 0:
                break
            pool = np.flatnonzero(~labeled)
            proba = predict_proba(model, X_pool[pool], n_classes)
            labeled[pool[select_batch(chooser, proba, n_query)]] = True
    return pd.DataFrame(rows, columns=["strategy", "seed", "n_labels", "accuracy"])


def labels_to_reach(curve: pd.DataFrame, target_accuracy: float = 0.9) -> pd.DataFrame:
    """Fewest labels at which each (strategy, seed) run first reaches the target accuracy.

    Runs that never reach it get NaN.

    >>> curve = pd.DataFrame({"strategy": ["a"] * 3, "seed": [0] * 3,
    ...                       "n_labels": [10, 20, 30], "accuracy": [0.5, 0.92, 0.91]})
    >>> labels_to_reach(curve, 0.9)["n_labels"].tolist()
    [20.0]
    """
    rows = []
    for (strategy, seed), run in curve.groupby(["strategy", "seed"], sort=False):
        reached = run.loc[run["accuracy"] >= target_accuracy, "n_labels"]
        rows.append((strategy, seed, float(reached.min()) if len(reached) else np.nan))
    return pd.DataFrame(rows, columns=["strategy", "seed", "n_labels"])
