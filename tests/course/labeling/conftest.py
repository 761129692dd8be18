"""Shared fixtures for the labeling tests.

The package ships no answer to a graded exercise: the tests get the
instructor's from the source notebook of assignment 01 (samples/solutions.py).
"""

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from course.labeling import LabelingData, Worker, Workforce, load_digits_objects, uncertainty_strategy
from course.labeling.strategies import QueryStrategy

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "samples"))
from solutions import solution_namespace  # noqa: E402

UNCERTAINTY_SCORES = ("least_confidence", "margin", "entropy")


@pytest.fixture(scope="session")
def solution() -> dict[str, Any]:
    """The solution cells of assignment 01, run once per session."""
    return solution_namespace("01_labeling")


@pytest.fixture(scope="session")
def strategies(solution: dict[str, Any]) -> dict[str, str | QueryStrategy]:
    """The built-in ``"random"`` and the solution's uncertainty scores with its top-k selection."""
    select_top_k = solution["select_top_k"]

    def top_k_of_pool(scores: np.ndarray, n_instances: int) -> np.ndarray:
        return select_top_k(scores, n_instances, np.zeros(len(scores), dtype=bool))

    composed = {name: uncertainty_strategy(solution[name], top_k_of_pool) for name in UNCERTAINTY_SCORES}
    return {"random": "random", **composed}


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
def job_kwargs(digits: LabelingData, workforce: Workforce, solution: dict, strategies: dict) -> dict:
    """Arguments of a small, quiet digits labeling job with the solution's decisions plugged in."""
    return {
        "workforce": workforce,
        "labeling_job_name": "digits",
        "label_attribute_name": "digit",
        "class_names": digits.class_names,
        "strategy": strategies["margin"],
        "consolidation": solution["majority_vote"],
        "threshold": solution["choose_threshold"],
        "initial_sample_size": 180,
        "batch_size": 90,
        "progress": False,
    }
