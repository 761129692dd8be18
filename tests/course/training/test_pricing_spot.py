"""Prices, the spot market's schedules and the simulated clock."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.training import INSTANCE_PRICES, SimulatedClock, SpotMarket, price_per_hour, training_cost


def test_spot_is_cheaper_than_on_demand_for_every_type():
    for instance_type, prices in INSTANCE_PRICES.items():
        assert 0 < prices["spot"] < prices["on_demand"], instance_type
        assert price_per_hour(instance_type, spot=True) == prices["spot"]


def test_training_cost_is_seconds_times_hourly_price_times_instances():
    assert training_cost(7200, instance_type="ml.c5.xlarge", instance_count=3) == pytest.approx(2 * 0.204 * 3)
    assert training_cost(0, instance_type="ml.c5.xlarge") == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seconds": -1, "instance_type": "ml.m5.large"}, "seconds"),
        ({"seconds": math.nan, "instance_type": "ml.m5.large"}, "seconds"),
        ({"seconds": 10, "instance_type": "ml.m5.large", "instance_count": 0}, "instance_count"),
        ({"seconds": 10, "instance_type": "ml.m5.large", "instance_count": True}, "instance_count"),
        ({"seconds": 10, "instance_type": "ml.x9.huge"}, "unknown instance_type"),
    ],
)
def test_training_cost_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        training_cost(**kwargs)


def test_scripted_market_gives_times_per_attempt():
    market = SpotMarket(interruptions=[10, 20], capacity_waits=[5])
    assert market.interruptions == (10.0, 20.0)
    assert [market.interruption_after(k) for k in range(3)] == [10.0, 20.0, None]
    assert [market.capacity_wait(k) for k in range(3)] == [5.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "kwargs",
    [{"interruptions": (-1,)}, {"capacity_waits": (math.inf,)}, {"grace_seconds": -0.5}],
)
def test_market_refuses_negative_or_infinite_times(kwargs):
    with pytest.raises(ValueError, match="seconds >= 0"):
        SpotMarket(**kwargs)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 6))
def test_random_market_is_reproducible_and_ends(seed, n):
    market = SpotMarket.random(seed=seed, max_interruptions=n, mean_seconds_to_interruption=50)
    assert market == SpotMarket.random(seed=seed, max_interruptions=n, mean_seconds_to_interruption=50)
    assert len(market.interruptions) == n
    assert market.interruption_after(n) is None
    assert market.capacity_wait(0) == 0.0
    assert all(t >= 0 for t in market.interruptions + market.capacity_waits)


def test_random_market_refuses_a_bad_count():
    with pytest.raises(ValueError, match="max_interruptions"):
        SpotMarket.random(seed=0, max_interruptions=-1)


def test_clock_runs_faster_by_the_time_scale():
    clock = SimulatedClock(time_scale=0.001)
    start = time.monotonic()
    clock.sleep(100)
    real = time.monotonic() - start
    assert real >= 0.1
    assert clock.elapsed() >= 100
    assert (clock.now() - clock.start).total_seconds() == pytest.approx(clock.elapsed(), rel=0.5)


@pytest.mark.parametrize("scale", [0, -1, math.nan])
def test_clock_refuses_a_bad_scale(scale):
    with pytest.raises(ValueError, match="time_scale"):
        SimulatedClock(time_scale=scale)
