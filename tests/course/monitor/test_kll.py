"""The KLL sketch: exact while small, accurate when compacted, mergeable; drift distance vs scipy's KS."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from course.monitor import KLLSketch, sketch_distance


def test_exact_below_capacity():
    values = np.random.default_rng(0).normal(size=1500)
    sketch = KLLSketch()
    sketch.update(values)
    assert sketch.retained == 1500 and sketch.count == 1500
    for x in (-1.0, 0.0, 0.7):
        assert sketch.rank(x) == int((values <= x).sum())


def test_large_stream_is_bounded_and_accurate():
    values = np.random.default_rng(1).exponential(size=200_000)
    sketch = KLLSketch(seed=1)
    for chunk in np.array_split(values, 37):
        sketch.update(chunk)
    assert sketch.count == values.size
    assert sketch.retained < 2048 / (1 - 0.64) + 64
    for q in (0.01, 0.1, 0.5, 0.9, 0.99):
        estimated_rank = (values <= sketch.quantile(q)).mean()
        assert abs(estimated_rank - q) < 0.01


def test_merge_equals_one_stream_in_count_and_accuracy():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=30_000), rng.normal(loc=1.0, size=20_000)
    left, right = KLLSketch(seed=0), KLLSketch(seed=1)
    left.update(a)
    right.update(b)
    left.merge(right)
    both = np.concatenate([a, b])
    assert left.count == both.size
    assert abs(left.cdf(0.5) - (both <= 0.5).mean()) < 0.01
    with pytest.raises(ValueError, match="same sketch_size"):
        left.merge(KLLSketch(sketch_size=64))


def test_round_trip_and_buckets():
    sketch = KLLSketch()
    sketch.update([0.0, 1.0, 2.0, 3.0, 9.0, 10.0])
    again = KLLSketch.from_dict(sketch.to_dict())
    assert again.count == 6 and again.rank(2.5) == 3
    buckets = sketch.buckets(lower=0.0, upper=10.0)
    assert len(buckets) == 10 and sum(b["count"] for b in buckets) == 6
    assert buckets[0] == {"lower_bound": 0.0, "upper_bound": 1.0, "count": 2.0}
    assert [b["count"] for b in buckets] == [2.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="not a KLL sketch"):
        KLLSketch.from_dict({"data": []})
    with pytest.raises(ValueError, match="missing values"):
        sketch.update([1.0, math.nan])


@pytest.mark.filterwarnings(
    "ignore::RuntimeWarning"
)  # scipy's p-value on tiny samples; the statistic is exact
@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=80),
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=80),
)
def test_simple_distance_is_the_ks_statistic(x, y):
    a, b = KLLSketch(), KLLSketch()
    a.update(x)
    b.update(y)
    assert sketch_distance(a, b) == pytest.approx(stats.ks_2samp(x, y, method="asymp").statistic, abs=1e-12)


def test_robust_distance_subtracts_the_noise_floor():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=400), rng.normal(loc=0.8, size=300)
    a, b = KLLSketch(), KLLSketch()
    a.update(x)
    b.update(y)
    simple = sketch_distance(a, b)
    expected = max(0.0, simple - 1.8 * math.sqrt((400 + 300) / (400 * 300)))
    assert sketch_distance(a, b, comparison_method="Robust") == pytest.approx(expected)
    with pytest.raises(ValueError, match="Simple' or 'Robust"):
        sketch_distance(a, b, comparison_method="robust")


def test_sketch_distance_takes_sketches_not_samples():
    a = KLLSketch()
    a.update([1.0, 2.0])
    with pytest.raises(TypeError, match="two KLLSketch objects, got list and KLLSketch"):
        sketch_distance([1.0, 2.0], a)
