"""The solution's uncertainty scores and top-k selection (assignment 01), as properties."""

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays


@pytest.fixture(scope="module")
def scores(solution):
    return [solution["least_confidence"], solution["margin"], solution["entropy"]]


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
@given(proba=probas())
def test_least_confidence_and_margin_are_in_unit_interval(solution, proba):
    for score in (solution["least_confidence"], solution["margin"]):
        values = score(proba)
        assert values.shape == (proba.shape[0],)
        assert np.all(values >= -1e-12) and np.all(values <= 1 + 1e-12)


@settings(max_examples=150, deadline=None)
@given(proba=probas())
def test_entropy_is_in_zero_log_k(solution, proba):
    values = solution["entropy"](proba)
    assert np.all(values >= 0)
    assert np.all(values <= math.log(proba.shape[1]) + 1e-9)


@settings(max_examples=150, deadline=None)
@given(proba=probas(), random=st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_class_order(scores, proba, random):
    order = list(range(proba.shape[1]))
    random.shuffle(order)
    for score in scores:
        np.testing.assert_allclose(score(proba[:, order]), score(proba), atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(proba=probas(min_classes=2))
def test_entropy_matches_scipy(solution, proba):
    expected = np.array([scipy.stats.entropy(row) for row in proba])
    np.testing.assert_allclose(solution["entropy"](proba), expected, atol=1e-10)


@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_uniform_rows_are_most_uncertain(solution, n_classes):
    proba = np.full((1, n_classes), 1 / n_classes)
    np.testing.assert_allclose(solution["least_confidence"](proba), [1 - 1 / n_classes])
    np.testing.assert_allclose(solution["margin"](proba), [1.0])
    np.testing.assert_allclose(solution["entropy"](proba), [math.log(n_classes)])


def test_one_hot_rows_score_zero_without_nan(scores):
    proba = np.eye(4)
    for score in scores:
        values = score(proba)
        assert not np.any(np.isnan(values))
        np.testing.assert_allclose(values, np.zeros(4), atol=1e-12)


def test_argmax_tie_has_full_margin_score(solution):
    proba = np.array([[0.4, 0.4, 0.2], [0.6, 0.3, 0.1]])
    np.testing.assert_allclose(solution["margin"](proba), [1.0, 0.7])
    np.testing.assert_allclose(solution["least_confidence"](proba), [0.6, 0.4])


def test_single_class_and_empty_inputs(solution, scores):
    np.testing.assert_allclose(solution["margin"](np.ones((2, 1))), [0.0, 0.0])
    for score in scores:
        assert score(np.zeros((0, 3))).shape == (0,)


def test_one_sample_and_bad_dimensions(scores):
    for score in scores:
        assert score([0.5, 0.5]).shape == (1,)
        assert score([[1, 0]]).dtype.kind == "f"
        with pytest.raises(ValueError, match="1-D .* or 2-D"):
            score(np.full((2, 2, 2), 0.5))


def test_top_k_picks_highest_scores_ties_by_smaller_index(solution):
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.5])
    np.testing.assert_array_equal(solution["select_top_k"](scores, 3, np.zeros(5, dtype=bool)), [1, 3, 2])


def test_top_k_skips_labeled_objects(solution):
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    labeled = np.array([True, False, True, False])
    np.testing.assert_array_equal(solution["select_top_k"](scores, 2, labeled), [1, 3])


@settings(max_examples=100, deadline=None)
@given(
    scores=arrays(float, st.integers(1, 30), elements=st.sampled_from([0.0, 0.25, 0.5, 1.0])),
    data=st.data(),
)
def test_top_k_matches_sorting_oracle(solution, scores, data):
    labeled = data.draw(arrays(bool, scores.shape))
    n_pool = int((~labeled).sum())
    if n_pool == 0:
        return
    k = data.draw(st.integers(1, n_pool))
    expected = sorted(np.flatnonzero(~labeled), key=lambda i: (-scores[i], i))[:k]
    np.testing.assert_array_equal(solution["select_top_k"](scores, k, labeled), expected)


@pytest.mark.parametrize(
    "scores, k, labeled, message",
    [
        (np.array([0.1, 0.2]), 3, np.zeros(2, dtype=bool), "between 1 and the number of unlabeled"),
        (np.array([0.1, 0.2]), 0, np.zeros(2, dtype=bool), "between 1 and the number of unlabeled"),
        (np.array([0.1, 0.2]), 1, np.array([True, True]), r"unlabeled objects \(0\)"),
        (np.zeros(0), 1, np.zeros(0, dtype=bool), r"unlabeled objects \(0\)"),
        (np.array([0.1, 0.2]), 1, np.array([True]), "same shape"),
    ],
)
def test_top_k_errors(solution, scores, k, labeled, message):
    with pytest.raises(ValueError, match=message):
        solution["select_top_k"](scores, k, labeled)
