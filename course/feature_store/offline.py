"""The offline store: append-only Parquet files, queried with SQL through DuckDB.

SageMaker writes each feature group's records to S3 as Parquet, in folders
partitioned by the record's event time
(``.../data/year=2024/month=03/day=01/hour=12/<file>.parquet``), adding the
columns ``api_invocation_time`` (when the PutRecord call arrived),
``write_time`` (when the record reached the offline store) and
``is_deleted``. Athena queries them with SQL; here DuckDB does.

Files are never changed once written: a new file goes to a temporary folder
and is renamed into place, so a reader sees whole files only.
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from course.feature_store.definitions import FeatureDefinition
from course.feature_store.errors import OfflineStoreError

__all__ = [
    "arrow_schema",
    "connect",
    "OfflineFiles",
    "discard",
    "offline_relation",
    "publish",
    "write_partitioned",
]

_ARROW_TYPES = {"Integral": pa.int64(), "Fractional": pa.float64(), "String": pa.string()}
_TIMESTAMP = pa.timestamp("us", tz="UTC")


def arrow_schema(definitions: Sequence[FeatureDefinition]) -> pa.Schema:
    """The Parquet schema of a feature group's offline store: its features, then the three added columns."""
    fields = [pa.field(d.feature_name, _ARROW_TYPES[d.feature_type]) for d in definitions]
    fields += [
        pa.field("api_invocation_time", _TIMESTAMP),
        pa.field("write_time", _TIMESTAMP),
        pa.field("is_deleted", pa.bool_()),
    ]
    return pa.schema(fields)


def _partition_path(hour_text: str) -> str:
    """``2024-03-01T12`` as ``year=2024/month=03/day=01/hour=12``."""
    date, hour = hour_text.split("T")
    year, month, day = date.split("-")
    return f"year={year}/month={month}/day={day}/hour={hour}"


def write_partitioned(
    table: pa.Table,
    event_seconds: np.ndarray,
    folder: Path,
    *,
    tmp_folder: Path,
    max_workers: int = 1,
    progress: bool = False,
) -> list[tuple[Path, Path]]:
    """Write ``table`` as one Parquet file per event-time hour, into temporary files.

    Returns the ``(temporary file, final path)`` pairs; the caller renames
    them into place (:func:`publish`) once the rest of its work succeeded, or
    removes them (:func:`discard`).
    """
    hours = np.floor(event_seconds / 3600.0).astype("int64")
    order = np.argsort(hours, kind="stable")
    sorted_hours = hours[order]
    starts = np.flatnonzero(np.r_[True, sorted_hours[1:] != sorted_hours[:-1]]) if len(hours) else []
    bounds = list(zip(starts, [*starts[1:], len(hours)], strict=True))
    tmp_folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}_{uuid.uuid4().hex}.parquet"

    def write_one(bound: tuple[int, int]) -> tuple[Path, Path]:
        start, stop = bound
        hour = np.datetime_as_string(np.datetime64(int(sorted_hours[start]), "h"), unit="h")
        target = folder / _partition_path(str(hour)) / name
        fd, tmp = tempfile.mkstemp(dir=tmp_folder, suffix=".parquet")
        os.close(fd)
        pq.write_table(table.take(order[start:stop]), tmp)
        return Path(tmp), target

    written: list[tuple[Path, Path]] = []
    try:
        with ThreadPoolExecutor(max_workers=max_workers) as pool:
            for pair in tqdm(
                pool.map(write_one, bounds),
                total=len(bounds),
                disable=not progress,
                desc="offline store",
                unit="partition",
            ):
                written.append(pair)
    except BaseException:
        discard(written)
        raise
    return written


def publish(written: list[tuple[Path, Path]]) -> None:
    """Move temporary files written by :func:`write_partitioned` into place."""
    for tmp, target in written:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)


def discard(written: list[tuple[Path, Path]]) -> None:
    """Remove temporary files that will not be published."""
    for tmp, _ in written:
        tmp.unlink(missing_ok=True)


_DATABASE: duckdb.DuckDBPyConnection | None = None
_DATABASE_LOCK = threading.Lock()


def connect() -> duckdb.DuckDBPyConnection:
    """A new DuckDB connection (with its own temporary views) that reads and shows times in UTC.

    Connections share one in-memory database per process: opening a
    database costs about 0.2 s, a connection to it a few milliseconds.
    """
    global _DATABASE
    with _DATABASE_LOCK:
        if _DATABASE is None:
            _DATABASE = duckdb.connect()
        connection = _DATABASE.cursor()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def parquet_files(folder: Path) -> dict[str, tuple[int, int]]:
    """The offline store's Parquet files under ``folder``: ``{path: (size, modification time in ns)}``."""
    found = {}
    folders = [str(folder)]
    while folders:
        try:
            entries = os.scandir(folders.pop())
        except FileNotFoundError:
            continue
        with entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif entry.name.endswith(".parquet"):
                    stat = entry.stat()
                    found[entry.path] = (stat.st_size, stat.st_mtime_ns)
    return found


class OfflineFiles:
    """A feature group's offline store files, read into memory once.

    Files are never changed once written, so each query reads only the
    files that appeared since the last one (a file whose size or
    modification time changed, or that disappeared, makes it read them all
    again). This is what lets repeated dataset queries skip the Parquet
    decoding that dominates them.

    Parameters
    ----------
    folder : Path
        The group's ``data`` folder (partitioned by event hour).
    schema : pyarrow.Schema
        The columns every file must have (:func:`arrow_schema`).

    Examples
    --------
    >>> import tempfile
    >>> from course.feature_store.definitions import FeatureDefinition
    >>> schema = arrow_schema([FeatureDefinition("id", "String"), FeatureDefinition("t", "Fractional")])
    >>> OfflineFiles(Path(tempfile.mkdtemp()), schema).table().num_rows
    0
    """

    def __init__(self, folder: Path, schema: pa.Schema) -> None:
        self.folder = folder
        self.schema = schema
        self._lock = threading.Lock()
        self._signature: dict[str, tuple[int, int]] = {}
        self._table = schema.empty_table()

    def table(self) -> pa.Table:
        """Every row of every file (in the order the files were first read).

        Raises
        ------
        OfflineStoreError
            If a file is not valid Parquet or does not have the group's
            columns; the message names the file.
        """
        with self._lock:
            signature = parquet_files(self.folder)
            if any(signature.get(path) != seen for path, seen in self._signature.items()):
                self._signature, self._table = {}, self.schema.empty_table()
            new = sorted(path for path in signature if path not in self._signature)
            if new:
                dataset = pads.dataset(new, schema=self.schema, format="parquet")
                for fragment in dataset.get_fragments():
                    _check_file(fragment, self.schema)
                added = dataset.to_table()
                self._table = pa.concat_tables([self._table, added]).combine_chunks()
                self._signature.update((path, signature[path]) for path in new)
            return self._table


def offline_relation(connection: duckdb.DuckDBPyConnection, files: OfflineFiles, *, view_name: str) -> None:
    """Make the rows of ``files`` queryable as the table ``view_name`` on ``connection``."""
    connection.register(view_name, files.table())


def _check_file(fragment: pads.ParquetFileFragment, schema: pa.Schema) -> None:
    """Refuse a file that is not Parquet or has other columns than the feature group's."""
    try:
        found = fragment.physical_schema
    except (pa.ArrowInvalid, OSError) as error:
        raise OfflineStoreError(
            f"the offline store file {fragment.path} is not valid Parquet ({error}); nothing was changed. "
            "Move the file out of the offline store folder (or restore it from a backup) and query again"
        ) from None
    if found.names != schema.names or found.types != schema.types:
        raise OfflineStoreError(
            f"the offline store file {fragment.path} does not have the feature group's columns "
            f"({', '.join(schema.names)}); nothing was changed. Move it out of the offline store folder"
        )
