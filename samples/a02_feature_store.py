"""Plausible wrong answers to assignment 02 (feature store consistency).

``WRONG_ANSWERS`` maps a variant name to replacement sources for solution cells
(by ``grade_id``); each variant must score less than full marks. ``PARTIAL`` is
one "partly right" student, worth roughly half the marks, for a demo class.
"""

from __future__ import annotations

ASSIGNMENT = "02_feature_store"
NOTEBOOK = "feature_store.ipynb"

_POINT_IN_TIME_JOIN_SIGNATURE = 'def point_in_time_join(base: pd.DataFrame, features: pd.DataFrame, *, ttl_seconds: float | None = None) -> pd.DataFrame:\n    """Each base row with the feature values known at its event time (latest row at or before it, within the TTL).\n\n    Parameters\n    ----------\n    base : pd.DataFrame\n        ``customer_id`` (str) and ``event_time`` (float, Unix seconds) columns, maybe more; any row order.\n    features : pd.DataFrame\n        ``customer_id``, ``event_time`` and one or more numeric feature columns; any row order.\n    ttl_seconds : float or None\n        A feature row is usable only while ``base time < feature event time + ttl_seconds``; None = forever.\n\n    Returns\n    -------\n    pd.DataFrame\n        The base columns in base row order (index 0..n-1), then every feature column as float64\n        (NaN where no feature row qualifies). Neither input is modified.\n    """\n'

_REPLAY_ONLINE_SIGNATURE = 'def replay_online(puts: pd.DataFrame) -> pd.DataFrame:\n    """The online store after the PutRecord calls in ``puts`` (arrival order), one row per customer.\n\n    A put replaces the stored record when its event_time is equal to or newer than the stored one.\n\n    Parameters\n    ----------\n    puts : pd.DataFrame\n        ``customer_id`` (str), ``event_time`` (float) and feature columns, one row per call, in arrival order.\n\n    Returns\n    -------\n    pd.DataFrame\n        Same columns, one row per customer_id sorted by customer_id, index 0..n-1. ``puts`` is not modified.\n    """\n'

_VISIBLE_RECORDS_SIGNATURE = 'def visible_records(online: pd.DataFrame, *, now: float, ttl_seconds: float | None) -> pd.DataFrame:\n    """The online records that GetRecord still returns at ``now``.\n\n    A record expires at event_time + TTL and is not returned from then on (``now >= expires``).\n    Its TTL is its own ``ttl_seconds`` column when that column exists and the value is not NaN,\n    else the group\'s ``ttl_seconds`` argument (None = never expires).\n\n    Returns\n    -------\n    pd.DataFrame\n        The rows still visible, in their original order, index 0..n-1, same columns. ``online`` is not modified.\n    """\n'

_SKEW_REPORT_SIGNATURE = 'def skew_report(offline: pd.DataFrame, online: pd.DataFrame, *, features: list[str], atol: float = 1e-9) -> dict[str, float]:\n    """Fraction of paired rows where the offline and online values of each feature differ.\n\n    Rows pair up when they have the same customer_id and event_time (each pair appears at most\n    once in each frame). Two values differ when exactly one is NaN, or both are numbers and\n    ``abs(a - b) > atol``; two NaNs are equal.\n\n    Returns\n    -------\n    dict\n        ``{feature: fraction}`` with Python floats in [0, 1], one entry per name in ``features``.\n\n    Raises\n    ------\n    ValueError\n        If no rows pair up, or a feature is missing from either frame.\n    """\n'

# merge_asof-style inclusive TTL: a row is still used at exactly event_time + ttl.
_PIT_TTL_INCLUSIVE = (
    _POINT_IN_TIME_JOIN_SIGNATURE
    + '    keys = ["customer_id", "event_time"]\n    value_columns = [c for c in features.columns if c not in keys]\n    left = base.reset_index(drop=True).assign(__row=np.arange(len(base)))\n    right = features[keys + value_columns].rename(columns={"event_time": "__feature_time"})\n    right = right.assign(__order=np.arange(len(right)))\n    right = right.sort_values(["__feature_time", "__order"], kind="stable")\n    right = right.astype({c: float for c in value_columns})\n    joined = pd.merge_asof(\n        left.sort_values("event_time", kind="stable"),\n        right,\n        left_on="event_time",\n        right_on="__feature_time",\n        by="customer_id",\n        direction="backward",\n        allow_exact_matches=True,\n    ).sort_values("__row")\n    if ttl_seconds is not None:\n        expired = joined["event_time"] > joined["__feature_time"] + ttl_seconds\n        joined.loc[expired, value_columns] = np.nan\n    result = joined.drop(columns=["__row", "__feature_time", "__order"]).reset_index(drop=True)\n    return result[list(base.columns) + value_columns]\n'
)

# Keeps the first write of a duplicated event time instead of the last.
_PIT_FIRST_DUPLICATE_WINS = (
    _POINT_IN_TIME_JOIN_SIGNATURE
    + '    keys = ["customer_id", "event_time"]\n    value_columns = [c for c in features.columns if c not in keys]\n    left = base.reset_index(drop=True).assign(__row=np.arange(len(base)))\n    right = features[keys + value_columns].rename(columns={"event_time": "__feature_time"})\n    right = right.assign(__order=np.arange(len(right)))\n    right = right.drop_duplicates(["customer_id", "__feature_time"], keep="first")\n    right = right.sort_values(["__feature_time", "__order"], kind="stable")\n    right = right.astype({c: float for c in value_columns})\n    joined = pd.merge_asof(\n        left.sort_values("event_time", kind="stable"),\n        right,\n        left_on="event_time",\n        right_on="__feature_time",\n        by="customer_id",\n        direction="backward",\n        allow_exact_matches=True,\n    ).sort_values("__row")\n    if ttl_seconds is not None:\n        expired = ~(joined["event_time"] < joined["__feature_time"] + ttl_seconds)\n        joined.loc[expired, value_columns] = np.nan\n    result = joined.drop(columns=["__row", "__feature_time", "__order"]).reset_index(drop=True)\n    return result[list(base.columns) + value_columns]\n'
)

# Returns the rows sorted by event time instead of the base's order.
_PIT_ROWS_SORTED_BY_TIME = (
    _POINT_IN_TIME_JOIN_SIGNATURE
    + '    keys = ["customer_id", "event_time"]\n    value_columns = [c for c in features.columns if c not in keys]\n    left = base.reset_index(drop=True).assign(__row=np.arange(len(base)))\n    right = features[keys + value_columns].rename(columns={"event_time": "__feature_time"})\n    right = right.assign(__order=np.arange(len(right)))\n    right = right.sort_values(["__feature_time", "__order"], kind="stable")\n    right = right.astype({c: float for c in value_columns})\n    joined = pd.merge_asof(\n        left.sort_values("event_time", kind="stable"),\n        right,\n        left_on="event_time",\n        right_on="__feature_time",\n        by="customer_id",\n        direction="backward",\n        allow_exact_matches=True,\n    )\n    if ttl_seconds is not None:\n        expired = ~(joined["event_time"] < joined["__feature_time"] + ttl_seconds)\n        joined.loc[expired, value_columns] = np.nan\n    result = joined.drop(columns=["__row", "__feature_time", "__order"]).reset_index(drop=True)\n    return result[list(base.columns) + value_columns]\n'
)

# Takes the nearest feature row in time, which may be in the future.
_PIT_NEAREST_LEAKS_FUTURE = (
    _POINT_IN_TIME_JOIN_SIGNATURE
    + '    keys = ["customer_id", "event_time"]\n    value_columns = [c for c in features.columns if c not in keys]\n    left = base.reset_index(drop=True).assign(__row=np.arange(len(base)))\n    right = features[keys + value_columns].rename(columns={"event_time": "__feature_time"})\n    right = right.assign(__order=np.arange(len(right)))\n    right = right.sort_values(["__feature_time", "__order"], kind="stable")\n    right = right.astype({c: float for c in value_columns})\n    joined = pd.merge_asof(\n        left.sort_values("event_time", kind="stable"),\n        right,\n        left_on="event_time",\n        right_on="__feature_time",\n        by="customer_id",\n        direction="nearest",\n        allow_exact_matches=True,\n    ).sort_values("__row")\n    if ttl_seconds is not None:\n        expired = ~(joined["event_time"] < joined["__feature_time"] + ttl_seconds)\n        joined.loc[expired, value_columns] = np.nan\n    result = joined.drop(columns=["__row", "__feature_time", "__order"]).reset_index(drop=True)\n    return result[list(base.columns) + value_columns]\n'
)

# Keeps only customer_id and event_time from the base, dropping its other columns (the label).
_PIT_DROPS_EXTRA_BASE_COLUMNS = (
    _POINT_IN_TIME_JOIN_SIGNATURE
    + '    keys = ["customer_id", "event_time"]\n    value_columns = [c for c in features.columns if c not in keys]\n    left = base[keys].reset_index(drop=True).assign(__row=np.arange(len(base)))\n    right = features[keys + value_columns].rename(columns={"event_time": "__feature_time"})\n    right = right.assign(__order=np.arange(len(right)))\n    right = right.sort_values(["__feature_time", "__order"], kind="stable")\n    right = right.astype({c: float for c in value_columns})\n    joined = pd.merge_asof(\n        left.sort_values("event_time", kind="stable"),\n        right,\n        left_on="event_time",\n        right_on="__feature_time",\n        by="customer_id",\n        direction="backward",\n        allow_exact_matches=True,\n    ).sort_values("__row")\n    if ttl_seconds is not None:\n        expired = ~(joined["event_time"] < joined["__feature_time"] + ttl_seconds)\n        joined.loc[expired, value_columns] = np.nan\n    result = joined.drop(columns=["__row", "__feature_time", "__order"]).reset_index(drop=True)\n    return result[keys + value_columns]\n'
)

# Applies a put only if strictly newer: for equal event times the first put wins.
_REPLAY_STRICT_NEWER = (
    _REPLAY_ONLINE_SIGNATURE
    + '    arrival = -np.arange(len(puts))\n    ordered = puts.assign(__arrival=arrival).sort_values(["event_time", "__arrival"], kind="stable")\n    latest = ordered.groupby("customer_id", sort=True).tail(1).sort_values("customer_id", kind="stable")\n    return latest.drop(columns="__arrival").reset_index(drop=True)\n'
)

# Ignores event time: the last put to arrive wins.
_REPLAY_LAST_ARRIVAL_WINS = (
    _REPLAY_ONLINE_SIGNATURE
    + '    latest = puts.groupby("customer_id", sort=True).tail(1).sort_values("customer_id", kind="stable")\n    return latest.reset_index(drop=True)\n'
)

# Right answer, but sorts the caller's DataFrame in place.
_REPLAY_SORTS_INPUT_IN_PLACE = (
    _REPLAY_ONLINE_SIGNATURE
    + '    puts.sort_values("event_time", kind="stable", inplace=True)\n    latest = puts.groupby("customer_id", sort=True).tail(1).sort_values("customer_id", kind="stable")\n    return latest.reset_index(drop=True)\n'
)

# Still returns a record at exactly ExpiresAt.
_VISIBLE_EXPIRES_AFTER_BOUNDARY = (
    _VISIBLE_RECORDS_SIGNATURE
    + '    ttl = np.full(len(online), np.inf if ttl_seconds is None else float(ttl_seconds))\n    if "ttl_seconds" in online.columns:\n        own = online["ttl_seconds"].to_numpy(dtype=float)\n        ttl = np.where(np.isnan(own), ttl, own)\n    expires = online["event_time"].to_numpy(dtype=float) + ttl\n    return online[now <= expires].reset_index(drop=True)\n'
)

# Uses the group's TTL for every record, ignoring a record's own.
_VISIBLE_IGNORES_RECORD_TTL = (
    _VISIBLE_RECORDS_SIGNATURE
    + '    if ttl_seconds is None:\n        return online.reset_index(drop=True)\n    return online[now < online["event_time"] + ttl_seconds].reset_index(drop=True)\n'
)

# Returns NumPy floats, not Python floats.
_SKEW_NUMPY_FLOATS = (
    _SKEW_REPORT_SIGNATURE
    + '    keys = ["customer_id", "event_time"]\n    for name in features:\n        if name not in offline.columns or name not in online.columns:\n            raise ValueError(f"feature {name!r} is missing from one of the frames")\n    paired = offline[keys + features].merge(online[keys + features], on=keys, suffixes=("_offline", "_online"))\n    if len(paired) == 0:\n        raise ValueError("no rows pair up on customer_id and event_time")\n    report = {}\n    for name in features:\n        a = paired[f"{name}_offline"].to_numpy(dtype=float)\n        b = paired[f"{name}_online"].to_numpy(dtype=float)\n        one_nan = np.isnan(a) != np.isnan(b)\n        both_numbers = ~np.isnan(a) & ~np.isnan(b)\n        far = np.zeros(len(a), dtype=bool)\n        far[both_numbers] = np.abs(a[both_numbers] - b[both_numbers]) > atol\n        report[name] = np.mean(one_nan | far)\n    return report\n'
)

# Counts two NaNs as different.
_SKEW_TWO_NANS_DIFFER = (
    _SKEW_REPORT_SIGNATURE
    + '    keys = ["customer_id", "event_time"]\n    for name in features:\n        if name not in offline.columns or name not in online.columns:\n            raise ValueError(f"feature {name!r} is missing from one of the frames")\n    paired = offline[keys + features].merge(online[keys + features], on=keys, suffixes=("_offline", "_online"))\n    if len(paired) == 0:\n        raise ValueError("no rows pair up on customer_id and event_time")\n    report = {}\n    for name in features:\n        a = paired[f"{name}_offline"].to_numpy(dtype=float)\n        b = paired[f"{name}_online"].to_numpy(dtype=float)\n        one_nan = np.isnan(a) | np.isnan(b)\n        both_numbers = ~np.isnan(a) & ~np.isnan(b)\n        far = np.zeros(len(a), dtype=bool)\n        far[both_numbers] = np.abs(a[both_numbers] - b[both_numbers]) > atol\n        report[name] = float(np.mean(one_nan | far))\n    return report\n'
)

# Compares a - b without the absolute value.
_SKEW_SIGNED_DIFFERENCE = (
    _SKEW_REPORT_SIGNATURE
    + '    keys = ["customer_id", "event_time"]\n    for name in features:\n        if name not in offline.columns or name not in online.columns:\n            raise ValueError(f"feature {name!r} is missing from one of the frames")\n    paired = offline[keys + features].merge(online[keys + features], on=keys, suffixes=("_offline", "_online"))\n    if len(paired) == 0:\n        raise ValueError("no rows pair up on customer_id and event_time")\n    report = {}\n    for name in features:\n        a = paired[f"{name}_offline"].to_numpy(dtype=float)\n        b = paired[f"{name}_online"].to_numpy(dtype=float)\n        one_nan = np.isnan(a) != np.isnan(b)\n        both_numbers = ~np.isnan(a) & ~np.isnan(b)\n        far = np.zeros(len(a), dtype=bool)\n        far[both_numbers] = (a[both_numbers] - b[both_numbers]) > atol\n        report[name] = float(np.mean(one_nan | far))\n    return report\n'
)

# Pairs rows on customer_id only, ignoring event_time.
_SKEW_PAIRS_ON_CUSTOMER_ONLY = (
    _SKEW_REPORT_SIGNATURE
    + '    keys = ["customer_id", "event_time"]\n    for name in features:\n        if name not in offline.columns or name not in online.columns:\n            raise ValueError(f"feature {name!r} is missing from one of the frames")\n    paired = offline[keys + features].merge(online[features + ["customer_id"]], on="customer_id", suffixes=("_offline", "_online"))\n    if len(paired) == 0:\n        raise ValueError("no rows pair up on customer_id and event_time")\n    report = {}\n    for name in features:\n        a = paired[f"{name}_offline"].to_numpy(dtype=float)\n        b = paired[f"{name}_online"].to_numpy(dtype=float)\n        one_nan = np.isnan(a) != np.isnan(b)\n        both_numbers = ~np.isnan(a) & ~np.isnan(b)\n        far = np.zeros(len(a), dtype=bool)\n        far[both_numbers] = np.abs(a[both_numbers] - b[both_numbers]) > atol\n        report[name] = float(np.mean(one_nan | far))\n    return report\n'
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
}

# The join's TTL off by one at the boundary, the last put always winning and NumPy floats
# in the skew report: about half the marks.
PARTIAL: dict[str, str] = {
    "point_in_time_join": _PIT_TTL_INCLUSIVE,
    "replay_online": _REPLAY_LAST_ARRIVAL_WINS,
    "skew_report": _SKEW_NUMPY_FLOATS,
}
