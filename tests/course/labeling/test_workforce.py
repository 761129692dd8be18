"""The simulated workforce."""

import numpy as np
import pytest

from course.labeling import MISSING, Worker, Workforce


def test_same_seed_same_answers():
    truth = np.arange(50) % 4
    first = Workforce.simulate(5, seed=3).annotate(truth, n_classes=4)
    second = Workforce.simulate(5, seed=3).annotate(truth, n_classes=4)
    np.testing.assert_array_equal(first.answers, second.answers)
    assert first.cost == second.cost


def test_each_object_gets_distinct_workers_and_is_billed_per_answer():
    workforce = Workforce.simulate(6, seed=0)
    batch = workforce.annotate(np.zeros(40, dtype=int), n_classes=3, workers_per_object=4)
    asked = batch.answers != MISSING
    assert asked.sum(axis=1).tolist() == [4] * 40
    assert batch.cost == pytest.approx((asked * workforce.cost_per_label).sum())


def test_workers_are_right_about_as_often_as_their_accuracy():
    team = [Worker("good", 0.9, 0.05), Worker("poor", 0.6, 0.01)]
    truth = np.random.default_rng(0).integers(0, 5, size=4000)
    answers = Workforce(team, seed=0).annotate(truth, n_classes=5, workers_per_object=2).answers
    np.testing.assert_allclose((answers == truth[:, None]).mean(axis=0), [0.9, 0.6], atol=0.03)


def test_mistakes_are_wrong_classes_in_range():
    truth = np.full(500, 2)
    answers = (
        Workforce([Worker("w", 0.0, 0.0)], seed=0)
        .annotate(truth, n_classes=3, workers_per_object=1)
        .answers[:, 0]
    )
    assert set(answers.tolist()) == {0, 1}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Workforce([]), "at least one worker"),
        (lambda: Worker("w", 1.2, 0.1), r"accuracy of w \(1.2\)"),
        (lambda: Worker("w", 0.9, -1), "cost_per_label of w"),
        (lambda: Workforce.simulate(0), "n_workers"),
        (lambda: Workforce.simulate(3, accuracy=(0.9, 0.5)), "low <= high"),
        (
            lambda: Workforce.simulate(2).annotate(
                np.zeros(3, int), n_classes=2, workers_per_object=3
            ),  # fmt: skip
            r"workers_per_object \(3\) must be between 1 and the number of workers \(2\)",
        ),
        (
            lambda: Workforce.simulate(2).annotate(np.array([5]), n_classes=3, workers_per_object=1),
            "class ids",
        ),
        (
            lambda: Workforce.simulate(2).annotate(np.array([0]), n_classes=1, workers_per_object=1),
            "n_classes",
        ),
    ],
)
def test_bad_workforce_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
