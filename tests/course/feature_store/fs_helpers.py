"""Helpers shared by the feature store tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

DEFINITIONS = [
    {"FeatureName": "customer_id", "FeatureType": "String"},
    {"FeatureName": "event_time", "FeatureType": "Fractional"},
    {"FeatureName": "n_orders", "FeatureType": "Integral"},
    {"FeatureName": "total", "FeatureType": "Fractional"},
    {"FeatureName": "segment", "FeatureType": "String"},
]


class Clock:
    """A clock the test sets: ``clock.now`` Unix seconds."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def record(customer_id: str, event_time: float | str, **features: object) -> list[dict[str, str]]:
    """A Record in the API's shape."""
    values = {
        "customer_id": customer_id,
        "event_time": str(event_time),
        **{k: str(v) for k, v in features.items()},
    }
    return [{"FeatureName": k, "ValueAsString": v} for k, v in values.items()]


def as_dict(rec: list[dict[str, str]] | None) -> dict[str, str] | None:
    return None if rec is None else {f["FeatureName"]: f["ValueAsString"] for f in rec}
