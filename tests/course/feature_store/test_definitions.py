"""Feature definitions, event times, TTL durations and value checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from course.feature_store import (
    FeatureDefinition,
    ValidationError,
    format_event_time,
    load_feature_definitions,
    parse_event_time,
    ttl_seconds,
)
from course.feature_store.definitions import check_definitions, parse_value


@pytest.mark.parametrize("name", ["api_invocation_time", "write_time", "is_deleted", "Write_Time"])
def test_reserved_names_are_refused(name):
    with pytest.raises(ValidationError, match="reserved"):
        FeatureDefinition(name, "String")


@pytest.mark.parametrize("name", ["", "-x", "x-", "a b", "x" * 65, 3])
def test_invalid_names_are_refused(name):
    with pytest.raises(ValidationError, match="invalid feature name"):
        FeatureDefinition(name, "String")


def test_unknown_type_is_refused():
    with pytest.raises(ValidationError, match="Integral, Fractional, String"):
        FeatureDefinition("x", "Boolean")


def test_coerce_accepts_the_api_shape_only():
    assert FeatureDefinition.coerce({"FeatureName": "x", "FeatureType": "Integral"}) == FeatureDefinition(
        "x", "Integral"
    )
    with pytest.raises(ValidationError, match="FeatureName"):
        FeatureDefinition.coerce({"name": "x", "type": "Integral"})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2024-03-01T12:00:00Z", datetime(2024, 3, 1, 12, tzinfo=UTC).timestamp()),
        ("2024-03-01T12:00:00.250Z", datetime(2024, 3, 1, 12, tzinfo=UTC).timestamp() + 0.25),
    ],
)
def test_iso_event_times_match_datetime(text, seconds):
    assert parse_event_time(text, "String") == seconds
    assert parse_event_time(format_event_time(seconds, "String"), "String") == seconds


@pytest.mark.parametrize(
    "text", ["2024-03-01 12:00:00", "2024-03-01T12:00:00", "2024-03-01T12:00:00+01:00", "", None]
)
def test_malformed_iso_event_times_are_refused(text):
    with pytest.raises(ValidationError, match="event time"):
        parse_event_time(text, "String")


@pytest.mark.parametrize("value", ["abc", "nan", "inf", None])
def test_malformed_fractional_event_times_are_refused(value):
    with pytest.raises(ValidationError, match="event time"):
        parse_event_time(value, "Fractional")


@pytest.mark.parametrize(
    ("unit", "value", "seconds"),
    [("Seconds", 1, 1.0), ("Minutes", 2, 120.0), ("Days", 1, 86400.0), ("Weeks", 2, 1209600.0)],
)
def test_ttl_units(unit, value, seconds):
    assert ttl_seconds({"Unit": unit, "Value": value}) == seconds


@pytest.mark.parametrize(
    "ttl",
    [{"Unit": "Days", "Value": 0}, {"Unit": "Days", "Value": -1}, {"Unit": "Days", "Value": 1.5},
     {"Unit": "Days", "Value": True}, {"Unit": "Months", "Value": 1}, {"Unit": "Days"}, 30],
)  # fmt: skip
def test_invalid_ttl_is_refused(ttl):
    with pytest.raises(ValidationError, match="TtlDuration"):
        ttl_seconds(ttl)


@pytest.mark.parametrize(
    ("value", "kind"), [("1.5", "Integral"), ("x", "Integral"), ("x", "Fractional"), (3, "String")]
)
def test_values_of_the_wrong_type_are_refused(value, kind):
    with pytest.raises(ValidationError, match="f"):
        parse_value(value, kind, feature_name="f")


def test_integral_beyond_64_bits_is_refused():
    with pytest.raises(ValidationError, match="64 bits"):
        parse_value(str(2**63), "Integral", feature_name="f")


def test_definitions_need_typed_identifier_and_event_time():
    defs = [FeatureDefinition("id", "Fractional"), FeatureDefinition("t", "Fractional")]
    with pytest.raises(ValidationError, match="record identifier"):
        check_definitions(defs, "id", "t")
    with pytest.raises(ValidationError, match="not among"):
        check_definitions(defs[1:], "id", "t")
    with pytest.raises(ValidationError, match="unique"):
        check_definitions([FeatureDefinition("t", "String")] * 2, "t", "t")


def test_load_feature_definitions_matches_dtypes():
    df = pd.DataFrame({"id": pd.Series(["a"], dtype="string"), "n": [1], "x": [0.5], "o": ["s"]})
    assert [d.to_dict()["FeatureType"] for d in load_feature_definitions(df)] == [
        "String",
        "Integral",
        "Fractional",
        "String",
    ]
    with pytest.raises(ValidationError, match="dtype"):
        load_feature_definitions(pd.DataFrame({"when": pd.to_datetime(["2024-01-01"])}))
