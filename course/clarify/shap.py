"""Kernel SHAP explanations, as SageMaker Clarify's ``SHAPConfig`` computes them.

Used by assignment 05. A feature's SHAP value for one row is its Shapley
value in a game whose players are the features: the value of a coalition S
of features is the model's mean prediction when the row's values are kept for
S and every other feature takes the values of the baseline rows. The values
of one row add up to ``f(row) - expected_value``, where ``expected_value`` is
the mean prediction on the baseline.

Kernel SHAP (Lundberg and Lee, 2017) estimates them with a weighted linear
regression over ``num_samples`` coalitions, weighted by the Shapley kernel.
Like the ``shap`` library, it enumerates every coalition of a subset size
(and of its complement) while the budget allows, and samples the rest; when
the budget covers all ``2**M - 2`` coalitions the result equals the exact
Shapley values (up to rounding). :func:`exact_shapley` computes those by
enumeration, for checking.

Options follow Clarify's ``SHAPConfig``: ``baseline`` (rows, or k-means
centres of the data when not given, ``num_clusters`` of them), ``num_samples``
(default ``2 * M + 2048``, as in ``shap``), ``seed`` and ``agg_method``
(``"mean_abs"``, ``"median"`` or ``"mean_sq"``) for the global explanation.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
>>> linear = lambda A: A @ np.array([1.0, -2.0, 0.5])
>>> result = kernel_shap(linear, X, baseline=np.zeros((1, 3)))
>>> np.round(result.shap_values, 6) + 0.0
array([[ 1. , -4. ,  1.5],
       [ 0. , -2. ,  0. ]])
>>> {k: round(v, 9) for k, v in result.global_shap(feature_names=["a", "b", "c"]).items()}
{'a': 0.5, 'b': 3.0, 'c': 0.75}
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

__all__ = ["AGG_METHODS", "ShapResult", "exact_shapley", "kernel_shap", "kmeans_baseline"]

AGG_METHODS = ("mean_abs", "median", "mean_sq")
"""How Clarify aggregates local SHAP values into a global one per feature."""

Predict = Callable[[np.ndarray], np.ndarray]
_BATCH_ROWS = 200_000
"""Synthetic rows sent to ``predict`` in one call."""


@dataclass(frozen=True)
class ShapResult:
    """Local SHAP values of the explained rows, and how to aggregate them.

    Attributes
    ----------
    shap_values : numpy.ndarray
        ``(n_rows, n_features)``: each row's SHAP value per feature.
    expected_value : float
        Mean prediction on the baseline (SHAP values add up to the prediction minus this).
    predictions : numpy.ndarray
        The model's prediction for each explained row.
    agg_method : str
        Default aggregation for :meth:`global_shap`.
    """

    shap_values: np.ndarray
    expected_value: float
    predictions: np.ndarray
    agg_method: str = "mean_abs"

    def global_shap(
        self, *, feature_names: Sequence[str] | None = None, agg_method: str | None = None
    ) -> dict[str, float]:
        """One global value per feature: ``mean_abs`` (mean |SHAP|), ``median`` or ``mean_sq``."""
        method = self.agg_method if agg_method is None else agg_method
        _check_agg(method)
        values = self.shap_values
        if method == "mean_abs":
            agg = np.mean(np.abs(values), axis=0)
        elif method == "median":
            agg = np.median(values, axis=0)
        else:
            agg = np.mean(values**2, axis=0)
        names = (
            [f"feature_{i}" for i in range(values.shape[1])] if feature_names is None else list(feature_names)
        )
        if len(names) != values.shape[1]:
            raise ValueError(f"feature_names has {len(names)} names for {values.shape[1]} features")
        return {name: float(v) for name, v in zip(names, agg, strict=True)}


def _check_agg(method: str) -> None:
    if method not in AGG_METHODS:
        raise ValueError(f"agg_method must be one of {list(AGG_METHODS)}, got {method!r}")


def _as_matrix(X: np.ndarray, what: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[np.newaxis, :]
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{what} must be a non-empty 2-D array (rows, features), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(
            f"{what} must hold finite numbers; encode categorical features and fill missing values first"
        )
    return X


def _predict(predict: Predict, X: np.ndarray) -> np.ndarray:
    out = np.asarray(predict(X), dtype=float)
    if out.shape != (X.shape[0],):
        raise ValueError(
            f"predict must return one number per row (shape ({X.shape[0]},)), got shape {out.shape}; "
            "for a classifier pass lambda X: model.predict_proba(X)[:, 1]"
        )
    return out


def kmeans_baseline(X: np.ndarray, *, num_clusters: int = 10, seed: int = 0) -> np.ndarray:
    """The k-means centres of ``X``: Clarify's baseline when none is given.

    >>> kmeans_baseline(np.array([[0.0], [0.2], [10.0], [10.2]]), num_clusters=2).round(1).tolist()
    [[0.1], [10.1]]
    """
    X = _as_matrix(X, "X")
    if num_clusters < 1:
        raise ValueError(f"num_clusters ({num_clusters}) must be >= 1")
    k = min(num_clusters, len(np.unique(X, axis=0)))
    # One thread: k-means on a few thousand rows gains nothing from more, and an
    # oversubscribed machine makes OpenMP's spinning threads twenty times slower.
    with threadpool_limits(limits=1):
        centres = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(X).cluster_centers_
    return centres[np.lexsort(centres.T[::-1])]


def _synthetic(x: np.ndarray, baseline: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Rows of ``x`` with the features outside each mask taken from each baseline row."""
    n_masks, n_base = masks.shape[0], baseline.shape[0]
    synthetic = np.repeat(baseline[np.newaxis, :, :], n_masks, axis=0)
    keep = np.repeat(masks[:, np.newaxis, :], n_base, axis=1)
    return np.where(keep, x, synthetic).reshape(n_masks * n_base, -1)


def _coalition_values(predict: Predict, x: np.ndarray, baseline: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Mean prediction over the baseline with the features in each mask taken from ``x``."""
    return _predict(predict, _synthetic(x, baseline, masks)).reshape(masks.shape[0], -1).mean(axis=1)


def exact_shapley(predict: Predict, x: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Exact Shapley values of one row against a baseline, by enumerating all ``2**M`` coalitions.

    >>> exact_shapley(lambda A: A[:, 0] * A[:, 1], np.array([2.0, 3.0]), np.zeros((1, 2)))
    array([3., 3.])
    """
    x = _as_matrix(x, "x")[0]
    baseline = _as_matrix(baseline, "baseline")
    m = x.size
    if m > 20:
        raise ValueError(f"exact Shapley values of {m} features need 2**{m} coalitions; use kernel_shap")
    masks = np.array(list(itertools.product([False, True], repeat=m)), dtype=bool)
    values = dict(zip(map(tuple, masks), _coalition_values(predict, x, baseline, masks), strict=True))
    phi = np.zeros(m)
    for mask, value in values.items():
        size = sum(mask)
        for i in range(m):
            if not mask[i]:
                with_i = mask[:i] + (True,) + mask[i + 1 :]
                weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
                phi[i] += weight * (values[with_i] - value)
    return phi


def _coalitions(m: int, num_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Coalition masks and their kernel weights: whole subset sizes while the budget lasts, then samples."""
    sizes = np.arange(1, m)
    size_weight = (m - 1) / (sizes * (m - sizes))
    size_weight /= size_weight.sum()
    masks, weights = [], []
    budget = num_samples
    remaining_weight = 1.0
    n_paired = (m - 1) // 2
    complete_up_to = 0
    for s in range(1, n_paired + (m - 1) % 2 + 1):
        paired = s != m - s
        n_subsets = math.comb(m, s) * (2 if paired else 1)
        mass = size_weight[s - 1] * (2 if paired else 1)
        if n_subsets > budget:
            break
        for combo in itertools.combinations(range(m), s):
            mask = np.zeros(m, dtype=bool)
            mask[list(combo)] = True
            masks.append(mask)
            weights.append(mass / n_subsets)
            if paired:
                masks.append(~mask)
                weights.append(mass / n_subsets)
        budget -= n_subsets
        remaining_weight -= mass
        complete_up_to = s
    left = [s for s in range(complete_up_to + 1, m - complete_up_to)]
    if left and budget > 0:
        probs = size_weight[np.array(left) - 1]
        probs = probs / probs.sum()
        n_draws = max(1, budget // 2)
        drawn: dict[bytes, int] = {}
        samples: list[np.ndarray] = []
        for _ in range(n_draws):
            s = int(rng.choice(left, p=probs))
            mask = np.zeros(m, dtype=bool)
            mask[rng.choice(m, size=s, replace=False)] = True
            for candidate in (mask, ~mask):
                key = candidate.tobytes()
                if key in drawn:
                    drawn[key] += 1
                else:
                    drawn[key] = 1
                    samples.append(candidate)
        total = sum(drawn.values())
        for mask in samples:
            masks.append(mask)
            weights.append(remaining_weight * drawn[mask.tobytes()] / total)
    return np.array(masks, dtype=bool), np.array(weights)


def _solve(
    masks: np.ndarray, weights: np.ndarray, values: np.ndarray, base: float, full: float
) -> np.ndarray:
    """Weighted least squares for the SHAP values, constrained to add up to ``full - base``."""
    z = masks.astype(float)
    target = values - base - z[:, -1] * (full - base)
    design = z[:, :-1] - z[:, -1:]
    root_w = np.sqrt(weights)
    phi_rest, *_ = np.linalg.lstsq(design * root_w[:, None], target * root_w, rcond=None)
    return np.append(phi_rest, (full - base) - phi_rest.sum())


def kernel_shap(
    predict: Predict,
    X: np.ndarray,
    *,
    baseline: np.ndarray | None = None,
    num_clusters: int = 10,
    num_samples: int | None = None,
    seed: int = 0,
    agg_method: str = "mean_abs",
) -> ShapResult:
    """Kernel SHAP values of each row of ``X``.

    Parameters
    ----------
    predict : callable
        Maps an ``(n, M)`` array to ``n`` scores (for a classifier, the
        positive class's probability).
    X : array-like, shape (n_rows, M)
        The rows to explain (numeric; not modified).
    baseline : array-like, shape (n_base, M), optional
        Reference rows. When omitted, the k-means centres of ``X``.
    num_clusters : int
        Number of k-means centres when ``baseline`` is omitted.
    num_samples : int, optional
        Coalitions per row; default ``2 * M + 2048``. At ``2**M - 2`` or more
        the result is exact.
    seed : int
        Seed of the coalition sampling (and of k-means).
    agg_method : {"mean_abs", "median", "mean_sq"}
        Default aggregation of :meth:`ShapResult.global_shap`.

    Returns
    -------
    ShapResult
        Local values ``(n_rows, M)``; each row adds up to its prediction minus
        ``expected_value``.

    Raises
    ------
    ValueError
        For empty or non-finite inputs, a baseline with a different number of
        features, ``num_samples`` below ``M + 1``, or an unknown ``agg_method``.
    """
    _check_agg(agg_method)
    X = _as_matrix(X, "X")
    m = X.shape[1]
    baseline = (
        kmeans_baseline(X, num_clusters=num_clusters, seed=seed)
        if baseline is None
        else _as_matrix(baseline, "baseline")
    )
    if baseline.shape[1] != m:
        raise ValueError(f"baseline has {baseline.shape[1]} features, X has {m}")
    num_samples = 2 * m + 2048 if num_samples is None else num_samples
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < m + 1:
        raise ValueError(f"num_samples ({num_samples!r}) must be an int of at least M + 1 = {m + 1}")
    base = float(_predict(predict, baseline).mean())
    predictions = _predict(predict, X)
    rng = np.random.default_rng(seed)
    shap_values = np.zeros_like(X)
    if m == 1:
        shap_values[:, 0] = predictions - base
        return ShapResult(shap_values, base, predictions, agg_method)
    plans = [_coalitions(m, num_samples, rng) for _ in range(X.shape[0])]
    batch: list[int] = []
    batch_size = 0
    for row, (masks, _) in enumerate(plans):
        batch.append(row)
        batch_size += masks.shape[0] * baseline.shape[0]
        if batch_size >= _BATCH_ROWS or row == X.shape[0] - 1:
            synthetic = [_synthetic(X[r], baseline, plans[r][0]) for r in batch]
            values = _predict(predict, np.concatenate(synthetic))
            offset = 0
            for r, block in zip(batch, synthetic, strict=True):
                masks, weights = plans[r]
                row_values = values[offset : offset + block.shape[0]].reshape(masks.shape[0], -1).mean(axis=1)
                offset += block.shape[0]
                shap_values[r] = _solve(masks, weights, row_values, base, float(predictions[r]))
            batch, batch_size = [], 0
    return ShapResult(shap_values, base, predictions, agg_method)
    for row, x in enumerate(X):
        masks, weights = _coalitions(m, num_samples, rng)
        values = _coalition_values(predict, x, baseline, masks)
        shap_values[row] = _solve(masks, weights, values, base, float(predictions[row]))
    return ShapResult(shap_values, base, predictions, agg_method)
