"""Kernel SHAP against exact Shapley values, additivity, aggregation and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from course.clarify import exact_shapley, kernel_shap, kmeans_baseline


@pytest.fixture(scope="module")
def model_and_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = (X[:, 0] + X[:, 1] * X[:, 2] - 0.5 * X[:, 3] + rng.normal(scale=0.3, size=300) > 0).astype(int)
    model = GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0).fit(X, y)
    return (lambda A: model.predict_proba(A)[:, 1]), X


def test_default_budget_is_exact_for_six_features(model_and_data):
    predict, X = model_and_data
    baseline = kmeans_baseline(X, num_clusters=5, seed=0)
    result = kernel_shap(predict, X[:4], baseline=baseline)
    for row in range(4):
        np.testing.assert_allclose(
            result.shap_values[row], exact_shapley(predict, X[row], baseline), atol=1e-9
        )


def test_small_budget_is_close_and_additive(model_and_data):
    predict, X = model_and_data
    baseline = kmeans_baseline(X, num_clusters=5, seed=0)
    result = kernel_shap(predict, X[:3], baseline=baseline, num_samples=40, seed=1)
    for row in range(3):
        exact = exact_shapley(predict, X[row], baseline)
        assert np.max(np.abs(result.shap_values[row] - exact)) < 0.05
    np.testing.assert_allclose(
        result.shap_values.sum(axis=1), result.predictions - result.expected_value, atol=1e-9
    )


def test_sampling_with_many_features_is_additive_and_seeded():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 12))
    w = rng.normal(size=12)
    predict = lambda A: np.tanh(A @ w)  # noqa: E731
    first = kernel_shap(predict, X[:2], baseline=X[5:10], num_samples=300, seed=3)
    again = kernel_shap(predict, X[:2], baseline=X[5:10], num_samples=300, seed=3)
    np.testing.assert_array_equal(first.shap_values, again.shap_values)
    np.testing.assert_allclose(
        first.shap_values.sum(axis=1), first.predictions - first.expected_value, atol=1e-9
    )
    exact = exact_shapley(predict, X[0], X[5:10])
    assert np.max(np.abs(first.shap_values[0] - exact)) < 0.1


def test_linear_model_has_closed_form():
    X = np.array([[1.0, 2.0, 3.0, 4.0]])
    baseline = np.array([[0.0, 1.0, 1.0, 0.0], [2.0, 1.0, 3.0, 0.0]])
    coef = np.array([1.0, -2.0, 0.5, 3.0])
    result = kernel_shap(lambda A: A @ coef, X, baseline=baseline)
    np.testing.assert_allclose(result.shap_values[0], coef * (X[0] - baseline.mean(axis=0)), atol=1e-12)


def test_global_aggregations():
    values = np.array([[1.0, -2.0], [-3.0, 2.0], [2.0, 0.0]])
    from course.clarify import ShapResult

    result = ShapResult(values, 0.0, np.zeros(3))
    assert result.global_shap() == {"feature_0": 2.0, "feature_1": pytest.approx(4 / 3)}
    assert result.global_shap(agg_method="median", feature_names=["a", "b"]) == {"a": 1.0, "b": 0.0}
    assert result.global_shap(agg_method="mean_sq", feature_names=["a", "b"]) == {
        "a": pytest.approx(14 / 3),
        "b": 8 / 3,
    }
    with pytest.raises(ValueError, match="agg_method"):
        result.global_shap(agg_method="max")


def test_input_not_modified_and_errors(model_and_data):
    predict, X = model_and_data
    X_small = X[:2].copy()
    kernel_shap(predict, X_small, num_clusters=3)
    np.testing.assert_array_equal(X_small, X[:2])
    with pytest.raises(ValueError, match="baseline has 2 features"):
        kernel_shap(predict, X[:1], baseline=np.zeros((1, 2)))
    with pytest.raises(ValueError, match="num_samples"):
        kernel_shap(predict, X[:1], baseline=X[:3], num_samples=3)
    with pytest.raises(ValueError, match="finite"):
        kernel_shap(predict, np.full((1, 6), np.nan))
    with pytest.raises(ValueError, match="one number per row"):
        kernel_shap(lambda A: A, X[:1], baseline=X[:2])
