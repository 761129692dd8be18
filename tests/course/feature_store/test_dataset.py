"""The dataset builder: point-in-time joins against pandas, DuckDB and the SDK's cleaning rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fs_helpers import DEFINITIONS, record

from course.feature_store import FeatureGroup, ValidationError, create_dataset


def base_frame(ids, times) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(ids), "event_time": np.asarray(times, dtype=float)})


def build(base, group, **options):
    builder = create_dataset(
        base, record_identifier_feature_name="customer_id", event_time_identifier_feature_name="event_time"
    )
    builder = builder.with_feature_group(group, included_feature_names=options.pop("included", None))
    for name, arg in options.items():
        method = getattr(builder, name)
        builder = method() if arg is None else method(*arg) if isinstance(arg, tuple) else method(arg)
    return builder.to_dataframe()[0]


def test_point_in_time_join_equals_merge_asof_without_ttl_duplicates_or_deletes(customers):
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        {
            "customer_id": rng.choice(["a", "b", "c", "d"], 300),
            "event_time": rng.permutation(np.arange(300, dtype=float)),
            "total": rng.normal(size=300),
        }
    )
    customers.ingest(features, progress=False)
    base = base_frame(rng.choice(["a", "b", "c", "e"], 200), rng.uniform(-10, 320, 200))
    ours = build(base, customers, included=["total"], point_in_time_accurate_join=None)
    reference = pd.merge_asof(
        base.reset_index().sort_values("event_time"),
        features.sort_values("event_time"),
        on="event_time", by="customer_id", direction="backward", allow_exact_matches=True,
    ).sort_values("index")  # fmt: skip
    assert ours["customer_id"].tolist() == base["customer_id"].tolist()
    np.testing.assert_array_equal(ours["event_time"].to_numpy(), base["event_time"].to_numpy())
    np.testing.assert_allclose(
        ours["total"].to_numpy(dtype=float), reference["total"].to_numpy(), equal_nan=True
    )


def test_ttl_limits_how_far_back_the_join_looks(store):
    group = FeatureGroup(
        "ttl", record_identifier_name="customer_id", event_time_feature_name="event_time",
        feature_definitions=DEFINITIONS, ttl={"Unit": "Seconds", "Value": 10}, online=False, store=store,
    )  # fmt: skip
    group.ingest(
        pd.DataFrame({"customer_id": ["a", "a"], "event_time": [100.0, 200.0], "n_orders": [1, 2]}),
        progress=False,
    )
    out = build(
        base_frame("aaaaaa", [99, 100, 109.9, 110, 205, 210]), group, point_in_time_accurate_join=None
    )
    assert out["n_orders"].astype("Float64").tolist() == [pd.NA, 1, 1, pd.NA, 2, pd.NA]


def test_snapshot_join_leaks_the_future(customers):
    customers.ingest(
        pd.DataFrame({"customer_id": ["a", "a"], "event_time": [10.0, 20.0], "n_orders": [1, 2]}),
        progress=False,
    )
    naive = build(base_frame("aa", [5, 15]), customers)
    accurate = build(base_frame("aa", [5, 15]), customers, point_in_time_accurate_join=None)
    assert naive["n_orders"].tolist() == [2, 2]
    assert accurate["n_orders"].astype("Float64").tolist() == [pd.NA, 1]


def test_duplicates_keep_the_latest_invocation_unless_included(customers):
    customers.ingest(
        pd.DataFrame(
            {"customer_id": ["a", "a", "a"], "event_time": [10.0, 10.0, 5.0], "n_orders": [1, 2, 0]}
        ),
        progress=False,
    )
    assert build(base_frame("a", [12]), customers, point_in_time_accurate_join=None)["n_orders"].tolist() == [
        2
    ]
    everything = create_dataset(customers).include_duplicated_records().to_dataframe()[0]
    assert sorted(everything["n_orders"].tolist()) == [0, 1, 2]
    deduplicated = create_dataset(customers).to_dataframe()[0]
    assert deduplicated["n_orders"].tolist() == [0, 2]


def test_deleted_records_follow_the_sdk_outside_point_in_time(customers):
    for t, n in [(1.0, 1), (2.0, 2), (4.0, 4)]:
        customers.put_record(record("a", t, n_orders=n))
    customers.put_record(record("b", 1.0, n_orders=7))
    customers.delete_record("a", "3.0")
    assert create_dataset(customers).to_dataframe()[0]["n_orders"].tolist() == [7, 4]
    kept = create_dataset(customers).include_deleted_records().to_dataframe()[0]
    assert sorted(kept["n_orders"].tolist()) == [1, 2, 4, 7]  # the deleted rows, never the marker


def test_point_in_time_deletes_hide_the_record_from_their_time_on(customers):
    customers.put_record(record("a", 1.0, n_orders=1))
    customers.delete_record("a", "3.0")
    customers.put_record(record("a", 5.0, n_orders=5))
    out = build(base_frame("aaaa", [2, 3, 4, 6]), customers, point_in_time_accurate_join=None)
    assert out["n_orders"].astype("Float64").tolist() == [1, pd.NA, pd.NA, 5]
    kept = build(
        base_frame("aaaa", [2, 3, 4, 6]),
        customers,
        point_in_time_accurate_join=None,
        include_deleted_records=None,
    )
    assert kept["n_orders"].tolist() == [1, 1, 1, 5]


def test_as_of_uses_write_time(customers, clock):
    customers.put_record(record("a", 1.0, n_orders=1))
    clock.now = 2_000.0
    customers.store.flush()
    clock.now = 3_000.0
    customers.put_record(record("a", 2.0, n_orders=2))
    clock.now = 4_000.0
    customers.store.flush()
    then = build(base_frame("a", [10]), customers, point_in_time_accurate_join=None, as_of=2_500.0)
    now = build(base_frame("a", [10]), customers, point_in_time_accurate_join=None)
    assert then["n_orders"].tolist() == [1] and now["n_orders"].tolist() == [2]
    from datetime import UTC, datetime

    as_datetime = build(base_frame("a", [10]), customers, point_in_time_accurate_join=None,
                        as_of=datetime.fromtimestamp(2_500, tz=UTC))  # fmt: skip
    assert as_datetime["n_orders"].tolist() == [1]


def test_event_time_range_and_recent_records(customers):
    customers.ingest(pd.DataFrame({"customer_id": ["a"] * 5 + ["b"] * 2, "event_time": [1.0, 2, 3, 4, 5, 1, 2],
                                   "n_orders": [1, 2, 3, 4, 5, 10, 20]}), progress=False)  # fmt: skip
    ranged = create_dataset(customers).with_event_time_range(2.0, 4.0).to_dataframe()[0]
    assert sorted(ranged["n_orders"].tolist()) == [2, 3, 4, 20]
    recent = create_dataset(customers).with_number_of_recent_records_by_record_identifier(2).to_dataframe()[0]
    assert sorted(recent["n_orders"].tolist()) == [4, 5, 10, 20]
    with pytest.raises(ValidationError, match="after ending"):
        create_dataset(customers).with_event_time_range(5.0, 1.0)
    with pytest.raises(ValidationError, match="number_of_recent_records"):
        create_dataset(customers).with_number_of_recent_records_by_record_identifier(-1)


def test_feature_group_base_joined_to_another_group(store, customers):
    orders = FeatureGroup(
        "orders", record_identifier_name="order_id", event_time_feature_name="event_time",
        feature_definitions=[{"FeatureName": "order_id", "FeatureType": "Integral"},
                             {"FeatureName": "event_time", "FeatureType": "String"},
                             {"FeatureName": "customer_id", "FeatureType": "String"}],
        store=store,
    )  # fmt: skip
    orders.ingest(pd.DataFrame({"order_id": [1, 2], "event_time": ["1970-01-01T00:00:05Z", "1970-01-01T00:00:15Z"],
                                "customer_id": ["a", "a"]}), progress=False)  # fmt: skip
    customers.ingest(
        pd.DataFrame({"customer_id": ["a", "a"], "event_time": [1.0, 10.0], "n_orders": [1, 2]}),
        progress=False,
    )
    out, query = (
        create_dataset(orders).with_feature_group(customers, "customer_id", ["n_orders", "event_time"])
        .point_in_time_accurate_join().to_dataframe()
    )  # fmt: skip
    assert out["order_id"].tolist() == [1, 2]
    assert out["n_orders"].tolist() == [1, 2]
    assert out["event_time.1"].tolist() == [1.0, 10.0]
    assert "ASOF" in query


def test_base_times_may_be_iso_strings_or_datetimes(customers):
    customers.ingest(
        pd.DataFrame({"customer_id": ["a"], "event_time": [100.0], "n_orders": [1]}), progress=False
    )
    for times in (
        ["1970-01-01T00:01:39Z", "1970-01-01T00:01:40Z"],
        pd.to_datetime([99, 100], unit="s", utc=True),
    ):
        base = pd.DataFrame({"customer_id": ["a", "a"], "event_time": times})
        assert build(base, customers, point_in_time_accurate_join=None)["n_orders"].astype(
            "Float64"
        ).tolist() == [pd.NA, 1]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda g: create_dataset(base_frame("a", [1]), record_identifier_feature_name="id",
                                  event_time_identifier_feature_name="event_time"), "must name a column"),
        (lambda g: create_dataset([1, 2]), "DataFrame or a FeatureGroup"),
        (lambda g: create_dataset(g).with_feature_group(g, "nope"), "not found in base"),
        (lambda g: create_dataset(g).with_feature_group(g, included_feature_names=["age"]), "not a feature"),
        (lambda g: create_dataset(g).point_in_time_accurate_join().to_dataframe(), "needs at least one"),
        (lambda g: create_dataset(base_frame("a", [None]), record_identifier_feature_name="customer_id",
                                  event_time_identifier_feature_name="event_time")
         .with_feature_group(g).to_dataframe(), "missing in row 0"),
    ],
)  # fmt: skip
def test_bad_dataset_requests(customers, make, message):
    with pytest.raises(ValidationError, match=message):
        make(customers)
