"""Training datasets from the offline store: the SDK's dataset builder, run by DuckDB.

``create_dataset(base, ...)`` starts from a DataFrame (or a feature group)
and joins feature groups to it. As in the SageMaker SDK, each feature group's
offline rows are first cleaned:

- de-duplication: per record identifier and event time, keep the row with
  the latest ``api_invocation_time``, then ``write_time``
  (``include_duplicated_records()`` keeps them all; a point-in-time join
  still gives each base row one feature row, the latest written);
- deleted records: for each identifier, its rows up to its latest delete
  marker are dropped, and markers are never returned
  (``include_deleted_records()`` keeps the deleted rows); in a point-in-time
  join a delete marker instead hides the record from its own event time on
  (see below);
- ``as_of(t)`` keeps rows written (``write_time``) at or before ``t``: what
  the offline store knew then; ``with_event_time_range(start, end)`` keeps
  event times in ``[start, end]``.

With ``point_in_time_accurate_join()`` each base row gets, per feature group,
the latest cleaned row whose event time is at or before the base row's own
and, if the group has a TTL, still alive at that time
(``event_time <= base_time < event_time + ttl``); otherwise nulls. If that
latest row is a delete marker (a ``delete_record`` or an expired TTL), the
features are null too: the base row sees what ``get_record`` would have
returned at its time. No value from the future. Without it, each base row gets the identifier's latest row
whatever its time (a snapshot join, which leaks the future).

Where the local builder differs from the SDK: the SDK returns one output row
per matching feature row (every feature row at or before the base time);
here every base row appears exactly once, in input order (a left join, as
Feast's ``get_historical_features``), which is what a training set needs.
The SDK also applies a record's latest delete to its whole history in a
point-in-time join, so a delete (or TTL expiry) after the base row's time
would hide values that were live then; here it does not. The SDK has no TTL
in its joins; the feature group's TTL is applied as Feast applies its ``ttl``.
``to_dataframe()`` returns ``(DataFrame, query_string)`` as the SDK does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from course.feature_store import offline as offline_store
from course.feature_store.errors import ValidationError
from course.feature_store.feature_group import FeatureGroup

__all__ = ["DatasetBuilder", "create_dataset", "to_unix_seconds"]


def to_unix_seconds(values: Any, *, what: str = "event time") -> np.ndarray:
    """Event times (Unix seconds, ISO-8601 strings or datetimes) as float Unix seconds.

    Examples
    --------
    >>> to_unix_seconds(["2024-03-01T12:00:00Z", "2024-03-01T12:00:01.500Z"]).tolist()
    [1709294400.0, 1709294401.5]
    >>> to_unix_seconds(pd.Series([1.5, 2.0])).tolist()
    [1.5, 2.0]
    """
    series = pd.Series(values)
    if pd.api.types.is_bool_dtype(series.dtype):
        raise ValidationError(f"{what} must be Unix seconds, ISO-8601 strings or datetimes, not bools")
    if pd.api.types.is_numeric_dtype(series.dtype):
        seconds = series.to_numpy(dtype=float)
    else:
        try:
            stamps = pd.to_datetime(series, utc=True, format="ISO8601")
        except (ValueError, TypeError) as error:
            raise ValidationError(
                f"{what} must be Unix seconds, ISO-8601 strings or datetimes: {error}"
            ) from None
        seconds = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)
    if np.isnan(seconds).any():
        row = int(np.flatnonzero(np.isnan(seconds))[0])
        raise ValidationError(f"{what} is missing in row {row}; every base row needs an event time")
    return seconds


def _instant(value: datetime | float | int | str, *, what: str) -> float:
    """One instant (datetime, Unix seconds or ISO-8601) as Unix seconds; naive datetimes are UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = pd.Timestamp(value).tz_localize("UTC")
    if isinstance(value, datetime):
        return pd.Timestamp(value).timestamp()
    return float(to_unix_seconds([value], what=what)[0])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Join:
    group: FeatureGroup
    target_feature_name_in_base: str
    included_feature_names: list[str]


class DatasetBuilder:
    """Builds a dataset from a base and feature groups; see the module notes. Use :func:`create_dataset`."""

    def __init__(
        self,
        base: pd.DataFrame | FeatureGroup,
        *,
        record_identifier_feature_name: str | None,
        event_time_identifier_feature_name: str | None,
        included_feature_names: Sequence[str] | None,
    ) -> None:
        if isinstance(base, FeatureGroup):
            record_identifier_feature_name = base.record_identifier_name
            event_time_identifier_feature_name = base.event_time_feature_name
        elif isinstance(base, pd.DataFrame):
            for arg, value in (
                ("record_identifier_feature_name", record_identifier_feature_name),
                ("event_time_identifier_feature_name", event_time_identifier_feature_name),
            ):
                if value is None or value not in base.columns:
                    raise ValidationError(
                        f"{arg}={value!r} must name a column of the base DataFrame "
                        f"(columns: {', '.join(map(str, base.columns))})"
                    )
        else:
            raise ValidationError(
                f"base must be a pandas DataFrame or a FeatureGroup, got {type(base).__name__}"
            )
        self._base = base
        self._record_identifier_name = record_identifier_feature_name
        self._event_time_name = event_time_identifier_feature_name
        self._included = None if included_feature_names is None else list(included_feature_names)
        self._joins: list[_Join] = []
        self._point_in_time = False
        self._include_duplicated = False
        self._include_deleted = False
        self._recent: int | None = None
        self._as_of: float | None = None
        self._event_range: tuple[float | None, float | None] = (None, None)

    # -- the SDK's builder methods ------------------------------------------------------------------
    def with_feature_group(
        self,
        feature_group: FeatureGroup,
        target_feature_name_in_base: str | None = None,
        included_feature_names: Sequence[str] | None = None,
    ) -> DatasetBuilder:
        """Join ``feature_group`` on ``target_feature_name_in_base`` (default: the base's record identifier).

        ``included_feature_names`` defaults to every feature except the
        group's identifier and event time.
        """
        if not isinstance(feature_group, FeatureGroup):
            raise ValidationError(
                f"with_feature_group needs a FeatureGroup, got {type(feature_group).__name__}"
            )
        if not feature_group.offline:
            raise ValidationError(
                f"feature group {feature_group.name!r} has no offline store to build datasets from"
            )
        target = target_feature_name_in_base or self._record_identifier_name
        if target not in self._base_columns():
            raise ValidationError(
                f"feature {target!r} not found in base (columns: {', '.join(self._base_columns())})"
            )
        keys = (feature_group.record_identifier_name, feature_group.event_time_feature_name)
        names = (
            [n for n in feature_group._names if n not in keys]
            if included_feature_names is None
            else list(included_feature_names)
        )
        unknown = [n for n in names if n not in feature_group._types]
        if unknown:
            raise ValidationError(
                f"included feature {unknown[0]!r} is not a feature of {feature_group.name!r}"
            )
        self._joins.append(_Join(feature_group, target, names))
        return self

    def point_in_time_accurate_join(self) -> DatasetBuilder:
        """Join each base row to the feature values known at its event time (see the module notes)."""
        self._point_in_time = True
        return self

    def include_duplicated_records(self) -> DatasetBuilder:
        """Keep every row of a record identifier and event time, not only the latest written."""
        self._include_duplicated = True
        return self

    def include_deleted_records(self) -> DatasetBuilder:
        """Keep the rows of deleted records (delete markers themselves are never returned)."""
        self._include_deleted = True
        return self

    def with_number_of_recent_records_by_record_identifier(
        self, number_of_recent_records: int
    ) -> DatasetBuilder:
        """Keep, per record identifier of the base, its ``n`` rows with the latest event times."""
        n = number_of_recent_records
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValidationError(f"number_of_recent_records must be an int >= 0, got {n!r}")
        self._recent = n
        return self

    def as_of(self, timestamp: datetime | float | str) -> DatasetBuilder:
        """Keep only rows written to the offline store (``write_time``) at or before ``timestamp``."""
        self._as_of = _instant(timestamp, what="as_of timestamp")
        return self

    def with_event_time_range(
        self,
        starting_timestamp: datetime | float | str | None = None,
        ending_timestamp: datetime | float | str | None = None,
    ) -> DatasetBuilder:
        """Keep only feature rows whose event time is in ``[starting_timestamp, ending_timestamp]``."""
        start = (
            None if starting_timestamp is None else _instant(starting_timestamp, what="starting_timestamp")
        )
        end = None if ending_timestamp is None else _instant(ending_timestamp, what="ending_timestamp")
        if start is not None and end is not None and start > end:
            raise ValidationError(
                f"starting_timestamp ({starting_timestamp}) is after ending_timestamp ({ending_timestamp})"
            )
        self._event_range = (start, end)
        return self

    # -- building -----------------------------------------------------------------------------------
    def _base_columns(self) -> list[str]:
        if isinstance(self._base, FeatureGroup):
            keys = (self._base.record_identifier_name, self._base.event_time_feature_name)
            if self._included is None:
                return list(self._base._names)
            return [*keys, *(n for n in self._included if n not in keys)]
        return [str(c) for c in self._base.columns]

    def _clean_sql(self, group: FeatureGroup, view: str, *, suffix: str, point_in_time: bool = False) -> str:
        """SQL of a feature group's cleaned rows, with ``__et`` (event time in Unix seconds).

        With ``point_in_time`` the rows are only filtered: delete markers stay
        in (a marker hides the record from its own event time on) and the
        ASOF join itself takes the latest written of equal event times.
        """
        rid, et = _quote(group.record_identifier_name), _quote(group.event_time_feature_name)
        event = f"{et}::DOUBLE" if group._event_type == "Fractional" else f"epoch({et}::TIMESTAMPTZ)"
        conditions = []
        if self._as_of is not None:
            conditions.append(f"write_time <= make_timestamptz({self._as_of * 1e6:.0f}::BIGINT)")
        start, end = self._event_range
        if start is not None:
            conditions.append(f"__et >= {start!r}")
        if end is not None:
            conditions.append(f"__et <= {end!r}")
        where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
        raw = f"SELECT * FROM (SELECT *, {event} AS __et FROM {_quote(view)}) {where}"
        if self._include_deleted:
            raw = f"SELECT * FROM ({raw}) WHERE NOT is_deleted"
        if point_in_time:
            return raw
        dedup = (
            raw
            if self._include_duplicated
            else f"SELECT * FROM ({raw}) QUALIFY row_number() OVER "
            f"(PARTITION BY {rid}, __et ORDER BY api_invocation_time DESC, write_time DESC) = 1"
        )
        if self._include_deleted:
            return dedup
        return (
            f"WITH rows_{suffix} AS ({dedup}), deleted_{suffix} AS ("
            f"SELECT {rid} AS __id, __et AS __d_et, api_invocation_time AS __d_ait, write_time AS __d_wt "
            f"FROM rows_{suffix} WHERE is_deleted QUALIFY row_number() OVER "
            f"(PARTITION BY {rid} ORDER BY __et DESC, api_invocation_time DESC, write_time DESC) = 1) "
            f"SELECT r.* FROM rows_{suffix} r LEFT JOIN deleted_{suffix} d ON r.{rid} = d.__id "
            "WHERE NOT r.is_deleted AND (d.__id IS NULL OR r.__et > d.__d_et "
            "OR (r.__et = d.__d_et AND r.api_invocation_time > d.__d_ait) "
            "OR (r.__et = d.__d_et AND r.api_invocation_time = d.__d_ait AND r.write_time > d.__d_wt))"
        )

    def _query(self, connection: duckdb.DuckDBPyConnection) -> str:
        groups = {join.group.name: join.group for join in self._joins}
        if isinstance(self._base, FeatureGroup):
            groups[self._base.name] = self._base
        for name, group in groups.items():
            group.store.flush()
            offline_store.offline_relation(connection, group._offline_files, view_name=name)
        if isinstance(self._base, FeatureGroup):
            columns = ", ".join(_quote(c) for c in self._base_columns())
            base_sql = (
                f"SELECT {columns}, __et AS __bt, row_number() OVER (ORDER BY __et, {_quote(self._record_identifier_name)}) "
                f"AS __row FROM ({self._clean_sql(self._base, self._base.name, suffix='base')})"
            )
        else:
            frame = self._base.copy()
            frame.columns = [str(c) for c in frame.columns]
            frame["__bt"] = to_unix_seconds(
                frame[self._event_time_name], what=f"base column {self._event_time_name!r}"
            )
            frame["__row"] = np.arange(len(frame))
            connection.register("__base_frame", frame)
            base_sql = "SELECT * FROM __base_frame"
        selected = [f"b.{_quote(c)}" for c in self._base_columns()]
        taken = set(self._base_columns())
        joins = []
        for i, join in enumerate(self._joins):
            group = join.group
            alias = f"f{i}"
            rid = _quote(group.record_identifier_name)
            target = f"b.{_quote(join.target_feature_name_in_base)}"
            target_text = target if group._id_type == "String" else f"{target}::BIGINT"
            clean = self._clean_sql(group, group.name, suffix=alias, point_in_time=self._point_in_time)
            if self._point_in_time:
                # (event time, api_invocation_time, write_time) as one ordered key: the ASOF join takes
                # the latest event time at or before the base row's and, of equal ones, the latest written
                # (the de-duplication rule) in one sorted pass, without a window over every row.
                latest = "'infinity'::TIMESTAMPTZ"
                joins.append(
                    f"ASOF LEFT JOIN ({clean}) {alias} ON {target_text} = {alias}.{rid} AND "
                    f"{{'t': b.__bt, 'a': {latest}, 'w': {latest}}} >= "
                    f"{{'t': {alias}.__et, 'a': {alias}.api_invocation_time, 'w': {alias}.write_time}}"
                )
            else:
                latest = f"SELECT * FROM ({clean}) QUALIFY row_number() OVER (PARTITION BY {rid} ORDER BY __et DESC) = 1"
                joins.append(f"LEFT JOIN ({latest}) {alias} ON {target_text} = {alias}.{rid}")
            alive = []
            if self._point_in_time and not self._include_deleted:
                alive.append(f"NOT {alias}.is_deleted")
            if self._point_in_time and group.ttl_seconds is not None:
                alive.append(f"b.__bt < {alias}.__et + {group.ttl_seconds!r}")
            for name in join.included_feature_names:
                column = f"{alias}.{_quote(name)}"
                if alive:
                    column = f"CASE WHEN {' AND '.join(alive)} THEN {column} END"
                label = name if name not in taken else f"{name}.{i + 1}"
                taken.add(label)
                selected.append(f"{column} AS {_quote(label)}")
        order = "b.__row"
        query = f"SELECT {', '.join(selected)} FROM ({base_sql}) b {' '.join(joins)}"
        if self._recent is not None:
            query = (
                f"SELECT * EXCLUDE (__rank, __row) FROM (SELECT {', '.join(selected)}, b.__row, row_number() OVER "
                f"(PARTITION BY b.{_quote(self._record_identifier_name)} ORDER BY b.__bt DESC, b.__row DESC) AS __rank "
                f"FROM ({base_sql}) b {' '.join(joins)}) WHERE __rank <= {self._recent} ORDER BY __row"
            )
        else:
            query += f" ORDER BY {order}"
        return query

    def to_dataframe(self) -> tuple[pd.DataFrame, str]:
        """Run the query; returns the dataset and the SQL that built it (as the SDK does)."""
        if self._point_in_time and not self._joins:
            raise ValidationError(
                "point_in_time_accurate_join() needs at least one with_feature_group(...) to join"
            )
        connection = offline_store.connect()
        try:
            query = self._query(connection)
            frame = connection.execute(query).fetchdf()
        finally:
            connection.close()
        return frame, query


def create_dataset(
    base: pd.DataFrame | FeatureGroup,
    *,
    record_identifier_feature_name: str | None = None,
    event_time_identifier_feature_name: str | None = None,
    included_feature_names: Sequence[str] | None = None,
) -> DatasetBuilder:
    """Start a dataset from ``base``: a DataFrame (name its identifier and event time columns) or a feature group.

    Examples
    --------
    >>> import tempfile
    >>> from course.feature_store import FeatureStore, FeatureGroup
    >>> store = FeatureStore(tempfile.mkdtemp(), clock=lambda: 1_000.0)
    >>> fg = FeatureGroup("spend", record_identifier_name="customer_id", event_time_feature_name="t",
    ...                   feature_definitions=[{"FeatureName": "customer_id", "FeatureType": "String"},
    ...                                        {"FeatureName": "t", "FeatureType": "Fractional"},
    ...                                        {"FeatureName": "total", "FeatureType": "Fractional"}],
    ...                   store=store)
    >>> fg.ingest(pd.DataFrame({"customer_id": ["a", "a"], "t": [10.0, 20.0], "total": [1.0, 5.0]}),
    ...           progress=False)
    >>> base = pd.DataFrame({"customer_id": ["a", "a", "a"], "t": [5.0, 15.0, 25.0]})
    >>> df, _ = (create_dataset(base, record_identifier_feature_name="customer_id",
    ...                         event_time_identifier_feature_name="t")
    ...          .with_feature_group(fg).point_in_time_accurate_join().to_dataframe())
    >>> df["total"].tolist()
    [nan, 1.0, 5.0]
    >>> store.close()
    """
    return DatasetBuilder(
        base,
        record_identifier_feature_name=record_identifier_feature_name,
        event_time_identifier_feature_name=event_time_identifier_feature_name,
        included_feature_names=included_feature_names,
    )
