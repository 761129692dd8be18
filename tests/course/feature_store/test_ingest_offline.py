"""Ingestion (all or nothing) and the offline store's Parquet layout and SQL access."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from fs_helpers import DEFINITIONS, as_dict, record

from course.feature_store import FeatureGroup, IngestionError, OfflineStoreError, ValidationError

HOUR = 3600.0
T0 = 1_709_294_400.0  # 2024-03-01T12:00:00Z


def frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i % 3}" for i in range(n)],
            "event_time": T0 + HOUR * np.arange(n) / 2,
            "n_orders": np.arange(n),
            "total": np.linspace(0.0, 10.0, n),
            "segment": ["gold", "silver"] * (n // 2),
        }
    )


def test_ingest_matches_put_record_one_by_one(store, customers, clock):
    data = frame()
    twin = FeatureGroup(
        "twin", record_identifier_name="customer_id", event_time_feature_name="event_time",
        feature_definitions=DEFINITIONS, store=store,
    )  # fmt: skip
    customers.ingest(data, max_workers=2, progress=False)
    for row in data.itertuples(index=False):
        twin.put_record(
            record(
                row.customer_id, row.event_time, n_orders=row.n_orders, total=row.total, segment=row.segment
            )
        )
    for customer in ("c0", "c1", "c2"):
        assert as_dict(customers.get_record(customer)) == as_dict(twin.get_record(customer))
    columns = ["customer_id", "event_time", "n_orders", "total", "segment"]
    ours = customers.as_dataframe()[columns].sort_values("event_time", ignore_index=True)
    theirs = twin.as_dataframe()[columns].sort_values("event_time", ignore_index=True)
    pd.testing.assert_frame_equal(ours, theirs)


def test_ingest_keeps_the_later_row_for_equal_event_times(customers):
    data = pd.DataFrame({"customer_id": ["a", "a"], "event_time": [5.0, 5.0], "n_orders": [1, 2]})
    customers.ingest(data, progress=False)
    assert as_dict(customers.get_record("a"))["n_orders"] == "2"
    offline = customers.as_dataframe().sort_values("api_invocation_time")
    assert offline["n_orders"].tolist() == [1, 2]
    assert offline["api_invocation_time"].is_monotonic_increasing and offline["api_invocation_time"].is_unique


def test_bad_rows_are_reported_and_nothing_is_written(customers):
    data = frame()
    data["n_orders"] = data["n_orders"].astype(object)
    data.loc[1, "customer_id"] = None
    data.loc[2, "event_time"] = np.nan
    data.loc[4, "n_orders"] = "many"
    data.loc[5, "segment"] = 3
    with pytest.raises(IngestionError, match="4 of 6 rows were refused and nothing was ingested") as raised:
        customers.ingest(data, progress=False)
    failed = raised.value.failed_rows
    assert failed["row"].tolist() == [1, 2, 4, 5]
    assert "record identifier is missing" in failed["reason"][0]
    assert "event_time" in failed["reason"][1]
    assert "n_orders" in failed["reason"][2] and "segment" in failed["reason"][3]
    assert all(customers.get_record(c) is None for c in ("c0", "c1", "c2"))
    assert len(customers.as_dataframe()) == 0
    assert not list((customers.store.root / "s3").rglob("*.parquet"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pd.DataFrame({"customer_id": ["a"], "event_time": [1.0], "age": [3]}), "not features"),
        (pd.DataFrame({"customer_id": ["a"]}), "no 'event_time' column"),
        (pd.DataFrame({"customer_id": ["a"], "event_time": [1.0], "n_orders": [1.5]}), "Integral"),
        (pd.DataFrame({"customer_id": ["a"], "event_time": [1.0], "n_orders": [True]}), "bools"),
    ],
)
def test_ingest_refuses_bad_frames(customers, data, message):
    with pytest.raises(ValueError, match=message):
        customers.ingest(data, progress=False)
    assert customers.get_record("a") is None


def test_ingest_checks_its_options(customers):
    with pytest.raises(ValidationError, match="max_workers"):
        customers.ingest(frame(), max_workers=0)
    with pytest.raises(ValidationError, match="DataFrame"):
        customers.ingest([{"customer_id": "a"}])


def test_offline_files_are_partitioned_by_event_hour(customers):
    customers.ingest(frame(), progress=False)
    customers.put_record(record("c9", T0 + 5 * HOUR))
    customers.store.flush()
    root = customers._offline_folder
    folders = sorted(str(p.parent.relative_to(root)) for p in root.rglob("*.parquet"))
    assert folders == [
        "year=2024/month=03/day=01/hour=12",
        "year=2024/month=03/day=01/hour=13",
        "year=2024/month=03/day=01/hour=14",
        "year=2024/month=03/day=01/hour=17",
    ]
    for path in root.rglob("*.parquet"):
        hours = (pq.read_table(path)["event_time"].to_numpy() - T0) // HOUR
        assert len(set(hours)) == 1
    schema = pq.read_schema(next(root.rglob("*.parquet")))
    assert schema.names == ["customer_id", "event_time", "n_orders", "total", "segment",
                            "api_invocation_time", "write_time", "is_deleted"]  # fmt: skip
    assert str(schema.field("write_time").type) == "timestamp[us, tz=UTC]"


def test_staged_records_wait_until_flush_and_write_time_is_the_flush(customers, clock):
    customers.put_record(record("c1", 1.0))
    assert (
        not list(customers._offline_folder.rglob("*.parquet")) if customers._offline_folder.exists() else True
    )
    clock.now = 5_000.0
    offline = customers.as_dataframe()
    assert offline["api_invocation_time"].iloc[0] == pd.Timestamp(1_000.0, unit="s", tz="UTC")
    assert offline["write_time"].iloc[0] == pd.Timestamp(5_000.0, unit="s", tz="UTC")


def test_athena_query_agrees_with_pandas_and_duckdb_on_the_files(customers):
    customers.ingest(frame(60), progress=False)
    query = customers.athena_query()
    assert query.table_name == "customers"
    result = query.run(
        'SELECT customer_id, count(*) AS n, sum(total) AS total FROM "customers" GROUP BY customer_id ORDER BY customer_id'
    ).as_dataframe()
    expected = (
        frame(60).groupby("customer_id", as_index=False).agg(n=("total", "size"), total=("total", "sum"))
    )
    np.testing.assert_array_equal(result["n"].to_numpy(), expected["n"].to_numpy())
    np.testing.assert_allclose(result["total"].to_numpy(), expected["total"].to_numpy())
    files = [str(p) for p in customers._offline_folder.rglob("*.parquet")]
    direct = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet({files})").fetchall()[0][0]
    assert direct == 60
    with pytest.raises(ValidationError, match="the query failed"):
        query.run('SELECT nope FROM "customers"')


def test_query_output_location_writes_csv(customers):
    customers.ingest(frame(), progress=False)
    customers.athena_query().run(
        'SELECT count(*) AS n FROM "customers"', output_location="s3://results/q1.csv"
    )
    assert customers.store.s3.get_object("s3://results/q1.csv") == b"n\n6\n"


def test_store_query_spans_groups(store, customers):
    customers.ingest(frame(), progress=False)
    assert store.query('SELECT count(*) AS n FROM "customers"')["n"].tolist() == [6]


def test_a_corrupt_parquet_file_is_named_and_nothing_is_lost(customers):
    customers.ingest(frame(), progress=False)
    victim = next(customers._offline_folder.rglob("*.parquet"))
    good = victim.read_bytes()
    victim.write_bytes(b"not parquet at all")
    with pytest.raises(OfflineStoreError, match=f"{victim.name}.*not valid Parquet.*nothing was changed"):
        customers.as_dataframe()
    customers.put_record(record("c1", T0 + 10 * HOUR))  # the online store still works
    assert customers.get_record("c1") is not None
    victim.write_bytes(good)
    assert len(customers.as_dataframe()) == 7


def test_a_foreign_parquet_file_is_refused(customers):
    customers.ingest(frame(), progress=False)
    stray = Path(customers._offline_folder, "year=2024", "stray.parquet")
    pq.write_table(pd.DataFrame({"x": [1]}).pipe(__import__("pyarrow").Table.from_pandas), stray)
    with pytest.raises(OfflineStoreError, match="does not have the feature group's columns"):
        customers.as_dataframe()


def test_queries_see_files_written_since_the_last_one(customers):
    customers.ingest(frame(), progress=False)
    assert len(customers.as_dataframe()) == 6  # the files are read (and kept in memory)
    customers.ingest(frame(4).assign(event_time=T0 + 20 * HOUR), progress=False)
    customers.put_record(record("c9", T0 + 30 * HOUR))
    offline = customers.as_dataframe()
    assert len(offline) == 11
    assert offline["customer_id"].value_counts()["c9"] == 1


def test_a_file_damaged_after_it_was_read_is_still_named(customers):
    customers.ingest(frame(), progress=False)
    assert len(customers.as_dataframe()) == 6
    victim = next(customers._offline_folder.rglob("*.parquet"))
    victim.write_bytes(b"not parquet at all")
    with pytest.raises(OfflineStoreError, match=f"{victim.name}.*not valid Parquet"):
        customers.as_dataframe()
    victim.unlink()
    assert len(customers.as_dataframe()) < 6  # a removed file's rows are gone from the next query
