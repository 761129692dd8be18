"""Reference uncertainty scores and top-k selection (private helpers of the job)."""

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course.labeling import _reference

SCORES = [_reference.least_confidence, _reference.margin, _reference.entropy]


@st.composite
def probas(draw, min_classes=1, max_classes=8):
    """Probability matrices, including exact zeros, ones and ties."""
    n_samples = draw(st.integers(1, 12))
    n_classes = draw(st.integers(min_classes, max_classes))
    weights = draw(
        arrays(
            float,
            (n_samples, n_classes),
            elements=st.sampled_from([0.0, 0.5, 1.0, 2.0]) | st.floats(0.0, 10.0),
        )
    )
    weights[:, 0] += weights.sum(axis=1) == 0
    return weights / weights.sum(axis=1, keepdims=True)


@settings(max_examples=150, deadline=None)
@given(probas())
def test_least_confidence_and_margin_are_in_unit_interval(proba):
    for score in (_reference.least_confidence, _reference.margin):
        values = score(proba)
        assert values.shape == (proba.shape[0],)
        assert np.all(values >= -1e-12) and np.all(values <= 1 + 1e-12)


@settings(max_examples=150, deadline=None)
@given(probas())
def test_entropy_is_in_zero_log_k(proba):
    values = _reference.entropy(proba)
    assert np.all(values >= 0)
    assert np.all(values <= math.log(proba.shape[1]) + 1e-9)


@settings(max_examples=150, deadline=None)
@given(probas(), st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_class_order(proba, random):
    order = list(range(proba.shape[1]))
    random.shuffle(order)
    for score in SCORES:
        np.testing.assert_allclose(score(proba[:, order]), score(proba), atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(probas(min_classes=2))
def test_entropy_matches_scipy(proba):
    expected = np.array([scipy.stats.entropy(row) for row in proba])
    np.testing.assert_allclose(_reference.entropy(proba), expected, atol=1e-10)


@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_uniform_rows_are_most_uncertain(n_classes):
    proba = np.full((1, n_classes), 1 / n_classes)
    np.testing.assert_allclose(_reference.least_confidence(proba), [1 - 1 / n_classes])
    np.testing.assert_allclose(_reference.margin(proba), [1.0])
    np.testing.assert_allclose(_reference.entropy(proba), [math.log(n_classes)])


def test_one_hot_rows_score_zero_without_nan():
    proba = np.eye(4)
    for score in SCORES:
        values = score(proba)
        assert not np.any(np.isnan(values))
        np.testing.assert_allclose(values, np.zeros(4), atol=1e-12)


def test_argmax_tie_has_full_margin_score():
    proba = np.array([[0.4, 0.4, 0.2], [0.6, 0.3, 0.1]])
    np.testing.assert_allclose(_reference.margin(proba), [1.0, 0.7])
    np.testing.assert_allclose(_reference.least_confidence(proba), [0.6, 0.4])


def test_single_class_and_empty_inputs():
    np.testing.assert_allclose(_reference.margin(np.ones((2, 1))), [0.0, 0.0])
    for score in SCORES:
        assert score(np.zeros((0, 3))).shape == (0,)


@pytest.mark.parametrize(
    "proba, message",
    [
        (np.array([0.5, 0.5]), "2-D"),
        (np.array([[0.5, 0.6]]), "sum to 1"),
        (np.array([[1.5, -0.5]]), "non-negative"),
        (np.array([[np.nan, 1.0]]), "finite"),
        (np.zeros((2, 0)), "no class columns"),
    ],
)
def test_bad_proba_is_a_clear_error(proba, message):
    for score in SCORES:
        with pytest.raises(ValueError, match=message):
            score(proba)


def test_top_k_picks_highest_scores_ties_by_smaller_index():
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.5])
    np.testing.assert_array_equal(_reference.top_k(scores, 3), [1, 3, 2])


def test_top_k_skips_labeled_objects():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    labeled = np.array([True, False, True, False])
    np.testing.assert_array_equal(_reference.top_k(scores, 2, labeled=labeled), [1, 3])


@settings(max_examples=100, deadline=None)
@given(
    arrays(float, st.integers(1, 30), elements=st.sampled_from([0.0, 0.25, 0.5, 1.0])),
    st.data(),
)
def test_top_k_matches_sorting_oracle(scores, data):
    labeled = data.draw(arrays(bool, scores.shape))
    n_pool = int((~labeled).sum())
    if n_pool == 0:
        return
    k = data.draw(st.integers(1, n_pool))
    expected = sorted(np.flatnonzero(~labeled), key=lambda i: (-scores[i], i))[:k]
    np.testing.assert_array_equal(_reference.top_k(scores, k, labeled=labeled), expected)


@pytest.mark.parametrize(
    "scores, k, labeled, message",
    [
        (np.array([0.1, 0.2]), 3, None, "larger than the unlabeled pool"),
        (np.array([0.1, 0.2]), 0, None, ">= 1"),
        (np.array([0.1, 0.2]), 1, np.array([True, True]), "pool is empty"),
        (np.zeros(0), 1, None, "pool is empty"),
        (np.array([0.1, np.nan]), 1, None, "NaN"),
        (np.array([0.1, 0.2]), 1, np.array([True]), "labeled mask"),
    ],
)
def test_top_k_errors(scores, k, labeled, message):
    with pytest.raises(ValueError, match=message):
        _reference.top_k(scores, k, labeled=labeled)
