"""The online store's documented rules: event-time writes, TTL, deletes, batch reads."""

from __future__ import annotations

import pytest
from fs_helpers import DEFINITIONS, as_dict, record

from course.feature_store import FeatureGroup, FeatureStore, ResourceNotFound, ValidationError


def test_latest_event_time_wins_and_older_puts_still_reach_offline(customers):
    customers.put_record(record("c1", 100.0, n_orders=3))
    customers.put_record(record("c1", 50.0, n_orders=1))
    assert as_dict(customers.get_record("c1"))["n_orders"] == "3"
    customers.put_record(record("c1", 100.0, n_orders=7))  # equal event time overwrites
    assert as_dict(customers.get_record("c1"))["n_orders"] == "7"
    offline = customers.as_dataframe()
    assert sorted(offline["n_orders"].tolist()) == [1, 3, 7]
    assert not offline["is_deleted"].any()


def test_a_put_replaces_the_whole_record(customers):
    customers.put_record(record("c1", 1.0, n_orders=3, segment="gold"))
    customers.put_record(record("c1", 2.0, total=9.5))
    assert as_dict(customers.get_record("c1")) == {"customer_id": "c1", "event_time": "2.0", "total": "9.5"}


def test_get_record_subset_and_unknown(customers):
    customers.put_record(record("c1", 1.0, n_orders=3, segment="gold"))
    assert customers.get_record("c1", feature_names=["segment", "n_orders"]) == [
        {"FeatureName": "segment", "ValueAsString": "gold"},
        {"FeatureName": "n_orders", "ValueAsString": "3"},
    ]
    assert customers.get_record("nobody") is None
    with pytest.raises(ValidationError, match="not defined"):
        customers.get_record("c1", feature_names=["age"])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([{"FeatureName": "customer_id", "ValueAsString": "c1"}], "event time"),
        ([{"FeatureName": "event_time", "ValueAsString": "1"}], "record identifier"),
        (record("c1", "yesterday"), "Fractional but got"),
        (record("c1", 1.0, n_orders="3.5"), "Integral"),
        (record("c1", 1.0, age=3), "not defined"),
        (record("c1", 1.0) + [{"FeatureName": "customer_id", "ValueAsString": "c2"}], "twice"),
        ([], "non-empty list"),
        ([{"FeatureName": "customer_id"}], "ValueAsString"),
    ],
)
def test_bad_records_are_refused_and_nothing_is_written(customers, bad, message):
    with pytest.raises(ValidationError, match=message):
        customers.put_record(bad)
    assert customers.get_record("c1") is None
    assert len(customers.as_dataframe()) == 0


def test_ttl_expiry_hides_the_record_and_writes_a_deleted_marker(store, clock):
    group = FeatureGroup(
        "short", record_identifier_name="customer_id", event_time_feature_name="event_time",
        feature_definitions=DEFINITIONS, ttl={"Unit": "Minutes", "Value": 1}, store=store,
    )  # fmt: skip
    clock.now = 1_000.0
    group.put_record(record("c1", 990.0, n_orders=1))
    response = group.get_record("c1", expiration_time_response="Enabled")
    assert response["ExpiresAt"] == "1970-01-01T00:17:30.000Z"  # 990 + 60 = 1050
    clock.now = 1_049.999
    assert group.get_record("c1") is not None
    clock.now = 1_050.0  # ExpiresAt reached
    assert group.get_record("c1") is None
    offline = group.as_dataframe().sort_values("api_invocation_time")
    assert offline["is_deleted"].tolist() == [False, True]
    assert offline["event_time"].tolist() == [990.0, 1050.0]
    assert offline["n_orders"].isna().tolist() == [False, True]


def test_per_record_ttl_overrides_the_group(store, clock):
    group = FeatureGroup(
        "ttl", record_identifier_name="customer_id", event_time_feature_name="event_time",
        feature_definitions=DEFINITIONS, ttl={"Unit": "Days", "Value": 1}, store=store,
    )  # fmt: skip
    group.put_record(record("c1", 1_000.0), ttl_duration={"Unit": "Seconds", "Value": 5})
    group.put_record(record("c2", 1_000.0))
    clock.now = 1_005.0
    assert group.get_record("c1") is None
    assert group.get_record("c2") is not None
    with pytest.raises(ValidationError, match="TtlDuration"):
        group.put_record(record("c3", 1_000.0), ttl_duration={"Unit": "Seconds", "Value": 0})


def test_expire_records_sweeps_everything_due(store, clock):
    group = FeatureGroup(
        "sweep", record_identifier_name="customer_id", event_time_feature_name="event_time",
        feature_definitions=DEFINITIONS, ttl={"Unit": "Seconds", "Value": 10}, store=store,
    )  # fmt: skip
    for i in range(5):
        group.put_record(record(f"c{i}", 1_000.0 + i))
    clock.now = 1_012.0
    assert group.expire_records() == 3
    assert [group.get_record(f"c{i}") is None for i in range(5)] == [True, True, True, False, False]
    assert int(group.as_dataframe()["is_deleted"].sum()) == 3


def test_an_expired_record_is_replaced_by_an_older_put(store, clock):
    group = FeatureGroup(
        "replace", record_identifier_name="customer_id", event_time_feature_name="event_time",
        feature_definitions=DEFINITIONS, ttl={"Unit": "Seconds", "Value": 10}, store=store,
    )  # fmt: skip
    group.put_record(record("c1", 1_000.0, n_orders=1))
    clock.now = 1_020.0
    group.put_record(record("c1", 1_015.0, n_orders=2), ttl_duration={"Unit": "Hours", "Value": 1})
    assert as_dict(group.get_record("c1"))["n_orders"] == "2"


def test_soft_delete_hides_and_newer_put_restores(customers):
    customers.put_record(record("c1", 10.0, n_orders=1))
    customers.delete_record("c1", "20.0")
    assert customers.get_record("c1") is None
    customers.put_record(record("c1", 15.0, n_orders=2))  # older than the delete: not applied online
    assert customers.get_record("c1") is None
    customers.put_record(record("c1", 25.0, n_orders=3))
    assert as_dict(customers.get_record("c1"))["n_orders"] == "3"
    markers = customers.as_dataframe().query("is_deleted")
    assert markers["event_time"].tolist() == [20.0] and markers["n_orders"].isna().all()


def test_old_soft_delete_is_not_applied_but_still_marked(customers):
    customers.put_record(record("c1", 10.0, n_orders=1))
    customers.delete_record("c1", "5.0")
    assert as_dict(customers.get_record("c1"))["n_orders"] == "1"
    assert customers.as_dataframe()["is_deleted"].sum() == 1


def test_hard_delete_rules(customers):
    customers.put_record(record("c1", 10.0, n_orders=1))
    with pytest.raises(ValidationError, match="not later"):
        customers.delete_record("c1", "10.0", deletion_mode="HardDelete")
    assert customers.as_dataframe()["is_deleted"].sum() == 0  # nothing written
    customers.delete_record("c1", "11.0", deletion_mode="HardDelete")
    assert customers.get_record("c1") is None
    customers.put_record(record("c1", 3.0, n_orders=9))  # the record is gone, so any put is the latest
    assert as_dict(customers.get_record("c1"))["n_orders"] == "9"
    with pytest.raises(ValidationError, match="DeletionMode"):
        customers.delete_record("c1", "12.0", deletion_mode="Purge")
    with pytest.raises(ValidationError, match="EventTime"):
        customers.delete_record("c1", 12.0)


def test_target_stores(customers):
    customers.put_record(record("c1", 1.0), target_stores=["OfflineStore"])
    assert customers.get_record("c1") is None
    customers.put_record(record("c2", 1.0), target_stores=["OnlineStore"])
    assert customers.get_record("c2") is not None
    assert customers.as_dataframe()["customer_id"].tolist() == ["c1"]
    with pytest.raises(ValidationError, match="TargetStores"):
        customers.put_record(record("c3", 1.0), target_stores=["Elsewhere"])


def test_offline_only_group_has_no_online_reads(store):
    group = FeatureGroup(
        "history", record_identifier_name="customer_id", event_time_feature_name="event_time",
        feature_definitions=DEFINITIONS, online=False, store=store,
    )  # fmt: skip
    group.put_record(record("c1", 1.0))
    with pytest.raises(ValidationError, match="no online store"):
        group.get_record("c1")
    with pytest.raises(ValidationError, match="no OnlineStore"):
        group.put_record(record("c1", 1.0), target_stores=["OnlineStore"])


def test_batch_get_record_shapes(customers, store):
    for i in range(3):
        customers.put_record(record(f"c{i}", 1.0, n_orders=i))
    response = customers.batch_get_record(["c0", "c2", "missing"], feature_names=["n_orders"])
    assert response["Records"] == [
        {"FeatureGroupName": "customers", "RecordIdentifierValueAsString": "c0",
         "Record": [{"FeatureName": "n_orders", "ValueAsString": "0"}]},
        {"FeatureGroupName": "customers", "RecordIdentifierValueAsString": "c2",
         "Record": [{"FeatureName": "n_orders", "ValueAsString": "2"}]},
    ]  # fmt: skip
    assert response["Errors"] == [] and response["UnprocessedIdentifiers"] == []
    with pytest.raises(ValidationError, match="at most 100"):
        customers.batch_get_record([str(i) for i in range(101)])
    assert len(customers.batch_get_record([str(i) for i in range(100)])["Records"]) == 0


def test_batch_get_record_reports_unknown_groups_as_errors(customers, store):
    from course.feature_store import batch_get_record

    customers.put_record(record("c1", 1.0))
    response = batch_get_record(
        store,
        [{"FeatureGroupName": "customers", "RecordIdentifiersValueAsString": ["c1"]},
         {"FeatureGroupName": "nope", "RecordIdentifiersValueAsString": ["x", "y"]}],
    )  # fmt: skip
    assert [r["RecordIdentifierValueAsString"] for r in response["Records"]] == ["c1"]
    assert [(e["RecordIdentifierValueAsString"], e["ErrorCode"]) for e in response["Errors"]] == [
        ("x", "ResourceNotFound"),
        ("y", "ResourceNotFound"),
    ]


def test_unknown_group_and_definition_changes(store, customers):
    with pytest.raises(ResourceNotFound, match="does not exist.*customers"):
        store.feature_group("orders")
    same = FeatureGroup(
        "customers", record_identifier_name="customer_id", event_time_feature_name="event_time",
        feature_definitions=DEFINITIONS, store=store,
    )  # fmt: skip
    assert same.feature_definitions == customers.feature_definitions
    with pytest.raises(ValidationError, match="cannot change"):
        FeatureGroup(
            "customers", record_identifier_name="customer_id", event_time_feature_name="event_time",
            feature_definitions=DEFINITIONS[:3], store=store,
        )  # fmt: skip


def test_online_state_survives_reopening(tmp_path, clock):
    with FeatureStore(tmp_path / "fs", clock=clock) as store:
        group = FeatureGroup(
            "customers", record_identifier_name="customer_id", event_time_feature_name="event_time",
            feature_definitions=DEFINITIONS, store=store,
        )  # fmt: skip
        group.put_record(record("c1", 1.0, n_orders=4))
    with FeatureStore(tmp_path / "fs", clock=clock) as store:
        group = store.feature_group("customers")
        assert as_dict(group.get_record("c1"))["n_orders"] == "4"
        assert group.as_dataframe()["n_orders"].tolist() == [4]
    with pytest.raises(ValidationError, match="closed"):
        group.get_record("c1")


def test_iso_event_times_and_integral_identifiers(store):
    group = FeatureGroup(
        "orders", record_identifier_name="order_id", event_time_feature_name="ts",
        feature_definitions=[{"FeatureName": "order_id", "FeatureType": "Integral"},
                             {"FeatureName": "ts", "FeatureType": "String"}],
        store=store,
    )  # fmt: skip
    group.put_record(
        [
            {"FeatureName": "order_id", "ValueAsString": "7"},
            {"FeatureName": "ts", "ValueAsString": "2024-03-01T12:00:00Z"},
        ]
    )
    group.put_record(
        [
            {"FeatureName": "order_id", "ValueAsString": "7"},
            {"FeatureName": "ts", "ValueAsString": "2024-02-01T12:00:00Z"},
        ]
    )
    assert as_dict(group.get_record("7"))["ts"] == "2024-03-01T12:00:00Z"
    with pytest.raises(ValidationError, match="Integral"):
        group.get_record("seven")
    with pytest.raises(ValidationError, match="ISO-8601"):
        group.put_record(
            [
                {"FeatureName": "order_id", "ValueAsString": "8"},
                {"FeatureName": "ts", "ValueAsString": "2024-03-01"},
            ]
        )
