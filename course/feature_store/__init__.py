"""SageMaker Feature Store, locally: online and offline stores, datasets, the runtime API.

- ``definitions``: feature types, event times, TTL durations, record values.
- ``feature_group``: :class:`FeatureStore` (one folder) and :class:`FeatureGroup`
  with its online store (SQLite) and offline store (Parquet), ``ingest``.
- ``dataset``: the SDK's dataset builder (``create_dataset``) with
  point-in-time joins, run by DuckDB over the offline store.
- ``server``: the ``sagemaker-featurestore-runtime`` REST API over HTTP, for boto3.
- ``errors``: the API's errors (``ValidationError``, ``ResourceNotFound``).

``docs/SAGEMAKER.md`` lists the documented behaviour this follows and where
it simplifies.
"""

from course.feature_store.dataset import DatasetBuilder, create_dataset, to_unix_seconds
from course.feature_store.definitions import (
    FEATURE_TYPES,
    RESERVED_FEATURE_NAMES,
    TTL_UNITS,
    FeatureDefinition,
    format_event_time,
    load_feature_definitions,
    parse_event_time,
    ttl_seconds,
)
from course.feature_store.errors import IngestionError, OfflineStoreError, ResourceNotFound, ValidationError
from course.feature_store.feature_group import (
    MAX_BATCH_IDENTIFIERS,
    AthenaQuery,
    FeatureGroup,
    FeatureStore,
    batch_get_record,
)

__all__ = [
    "FEATURE_TYPES",
    "MAX_BATCH_IDENTIFIERS",
    "RESERVED_FEATURE_NAMES",
    "TTL_UNITS",
    "AthenaQuery",
    "DatasetBuilder",
    "FeatureDefinition",
    "FeatureGroup",
    "FeatureStore",
    "IngestionError",
    "OfflineStoreError",
    "ResourceNotFound",
    "ValidationError",
    "batch_get_record",
    "create_dataset",
    "format_event_time",
    "load_feature_definitions",
    "parse_event_time",
    "to_unix_seconds",
    "ttl_seconds",
]
