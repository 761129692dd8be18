"""Property tests: random histories against brute-force oracles.

Histories mix puts (with out-of-order and duplicate event times, per-record
TTLs), soft and hard deletes, and clock moves. The online store must equal a
straightforward replay of the documented rules, and the point-in-time join
must equal a per-row search of the offline rows, never returning a row from
after the base row's time.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from fs_helpers import DEFINITIONS, Clock, record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course.feature_store import FeatureGroup, FeatureStore, ValidationError, create_dataset

IDS = ("a", "b", "c")

operation = st.one_of(
    st.tuples(
        st.just("put"),
        st.sampled_from(IDS),
        st.integers(0, 30),
        st.integers(0, 99),
        st.sampled_from([None, 3, 50]),
    ),
    st.tuples(
        st.just("delete"),
        st.sampled_from(IDS),
        st.integers(0, 30),
        st.sampled_from(["SoftDelete", "HardDelete"]),
    ),
    st.tuples(st.just("advance"), st.integers(1, 8)),
)


class OnlineOracle:
    """The online store's documented rules, replayed on plain dicts, with the offline log they imply."""

    def __init__(self, group_ttl: float | None) -> None:
        self.group_ttl = group_ttl
        self.state: dict[str, dict] = {}
        self.offline: list[
            tuple[str, float, float | None, bool]
        ] = []  # (id, event time, n_orders, is_deleted)

    def expire(self, rid: str, now: float) -> None:
        entry = self.state.get(rid)
        if entry is not None and entry["expires"] is not None and now >= entry["expires"]:
            del self.state[rid]
            self.offline.append((rid, entry["expires"], None, True))

    def put(self, rid: str, et: float, value: int, ttl: float | None, now: float) -> None:
        self.expire(rid, now)
        ttl = ttl if ttl is not None else self.group_ttl
        entry = self.state.get(rid)
        if entry is None or et >= entry["et"]:
            self.state[rid] = {
                "et": et,
                "value": value,
                "expires": None if ttl is None else et + ttl,
                "deleted": False,
            }
        self.offline.append((rid, et, float(value), False))

    def delete(self, rid: str, et: float, mode: str, now: float) -> bool:
        """Apply a delete; False if the API refuses it (a HardDelete not newer than the record)."""
        self.expire(rid, now)
        entry = self.state.get(rid)
        applies = entry is not None and et > entry["et"]
        if entry is not None and not applies and mode == "HardDelete":
            return False
        if applies and mode == "HardDelete":
            del self.state[rid]
        elif applies:
            self.state[rid] = {"et": et, "value": None, "expires": None, "deleted": True}
        self.offline.append((rid, et, None, True))
        return True

    def get(self, rid: str, now: float) -> int | None:
        self.expire(rid, now)
        entry = self.state.get(rid)
        return None if entry is None or entry["deleted"] else entry["value"]


def _order(row: tuple) -> tuple:
    """Sort key of an offline log entry whose value may be None."""
    return row[0], row[1], -1.0 if row[2] is None else row[2], row[3]


def point_in_time_oracle(offline: pd.DataFrame, base: list[tuple[str, float]], ttl: float | None) -> list:
    """For each base row: the value of the latest de-duplicated offline row at or before it, alive at its time."""
    best: dict[tuple[str, float], dict] = {}
    for row in offline.to_dict("records"):
        key = (row["customer_id"], row["event_time"])
        rank = (row["api_invocation_time"], row["write_time"])
        if key not in best or rank > best[key]["rank"]:
            best[key] = {"rank": rank, **row}
    answers = []
    for rid, bt in base:
        candidates = [r for (i, et), r in best.items() if i == rid and et <= bt]
        if not candidates:
            answers.append(None)
            continue
        latest = max(candidates, key=lambda r: r["event_time"])
        expired = ttl is not None and bt >= latest["event_time"] + ttl
        answers.append(
            None if latest["is_deleted"] or expired else (latest["n_orders"], latest["event_time"])
        )
    return answers


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operations=st.lists(operation, max_size=25),
    group_ttl=st.sampled_from([None, 6]),
    base=st.lists(st.tuples(st.sampled_from(IDS), st.integers(-2, 40).map(float)), min_size=1, max_size=15),
)
def test_random_histories_match_the_oracles(tmp_path_factory, operations, group_ttl, base):
    clock = Clock(now=0.0)
    oracle = OnlineOracle(group_ttl)
    with FeatureStore(tmp_path_factory.mktemp("fs"), clock=clock) as store:
        group = FeatureGroup(
            "customers", record_identifier_name="customer_id", event_time_feature_name="event_time",
            feature_definitions=DEFINITIONS, store=store,
            ttl=None if group_ttl is None else {"Unit": "Seconds", "Value": group_ttl},
        )  # fmt: skip
        for op in operations:
            if op[0] == "advance":
                clock.now += op[1]
            elif op[0] == "put":
                _, rid, et, value, ttl = op
                ttl_duration = None if ttl is None else {"Unit": "Seconds", "Value": ttl}
                group.put_record(record(rid, float(et), n_orders=value), ttl_duration=ttl_duration)
                oracle.put(rid, float(et), value, ttl, clock.now)
            else:
                _, rid, et, mode = op
                if oracle.delete(rid, float(et), mode, clock.now):
                    group.delete_record(rid, str(float(et)), deletion_mode=mode)
                else:
                    with pytest.raises(ValidationError, match="not later"):
                        group.delete_record(rid, str(float(et)), deletion_mode=mode)
        for rid in IDS:
            got = group.get_record(rid, feature_names=["n_orders"])
            expected = oracle.get(rid, clock.now)
            assert (None if got is None else int(got[0]["ValueAsString"])) == expected, rid

        offline = group.as_dataframe()
        logged = [
            (
                r.customer_id,
                r.event_time,
                None if pd.isna(r.n_orders) else float(r.n_orders),
                bool(r.is_deleted),
            )
            for r in offline.itertuples()
        ]
        assert sorted(logged, key=_order) == sorted(oracle.offline, key=_order)

        frame = pd.DataFrame(base, columns=["customer_id", "event_time"])
        joined, _ = (
            create_dataset(frame, record_identifier_feature_name="customer_id", event_time_identifier_feature_name="event_time")
            .with_feature_group(group, included_feature_names=["n_orders", "event_time"])
            .point_in_time_accurate_join().to_dataframe()
        )  # fmt: skip
        expected = point_in_time_oracle(offline, base, group_ttl)
        for (rid, bt), row, want in zip(base, joined.itertuples(index=False), expected, strict=True):
            feature_time = row[3]
            assert row[0] == rid and row[1] == bt
            if not pd.isna(feature_time):
                assert feature_time <= bt  # never a row from the future
            got = None if pd.isna(row[2]) else (float(row[2]), float(feature_time))
            assert got == (None if want is None else (float(want[0]), float(want[1]))), (rid, bt)


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0, max_value=4e9, allow_nan=False).map(lambda x: round(x, 3)))
def test_iso_event_times_round_trip(seconds):
    from course.feature_store import format_event_time, parse_event_time

    assert math.isclose(
        parse_event_time(format_event_time(seconds, "String"), "String"), seconds, abs_tol=1e-3
    )
