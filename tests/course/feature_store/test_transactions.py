"""The transactions scenario and its one feature definition, against a brute-force recount."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course.feature_store import ValidationError
from course.feature_store.transactions import DAY, customer_features, make_transactions


def test_generation_is_seeded_and_well_formed():
    first = make_transactions(n_customers=40, n_days=15, seed=3)
    again = make_transactions(n_customers=40, n_days=15, seed=3)
    pd.testing.assert_frame_equal(first.orders, again.orders)
    orders = first.orders
    assert orders["event_time"].is_monotonic_increasing and orders["order_id"].is_unique
    assert set(orders["is_fraud"].unique()) <= {0, 1} and 0 < orders["is_fraud"].mean() < 0.5
    assert orders["event_time"].between(first.start, first.start + 15 * DAY).all()
    with pytest.raises(ValidationError, match="compromised_fraction"):
        make_transactions(compromised_fraction=1.5)


def test_features_match_a_brute_force_recount():
    data = make_transactions(n_customers=15, n_days=20, seed=1)
    orders = data.orders.copy()
    log = customer_features(orders, chargeback_delay_days=data.chargeback_delay_days)
    pd.testing.assert_frame_equal(orders, data.orders)  # input not modified
    rng = np.random.default_rng(0)
    for i in rng.choice(len(log), 60, replace=False):
        row = log.iloc[i]
        mine = orders[orders["customer_id"] == row["customer_id"]]
        t = row["event_time"]
        in_day = mine[(mine["event_time"] > t - DAY) & (mine["event_time"] <= t)]
        in_week = mine[(mine["event_time"] > t - 7 * DAY) & (mine["event_time"] <= t)]
        cb_times = mine.loc[mine["is_fraud"] == 1, "event_time"] + data.chargeback_delay_days * DAY
        assert row["n_orders_24h"] == len(in_day)
        assert row["n_chargebacks_30d"] == int(((cb_times > t - 30 * DAY) & (cb_times <= t)).sum())
        if len(in_week):
            assert row["avg_amount_7d"] == pytest.approx(in_week["amount"].mean(), abs=1e-6)
        else:
            assert np.isnan(row["avg_amount_7d"])
    assert len(log) == len(orders) + int(orders["is_fraud"].sum())
