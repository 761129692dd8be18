"""Plausible wrong answers to assignment 02 (feature store consistency).

``WRONG_ANSWERS`` maps a variant name to replacement sources for solution cells
(by ``grade_id``); each variant must score less than full marks. ``PARTIAL`` is
one "partly right" student, worth roughly half the marks, for a demo class.
"""

from __future__ import annotations

ASSIGNMENT = "02_feature_store"
NOTEBOOK = "feature_store.ipynb"

_POINT_IN_TIME_JOIN_SIGNATURE = '''def point_in_time_join(base: pd.DataFrame, features: pd.DataFrame, *, ttl_seconds: float | None = None) -> pd.DataFrame:
    """Each base row with the feature values known at its event time (latest row at or before it, within the TTL).

    Parameters
    ----------
    base : pd.DataFrame
        ``customer_id`` (str) and ``event_time`` (float, Unix seconds) columns, maybe more; any row order.
    features : pd.DataFrame
        ``customer_id``, ``event_time`` and one or more numeric feature columns; any row order.
    ttl_seconds : float or None
        A feature row is usable only while ``base time < feature event time + ttl_seconds``; None = forever.

    Returns
    -------
    pd.DataFrame
        The base columns in base row order (index 0..n-1), then every feature column as float64
        (NaN where no feature row qualifies). Neither input is modified.
    """
'''

_REPLAY_ONLINE_SIGNATURE = '''def replay_online(puts: pd.DataFrame) -> pd.DataFrame:
    """The online store after the PutRecord calls in ``puts`` (arrival order), one row per customer.

    A put replaces the stored record when its event_time is equal to or newer than the stored one.

    Parameters
    ----------
    puts : pd.DataFrame
        ``customer_id`` (str), ``event_time`` (float) and feature columns, one row per call, in arrival order.

    Returns
    -------
    pd.DataFrame
        Same columns, one row per customer_id sorted by customer_id, index 0..n-1. ``puts`` is not modified.
    """
'''

_VISIBLE_RECORDS_SIGNATURE = '''def visible_records(online: pd.DataFrame, *, now: float, ttl_seconds: float | None) -> pd.DataFrame:
    """The online records that GetRecord still returns at ``now``.

    A record expires at event_time + TTL and is not returned from then on (``now >= expires``).
    Its TTL is its own ``ttl_seconds`` column when that column exists and the value is not NaN,
    else the group's ``ttl_seconds`` argument (None = never expires).

    Returns
    -------
    pd.DataFrame
        The rows still visible, in their original order, index 0..n-1, same columns. ``online`` is not modified.
    """
'''

_SKEW_REPORT_SIGNATURE = '''def skew_report(offline: pd.DataFrame, online: pd.DataFrame, *, features: list[str], atol: float = 1e-9) -> dict[str, float]:
    """Fraction of paired rows where the offline and online values of each feature differ.

    Rows pair up when they have the same customer_id and event_time (each pair appears at most
    once in each frame). Two values differ when exactly one is NaN, or both are numbers and
    ``abs(a - b) > atol``; two NaNs are equal.

    Returns
    -------
    dict
        ``{feature: fraction}`` with Python floats in [0, 1], one entry per name in ``features``.

    Raises
    ------
    ValueError
        If no rows pair up, or a feature is missing from either frame.
    """
'''

# merge_asof-style inclusive TTL: a row is still used at exactly event_time + ttl.
_PIT_TTL_INCLUSIVE = (
    _POINT_IN_TIME_JOIN_SIGNATURE
    + """    keys = ["customer_id", "event_time"]
    value_columns = [c for c in features.columns if c not in keys]
    left = base.reset_index(drop=True).assign(__row=np.arange(len(base)))
    right = features[keys + value_columns].rename(columns={"event_time": "__feature_time"})
    right = right.assign(__order=np.arange(len(right)))
    right = right.sort_values(["__feature_time", "__order"], kind="stable")
    right = right.astype({c: float for c in value_columns})
    joined = pd.merge_asof(
        left.sort_values("event_time", kind="stable"),
        right,
        left_on="event_time",
        right_on="__feature_time",
        by="customer_id",
        direction="backward",
        allow_exact_matches=True,
    ).sort_values("__row")
    if ttl_seconds is not None:
        expired = joined["event_time"] > joined["__feature_time"] + ttl_seconds
        joined.loc[expired, value_columns] = np.nan
    result = joined.drop(columns=["__row", "__feature_time", "__order"]).reset_index(drop=True)
    return result[list(base.columns) + value_columns]
"""
)

# Keeps the first write of a duplicated event time instead of the last.
_PIT_FIRST_DUPLICATE_WINS = (
    _POINT_IN_TIME_JOIN_SIGNATURE
    + """    keys = ["customer_id", "event_time"]
    value_columns = [c for c in features.columns if c not in keys]
    left = base.reset_index(drop=True).assign(__row=np.arange(len(base)))
    right = features[keys + value_columns].rename(columns={"event_time": "__feature_time"})
    right = right.assign(__order=np.arange(len(right)))
    right = right.drop_duplicates(["customer_id", "__feature_time"], keep="first")
    right = right.sort_values(["__feature_time", "__order"], kind="stable")
    right = right.astype({c: float for c in value_columns})
    joined = pd.merge_asof(
        left.sort_values("event_time", kind="stable"),
        right,
        left_on="event_time",
        right_on="__feature_time",
        by="customer_id",
        direction="backward",
        allow_exact_matches=True,
    ).sort_values("__row")
    if ttl_seconds is not None:
        expired = ~(joined["event_time"] < joined["__feature_time"] + ttl_seconds)
        joined.loc[expired, value_columns] = np.nan
    result = joined.drop(columns=["__row", "__feature_time", "__order"]).reset_index(drop=True)
    return result[list(base.columns) + value_columns]
"""
)

# Returns the rows sorted by event time instead of the base's order.
_PIT_ROWS_SORTED_BY_TIME = (
    _POINT_IN_TIME_JOIN_SIGNATURE
    + """    keys = ["customer_id", "event_time"]
    value_columns = [c for c in features.columns if c not in keys]
    left = base.reset_index(drop=True).assign(__row=np.arange(len(base)))
    right = features[keys + value_columns].rename(columns={"event_time": "__feature_time"})
    right = right.assign(__order=np.arange(len(right)))
    right = right.sort_values(["__feature_time", "__order"], kind="stable")
    right = right.astype({c: float for c in value_columns})
    joined = pd.merge_asof(
        left.sort_values("event_time", kind="stable"),
        right,
        left_on="event_time",
        right_on="__feature_time",
        by="customer_id",
        direction="backward",
        allow_exact_matches=True,
    )
    if ttl_seconds is not None:
        expired = ~(joined["event_time"] < joined["__feature_time"] + ttl_seconds)
        joined.loc[expired, value_columns] = np.nan
    result = joined.drop(columns=["__row", "__feature_time", "__order"]).reset_index(drop=True)
    return result[list(base.columns) + value_columns]
"""
)

# Takes the nearest feature row in time, which may be in the future.
_PIT_NEAREST_LEAKS_FUTURE = (
    _POINT_IN_TIME_JOIN_SIGNATURE
    + """    keys = ["customer_id", "event_time"]
    value_columns = [c for c in features.columns if c not in keys]
    left = base.reset_index(drop=True).assign(__row=np.arange(len(base)))
    right = features[keys + value_columns].rename(columns={"event_time": "__feature_time"})
    right = right.assign(__order=np.arange(len(right)))
    right = right.sort_values(["__feature_time", "__order"], kind="stable")
    right = right.astype({c: float for c in value_columns})
    joined = pd.merge_asof(
        left.sort_values("event_time", kind="stable"),
        right,
        left_on="event_time",
        right_on="__feature_time",
        by="customer_id",
        direction="nearest",
        allow_exact_matches=True,
    ).sort_values("__row")
    if ttl_seconds is not None:
        expired = ~(joined["event_time"] < joined["__feature_time"] + ttl_seconds)
        joined.loc[expired, value_columns] = np.nan
    result = joined.drop(columns=["__row", "__feature_time", "__order"]).reset_index(drop=True)
    return result[list(base.columns) + value_columns]
"""
)

# Keeps only customer_id and event_time from the base, dropping its other columns (the label).
_PIT_DROPS_EXTRA_BASE_COLUMNS = (
    _POINT_IN_TIME_JOIN_SIGNATURE
    + """    keys = ["customer_id", "event_time"]
    value_columns = [c for c in features.columns if c not in keys]
    left = base[keys].reset_index(drop=True).assign(__row=np.arange(len(base)))
    right = features[keys + value_columns].rename(columns={"event_time": "__feature_time"})
    right = right.assign(__order=np.arange(len(right)))
    right = right.sort_values(["__feature_time", "__order"], kind="stable")
    right = right.astype({c: float for c in value_columns})
    joined = pd.merge_asof(
        left.sort_values("event_time", kind="stable"),
        right,
        left_on="event_time",
        right_on="__feature_time",
        by="customer_id",
        direction="backward",
        allow_exact_matches=True,
    ).sort_values("__row")
    if ttl_seconds is not None:
        expired = ~(joined["event_time"] < joined["__feature_time"] + ttl_seconds)
        joined.loc[expired, value_columns] = np.nan
    result = joined.drop(columns=["__row", "__feature_time", "__order"]).reset_index(drop=True)
    return result[keys + value_columns]
"""
)

# Applies a put only if strictly newer: for equal event times the first put wins.
_REPLAY_STRICT_NEWER = (
    _REPLAY_ONLINE_SIGNATURE
    + """    arrival = -np.arange(len(puts))
    ordered = puts.assign(__arrival=arrival).sort_values(["event_time", "__arrival"], kind="stable")
    latest = ordered.groupby("customer_id", sort=True).tail(1).sort_values("customer_id", kind="stable")
    return latest.drop(columns="__arrival").reset_index(drop=True)
"""
)

# Ignores event time: the last put to arrive wins.
_REPLAY_LAST_ARRIVAL_WINS = (
    _REPLAY_ONLINE_SIGNATURE
    + """    latest = puts.groupby("customer_id", sort=True).tail(1).sort_values("customer_id", kind="stable")
    return latest.reset_index(drop=True)
"""
)

# Right answer, but sorts the caller's DataFrame in place.
_REPLAY_SORTS_INPUT_IN_PLACE = (
    _REPLAY_ONLINE_SIGNATURE
    + """    puts.sort_values("event_time", kind="stable", inplace=True)
    latest = puts.groupby("customer_id", sort=True).tail(1).sort_values("customer_id", kind="stable")
    return latest.reset_index(drop=True)
"""
)

# Still returns a record at exactly ExpiresAt.
_VISIBLE_EXPIRES_AFTER_BOUNDARY = (
    _VISIBLE_RECORDS_SIGNATURE
    + """    ttl = np.full(len(online), np.inf if ttl_seconds is None else float(ttl_seconds))
    if "ttl_seconds" in online.columns:
        own = online["ttl_seconds"].to_numpy(dtype=float)
        ttl = np.where(np.isnan(own), ttl, own)
    expires = online["event_time"].to_numpy(dtype=float) + ttl
    return online[now <= expires].reset_index(drop=True)
"""
)

# Uses the group's TTL for every record, ignoring a record's own.
_VISIBLE_IGNORES_RECORD_TTL = (
    _VISIBLE_RECORDS_SIGNATURE
    + """    if ttl_seconds is None:
        return online.reset_index(drop=True)
    return online[now < online["event_time"] + ttl_seconds].reset_index(drop=True)
"""
)

# Returns NumPy floats, not Python floats.
_SKEW_NUMPY_FLOATS = (
    _SKEW_REPORT_SIGNATURE
    + """    keys = ["customer_id", "event_time"]
    for name in features:
        if name not in offline.columns or name not in online.columns:
            raise ValueError(f"feature {name!r} is missing from one of the frames")
    paired = offline[keys + features].merge(online[keys + features], on=keys, suffixes=("_offline", "_online"))
    if len(paired) == 0:
        raise ValueError("no rows pair up on customer_id and event_time")
    report = {}
    for name in features:
        a = paired[f"{name}_offline"].to_numpy(dtype=float)
        b = paired[f"{name}_online"].to_numpy(dtype=float)
        one_nan = np.isnan(a) != np.isnan(b)
        both_numbers = ~np.isnan(a) & ~np.isnan(b)
        far = np.zeros(len(a), dtype=bool)
        far[both_numbers] = np.abs(a[both_numbers] - b[both_numbers]) > atol
        report[name] = np.mean(one_nan | far)
    return report
"""
)

# Counts two NaNs as different.
_SKEW_TWO_NANS_DIFFER = (
    _SKEW_REPORT_SIGNATURE
    + """    keys = ["customer_id", "event_time"]
    for name in features:
        if name not in offline.columns or name not in online.columns:
            raise ValueError(f"feature {name!r} is missing from one of the frames")
    paired = offline[keys + features].merge(online[keys + features], on=keys, suffixes=("_offline", "_online"))
    if len(paired) == 0:
        raise ValueError("no rows pair up on customer_id and event_time")
    report = {}
    for name in features:
        a = paired[f"{name}_offline"].to_numpy(dtype=float)
        b = paired[f"{name}_online"].to_numpy(dtype=float)
        one_nan = np.isnan(a) | np.isnan(b)
        both_numbers = ~np.isnan(a) & ~np.isnan(b)
        far = np.zeros(len(a), dtype=bool)
        far[both_numbers] = np.abs(a[both_numbers] - b[both_numbers]) > atol
        report[name] = float(np.mean(one_nan | far))
    return report
"""
)

# Compares a - b without the absolute value.
_SKEW_SIGNED_DIFFERENCE = (
    _SKEW_REPORT_SIGNATURE
    + """    keys = ["customer_id", "event_time"]
    for name in features:
        if name not in offline.columns or name not in online.columns:
            raise ValueError(f"feature {name!r} is missing from one of the frames")
    paired = offline[keys + features].merge(online[keys + features], on=keys, suffixes=("_offline", "_online"))
    if len(paired) == 0:
        raise ValueError("no rows pair up on customer_id and event_time")
    report = {}
    for name in features:
        a = paired[f"{name}_offline"].to_numpy(dtype=float)
        b = paired[f"{name}_online"].to_numpy(dtype=float)
        one_nan = np.isnan(a) != np.isnan(b)
        both_numbers = ~np.isnan(a) & ~np.isnan(b)
        far = np.zeros(len(a), dtype=bool)
        far[both_numbers] = (a[both_numbers] - b[both_numbers]) > atol
        report[name] = float(np.mean(one_nan | far))
    return report
"""
)

# Pairs rows on customer_id only, ignoring event_time.
_SKEW_PAIRS_ON_CUSTOMER_ONLY = (
    _SKEW_REPORT_SIGNATURE
    + """    keys = ["customer_id", "event_time"]
    for name in features:
        if name not in offline.columns or name not in online.columns:
            raise ValueError(f"feature {name!r} is missing from one of the frames")
    paired = offline[keys + features].merge(online[features + ["customer_id"]], on="customer_id", suffixes=("_offline", "_online"))
    if len(paired) == 0:
        raise ValueError("no rows pair up on customer_id and event_time")
    report = {}
    for name in features:
        a = paired[f"{name}_offline"].to_numpy(dtype=float)
        b = paired[f"{name}_online"].to_numpy(dtype=float)
        one_nan = np.isnan(a) != np.isnan(b)
        both_numbers = ~np.isnan(a) & ~np.isnan(b)
        far = np.zeros(len(a), dtype=bool)
        far[both_numbers] = np.abs(a[both_numbers] - b[both_numbers]) > atol
        report[name] = float(np.mean(one_nan | far))
    return report
"""
)

# Sorts the caller's features list in place (to report features in name order).
_SKEW_SORTS_FEATURES_IN_PLACE = (
    _SKEW_REPORT_SIGNATURE
    + """    keys = ["customer_id", "event_time"]
    features.sort()
    for name in features:
        if name not in offline.columns or name not in online.columns:
            raise ValueError(f"feature {name!r} is missing from one of the frames")
    paired = offline[keys + features].merge(online[keys + features], on=keys, suffixes=("_offline", "_online"))
    if len(paired) == 0:
        raise ValueError("no rows pair up on customer_id and event_time")
    report = {}
    for name in features:
        a, b = paired[f"{name}_offline"], paired[f"{name}_online"]
        report[name] = float(((a.isna() != b.isna()) | ((a - b).abs() > atol)).mean())
    return report
"""
)

WRONG_ANSWERS: dict[str, dict[str, str]] = {
    "pit_ttl_inclusive": {"point_in_time_join": _PIT_TTL_INCLUSIVE},
    "pit_first_duplicate_wins": {"point_in_time_join": _PIT_FIRST_DUPLICATE_WINS},
    "pit_rows_sorted_by_time": {"point_in_time_join": _PIT_ROWS_SORTED_BY_TIME},
    "pit_nearest_leaks_future": {"point_in_time_join": _PIT_NEAREST_LEAKS_FUTURE},
    "pit_drops_extra_base_columns": {"point_in_time_join": _PIT_DROPS_EXTRA_BASE_COLUMNS},
    "replay_strict_newer": {"replay_online": _REPLAY_STRICT_NEWER},
    "replay_last_arrival_wins": {"replay_online": _REPLAY_LAST_ARRIVAL_WINS},
    "replay_sorts_input_in_place": {"replay_online": _REPLAY_SORTS_INPUT_IN_PLACE},
    "visible_expires_after_boundary": {"visible_records": _VISIBLE_EXPIRES_AFTER_BOUNDARY},
    "visible_ignores_record_ttl": {"visible_records": _VISIBLE_IGNORES_RECORD_TTL},
    "skew_numpy_floats": {"skew_report": _SKEW_NUMPY_FLOATS},
    "skew_two_nans_differ": {"skew_report": _SKEW_TWO_NANS_DIFFER},
    "skew_signed_difference": {"skew_report": _SKEW_SIGNED_DIFFERENCE},
    "skew_pairs_on_customer_only": {"skew_report": _SKEW_PAIRS_ON_CUSTOMER_ONLY},
    "skew_sorts_features_in_place": {"skew_report": _SKEW_SORTS_FEATURES_IN_PLACE},
}

# The join's TTL off by one at the boundary, the last put always winning and NumPy floats
# in the skew report: about half the marks.
PARTIAL: dict[str, str] = {
    "point_in_time_join": _PIT_TTL_INCLUSIVE,
    "replay_online": _REPLAY_LAST_ARRIVAL_WINS,
    "skew_report": _SKEW_NUMPY_FLOATS,
}
