"""Query strategies by name or as the student's own callables."""

import numpy as np
import pytest

from course.labeling import STRATEGY_NAMES, select_batch, uncertainty_strategy
from course.labeling.strategies import resolve_strategy

PROBA = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [1.0, 0.0]])


@pytest.mark.parametrize("name", ["least_confidence", "margin", "entropy"])
def test_solution_uncertainty_strategies_pick_the_most_uncertain(strategies, name):
    np.testing.assert_array_equal(select_batch(strategies[name], PROBA, 2), [0, 2])


def test_random_strategy_is_seeded_and_valid():
    picks = [select_batch(resolve_strategy("random", seed=4), PROBA, 3) for _ in range(2)]
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
    assert STRATEGY_NAMES == ("random",)
    with pytest.raises(ValueError, match="unknown strategy 'max'; use 'random', or pass a callable"):
        resolve_strategy("max")


@pytest.mark.parametrize("name", ["least_confidence", "margin", "entropy"])
def test_graded_strategies_are_not_built_in_and_say_what_to_pass(name):
    with pytest.raises(
        ValueError, match=rf"'{name}' is not built in: .*strategy=uncertainty_strategy\(score, select\)"
    ):
        resolve_strategy(name)


def test_strategy_of_another_type_is_a_type_error():
    with pytest.raises(TypeError, match="'random' or a callable strategy"):
        resolve_strategy(None)


@pytest.mark.parametrize(
    "strategy, n, proba, message",
    [
        (lambda p, n: np.arange(n), 5, PROBA, "larger than the unlabeled pool"),
        (lambda p, n: np.arange(n), 1, np.zeros((0, 2)), "pool is empty"),
        (lambda p, n: np.arange(n), 0, PROBA, ">= 1"),
        (lambda p, n: np.array([0, 9]), 2, PROBA, "outside the pool"),
        (lambda p, n: np.array([1, 1]), 2, PROBA, "same index twice"),
        (lambda p, n: np.array([0.0, 1.0]), 2, PROBA, "integer indices"),
        ("random", 2, PROBA, "must be a callable"),
        (lambda p, n: np.arange(n), 1, np.array([0.5, 0.5]), "2-D"),
        (lambda p, n: np.arange(n), 1, np.array([[0.5, 0.6]]), "sum to 1"),
        (lambda p, n: np.arange(n), 1, np.array([[1.5, -0.5]]), "non-negative"),
        (lambda p, n: np.arange(n), 1, np.array([[np.nan, 1.0]]), "finite"),
        (lambda p, n: np.arange(n), 1, np.zeros((2, 0)), "no class columns"),
    ],
)
def test_bad_strategy_use(strategy, n, proba, message):
    with pytest.raises(ValueError, match=message):
        select_batch(strategy, proba, n)
