"""A lending scenario with a known, injected historical bias, and the live traffic that drifts from it.

Used by assignment 05. Applicants have an ``income`` (thousands of dollars),
a ``debt_ratio`` (monthly debt over income), ``credit_years`` (length of
credit history), a ``loan_amount`` (thousands) and ``part_time`` (1 for
part-time work), plus the sensitive attribute ``sex`` (``"F"`` or ``"M"``).
Creditworthiness depends only on the financial columns; the historical
``approved`` decision also subtracts ``historical_bias`` from the log-odds of
women. ``part_time`` is more common among women in this
population, so it is a proxy: a model that never sees ``sex`` can still learn
the bias through it.

Live traffic (:func:`live_applicants`) comes from the same population until
``drift_start``; from then on the drift grows over ``ramp_hours`` hours up to
``drift`` (0 to 1): incomes fall and spread less, debt ratios spread more,
more applicants are women, and the decisions change (debt matters more), so a
model trained before the drift loses accuracy. Its ground truth is the
underwriters' later decision, made the historical way.

Examples
--------
>>> df = make_applicants(2000, seed=0)
>>> list(df.columns)
['income', 'debt_ratio', 'credit_years', 'loan_amount', 'part_time', 'sex', 'approved']
>>> rates = df.groupby("sex")["approved"].mean()
>>> bool(rates["F"] < rates["M"] - 0.1)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FEATURES", "make_applicants", "live_applicants"]

FEATURES = ["income", "debt_ratio", "credit_years", "loan_amount", "part_time"]
"""The columns a model sees (not ``sex``, the facet, nor the label)."""


def _population(n: int, rng: np.random.Generator, drift: float) -> pd.DataFrame:
    female = rng.random(n) < 0.4 + 0.2 * drift
    part_time = (rng.random(n) < np.where(female, 0.45 + 0.5 * drift, 0.12 - 0.07 * drift)).astype(int)
    income = np.exp(rng.normal(np.log(55.0) - 0.35 * drift * female, 0.45 * (1 - 0.95 * drift), size=n))
    debt_ratio = np.clip(rng.normal(0.35, 0.12 * (1 + 3.5 * drift), size=n), 0.0, 1.0)
    credit_years = rng.integers(0, 30, size=n)
    loan_amount = income * rng.uniform(0.2, 1.2, size=n)
    return pd.DataFrame(
        {
            "income": np.round(income, 2),
            "debt_ratio": np.round(debt_ratio, 3),
            "credit_years": credit_years,
            "loan_amount": np.round(loan_amount, 2),
            "part_time": part_time,
            "sex": np.where(female, "F", "M"),
        }
    )


def _credit_logit(df: pd.DataFrame, drift: float) -> np.ndarray:
    return (
        0.6
        + 3.0 * drift
        + 1.6 * np.log(df["income"] / 55.0)
        - 5.0 * (df["debt_ratio"] - 0.35)
        + 0.05 * (df["credit_years"] - 15)
        - 1.2 * (df["loan_amount"] / df["income"] - 0.7)
        - 1.0 * df["part_time"]
    ).to_numpy()


def _check(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"the number of applicants must be a positive int, got {n!r}")


def make_applicants(n: int, *, seed: int, historical_bias: float = 1.5) -> pd.DataFrame:
    """Historical loan applications with decisions biased against women by ``historical_bias`` (log-odds).

    Parameters
    ----------
    n : int
        Number of applicants.
    seed : int
        The same seed gives the same table.
    historical_bias : float
        How much being a woman lowered the log-odds of approval; 0 gives fair decisions.

    Returns
    -------
    pandas.DataFrame
        ``FEATURES``, ``sex`` and ``approved`` (int, 1 = approved).
    """
    _check(n)
    rng = np.random.default_rng(seed)
    df = _population(n, rng, 0.0)
    logit = _credit_logit(df, 0.0) - historical_bias * (df["sex"] == "F").to_numpy()
    df["approved"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def live_applicants(
    n_hours: int,
    requests_per_hour: int,
    *,
    seed: int,
    drift_start: int,
    drift: float = 1.0,
    ramp_hours: int = 4,
    historical_bias: float = 1.5,
    start: str = "2024-05-01",
) -> pd.DataFrame:
    """Live requests, ``requests_per_hour`` per hour, drifting from hour ``drift_start`` on.

    Returns
    -------
    pandas.DataFrame
        ``inference_time`` (UTC), ``FEATURES``, ``sex`` and ``approved`` (int,
        the ground truth that arrives later).
    """
    _check(n_hours)
    _check(requests_per_hour)
    if not 0.0 <= drift <= 1.0:
        raise ValueError(f"drift ({drift}) must be between 0 and 1")
    rng = np.random.default_rng(seed)
    frames = []
    for hour in range(n_hours):
        amount = drift * min(1.0, max(0.0, (hour - drift_start + 1) / max(ramp_hours, 1)))
        df = _population(requests_per_hour, rng, amount)
        logit = _credit_logit(df, amount) - historical_bias * (df["sex"] == "F").to_numpy()
        df["approved"] = (rng.random(len(df)) < 1 / (1 + np.exp(-logit))).astype(int)
        offsets = np.sort(rng.uniform(0, 3600, size=len(df)))
        df.insert(
            0,
            "inference_time",
            pd.Timestamp(start, tz="UTC") + pd.Timedelta(hours=hour) + pd.to_timedelta(offsets, unit="s"),
        )
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
