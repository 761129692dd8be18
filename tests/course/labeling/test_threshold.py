"""The solution's auto-labeling threshold (assignment 01) against a brute-force oracle."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays


def brute_force_threshold(confidence, correct, target):
    """Try every validation confidence; keep the smallest whose auto-labels meet the target."""
    meeting = [t for t in set(confidence.tolist()) if correct[confidence >= t].mean() >= target - 1e-12]
    return min(meeting) if meeting else math.inf


@settings(max_examples=300, deadline=None)
@given(
    case=st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            arrays(float, n, elements=st.sampled_from([0.3, 0.5, 0.7, 0.9, 0.95, 1.0])),
            arrays(bool, n),
        )
    ),
    target=st.sampled_from([0.5, 0.8, 0.9, 0.95, 1.0]),
)
def test_threshold_matches_brute_force(solution, case, target):
    confidence, correct = case
    chosen = solution["choose_threshold"](confidence, correct, target_accuracy=target)
    assert type(chosen) is float
    assert chosen == brute_force_threshold(confidence, correct, target)


def test_all_correct_auto_labels_everything(solution):
    confidence = np.array([0.4, 0.9, 0.6])
    assert solution["choose_threshold"](confidence, np.ones(3, bool)) == 0.4


def test_no_threshold_meets_target_returns_inf(solution):
    confidence = np.array([0.99, 0.9, 0.6])
    correct = np.array([False, True, True])
    assert solution["choose_threshold"](confidence, correct) == math.inf


def test_equal_confidences_are_taken_together(solution):
    choose_threshold = solution["choose_threshold"]
    confidence = np.array([0.9, 0.9, 0.8])
    correct = np.array([True, False, True])
    assert choose_threshold(confidence, correct, target_accuracy=0.6) == 0.8
    assert choose_threshold(confidence, correct, target_accuracy=0.7) == math.inf


@pytest.mark.parametrize(
    "confidence, correct, target, message",
    [
        (np.zeros(0), np.zeros(0, bool), 0.95, "confidence and correct are empty"),
        (np.array([0.5, 0.6]), np.array([True]), 0.95, "same length"),
        (np.array([0.5]), np.array([True]), 0.0, "target_accuracy"),
        (np.array([0.5]), np.array([True]), 1.5, "target_accuracy"),
    ],
)
def test_threshold_errors(solution, confidence, correct, target, message):
    with pytest.raises(ValueError, match=message):
        solution["choose_threshold"](confidence, correct, target_accuracy=target)
