"""Shared fixtures for the feature store tests: a store with a clock the test moves."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.feature_store import FeatureGroup, FeatureStore
from course.feature_store.server import FeatureStoreRuntimeServer

sys.path.insert(0, str(Path(__file__).parent))
from fs_helpers import DEFINITIONS, Clock  # noqa: E402


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock) -> Iterator[FeatureStore]:
    with FeatureStore(tmp_path / "fs", clock=clock) as opened:
        yield opened


@pytest.fixture
def customers(store) -> FeatureGroup:
    return FeatureGroup(
        "customers",
        record_identifier_name="customer_id",
        event_time_feature_name="event_time",
        feature_definitions=DEFINITIONS,
        store=store,
    )


@pytest.fixture(autouse=True)
def no_server_left_running() -> Iterator[None]:
    """Every test must stop the servers it started."""
    yield
    assert FeatureStoreRuntimeServer.running_servers() == []
