"""Data-quality statistics and suggested constraints in Model Monitor's shape.

Used by assignment 05. ``suggest_baseline`` mirrors the SageMaker SDK's
``DefaultModelMonitor.suggest_baseline``: it reads a baseline dataset (a
DataFrame, or CSV files streamed in chunks) and writes ``statistics.json`` and
``constraints.json`` under ``output_s3_uri``.

Each column's type is inferred from all of its values as Deequ does (a
DataFrame column of float dtype is ``Fractional``; use pandas' ``Int64`` for
integers with missing values):
``Integral`` when every present value is an integer, ``Fractional`` when every
one is a number, ``String`` otherwise (``Unknown`` when nothing is present).
Numeric columns get exact ``mean``, ``sum``, population ``std_dev``, ``min``
and ``max``, and a KLL sketch (:mod:`course.monitor.kll`) that the
distribution buckets and later drift checks read, so a large input never has
to be sorted or held in memory. String columns get their distinct count and
value counts (up to ``MAX_DOMAIN`` distinct values).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"age": pd.array([30, 40, None], dtype="Int64"), "city": ["a", "b", "a"]})
>>> stats = dataset_statistics(df)
>>> stats["dataset"], [f["inferred_type"] for f in stats["features"]]
({'item_count': 3}, ['Integral', 'String'])
>>> stats["features"][0]["numerical_statistics"]["common"]
{'num_present': 2, 'num_missing': 1}
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from course.monitor.kll import KLLSketch
from course.storage import LocalS3

__all__ = [
    "DEFAULT_MONITORING_CONFIG",
    "MAX_DOMAIN",
    "FeatureAccumulator",
    "dataset_statistics",
    "read_baseline",
    "suggest_baseline",
    "suggest_constraints",
]

MAX_DOMAIN = 20
"""A string column with at most this many distinct values gets a ``domains`` constraint."""

N_BUCKETS = 10
CHUNK_ROWS = 10_000

DEFAULT_MONITORING_CONFIG: dict[str, Any] = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 0.1,
    "domain_content_threshold": 0.1,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}
"""``monitoring_config`` of a suggested ``constraints.json`` (Model Monitor's defaults)."""


def _kinds(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Present values as numbers (NaN where not numeric), and masks of numeric and integral values."""
    if pd.api.types.is_bool_dtype(values):
        numbers = pd.Series(np.nan, index=values.index)
    elif pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(float)
    else:
        numbers = pd.to_numeric(values.astype(str).str.strip(), errors="coerce")
    numeric = numbers.notna().to_numpy() & np.isfinite(numbers.fillna(0).to_numpy())
    if pd.api.types.is_float_dtype(values):
        integral = np.zeros(len(values), dtype=bool)
    elif pd.api.types.is_integer_dtype(values):
        integral = numeric.copy()
    else:
        text = values.astype(str).str.strip()
        integral = numeric & text.str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
    return numbers, numeric, integral


@dataclass
class FeatureAccumulator:
    """Streaming statistics of one column: type counts, moments, a KLL sketch, value counts."""

    name: str
    seed: int = 0
    num_missing: int = 0
    num_present: int = 0
    num_numeric: int = 0
    num_integral: int = 0
    total: float = 0.0
    mean: float = 0.0
    m2: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    sketch: KLLSketch = field(init=False)
    values: Counter = field(default_factory=Counter)
    too_many_values: bool = False

    def __post_init__(self) -> None:
        self.sketch = KLLSketch(seed=self.seed)

    def update(self, column: pd.Series) -> None:
        """Add one chunk of the column."""
        present = column[column.notna()]
        self.num_missing += int(len(column) - len(present))
        self.num_present += int(len(present))
        numbers, numeric, integral = _kinds(present)
        self.num_numeric += int(numeric.sum())
        self.num_integral += int(integral.sum())
        x = numbers.to_numpy()[numeric]
        if x.size:
            # Chan et al.'s parallel update of the mean and the sum of squared deviations.
            n_old, n_new = self.num_numeric - x.size, x.size
            chunk_mean = float(x.mean())
            delta = chunk_mean - self.mean
            total_n = n_old + n_new
            self.mean += delta * n_new / total_n
            self.m2 += float(((x - chunk_mean) ** 2).sum()) + delta**2 * n_old * n_new / total_n
            self.total += float(x.sum())
            self.minimum = min(self.minimum, float(x.min()))
            self.maximum = max(self.maximum, float(x.max()))
            self.sketch.update(x)
        if not self.too_many_values:
            self.values.update(present.astype(str).tolist())
            if len(self.values) > 10 * MAX_DOMAIN:
                self.too_many_values = True
                self.values.clear()

    @property
    def inferred_type(self) -> str:
        """``Integral``, ``Fractional``, ``String`` or ``Unknown``, from every value seen."""
        if self.num_present == 0:
            return "Unknown"
        if self.num_numeric < self.num_present:
            return "String"
        return "Integral" if self.num_integral == self.num_present else "Fractional"

    def statistics(self) -> dict[str, Any]:
        """The feature's entry in ``statistics.json``."""
        entry: dict[str, Any] = {"name": self.name, "inferred_type": self.inferred_type}
        common = {"num_present": self.num_present, "num_missing": self.num_missing}
        if self.inferred_type in ("Integral", "Fractional"):
            entry["numerical_statistics"] = {
                "common": common,
                "mean": self.mean,
                "sum": self.total,
                "std_dev": math.sqrt(self.m2 / self.num_numeric),
                "min": self.minimum,
                "max": self.maximum,
                "distribution": {
                    "kll": {
                        "buckets": self.sketch.buckets(
                            lower=self.minimum, upper=self.maximum, n_buckets=N_BUCKETS
                        ),
                        "sketch": self.sketch.to_dict(),
                    }
                },
            }
        else:
            stats: dict[str, Any] = {"common": common}
            if not self.too_many_values:
                stats["distinct_count"] = float(len(self.values))
                buckets = [{"value": v, "count": float(c)} for v, c in sorted(self.values.items())]
                stats["distribution"] = {"categorical": {"buckets": buckets}}
            entry["string_statistics"] = stats
        return entry


def _chunks(
    data: pd.DataFrame | str | os.PathLike[str] | Iterable[pd.DataFrame], *, header: bool
) -> Iterator[pd.DataFrame]:
    if isinstance(data, pd.DataFrame):
        for start in range(0, max(len(data), 1), CHUNK_ROWS):
            yield data.iloc[start : start + CHUNK_ROWS]
    elif isinstance(data, str | os.PathLike):
        reader = pd.read_csv(
            data, header=0 if header else None, chunksize=CHUNK_ROWS, dtype=str, keep_default_na=True
        )
        for chunk in reader:
            if not header:
                chunk.columns = [f"_c{i}" for i in range(chunk.shape[1])]
            yield chunk
    else:
        yield from data


def accumulate(data: Any, *, header: bool = True, seed: int = 0) -> tuple[int, dict[str, FeatureAccumulator]]:
    """Stream ``data`` through one accumulator per column; return the row count and the accumulators."""
    features: dict[str, FeatureAccumulator] = {}
    item_count = 0
    for chunk in _chunks(data, header=header):
        if not isinstance(chunk, pd.DataFrame):
            raise TypeError(
                f"data must be a DataFrame, a CSV path or DataFrame chunks, got {type(chunk).__name__}"
            )
        item_count += len(chunk)
        for column in chunk.columns:
            name = str(column)
            if name not in features:
                features[name] = FeatureAccumulator(name, seed=seed)
                features[name].num_missing = item_count - len(chunk)
            features[name].update(chunk[column])
        for name, feature in features.items():
            if name not in map(str, chunk.columns):
                feature.num_missing += len(chunk)
    return item_count, features


def dataset_statistics(data: Any, *, header: bool = True, seed: int = 0) -> dict[str, Any]:
    """``statistics.json`` of a dataset: a DataFrame, a CSV path (streamed in chunks) or an iterable of chunks.

    ``header=False`` names the columns of a CSV without a header ``_c0``, ``_c1``, ...
    as Model Monitor does.
    """
    item_count, features = accumulate(data, header=header, seed=seed)
    if item_count == 0:
        raise ValueError("the baseline dataset has no rows")
    return {
        "version": 0.0,
        "dataset": {"item_count": item_count},
        "features": [feature.statistics() for feature in features.values()],
    }


def suggest_constraints(statistics: dict[str, Any], *, comparison_method: str = "Robust") -> dict[str, Any]:
    """``constraints.json`` suggested from ``statistics.json``, as the baselining job does.

    Each feature keeps its inferred type and its completeness; a numeric feature
    whose minimum is at least 0 gets ``is_non_negative: true``; a string
    feature with at most ``MAX_DOMAIN`` values gets their list as its domain.
    """
    if comparison_method not in ("Simple", "Robust"):
        raise ValueError(f"comparison_method must be 'Simple' or 'Robust', got {comparison_method!r}")
    features = []
    for feature in statistics["features"]:
        kind = "numerical_statistics" if "numerical_statistics" in feature else "string_statistics"
        stats = feature[kind]
        present, missing = stats["common"]["num_present"], stats["common"]["num_missing"]
        entry: dict[str, Any] = {
            "name": feature["name"],
            "inferred_type": feature["inferred_type"],
            "completeness": present / (present + missing) if present + missing else 0.0,
        }
        if kind == "numerical_statistics":
            entry["num_constraints"] = {"is_non_negative": bool(stats["min"] >= 0)}
        elif "distribution" in stats and len(stats["distribution"]["categorical"]["buckets"]) <= MAX_DOMAIN:
            entry["string_constraints"] = {
                "domains": [b["value"] for b in stats["distribution"]["categorical"]["buckets"]]
            }
        features.append(entry)
    config = json.loads(json.dumps(DEFAULT_MONITORING_CONFIG))
    config["distribution_constraints"]["comparison_method"] = comparison_method
    return {"version": 0.0, "features": features, "monitoring_config": config}


def suggest_baseline(
    baseline_dataset: Any,
    *,
    output_s3_uri: str,
    header: bool = True,
    comparison_method: str = "Robust",
    seed: int = 0,
    s3: LocalS3 | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compute the baseline and write ``statistics.json`` and ``constraints.json`` under ``output_s3_uri``.

    Parameters
    ----------
    baseline_dataset : DataFrame, CSV path or s3:// URI
        The data the model was trained on (features only, in the order the
        endpoint receives them). A CSV file is streamed in chunks.
    output_s3_uri : str
        Where the two files go (``s3://bucket/prefix``).
    header : bool
        Whether a CSV file has a header row (else columns are ``_c0``, ``_c1``, ...).
    comparison_method : {"Robust", "Simple"}
        Written into ``monitoring_config.distribution_constraints``.
    seed : int
        Seed of the KLL sketches' compaction.
    s3 : LocalS3, optional
        The local object store (default: ``LocalS3()``).

    Returns
    -------
    statistics, constraints : dict
        What was written.

    Examples
    --------
    >>> import tempfile
    >>> s3 = LocalS3(tempfile.mkdtemp())
    >>> df = pd.DataFrame({"income": [10.5, 20.0, 30.0], "grade": ["A", "B", "A"]})
    >>> stats, constraints = suggest_baseline(df, output_s3_uri="s3://my-bucket/baseline", s3=s3)
    >>> s3.list_objects("s3://my-bucket/baseline/")
    ['s3://my-bucket/baseline/constraints.json', 's3://my-bucket/baseline/statistics.json']
    >>> constraints["features"][1]["string_constraints"]
    {'domains': ['A', 'B']}
    """
    s3 = s3 or LocalS3()
    if isinstance(baseline_dataset, str) and baseline_dataset.startswith("s3://"):
        baseline_dataset = s3.local_path(baseline_dataset)
    statistics = dataset_statistics(baseline_dataset, header=header, seed=seed)
    constraints = suggest_constraints(statistics, comparison_method=comparison_method)
    prefix = output_s3_uri.rstrip("/")
    s3.put_object(f"{prefix}/statistics.json", json.dumps(statistics, indent=2))
    s3.put_object(f"{prefix}/constraints.json", json.dumps(constraints, indent=2))
    return statistics, constraints


def read_baseline(output_s3_uri: str, *, s3: LocalS3 | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read back ``statistics.json`` and ``constraints.json`` from ``output_s3_uri``."""
    s3 = s3 or LocalS3()
    prefix = output_s3_uri.rstrip("/")
    return (
        json.loads(s3.get_object(f"{prefix}/statistics.json")),
        json.loads(s3.get_object(f"{prefix}/constraints.json")),
    )
