"""Tests for course.platform: the service catalog and the documented inference limits."""

from __future__ import annotations

import doctest

import pytest

import course.platform as sm_platform
from course.platform import (
    ASYNC_MAX_PAYLOAD_MB,
    ASYNC_MAX_SECONDS,
    INFERENCE_OPTIONS,
    REALTIME_MAX_PAYLOAD_MB,
    REALTIME_MAX_SECONDS,
    SERVERLESS_MAX_PAYLOAD_MB,
    SERVERLESS_MAX_SECONDS,
    SERVICES,
    TRAFFIC_PATTERNS,
)


def test_doctests_pass():
    result = doctest.testmod(sm_platform, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    ("value", "documented"),
    [
        (REALTIME_MAX_PAYLOAD_MB, 6),
        (REALTIME_MAX_SECONDS, 60),
        (SERVERLESS_MAX_PAYLOAD_MB, 4),
        (SERVERLESS_MAX_SECONDS, 60),
        (ASYNC_MAX_PAYLOAD_MB, 1024),
        (ASYNC_MAX_SECONDS, 3600),
    ],
)
def test_limits_match_the_developer_guide(value, documented):
    assert type(value) is int
    assert value == documented


def test_limits_are_ordered_from_serverless_to_asynchronous():
    assert SERVERLESS_MAX_PAYLOAD_MB < REALTIME_MAX_PAYLOAD_MB < ASYNC_MAX_PAYLOAD_MB
    assert SERVERLESS_MAX_SECONDS == REALTIME_MAX_SECONDS < ASYNC_MAX_SECONDS


@pytest.mark.parametrize("catalog", [SERVICES, INFERENCE_OPTIONS, TRAFFIC_PATTERNS])
def test_catalogs_are_tuples_of_unique_clean_strings(catalog):
    assert type(catalog) is tuple
    assert all(type(name) is str and name == name.strip() and name for name in catalog)
    assert len(set(catalog)) == len(catalog)
    assert len({name.casefold() for name in catalog}) == len(catalog)


def test_inference_options_are_the_four_documented_ones():
    assert INFERENCE_OPTIONS == ("real-time", "serverless", "asynchronous", "batch transform")


@pytest.mark.parametrize(
    "service",
    [
        "Ground Truth",
        "Feature Store",
        "Managed Spot Training",
        "Serverless Inference",
        "Asynchronous Inference",
        "Batch Transform",
        "Multi-Model Endpoints",
        "Shadow Testing",
        "Model Monitor",
        "Clarify",
        "Augmented AI",
        "Bedrock",
    ],
)
def test_catalog_names_the_services_the_course_teaches(service):
    assert service in SERVICES


def test_module_ships_vocabulary_only():
    """No answers and no decision rule: every public name is a constant."""
    assert not hasattr(sm_platform, "choose_inference_option")
    for name in sm_platform.__all__:
        assert type(getattr(sm_platform, name)) in (int, tuple), name
    public = {name for name in vars(sm_platform) if name.isupper()}
    assert public == set(sm_platform.__all__)
