"""Instance prices for training jobs: on-demand and spot dollars per instance-hour.

The on-demand figures are SageMaker's published training prices in us-east-1
(rounded to the cent fraction AWS shows). Spot prices are set by supply and
demand and change over time; the spot column here is a fixed, illustrative
price per type, roughly 60-70% below on-demand, so that the course's numbers
are reproducible. Check the SageMaker pricing page before planning a budget.

Examples
--------
>>> price_per_hour("ml.m5.large")
0.115
>>> price_per_hour("ml.m5.large", spot=True)
0.0345
>>> round(training_cost(3600, instance_type="ml.m5.large", instance_count=2), 4)
0.23
"""

from __future__ import annotations

import math

__all__ = ["INSTANCE_PRICES", "price_per_hour", "training_cost"]

INSTANCE_PRICES: dict[str, dict[str, float]] = {
    "ml.m5.large": {"on_demand": 0.115, "spot": 0.0345},
    "ml.m5.xlarge": {"on_demand": 0.23, "spot": 0.069},
    "ml.m5.2xlarge": {"on_demand": 0.461, "spot": 0.1383},
    "ml.c5.xlarge": {"on_demand": 0.204, "spot": 0.0714},
    "ml.c5.2xlarge": {"on_demand": 0.408, "spot": 0.1428},
    "ml.g4dn.xlarge": {"on_demand": 0.7364, "spot": 0.2209},
    "ml.g5.xlarge": {"on_demand": 1.408, "spot": 0.4224},
    "ml.p3.2xlarge": {"on_demand": 3.825, "spot": 1.1475},
}
"""Dollars per instance-hour by instance type: ``{"on_demand": ..., "spot": ...}``."""


def price_per_hour(instance_type: str, *, spot: bool = False) -> float:
    """Dollars per hour for one instance of ``instance_type``.

    Parameters
    ----------
    instance_type : str
        A key of :data:`INSTANCE_PRICES`, such as ``"ml.m5.large"``.
    spot : bool, optional
        The spot price instead of the on-demand price.

    Raises
    ------
    ValueError
        If the instance type is not in the price table.
    """
    if instance_type not in INSTANCE_PRICES:
        raise ValueError(
            f"unknown instance_type {instance_type!r}; the local price table has "
            f"{', '.join(sorted(INSTANCE_PRICES))}"
        )
    return INSTANCE_PRICES[instance_type]["spot" if spot else "on_demand"]


def training_cost(
    seconds: float, *, instance_type: str, instance_count: int = 1, spot: bool = False
) -> float:
    """Dollars for running ``instance_count`` instances for ``seconds`` each.

    Parameters
    ----------
    seconds : float
        Billed seconds per instance (>= 0).
    instance_type : str
        A key of :data:`INSTANCE_PRICES`.
    instance_count : int, optional
        Number of instances.
    spot : bool, optional
        Charge the spot price.

    Raises
    ------
    ValueError
        If ``seconds`` is negative or not finite, or ``instance_count`` < 1.

    Examples
    --------
    >>> training_cost(1800, instance_type="ml.p3.2xlarge", spot=True)
    0.57375
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds ({seconds}) must be a finite number >= 0")
    if isinstance(instance_count, bool) or not isinstance(instance_count, int) or instance_count < 1:
        raise ValueError(f"instance_count ({instance_count!r}) must be an int >= 1")
    return seconds / 3600 * price_per_hour(instance_type, spot=spot) * instance_count
