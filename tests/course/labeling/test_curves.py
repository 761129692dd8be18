"""Learning curves and labels needed to reach a target accuracy."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from course.labeling import labels_to_reach, learning_curve


@pytest.fixture(scope="module")
def split(digits):
    return train_test_split(digits.X, digits.y, test_size=0.3, random_state=0, stratify=digits.y)


def test_curve_covers_every_strategy_seed_and_step(split, strategies):
    X_pool, X_test, y_pool, y_test = split
    curve = learning_curve(X_pool, y_pool, X_test, y_test, strategies=strategies, seeds=[0, 1],
                           initial_size=20, batch_size=20, max_labels=80, progress=False)  # fmt: skip
    assert list(curve.columns) == ["strategy", "seed", "n_labels", "accuracy"]
    assert len(curve) == 4 * 2 * 4
    assert (
        curve.groupby(["strategy", "seed"])["n_labels"]
        .apply(list)
        .map(lambda steps: steps == [20, 40, 60, 80])
        .all()
    )
    assert curve["accuracy"].between(0, 1).all()
    first = curve[curve["n_labels"] == 20].groupby("seed")["accuracy"].nunique()
    assert (first == 1).all(), "every strategy starts from the same initial sample"


def test_custom_strategy_in_curve(split):
    X_pool, X_test, y_pool, y_test = split
    curve = learning_curve(X_pool, y_pool, X_test, y_test,
                           strategies={"first": lambda proba, n: np.arange(n)},
                           seeds=[0], initial_size=10, batch_size=10, max_labels=30,
                           progress=False)  # fmt: skip
    assert curve["strategy"].unique().tolist() == ["first"]


def test_labels_to_reach_takes_the_first_step_at_target():
    curve = pd.DataFrame({"strategy": ["a", "a", "a", "b", "b"], "seed": [0] * 5,
                          "n_labels": [10, 20, 30, 10, 20],
                          "accuracy": [0.8, 0.9, 0.95, 0.5, 0.6]})  # fmt: skip
    reached = labels_to_reach(curve, 0.9)
    assert reached["n_labels"].tolist()[0] == 20.0
    assert np.isnan(reached["n_labels"].tolist()[1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"strategies": ["best"]}, "unknown strategy 'best'"),
        ({"strategies": ["random", "margin"]}, "'margin' is not built in"),
        ({"initial_size": 0}, "initial_size"),
        ({"batch_size": 0}, "batch_size"),
        ({"seeds": []}, "at least one strategy and one seed"),
    ],
)
def test_bad_curve_input(split, kwargs, message):
    X_pool, X_test, y_pool, y_test = split
    with pytest.raises(ValueError, match=message):
        learning_curve(X_pool, y_pool, X_test, y_test, progress=False, **{"strategies": ["random"], **kwargs})


def test_empty_pool(split):
    _, X_test, _, y_test = split
    with pytest.raises(ValueError, match="pool is empty"):
        learning_curve(np.zeros((0, 64)), np.zeros(0, int), X_test, y_test, strategies=["random"],
                       progress=False)  # fmt: skip
