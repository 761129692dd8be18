"""Query strategies by name or as the student's own callables."""

import numpy as np
import pytest

from course.labeling import STRATEGY_NAMES, select_batch, uncertainty_strategy
from course.labeling.strategies import _resolve_strategy

PROBA = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [1.0, 0.0]])


@pytest.mark.parametrize(
    "name, expected",
    [("least_confidence", [0, 2]), ("margin", [0, 2]), ("entropy", [0, 2])],
)
def test_uncertainty_strategies_pick_the_most_uncertain(name, expected):
    np.testing.assert_array_equal(select_batch(_resolve_strategy(name), PROBA, 2), expected)


def test_random_strategy_is_seeded_and_valid():
    picks = [select_batch(_resolve_strategy("random", seed=4), PROBA, 3) for _ in range(2)]
    np.testing.assert_array_equal(picks[0], picks[1])
    assert len(set(picks[0].tolist())) == 3


def test_student_functions_compose_into_a_strategy():
    def confidence_score(proba):
        return 1 - proba.max(axis=1)

    def top(scores, n_instances):
        return np.argsort(-scores, kind="stable")[:n_instances]

    strategy = uncertainty_strategy(confidence_score, top)
    np.testing.assert_array_equal(select_batch(strategy, PROBA, 3), [0, 2, 1])


def test_names_are_listed():
    assert STRATEGY_NAMES == ("random", "least_confidence", "margin", "entropy")
    with pytest.raises(ValueError, match="unknown strategy 'max'; use one of 'random'"):
        _resolve_strategy("max")


@pytest.mark.parametrize(
    "strategy, n, proba, message",
    [
        (lambda p, n: np.arange(n), 5, PROBA, "larger than the unlabeled pool"),
        (lambda p, n: np.arange(n), 1, np.zeros((0, 2)), "pool is empty"),
        (lambda p, n: np.arange(n), 0, PROBA, ">= 1"),
        (lambda p, n: np.array([0, 9]), 2, PROBA, "outside the pool"),
        (lambda p, n: np.array([1, 1]), 2, PROBA, "same index twice"),
        (lambda p, n: np.array([0.0, 1.0]), 2, PROBA, "integer indices"),
        ("entropy", 2, PROBA, "must be a callable"),
    ],
)
def test_bad_strategy_use(strategy, n, proba, message):
    with pytest.raises(ValueError, match=message):
        select_batch(strategy, proba, n)
