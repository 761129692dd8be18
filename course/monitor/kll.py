"""A KLL quantile sketch, the one Model Monitor's Deequ keeps for each numeric feature.

Used by assignment 05. A KLL sketch (Karnin, Lang and Liberty, 2016)
summarises a stream of numbers in bounded memory: a stack of *compactors*,
where level ``h`` holds items that each stand for ``2**h`` original values.
When the sketch is full, a level is sorted and every other item (starting at a
random offset) moves up one level with twice the weight. Ranks, quantiles and
CDFs are then read from the retained, weighted items, with an error that
shrinks as the sketch grows. Deequ uses ``sketch_size`` k = 2048 and
``shrinking_factor`` c = 0.64 (level ``h`` of ``H`` holds about ``k * c**(H-h-1)``
items); Model Monitor writes the sketch into ``statistics.json`` as
``{"parameters": {"c": 0.64, "k": 2048.0}, "data": [[level 0 items], [level 1 items], ...]}``.

While fewer values than one level's capacity have arrived, nothing has been
compacted and every answer is exact.

Examples
--------
>>> sketch = KLLSketch()
>>> sketch.update([3.0, 1.0, 2.0, 2.0])
>>> sketch.count, sketch.rank(2.0), sketch.cdf(2.5)
(4, 3, 0.75)
>>> sketch.quantile(0.5)
2.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["KLLSketch", "sketch_distance"]

DEFAULT_SKETCH_SIZE = 2048
DEFAULT_SHRINKING_FACTOR = 0.64


class KLLSketch:
    """A mergeable KLL quantile sketch over floats.

    Parameters
    ----------
    sketch_size : int
        k, the capacity of the top level (Deequ's default 2048).
    shrinking_factor : float
        c, how much smaller each lower level is (Deequ's default 0.64).
    seed : int
        Seed of the random offsets chosen when compacting.
    """

    def __init__(
        self,
        *,
        sketch_size: int = DEFAULT_SKETCH_SIZE,
        shrinking_factor: float = DEFAULT_SHRINKING_FACTOR,
        seed: int = 0,
    ) -> None:
        if sketch_size < 2:
            raise ValueError(f"sketch_size ({sketch_size}) must be >= 2")
        if not 0.5 <= shrinking_factor < 1.0:
            raise ValueError(f"shrinking_factor ({shrinking_factor}) must be in [0.5, 1)")
        self.sketch_size = sketch_size
        self.shrinking_factor = shrinking_factor
        self._rng = np.random.default_rng(seed)
        self._levels: list[np.ndarray] = [np.empty(0)]
        self._pending: list[np.ndarray] = []
        self._pending_size = 0
        self.count = 0

    def __repr__(self) -> str:
        return f"KLLSketch(count={self.count}, retained={self.retained}, levels={len(self._levels)})"

    def _capacity(self, level: int) -> int:
        depth = len(self._levels) - level - 1
        return int(math.ceil(self.shrinking_factor**depth * self.sketch_size)) + 1

    def _max_size(self) -> int:
        return sum(self._capacity(h) for h in range(len(self._levels)))

    @property
    def retained(self) -> int:
        """Number of items the sketch keeps (at most about ``k / (1 - c)``)."""
        self._flush()
        return sum(level.size for level in self._levels)

    def _flush(self) -> None:
        if self._pending:
            self._levels[0] = np.concatenate([self._levels[0], *self._pending])
            self._pending, self._pending_size = [], 0
            self._compress()

    def _compact(self, level: int) -> None:
        items = np.sort(self._levels[level])
        keep = items[:1] if items.size % 2 else items[:0]
        pairs = items[items.size % 2 :].reshape(-1, 2)
        promoted = pairs[:, int(self._rng.integers(2))]
        if level + 1 == len(self._levels):
            self._levels.append(np.empty(0))
        self._levels[level] = keep
        self._levels[level + 1] = np.concatenate([self._levels[level + 1], promoted])

    def _compress(self) -> None:
        while sum(level.size for level in self._levels) >= self._max_size():
            for h in range(len(self._levels)):
                if self._levels[h].size >= self._capacity(h):
                    self._compact(h)
                    break

    def update(self, values: Iterable[float] | np.ndarray) -> None:
        """Add values to the sketch (NaN values are rejected: count them as missing first)."""
        values = np.asarray(values, dtype=float).ravel()
        if np.isnan(values).any():
            raise ValueError("a KLL sketch takes numbers only; drop missing values (NaN) first")
        step = max(1, self._capacity(0))
        for start in range(0, values.size, step):
            chunk = values[start : start + step]
            self._pending.append(chunk)
            self._pending_size += chunk.size
            self.count += chunk.size
            if self._pending_size + self._levels[0].size >= self._capacity(0):
                self._flush()

    def merge(self, other: KLLSketch) -> None:
        """Add everything ``other`` summarises (both sketches must have the same parameters)."""
        if (other.sketch_size, other.shrinking_factor) != (self.sketch_size, self.shrinking_factor):
            raise ValueError("only sketches with the same sketch_size and shrinking_factor can be merged")
        self._flush()
        other._flush()
        for h, items in enumerate(other._levels):
            if h == len(self._levels):
                self._levels.append(np.empty(0))
            self._levels[h] = np.concatenate([self._levels[h], items])
        self.count += other.count
        self._compress()

    def _weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """Retained items sorted, with their weights."""
        self._flush()
        items = np.concatenate(self._levels)
        weights = np.concatenate(
            [np.full(level.size, 2**h, dtype=np.int64) for h, level in enumerate(self._levels)]
        )
        order = np.argsort(items, kind="stable")
        return items[order], weights[order]

    def rank(self, x: float | np.ndarray) -> Any:
        """Estimated number of values ``<= x`` (an int, or an int array for an array ``x``)."""
        items, weights = self._weighted()
        cumulative = np.concatenate([[0], np.cumsum(weights)])
        ranks = cumulative[np.searchsorted(items, np.asarray(x, dtype=float), side="right")]
        return int(ranks) if np.ndim(ranks) == 0 else ranks

    def cdf(self, x: float | np.ndarray) -> Any:
        """Estimated fraction of values ``<= x``."""
        if self.count == 0:
            raise ValueError("the sketch is empty")
        ranks = self.rank(x)
        return ranks / self.count

    def quantile(self, q: float) -> float:
        """The smallest retained item whose estimated CDF is at least ``q`` (0 <= q <= 1)."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q ({q}) must be between 0 and 1")
        if self.count == 0:
            raise ValueError("the sketch is empty")
        items, weights = self._weighted()
        index = int(np.searchsorted(np.cumsum(weights), q * self.count, side="left"))
        return float(items[min(index, items.size - 1)])

    def items(self) -> np.ndarray:
        """The distinct retained items, sorted: the points where the estimated CDF steps."""
        return np.unique(self._weighted()[0])

    def buckets(self, *, lower: float, upper: float, n_buckets: int = 10) -> list[dict[str, float]]:
        """Equal-width buckets over ``[lower, upper]`` with estimated counts (Model Monitor's ``kll.buckets``).

        The first bucket includes its lower bound; the counts add up to the
        number of values in the range.
        """
        edges = np.linspace(lower, upper, n_buckets + 1)
        ranks = np.asarray(self.rank(edges), dtype=np.int64)
        ranks[0] = self.rank(np.nextafter(lower, -np.inf))
        counts = np.diff(ranks)
        return [
            {"lower_bound": float(lo), "upper_bound": float(hi), "count": float(c)}
            for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The sketch as Model Monitor writes it: parameters and the items of each level."""
        self._flush()
        return {
            "parameters": {"c": self.shrinking_factor, "k": float(self.sketch_size)},
            "data": [level.tolist() for level in self._levels],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, seed: int = 0) -> KLLSketch:
        """Rebuild a sketch from :meth:`to_dict`'s output (as read from ``statistics.json``).

        >>> sketch = KLLSketch()
        >>> sketch.update(range(5))
        >>> KLLSketch.from_dict(sketch.to_dict()).rank(2.0)
        3
        """
        try:
            params, levels = data["parameters"], data["data"]
            sketch = cls(sketch_size=int(params["k"]), shrinking_factor=float(params["c"]), seed=seed)
            sketch._levels = [np.asarray(level, dtype=float) for level in levels] or [np.empty(0)]
        except (KeyError, TypeError) as error:
            raise ValueError(
                f"not a KLL sketch (expected 'parameters' {{c, k}} and 'data'): {error}"
            ) from None
        sketch.count = int(sum(level.size * 2**h for h, level in enumerate(sketch._levels)))
        return sketch


def sketch_distance(baseline: KLLSketch, current: KLLSketch, *, comparison_method: str = "Simple") -> float:
    """L-infinity distance between two sketches' CDFs, as Deequ's ``Distance.numericalDistance``.

    ``"Simple"`` is the largest absolute difference of the two estimated CDFs
    over every retained item of either sketch. ``"Robust"`` subtracts
    ``1.8 * sqrt((n + m) / (n * m))``, the sampling noise expected between
    samples of sizes n and m, and floors the result at 0. This is the data
    quality monitor's own computation over the sketches in
    ``statistics.json``; it takes sketches, not samples (the distance between
    two samples is assignment 05's Part C, which students write).

    >>> a, b = KLLSketch(), KLLSketch()
    >>> a.update([1.0, 2.0, 3.0, 4.0]); b.update([3.0, 4.0, 5.0, 6.0])
    >>> sketch_distance(a, b)
    0.5
    >>> sketch_distance(a, b, comparison_method="Robust")
    0.0
    """
    if not (isinstance(baseline, KLLSketch) and isinstance(current, KLLSketch)):
        raise TypeError(
            f"sketch_distance compares two KLLSketch objects, got {type(baseline).__name__} and "
            f"{type(current).__name__}; build them with KLLSketch().update(values)"
        )
    if comparison_method not in ("Simple", "Robust"):
        raise ValueError(f"comparison_method must be 'Simple' or 'Robust', got {comparison_method!r}")
    if baseline.count == 0 or current.count == 0:
        raise ValueError("both sketches need at least one value to compare distributions")
    keys = np.union1d(baseline.items(), current.items())
    distance = float(np.max(np.abs(baseline.cdf(keys) - current.cdf(keys))))
    if comparison_method == "Robust":
        n, m = baseline.count, current.count
        distance = max(0.0, distance - 1.8 * math.sqrt((n + m) / (n * m)))
    return distance
