"""Turn a facet, a label and a predicted label into boolean masks, as Clarify does (private).

Clarify decides whether a column is categorical or continuous from its data
(smclarify's ``series_datatype``): a ``category``, ``bool``, string or
object column is categorical, and so is any column when several values are
listed; a float column is continuous; an integer column is continuous when at
least 5% of its values are distinct. For a categorical column the listed
values form the group; for a continuous one the single listed number is an
exclusive lower threshold (``value > threshold``).

One deviation: an integer column with at most two distinct values (a 0/1
label) is always categorical here. smclarify would read such a column as
continuous when it has fewer than 40 rows, turning ``[1]`` into the threshold
"above 1", which selects nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

UNIQUENESS_THRESHOLD = 0.05
"""An integer column with at least this fraction of distinct values is continuous."""


@dataclass(frozen=True)
class Selection:
    """A boolean mask over the rows and how Clarify describes it (``"1"`` or ``"(40, 70]"``)."""

    mask: np.ndarray
    value_or_threshold: str
    continuous: bool


def check_frame(df: Any) -> pd.DataFrame:
    """Raise a TypeError unless ``df`` is a non-empty DataFrame."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise ValueError("df has no rows: bias metrics need data")
    return df


def check_column(df: pd.DataFrame, name: Any, role: str) -> pd.Series:
    """Return ``df[name]`` or raise a ValueError naming the columns there are."""
    if name not in df.columns:
        raise ValueError(f"{role} {name!r} is not a column of df; its columns are {list(df.columns)}")
    series = df[name]
    if series.isna().any():
        raise ValueError(
            f"{role} column {name!r} has {int(series.isna().sum())} missing values; drop or fill them first"
        )
    return series


def as_value_list(values_or_threshold: Any, role: str) -> list[Any]:
    """``values_or_threshold`` as a non-empty list (a scalar becomes a one-element list)."""
    if isinstance(values_or_threshold, str | bytes) or not isinstance(
        values_or_threshold, Sequence | np.ndarray
    ):
        values = [values_or_threshold]
    else:
        values = list(values_or_threshold)
    if not values:
        raise ValueError(f"{role} is empty: list the values (or one threshold) that select the group")
    return values


def is_continuous(series: pd.Series, values: list[Any]) -> bool:
    """Whether Clarify reads ``series`` as continuous given the listed ``values``."""
    if isinstance(series.dtype, pd.CategoricalDtype) or len(values) > 1:
        return False
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return False
    if pd.api.types.is_float_dtype(series):
        return True
    distinct = series.nunique()
    return distinct > 2 and distinct / series.count() >= UNIQUENESS_THRESHOLD


def _interval(data: pd.Series, threshold: float) -> pd.Interval:
    """Clarify's ``(threshold, max]`` interval (empty when the threshold is at or above the max)."""
    upper = data.max()
    return pd.Interval(min(threshold, upper), max(threshold, upper), closed="right")


def select(
    series: pd.Series, values_or_threshold: Any, *, role: str, interval_data: pd.Series | None = None
) -> Selection:
    """The rows of ``series`` that the listed values (or the threshold) select.

    ``interval_data`` is the data whose maximum closes a threshold interval
    (Clarify uses the label and the predicted label together for predictions).
    """
    values = as_value_list(values_or_threshold, role)
    if is_continuous(series, values):
        threshold = values[0]
        if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.integer | np.floating):
            try:
                threshold = float(threshold)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{role} {values!r} must be one numeric threshold: column {series.name!r} is continuous"
                ) from None
        interval = _interval(series if interval_data is None else interval_data, threshold)
        numbers = series.to_numpy(dtype=float)
        mask = (numbers > interval.left) & (numbers <= interval.right)
        return Selection(mask, str(interval), True)
    mask = series.isin(values).to_numpy(dtype=bool)
    if not mask.any():
        converted = _converted(series, values)
        if converted is not None:
            values = converted
            mask = series.isin(values).to_numpy(dtype=bool)
    return Selection(mask, ",".join(map(str, values)), False)


def _converted(series: pd.Series, values: list[Any]) -> list[Any] | None:
    """The listed values converted to the type of the column's first value, as Clarify retries."""
    first = series.iloc[0]
    kind = type(first.item() if isinstance(first, np.generic) else first)
    try:
        return [kind(v) for v in values]
    except (TypeError, ValueError):
        return None


def facet_mask(df: pd.DataFrame, facet_name: Any, facet_values_or_threshold: Any) -> Selection:
    """The sensitive group d, checked to be neither empty nor the whole dataset."""
    series = check_column(df, facet_name, "facet_name")
    selection = select(series, facet_values_or_threshold, role="facet_values_or_threshold")
    n_d = int(selection.mask.sum())
    if n_d == 0:
        seen = sorted(map(str, series.unique()))[:10]
        raise ValueError(
            f"facet_values_or_threshold {facet_values_or_threshold!r} selects no row of {facet_name!r} "
            f"(the sensitive group d is empty); values there include {seen}"
        )
    if n_d == len(series):
        raise ValueError(
            f"facet_values_or_threshold {facet_values_or_threshold!r} selects every row of {facet_name!r}: "
            "the other group a is empty, so there is nothing to compare with"
        )
    return selection


def label_mask(df: pd.DataFrame, label: Any, label_values_or_threshold: Any) -> Selection:
    """The rows whose observed label is a positive outcome."""
    series = check_column(df, label, "label")
    selection = select(series, label_values_or_threshold, role="label_values_or_threshold")
    if not selection.mask.any():
        kind = "continuous, so the value is a threshold" if selection.continuous else "categorical"
        raise ValueError(
            f"label_values_or_threshold {label_values_or_threshold!r} selects no positive outcome in "
            f"column {label!r} (read as {kind}); list values that occur, or cast the column to 'category'"
        )
    return selection


def predicted_mask(
    df: pd.DataFrame, predicted_label: Any, label: Any, label_values_or_threshold: Any
) -> np.ndarray:
    """The rows whose predicted label is a positive outcome, by the label's own rule."""
    predicted = check_column(df, predicted_label, "predicted_label")
    observed = df[label]
    values = as_value_list(label_values_or_threshold, "label_values_or_threshold")
    if is_continuous(observed, values) != is_continuous(predicted, values):
        raise ValueError(
            f"predicted_label {predicted_label!r} and label {label!r} must be of the same kind "
            "(both categorical or both continuous); give predicted labels, not scores "
            "(turn scores into labels with predicted_labels_from_scores)"
        )
    if is_continuous(observed, values):
        predicted = predicted.astype(observed.dtype)
        both = pd.concat([observed, predicted])
        selection = select(predicted, values, role="label_values_or_threshold", interval_data=both)
    else:
        selection = select(predicted, values, role="label_values_or_threshold")
    if not selection.mask.any():
        raise ValueError(
            f"no predicted label in {predicted_label!r} is a positive outcome {values!r}: "
            "post-training metrics need at least one positive prediction"
        )
    return selection.mask
