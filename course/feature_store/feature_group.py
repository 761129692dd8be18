"""Feature groups with an online store (SQLite) and an offline store (Parquet).

A :class:`FeatureStore` is one folder: ``online.sqlite`` (the online store
and the registry of feature groups, standing in for DynamoDB and the
SageMaker control plane) and ``s3/`` (a :class:`course.storage.LocalS3` that
holds the offline store's Parquet files). A :class:`FeatureGroup` follows the
documented rules of SageMaker Feature Store:

- The online store keeps only the latest record per identifier. A put whose
  event time is older than the stored one leaves the online record as it is
  (the record still goes to the offline store); an equal or newer one
  overwrites it.
- With a TTL (``{"Unit": "Days", "Value": 30}``; per feature group, or per
  put), a record expires at ``EventTime + TtlDuration``. From then on
  ``get_record`` no longer returns it: it is hard deleted from the online
  store and written to the offline store as deleted (event time
  ``ExpiresAt``).
- ``delete_record`` needs an event time. ``SoftDelete`` (the default) nulls
  the features and hides the record; ``HardDelete`` removes it. Either way a
  deleted-record marker goes to the offline store. A delete older than the
  stored record is not applied: a SoftDelete still writes its marker, a
  HardDelete fails with a ValidationError and writes nothing.
- The offline store is append-only; records written through ``put_record``
  wait in a durable staging table and are written as Parquet when the
  offline store is read or :meth:`FeatureStore.flush` runs (SageMaker
  writes them within minutes, so ``write_time`` is later than
  ``api_invocation_time``).

Time comes from the store's ``clock`` (Unix seconds; ``time.time`` by
default), so notebooks and tests can move time forward.

Examples
--------
>>> import tempfile
>>> store = FeatureStore(tempfile.mkdtemp(), clock=lambda: 2_000_000_000.0)
>>> customers = FeatureGroup(
...     "customers", record_identifier_name="customer_id", event_time_feature_name="event_time",
...     feature_definitions=[{"FeatureName": "customer_id", "FeatureType": "String"},
...                          {"FeatureName": "event_time", "FeatureType": "Fractional"},
...                          {"FeatureName": "n_orders", "FeatureType": "Integral"}],
...     store=store)
>>> customers.put_record([{"FeatureName": "customer_id", "ValueAsString": "c1"},
...                       {"FeatureName": "event_time", "ValueAsString": "100.0"},
...                       {"FeatureName": "n_orders", "ValueAsString": "3"}])
>>> customers.put_record([{"FeatureName": "customer_id", "ValueAsString": "c1"},
...                       {"FeatureName": "event_time", "ValueAsString": "50.0"},
...                       {"FeatureName": "n_orders", "ValueAsString": "1"}])
>>> customers.get_record("c1", feature_names=["n_orders"])
[{'FeatureName': 'n_orders', 'ValueAsString': '3'}]
>>> len(customers.athena_query().run('SELECT * FROM "customers"').as_dataframe())
2
>>> store.close()
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from course.feature_store import offline as offline_store
from course.feature_store.definitions import (
    FeatureDefinition,
    check_definitions,
    format_event_time,
    parse_event_time,
    parse_value,
    ttl_seconds,
)
from course.feature_store.errors import IngestionError, ResourceNotFound, ValidationError
from course.storage import LocalS3

__all__ = ["MAX_BATCH_IDENTIFIERS", "AthenaQuery", "FeatureGroup", "FeatureStore", "batch_get_record"]

MAX_BATCH_IDENTIFIERS = 100
"""``BatchGetRecord`` takes at most this many record identifiers per feature group (and entries)."""

_GROUP_NAME = re.compile(r"[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}")
_STORES = ("OnlineStore", "OfflineStore")
#: Write an online record unless the stored one has a later event time (equal or newer overwrites).
_UPSERT_ONLINE = (
    "INSERT INTO online_records VALUES (?, ?, ?, ?, 0, ?) "
    "ON CONFLICT (feature_group, record_id) DO UPDATE SET event_time = excluded.event_time, "
    "expires_at = excluded.expires_at, deleted = 0, record = excluded.record "
    "WHERE excluded.event_time >= online_records.event_time"
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feature_groups (
    name TEXT PRIMARY KEY, config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS online_records (
    feature_group TEXT NOT NULL, record_id TEXT NOT NULL, event_time REAL NOT NULL,
    expires_at REAL, deleted INTEGER NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (feature_group, record_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offline_staging (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, feature_group TEXT NOT NULL,
    event_time REAL NOT NULL, api_invocation_time REAL NOT NULL, is_deleted INTEGER NOT NULL,
    record TEXT NOT NULL
);
"""


def _iso(seconds: float) -> str:
    """An instant as the API writes ``ExpiresAt``: ISO-8601 in UTC with milliseconds."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FeatureStore:
    """A local Feature Store: the folder that holds every feature group's online and offline data.

    Parameters
    ----------
    root : str or os.PathLike
        The folder (created if missing).
    clock : callable, optional
        Returns the current time in Unix seconds; ``time.time`` by default.
    offline_store_uri : str, optional
        ``s3://`` prefix of the offline store inside ``<root>/s3``.

    Notes
    -----
    Use it as a context manager, or call :meth:`close`; staged offline
    records are flushed to Parquet on close (and at interpreter exit).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        offline_store_uri: str = "s3://sagemaker-feature-store/offline-store",
    ) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.s3 = LocalS3(self.root / "s3")
        self.offline_store_uri = offline_store_uri.rstrip("/")
        self.s3.local_path(self.offline_store_uri + "/x")  # validates the URI
        self._lock = threading.RLock()
        self._last_invocation = -math.inf
        self._db = sqlite3.connect(self.root / "online.sqlite", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        self._groups: dict[str, FeatureGroup] = {}
        self._closed = False
        self._finalizer = weakref.finalize(self, FeatureStore._close_quietly, weakref.ref(self))
        atexit.register(self._finalizer)

    @staticmethod
    def _close_quietly(ref: weakref.ref) -> None:
        store = ref()
        if store is not None:
            store.close()

    def __enter__(self) -> FeatureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FeatureStore(root={str(self.root)!r})"

    def close(self) -> None:
        """Flush staged offline records and close the online store's database."""
        with self._lock:
            if self._closed:
                return
            self.flush()
            self._db.close()
            self._closed = True

    # -- registry --------------------------------------------------------------------------------
    def feature_group_names(self) -> list[str]:
        """Names of the feature groups in this store, sorted."""
        rows = self._execute("SELECT name FROM feature_groups ORDER BY name").fetchall()
        return [name for (name,) in rows]

    def feature_group(self, name: str) -> FeatureGroup:
        """The existing feature group ``name``.

        Raises
        ------
        ResourceNotFound
            If there is no feature group of that name.
        """
        with self._lock:
            if name in self._groups:
                return self._groups[name]
            row = self._execute("SELECT config FROM feature_groups WHERE name = ?", (name,)).fetchone()
            if row is None:
                known = ", ".join(self.feature_group_names()) or "none yet"
                raise ResourceNotFound(
                    f"feature group {name!r} does not exist (feature groups: {known}); "
                    "create it with FeatureGroup(...) first"
                )
            config = json.loads(row[0])
            return FeatureGroup(
                name,
                record_identifier_name=config["record_identifier_name"],
                event_time_feature_name=config["event_time_feature_name"],
                feature_definitions=config["feature_definitions"],
                online=config["online"],
                offline=config["offline"],
                ttl=config["ttl"],
                store=self,
            )

    def _register(self, group: FeatureGroup) -> None:
        config = json.dumps(group._config(), sort_keys=True)
        with self._lock:
            row = self._execute("SELECT config FROM feature_groups WHERE name = ?", (group.name,)).fetchone()
            if row is None:
                self._execute("INSERT INTO feature_groups VALUES (?, ?)", (group.name, config))
            elif json.loads(row[0]) != json.loads(config):
                raise ValidationError(
                    f"feature group {group.name!r} already exists with another definition "
                    f"({row[0]}); feature definitions cannot change after creation: use the existing "
                    "definition, or create a feature group with a new name"
                )
            self._groups[group.name] = group

    # -- internals shared by feature groups -------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if self._closed:
            raise ValidationError(f"{self!r} is closed; open a new FeatureStore on the same folder")
        return self._db.execute(sql, params)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Hold the store's lock and run the block as one SQLite write transaction, rolled back on any error."""
        with self._lock:
            self._execute("BEGIN IMMEDIATE")
            try:
                yield
                self._execute("COMMIT")
            except BaseException:
                self._execute("ROLLBACK")
                raise

    def _invocation_times(self, n: int) -> np.ndarray:
        """``n`` strictly increasing API invocation times (microsecond steps) from the clock."""
        with self._lock:
            start = max(float(self.clock()), self._last_invocation + 1e-6)
            times = start + 1e-6 * np.arange(n)
            if n:
                self._last_invocation = float(times[-1])
            return times

    def flush(self) -> None:
        """Write every staged offline record to Parquet (``write_time`` is now)."""
        with self._lock:
            for name in self.feature_group_names():
                self.feature_group(name)._flush()

    def query(self, query_string: str) -> pd.DataFrame:
        """Run SQL over every feature group's offline store (one table per group, named after it).

        Examples
        --------
        >>> import tempfile
        >>> with FeatureStore(tempfile.mkdtemp()) as store:
        ...     store.query("SELECT 1 AS one")
           one
        0    1
        """
        self.flush()
        connection = offline_store.connect()
        try:
            for name in self.feature_group_names():
                offline_store.offline_relation(
                    connection, self.feature_group(name)._offline_files, view_name=name
                )
            try:
                return connection.execute(query_string).fetchdf()
            except duckdb.Error as error:
                raise ValidationError(f"the query failed: {error}") from None
        finally:
            connection.close()


class AthenaQuery:
    """SQL over a feature group's offline store, shaped like the SDK's ``AthenaQuery``.

    ``run(query_string)`` then ``as_dataframe()``. The table is the feature
    group's name (``table_name``); DuckDB plays Athena's part, so the SQL
    dialect is DuckDB's (close to Athena's Trino for ordinary queries).
    """

    def __init__(self, feature_group: FeatureGroup) -> None:
        self.feature_group = feature_group
        self.table_name = feature_group.name
        self._result: pd.DataFrame | None = None

    def run(self, query_string: str, output_location: str | None = None) -> AthenaQuery:
        """Run ``query_string``; with ``output_location`` (``s3://...csv``), also store the result as CSV."""
        group = self.feature_group
        group.store.flush()
        connection = offline_store.connect()
        try:
            offline_store.offline_relation(connection, group._offline_files, view_name=self.table_name)
            try:
                self._result = connection.execute(query_string).fetchdf()
            except duckdb.Error as error:  # DuckDB's parser, binder and runtime errors
                raise ValidationError(f"the query failed: {error}") from None
        finally:
            connection.close()
        if output_location is not None:
            group.store.s3.put_object(output_location, self._result.to_csv(index=False))
        return self

    def wait(self) -> None:
        """Queries run synchronously here; kept for the SDK's ``run``, ``wait``, ``as_dataframe`` sequence."""

    def as_dataframe(self) -> pd.DataFrame:
        """The last query's result."""
        if self._result is None:
            raise ValidationError("no query has run yet; call run(query_string) first")
        return self._result


class FeatureGroup:
    """A SageMaker feature group: definitions, an online store and an offline store.

    Creating a feature group that already exists with the same definition
    returns a handle on it; with another definition it fails (definitions
    cannot change after creation).

    Parameters
    ----------
    name : str
        1-64 letters, digits, ``-`` and ``_``.
    record_identifier_name : str
        The feature that identifies a record (Integral or String).
    event_time_feature_name : str
        The feature holding the record's event time (Fractional Unix seconds,
        or an ISO-8601 String).
    feature_definitions : sequence of FeatureDefinition or dict
        Every feature, including the identifier and the event time.
    online, offline : bool, optional
        Which stores the group has (both by default).
    ttl : dict, optional
        Default ``TtlDuration`` of the online store, such as
        ``{"Unit": "Days", "Value": 30}``.
    store : FeatureStore
        Where the group lives.

    Raises
    ------
    ValidationError
        If a name or definition is invalid, or the group exists with another
        definition.
    """

    def __init__(
        self,
        name: str,
        *,
        record_identifier_name: str,
        event_time_feature_name: str,
        feature_definitions: Sequence[FeatureDefinition | Mapping[str, str]],
        online: bool = True,
        offline: bool = True,
        ttl: Mapping[str, Any] | None = None,
        store: FeatureStore,
    ) -> None:
        if not isinstance(name, str) or not _GROUP_NAME.fullmatch(name):
            raise ValidationError(
                f"invalid feature group name {name!r}: use 1-64 letters, digits, '-' or '_', "
                "starting and ending with a letter or digit"
            )
        if not (online or offline):
            raise ValidationError(f"feature group {name!r} needs an online store, an offline store or both")
        self.name = name
        self.record_identifier_name = record_identifier_name
        self.event_time_feature_name = event_time_feature_name
        self.feature_definitions = [FeatureDefinition.coerce(d) for d in feature_definitions]
        check_definitions(self.feature_definitions, record_identifier_name, event_time_feature_name)
        self.online = bool(online)
        self.offline = bool(offline)
        self.ttl = None if ttl is None else dict(ttl)
        self.ttl_seconds = ttl_seconds(self.ttl)
        self.store = store
        self._types = {d.feature_name: d.feature_type for d in self.feature_definitions}
        self._names = [d.feature_name for d in self.feature_definitions]
        self._position = {n: i for i, n in enumerate(self._names)}
        self._id_type = self._types[record_identifier_name]
        self._event_type = self._types[event_time_feature_name]
        self._schema = offline_store.arrow_schema(self.feature_definitions)
        bucket_key = store.offline_store_uri + "/" + name
        self._offline_folder = store.s3.local_path(bucket_key) / "data"
        self._offline_files = offline_store.OfflineFiles(self._offline_folder, self._schema)
        store._register(self)

    def __repr__(self) -> str:
        return f"FeatureGroup({self.name!r}, record_identifier_name={self.record_identifier_name!r})"

    def _config(self) -> dict[str, Any]:
        return {
            "record_identifier_name": self.record_identifier_name,
            "event_time_feature_name": self.event_time_feature_name,
            "feature_definitions": [d.to_dict() for d in self.feature_definitions],
            "online": self.online,
            "offline": self.offline,
            "ttl": self.ttl,
        }

    def describe(self) -> dict[str, Any]:
        """The group's description in the shape of ``DescribeFeatureGroup``'s main fields."""
        online_config: dict[str, Any] = {}
        if self.ttl is not None:
            online_config["TtlDuration"] = dict(self.ttl)
        description: dict[str, Any] = {
            "FeatureGroupName": self.name,
            "RecordIdentifierFeatureName": self.record_identifier_name,
            "EventTimeFeatureName": self.event_time_feature_name,
            "FeatureDefinitions": [d.to_dict() for d in self.feature_definitions],
            "FeatureGroupStatus": "Created",
        }
        if self.online:
            description["OnlineStoreConfig"] = {"EnableOnlineStore": True, **online_config}
        if self.offline:
            uri = f"{self.store.offline_store_uri}/{self.name}"
            description["OfflineStoreConfig"] = {"S3StorageConfig": {"S3Uri": uri}}
        return description

    # -- checks -----------------------------------------------------------------------------------
    def _check_record(self, record: Any) -> dict[str, str]:
        """``{name: ValueAsString}`` of a Record, after checking it against the definitions."""
        if not isinstance(record, Sequence) or isinstance(record, str) or not record:
            raise ValidationError(
                "Record must be a non-empty list of {'FeatureName': ..., 'ValueAsString': ...} dicts"
            )
        values: dict[str, str] = {}
        for item in record:
            if not isinstance(item, Mapping) or "FeatureName" not in item or "ValueAsString" not in item:
                raise ValidationError(
                    f"each item of Record must be a dict with 'FeatureName' and 'ValueAsString', got {item!r}"
                )
            name, value = item["FeatureName"], item["ValueAsString"]
            if name not in self._types:
                raise ValidationError(
                    f"feature {name!r} is not defined in feature group {self.name!r} "
                    f"(features: {', '.join(self._names)})"
                )
            if name in values:
                raise ValidationError(f"feature {name!r} appears twice in the Record; give it once")
            parse_value(value, self._types[name], feature_name=name)
            values[name] = value
        for key in (self.record_identifier_name, self.event_time_feature_name):
            if key not in values or values[key] == "":
                raise ValidationError(
                    f"the Record has no value for {key!r}; every record needs its record identifier "
                    f"({self.record_identifier_name!r}) and event time ({self.event_time_feature_name!r})"
                )
        return values

    def _target_stores(self, target_stores: Sequence[str] | None) -> tuple[bool, bool]:
        if target_stores is None:
            return self.online, self.offline
        if (
            isinstance(target_stores, str)
            or not target_stores
            or any(s not in _STORES for s in target_stores)
        ):
            raise ValidationError(
                f"TargetStores must be a non-empty list of 'OnlineStore' and/or 'OfflineStore', got {target_stores!r}"
            )
        for store, enabled in zip(_STORES, (self.online, self.offline), strict=True):
            if store in target_stores and not enabled:
                raise ValidationError(
                    f"feature group {self.name!r} has no {store}; leave it out of TargetStores"
                )
        return "OnlineStore" in target_stores, "OfflineStore" in target_stores

    def _require_online(self) -> None:
        if not self.online:
            raise ValidationError(
                f"feature group {self.name!r} has no online store; read it from the offline store "
                "(athena_query or create_dataset) instead"
            )

    def _check_identifier(self, record_identifier_value_as_string: Any) -> str:
        value = record_identifier_value_as_string
        if not isinstance(value, str) or value == "":
            raise ValidationError(
                f"RecordIdentifierValueAsString must be a non-empty str (the value of "
                f"{self.record_identifier_name!r} as text), got {value!r}"
            )
        parse_value(value, self._id_type, feature_name=self.record_identifier_name)
        return value

    # -- online store -----------------------------------------------------------------------------
    def _stage(self, event_time: float, is_deleted: bool, values: Mapping[str, str | None]) -> None:
        """Queue one record for the offline store (inside the caller's transaction)."""
        (invocation,) = self.store._invocation_times(1)
        self.store._execute(
            "INSERT INTO offline_staging (feature_group, event_time, api_invocation_time, is_deleted, record) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                self.name,
                event_time,
                float(invocation),
                int(is_deleted),
                json.dumps([values.get(n) for n in self._names]),
            ),
        )

    def _marker(self, record_id: str, event_time: float) -> dict[str, str | None]:
        return {
            self.record_identifier_name: record_id,
            self.event_time_feature_name: format_event_time(event_time, self._event_type),
        }

    def _expire_if_due(self, record_id: str, now: float) -> bool:
        """Hard delete the online record if its TTL has passed; True if it did (inside a transaction)."""
        row = self.store._execute(
            "SELECT expires_at FROM online_records WHERE feature_group = ? AND record_id = ?",
            (self.name, record_id),
        ).fetchone()
        if row is None or row[0] is None or now < row[0]:
            return False
        self.store._execute(
            "DELETE FROM online_records WHERE feature_group = ? AND record_id = ?", (self.name, record_id)
        )
        if self.offline:
            self._stage(row[0], True, self._marker(record_id, row[0]))
        return True

    def expire_records(self) -> int:
        """Remove every expired record from the online store now; returns how many.

        SageMaker runs this in the background (within days); ``get_record``
        never returns an expired record either way.
        """
        if not self.online:
            return 0
        with self.store._transaction():
            return self._expire_due(float(self.store.clock()))

    def _expire_due(self, now: float) -> int:
        """Expire every online record whose TTL has passed by ``now``; how many (inside a transaction)."""
        due = self.store._execute(
            "SELECT record_id FROM online_records WHERE feature_group = ? AND expires_at <= ?",
            (self.name, now),
        ).fetchall()
        for (record_id,) in due:
            self._expire_if_due(record_id, now)
        return len(due)

    def put_record(
        self,
        record: Sequence[Mapping[str, str]],
        *,
        target_stores: Sequence[str] | None = None,
        ttl_duration: Mapping[str, Any] | None = None,
    ) -> None:
        """``PutRecord``: write one record (``[{"FeatureName", "ValueAsString"}, ...]``).

        Features left out of the record are null. The online record is
        replaced only if the new event time is equal or newer; the offline
        store gets every record. ``ttl_duration`` overrides the group's TTL
        for this record.

        Raises
        ------
        ValidationError
            If a feature is unknown or repeated, a value does not match its
            type, the identifier or event time is missing, or a TTL or
            target store is invalid.
        """
        values = self._check_record(record)
        to_online, to_offline = self._target_stores(target_stores)
        event_time = parse_event_time(
            values[self.event_time_feature_name], self._event_type, feature_name=self.event_time_feature_name
        )
        ttl = ttl_seconds(ttl_duration) if ttl_duration is not None else self.ttl_seconds
        record_id = values[self.record_identifier_name]
        row_values = json.dumps([values.get(n) for n in self._names])
        with self.store._transaction():
            if to_online:
                self._expire_if_due(record_id, float(self.store.clock()))
                self.store._execute(
                    _UPSERT_ONLINE,
                    (self.name, record_id, event_time, None if ttl is None else event_time + ttl, row_values),
                )
            if to_offline:
                self._stage(event_time, False, values)

    def _online_row(self, record_id: str) -> tuple[list[str | None], float | None] | None:
        """The visible online record's values and ExpiresAt, expiring it first if due."""
        with self.store._lock:
            row = self.store._execute(
                "SELECT record, expires_at, deleted FROM online_records WHERE feature_group = ? AND record_id = ?",
                (self.name, record_id),
            ).fetchone()
            if row is None:
                return None
            record, expires_at, deleted = row
            if expires_at is not None and float(self.store.clock()) >= expires_at:
                with self.store._transaction():
                    self._expire_if_due(record_id, float(self.store.clock()))
                return None
        if deleted:
            return None
        return json.loads(record), expires_at

    def _feature_positions(self, feature_names: Sequence[str] | None) -> list[int]:
        if feature_names is None:
            return list(range(len(self._names)))
        if isinstance(feature_names, str) or not feature_names:
            raise ValidationError("FeatureNames must be a non-empty list of feature names, or None for all")
        unknown = [n for n in feature_names if n not in self._position]
        if unknown:
            raise ValidationError(
                f"feature {unknown[0]!r} is not defined in feature group {self.name!r} "
                f"(features: {', '.join(self._names)})"
            )
        return [self._position[n] for n in feature_names]

    def get_record(
        self,
        record_identifier_value_as_string: str,
        *,
        feature_names: Sequence[str] | None = None,
        expiration_time_response: str = "Disabled",
    ) -> list[dict[str, str]] | None:
        """``GetRecord``: the latest online record, or None if there is none (or it expired or was deleted).

        Null features are left out, as the API does. With
        ``expiration_time_response="Enabled"`` the result is the API's
        response dict (``Record`` and, if the record has a TTL, ``ExpiresAt``).
        """
        self._require_online()
        response = self._get(record_identifier_value_as_string, feature_names, expiration_time_response)
        if expiration_time_response == "Enabled":
            return response
        return response.get("Record")

    def _get(
        self, record_id: Any, feature_names: Sequence[str] | None, expiration_time_response: str
    ) -> dict[str, Any]:
        """The API's GetRecord response: ``{}``, or ``{"Record": [...]}`` (plus ``ExpiresAt``)."""
        if expiration_time_response not in ("Enabled", "Disabled"):
            raise ValidationError(
                f"ExpirationTimeResponse must be 'Enabled' or 'Disabled', got {expiration_time_response!r}"
            )
        positions = self._feature_positions(feature_names)
        found = self._online_row(self._check_identifier(record_id))
        if found is None:
            return {}
        values, expires_at = found
        record = [
            {"FeatureName": self._names[i], "ValueAsString": values[i]}
            for i in positions
            if values[i] is not None
        ]
        response: dict[str, Any] = {"Record": record} if record else {}
        if record and expiration_time_response == "Enabled" and expires_at is not None:
            response["ExpiresAt"] = _iso(expires_at)
        return response

    def delete_record(
        self,
        record_identifier_value_as_string: str,
        event_time: str,
        *,
        deletion_mode: str = "SoftDelete",
        target_stores: Sequence[str] | None = None,
    ) -> None:
        """``DeleteRecord`` with the API's event-time rules (see the module notes).

        Raises
        ------
        ValidationError
            If the deletion mode or event time is invalid, or a HardDelete is
            older than the stored record.
        """
        if deletion_mode not in ("SoftDelete", "HardDelete"):
            raise ValidationError(f"DeletionMode must be 'SoftDelete' or 'HardDelete', got {deletion_mode!r}")
        record_id = self._check_identifier(record_identifier_value_as_string)
        if not isinstance(event_time, str):
            raise ValidationError(
                f"EventTime must be the event time as a str, got {type(event_time).__name__}"
            )
        seconds = parse_event_time(event_time, self._event_type, feature_name="EventTime")
        to_online, to_offline = self._target_stores(target_stores)
        marker = self._marker(record_id, seconds)
        marker[self.event_time_feature_name] = event_time
        with self.store._transaction():
            if to_online:
                self._expire_if_due(record_id, float(self.store.clock()))
                row = self.store._execute(
                    "SELECT event_time FROM online_records WHERE feature_group = ? AND record_id = ?",
                    (self.name, record_id),
                ).fetchone()
                applies = row is not None and seconds > row[0]
                if row is not None and not applies and deletion_mode == "HardDelete":
                    raise ValidationError(
                        f"EventTime {event_time} is not later than the stored record's event time; "
                        "a HardDelete must be newer than the record it deletes (nothing was deleted)"
                    )
                if applies and deletion_mode == "HardDelete":
                    self.store._execute(
                        "DELETE FROM online_records WHERE feature_group = ? AND record_id = ?",
                        (self.name, record_id),
                    )
                elif applies:
                    self.store._execute(
                        "UPDATE online_records SET event_time = ?, expires_at = NULL, deleted = 1, record = ? "
                        "WHERE feature_group = ? AND record_id = ?",
                        (seconds, json.dumps([marker.get(n) for n in self._names]), self.name, record_id),
                    )
            if to_offline:
                self._stage(seconds, True, marker)

    def batch_get_record(
        self, record_identifiers_value_as_string: Sequence[str], *, feature_names: Sequence[str] | None = None
    ) -> dict[str, list]:
        """``BatchGetRecord`` for this group: up to 100 identifiers.

        Returns
        -------
        dict
            ``Records`` (``FeatureGroupName``, ``RecordIdentifierValueAsString``,
            ``Record``), ``Errors`` (an identifier that is not a valid value
            gets ``ErrorCode`` ``ValidationError``) and
            ``UnprocessedIdentifiers`` (always empty here: nothing is
            throttled). Identifiers with no record appear in none of them.
        """
        return batch_get_record(
            self.store,
            [
                {
                    "FeatureGroupName": self.name,
                    "RecordIdentifiersValueAsString": list(record_identifiers_value_as_string),
                    **({"FeatureNames": list(feature_names)} if feature_names is not None else {}),
                }
            ],
        )

    # -- ingestion --------------------------------------------------------------------------------
    def _validate_frame(
        self, data_frame: pd.DataFrame
    ) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray]:
        """Typed columns and event seconds of ``data_frame``; raise IngestionError listing bad rows."""
        if not isinstance(data_frame, pd.DataFrame):
            raise ValidationError(f"ingest needs a pandas DataFrame, got {type(data_frame).__name__}")
        unknown = [c for c in data_frame.columns if c not in self._types]
        if unknown:
            raise ValidationError(
                f"columns {unknown} are not features of {self.name!r} (features: {', '.join(self._names)}); "
                "drop or rename them"
            )
        for key in (self.record_identifier_name, self.event_time_feature_name):
            if key not in data_frame.columns:
                raise ValidationError(f"the DataFrame has no {key!r} column; every record needs it")
        n = len(data_frame)
        problems: list[tuple[np.ndarray, str]] = []
        columns: dict[str, np.ndarray] = {}
        for name in self._names:
            if name not in data_frame.columns:
                columns[name] = (
                    np.full(n, None, dtype=object) if self._types[name] == "String" else np.full(n, np.nan)
                )
                continue
            column = data_frame[name]
            missing = column.isna().to_numpy()
            kind = self._types[name]
            if kind == "String":
                is_text = column.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
                problems.append((~missing & ~is_text, f"{name}: a String feature needs str values"))
                columns[name] = np.where(missing | ~is_text, None, column.to_numpy(dtype=object))
                continue
            if pd.api.types.is_bool_dtype(column.dtype):
                problems.append((~missing, f"{name}: a {kind} feature needs numbers, not bools"))
                columns[name] = np.full(n, np.nan)
                continue
            numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            is_bool = column.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
            bad = (~missing & np.isnan(numbers)) | is_bool
            if kind == "Integral":
                bad |= ~np.isnan(numbers) & (numbers != np.round(numbers))
            problems.append((bad, f"{name}: not a valid {kind} value"))
            columns[name] = numbers
        ids = data_frame[self.record_identifier_name].isna().to_numpy()
        problems.append((ids, f"{self.record_identifier_name}: the record identifier is missing"))
        event_seconds = np.full(n, np.nan)
        raw_times = data_frame[self.event_time_feature_name]
        if self._event_type == "Fractional":
            event_seconds = columns[self.event_time_feature_name].copy()
            problems.append(
                (~np.isfinite(event_seconds), f"{self.event_time_feature_name}: missing or not a number")
            )
        else:
            for i, value in enumerate(raw_times.tolist()):
                try:
                    event_seconds[i] = parse_event_time(value, "String")
                except ValidationError:
                    pass
            problems.append(
                (
                    np.isnan(event_seconds),
                    f"{self.event_time_feature_name}: missing or not ISO-8601 (2024-03-01T12:00:00Z)",
                )
            )
        any_bad = np.zeros(n, dtype=bool)
        for mask, _ in problems:
            any_bad |= mask
        if any_bad.any():
            rows = np.flatnonzero(any_bad)
            reasons = ["; ".join(reason for mask, reason in problems if mask[i]) for i in rows]
            failed = pd.DataFrame({"row": rows, "reason": reasons})
            shown = "; ".join(f"row {r}: {why}" for r, why in zip(rows[:5], reasons[:5], strict=False))
            raise IngestionError(
                f"{len(rows)} of {n} rows were refused and nothing was ingested ({shown}"
                f"{'; ...' if len(rows) > 5 else ''}); fix these rows (the error's failed_rows lists them all) "
                "and ingest again",
                failed,
            )
        return data_frame, columns, event_seconds

    def _arrow_columns(self, columns: Mapping[str, np.ndarray]) -> list[pa.Array]:
        arrays = []
        for name in self._names:
            kind, values = self._types[name], columns[name]
            if kind == "String":
                arrays.append(pa.array(values, type=pa.string()))
            elif kind == "Integral":
                mask = np.isnan(values)
                arrays.append(
                    pa.array(np.where(mask, 0, values).astype(np.int64), mask=mask, type=pa.int64())
                )
            else:
                arrays.append(pa.array(values, type=pa.float64()))
        return arrays

    def ingest(
        self,
        data_frame: pd.DataFrame,
        *,
        max_workers: int = 1,
        progress: bool = True,
        target_stores: Sequence[str] | None = None,
    ) -> None:
        """Write every row of ``data_frame`` as a record, all or nothing.

        Like the SDK's ``ingest``, each row is one PutRecord (same online
        rules, later rows later); unlike it, the whole frame is checked first
        and a bad row stops everything.

        Parameters
        ----------
        data_frame : pandas.DataFrame
            One column per feature (missing non-key columns are null).
        max_workers : int, optional
            Threads writing the offline store's Parquet partitions.
        progress : bool, optional
            Show a progress bar.
        target_stores : list of str, optional
            ``["OnlineStore"]``, ``["OfflineStore"]`` or both (default: the
            group's stores).

        Raises
        ------
        IngestionError
            If rows have a missing identifier or event time, or a value of the
            wrong type; ``failed_rows`` says which rows and why. Nothing was
            written.
        """
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValidationError(f"max_workers must be an int >= 1, got {max_workers!r}")
        to_online, to_offline = self._target_stores(target_stores)
        _, columns, event_seconds = self._validate_frame(data_frame)
        n = len(event_seconds)
        if n == 0:
            return
        if self._id_type == "Integral":
            id_text = [str(int(v)) for v in columns[self.record_identifier_name]]
        else:
            id_text = list(columns[self.record_identifier_name])
        written: list = []
        with self.store._lock:
            now = float(self.store.clock())
            invocations = self.store._invocation_times(n)
            if to_offline:
                arrays = self._arrow_columns(columns)
                micros = (invocations * 1e6).astype("int64")
                arrays.append(pa.array(micros, type=pa.timestamp("us", tz="UTC")))
                arrays.append(
                    pa.array(np.full(n, int(now * 1e6), dtype="int64"), type=pa.timestamp("us", tz="UTC"))
                )
                arrays.append(pa.array(np.zeros(n, dtype=bool)))
                table = pa.Table.from_arrays(arrays, schema=self._schema)
                written = offline_store.write_partitioned(
                    table,
                    event_seconds,
                    self._offline_folder,
                    tmp_folder=self.store.root / "s3" / ".tmp",
                    max_workers=max_workers,
                    progress=progress,
                )
            try:
                if to_online:
                    self._ingest_online(columns, id_text, event_seconds, now)
            except BaseException:
                offline_store.discard(written)
                raise
            offline_store.publish(written)

    def _ingest_online(
        self, columns: Mapping[str, np.ndarray], id_text: list[str], event_seconds: np.ndarray, now: float
    ) -> None:
        texts = []
        for name in self._names:
            kind, values = self._types[name], columns[name]
            if kind == "String":
                texts.append(values.tolist())
            elif kind == "Integral":
                texts.append([None if math.isnan(v) else str(int(v)) for v in values.tolist()])
            else:
                texts.append([None if math.isnan(v) else repr(v) for v in values.tolist()])
        event_position = self._position[self.event_time_feature_name]
        if self._event_type == "String":
            texts[event_position] = columns[self.event_time_feature_name].tolist()
        ttl = self.ttl_seconds
        rows = (
            (self.name, record_id, t, None if ttl is None else t + ttl, json.dumps(list(values)))
            for record_id, t, values in zip(
                id_text, event_seconds.tolist(), zip(*texts, strict=True), strict=True
            )
        )
        with self.store._transaction():
            self._expire_due(now)
            self.store._db.executemany(
                _UPSERT_ONLINE,
                rows,
            )

    # -- offline store ----------------------------------------------------------------------------
    def _flush(self) -> None:
        """Write this group's staged records to Parquet and remove them from staging."""
        if not self.offline:
            return
        with self.store._lock:
            staged = self.store._execute(
                "SELECT seq, event_time, api_invocation_time, is_deleted, record FROM offline_staging "
                "WHERE feature_group = ? ORDER BY seq",
                (self.name,),
            ).fetchall()
            if not staged:
                return
            seqs, event_times, invocations, deleted, records = zip(*staged, strict=True)
            values = list(zip(*(json.loads(r) for r in records), strict=True))
            arrays = []
            for name, column in zip(self._names, values, strict=True):
                kind = self._types[name]
                typed = [None if v is None else parse_value(v, kind, feature_name=name) for v in column]
                arrays.append(pa.array(typed, type=offline_store._ARROW_TYPES[kind]))
            write_time = int(float(self.store.clock()) * 1e6)
            arrays.append(pa.array([int(t * 1e6) for t in invocations], type=pa.timestamp("us", tz="UTC")))
            arrays.append(pa.array([write_time] * len(seqs), type=pa.timestamp("us", tz="UTC")))
            arrays.append(pa.array([bool(d) for d in deleted]))
            table = pa.Table.from_arrays(arrays, schema=self._schema)
            written = offline_store.write_partitioned(
                table, np.array(event_times), self._offline_folder, tmp_folder=self.store.root / "s3" / ".tmp"
            )
            offline_store.publish(written)
            self.store._execute(
                "DELETE FROM offline_staging WHERE feature_group = ? AND seq <= ?", (self.name, seqs[-1])
            )

    def athena_query(self) -> AthenaQuery:
        """SQL access to the offline store (DuckDB standing in for Athena); the table is the group's name."""
        if not self.offline:
            raise ValidationError(f"feature group {self.name!r} has no offline store")
        return AthenaQuery(self)

    def as_dataframe(self) -> pd.DataFrame:
        """Every row of the offline store, as written (duplicates and deleted markers included)."""
        return self.athena_query().run(f'SELECT * FROM "{self.name}"').as_dataframe()


def batch_get_record(
    store: FeatureStore,
    identifiers: Sequence[Mapping[str, Any]],
    *,
    expiration_time_response: str = "Disabled",
) -> dict[str, list]:
    """``BatchGetRecord`` across feature groups, in the API's request and response shapes.

    Parameters
    ----------
    identifiers : list of dict
        Up to 100 entries of ``FeatureGroupName``,
        ``RecordIdentifiersValueAsString`` (1-100 identifiers) and optional
        ``FeatureNames``.
    expiration_time_response : {"Disabled", "Enabled"}, optional
        With ``"Enabled"``, records with a TTL carry ``ExpiresAt``.

    Raises
    ------
    ValidationError
        If the request is malformed or has more than 100 identifiers in an entry.
    """
    if not isinstance(identifiers, Sequence) or not 1 <= len(identifiers) <= MAX_BATCH_IDENTIFIERS:
        raise ValidationError(f"Identifiers must be a list of 1 to {MAX_BATCH_IDENTIFIERS} entries")
    records: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for entry in identifiers:
        if not isinstance(entry, Mapping) or not {
            "FeatureGroupName",
            "RecordIdentifiersValueAsString",
        } <= set(entry):
            raise ValidationError(
                "each entry of Identifiers needs 'FeatureGroupName' and 'RecordIdentifiersValueAsString'"
            )
        values = entry["RecordIdentifiersValueAsString"]
        if (
            isinstance(values, str)
            or not isinstance(values, Sequence)
            or not 1 <= len(values) <= MAX_BATCH_IDENTIFIERS
        ):
            raise ValidationError(
                f"RecordIdentifiersValueAsString must be a list of 1 to {MAX_BATCH_IDENTIFIERS} identifiers; "
                f"got {len(values) if isinstance(values, Sequence) else values!r}. Split the request into batches "
                f"of at most {MAX_BATCH_IDENTIFIERS}"
            )
        name = entry["FeatureGroupName"]
        try:
            group = store.feature_group(name)
            group._require_online()
        except (ResourceNotFound, ValidationError) as error:
            code = "ResourceNotFound" if isinstance(error, ResourceNotFound) else "ValidationError"
            errors += [
                {
                    "FeatureGroupName": name,
                    "RecordIdentifierValueAsString": str(v),
                    "ErrorCode": code,
                    "ErrorMessage": str(error),
                }
                for v in values
            ]
            continue
        for value in values:
            try:
                response = group._get(value, entry.get("FeatureNames"), expiration_time_response)
            except ValidationError as error:
                errors.append(
                    {
                        "FeatureGroupName": name,
                        "RecordIdentifierValueAsString": str(value),
                        "ErrorCode": "ValidationError",
                        "ErrorMessage": str(error),
                    }
                )
                continue
            if "Record" in response:
                records.append({"FeatureGroupName": name, "RecordIdentifierValueAsString": value, **response})
    return {"Records": records, "Errors": errors, "UnprocessedIdentifiers": []}
