"""The transactions scenario of assignment 02: customers, timestamped orders, fraud labels.

Everything is generated from a seed; nothing is downloaded.

- Each customer orders at their own rate, with amounts around their own
  typical amount.
- Some customers' cards are compromised for a few days: during that window
  many of their orders are fraudulent, larger and more frequent.
- A fraudulent order is confirmed as fraud (a *chargeback*) a few days
  after it happened; only then is it known.

:func:`customer_features` is the one definition of the customer features:
the same function builds the feature records that go to the offline store
(training) and to the online store (serving).

Examples
--------
>>> data = make_transactions(n_customers=50, n_days=20, seed=0)
>>> list(data.orders.columns)
['order_id', 'customer_id', 'event_time', 'amount', 'is_fraud']
>>> log = customer_features(data.orders, chargeback_delay_days=data.chargeback_delay_days)
>>> list(log.columns)
['customer_id', 'event_time', 'n_orders_24h', 'avg_amount_7d', 'n_chargebacks_30d']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from course.feature_store.errors import ValidationError

__all__ = ["FEATURE_DEFINITIONS", "Transactions", "customer_features", "make_transactions"]

DAY = 86_400.0
START = 1_704_067_200.0  # 2024-01-01T00:00:00Z

FEATURE_DEFINITIONS = [
    {"FeatureName": "customer_id", "FeatureType": "String"},
    {"FeatureName": "event_time", "FeatureType": "Fractional"},
    {"FeatureName": "n_orders_24h", "FeatureType": "Integral"},
    {"FeatureName": "avg_amount_7d", "FeatureType": "Fractional"},
    {"FeatureName": "n_chargebacks_30d", "FeatureType": "Integral"},
]
"""Definitions of the customer feature group that :func:`customer_features` fills."""


@dataclass(frozen=True)
class Transactions:
    """Generated orders.

    Attributes
    ----------
    orders : pandas.DataFrame
        ``order_id`` (int), ``customer_id`` (str), ``event_time`` (Unix
        seconds, float), ``amount`` (float), ``is_fraud`` (0 or 1), sorted by
        event time.
    start : float
        Unix seconds of the first day.
    n_days : int
        Days covered.
    chargeback_delay_days : float
        Days after a fraudulent order until it is confirmed as fraud.
    """

    orders: pd.DataFrame
    start: float
    n_days: int
    chargeback_delay_days: float


def make_transactions(
    *,
    n_customers: int = 400,
    n_days: int = 60,
    compromised_fraction: float = 0.2,
    chargeback_delay_days: float = 1.0,
    seed: int = 0,
) -> Transactions:
    """Generate customers' orders over ``n_days`` days from 2024-01-01 (UTC).

    Parameters
    ----------
    n_customers, n_days : int
        Size of the scenario.
    compromised_fraction : float
        Share of customers whose card is compromised once, for 2 to 6 days.
    chargeback_delay_days : float
        Days until a fraudulent order is confirmed.
    seed : int
        Everything follows from it.

    Raises
    ------
    ValueError
        If a size is below 1 or the fraction is outside [0, 1].
    """
    if n_customers < 1 or n_days < 1:
        raise ValidationError(f"n_customers ({n_customers}) and n_days ({n_days}) must be >= 1")
    if not 0.0 <= compromised_fraction <= 1.0:
        raise ValidationError(f"compromised_fraction ({compromised_fraction}) must be in [0, 1]")
    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 0.6, n_customers)  # orders per day
    typical = rng.lognormal(3.5, 0.6, n_customers)
    compromised = rng.random(n_customers) < compromised_fraction
    hit_start = rng.uniform(0, n_days, n_customers) * DAY
    hit_end = hit_start + rng.uniform(2, 6, n_customers) * DAY
    frames = []
    for c in range(n_customers):
        n = rng.poisson(rate[c] * n_days)
        times = rng.uniform(0, n_days * DAY, n)
        amounts = typical[c] * rng.lognormal(0.0, 0.35, n)
        fraud = rng.random(n) < 0.002
        if compromised[c]:
            n_extra = rng.poisson(4.0 * (min(hit_end[c], n_days * DAY) - hit_start[c]) / DAY)
            extra_times = rng.uniform(hit_start[c], min(hit_end[c], n_days * DAY), n_extra)
            times = np.r_[times, extra_times]
            amounts = np.r_[amounts, typical[c] * rng.lognormal(0.4, 0.6, n_extra)]
            inside = (times >= hit_start[c]) & (times < hit_end[c])
            fraud = np.r_[fraud, np.ones(n_extra, dtype=bool)] | (inside & (rng.random(len(times)) < 0.3))
        frames.append(pd.DataFrame({"customer": c, "t": times, "amount": amounts, "fraud": fraud}))
    raw = pd.concat(frames, ignore_index=True).sort_values(["t", "customer"], ignore_index=True)
    orders = pd.DataFrame(
        {
            "order_id": np.arange(len(raw), dtype=np.int64),
            "customer_id": [f"C{c:05d}" for c in raw["customer"]],
            "event_time": np.round(START + raw["t"].to_numpy(), 3),
            "amount": np.round(raw["amount"].to_numpy(), 2),
            "is_fraud": raw["fraud"].to_numpy().astype(np.int64),
        }
    )
    return Transactions(orders, START, n_days, chargeback_delay_days)


def customer_features(orders: pd.DataFrame, *, chargeback_delay_days: float) -> pd.DataFrame:
    """The customer feature records implied by ``orders``: the one feature definition.

    A record is emitted at each order (the order counts in its own window)
    and at each chargeback (``event_time + chargeback_delay_days`` of a
    fraudulent order), with, per customer:

    - ``n_orders_24h``: orders in the last 24 hours, ``(t - 24h, t]``;
    - ``avg_amount_7d``: mean order amount in ``(t - 7 days, t]`` (NaN if none);
    - ``n_chargebacks_30d``: chargebacks in ``(t - 30 days, t]``.

    Only what is known at ``t`` enters a record: a fraud counts once its
    chargeback has arrived.

    Parameters
    ----------
    orders : pandas.DataFrame
        ``customer_id``, ``event_time`` (Unix seconds), ``amount`` and
        ``is_fraud`` columns; not modified.
    chargeback_delay_days : float
        Days from a fraudulent order to its chargeback.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``event_time``, ``n_orders_24h`` (int),
        ``avg_amount_7d`` (float), ``n_chargebacks_30d`` (int), sorted by
        event time then customer; ready for ``FeatureGroup.ingest``.
    """
    missing = {"customer_id", "event_time", "amount", "is_fraud"} - set(orders.columns)
    if missing:
        raise ValidationError(f"orders lacks the columns {sorted(missing)}")
    placed = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].to_numpy(),
            "event_time": orders["event_time"].to_numpy(dtype=float),
            "amount": orders["amount"].to_numpy(dtype=float),
            "is_order": 1,
            "is_chargeback": 0,
        }
    )
    fraud = orders[orders["is_fraud"].to_numpy() == 1]
    chargebacks = pd.DataFrame(
        {
            "customer_id": fraud["customer_id"].to_numpy(),
            "event_time": fraud["event_time"].to_numpy(dtype=float) + chargeback_delay_days * DAY,
            "amount": np.nan,
            "is_order": 0,
            "is_chargeback": 1,
        }
    )
    events = pd.concat([placed, chargebacks], ignore_index=True)
    events = events.sort_values(
        ["customer_id", "event_time", "is_chargeback"], ignore_index=True, kind="stable"
    )
    events["when"] = pd.to_datetime(events["event_time"], unit="s")
    by_customer = events.groupby("customer_id", sort=False)
    rolled = {
        "n_orders_24h": by_customer.rolling("24h", on="when")["is_order"].sum(),
        "avg_amount_7d": by_customer.rolling("7D", on="when", min_periods=1)["amount"].mean(),
        "n_chargebacks_30d": by_customer.rolling("30D", on="when")["is_chargeback"].sum(),
    }
    log = pd.DataFrame(
        {
            "customer_id": events["customer_id"].to_numpy(),
            "event_time": events["event_time"].to_numpy(),
            "n_orders_24h": rolled["n_orders_24h"].to_numpy().astype(np.int64),
            "avg_amount_7d": np.round(rolled["avg_amount_7d"].to_numpy(), 6),
            "n_chargebacks_30d": rolled["n_chargebacks_30d"].to_numpy().astype(np.int64),
        }
    )
    return log.sort_values(["event_time", "customer_id"], ignore_index=True, kind="stable")
