"""Shared fixtures for the labeling tests."""

import pytest

from course.labeling import LabelingData, Worker, Workforce, load_digits_objects


@pytest.fixture(scope="session")
def digits() -> LabelingData:
    return load_digits_objects()


@pytest.fixture
def workforce() -> Workforce:
    return Workforce.simulate(5, seed=0)


@pytest.fixture
def perfect_workforce() -> Workforce:
    return Workforce([Worker(f"w{i}", 1.0, 0.01 * (i + 1)) for i in range(3)], seed=0)


@pytest.fixture
def job_kwargs(digits: LabelingData, workforce: Workforce) -> dict:
    """Arguments of a small, quiet digits labeling job."""
    return {
        "workforce": workforce,
        "labeling_job_name": "digits",
        "label_attribute_name": "digit",
        "class_names": digits.class_names,
        "initial_sample_size": 180,
        "batch_size": 90,
        "progress": False,
    }
