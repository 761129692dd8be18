"""Bias metrics: the definitions on hand-checked data, properties, and clear errors for bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.clarify import (
    POSTTRAINING_METRICS,
    PRETRAINING_METRICS,
    posttraining_bias,
    predicted_labels_from_scores,
    pretraining_bias,
)

CONFIG = {
    "label": "y",
    "label_values_or_threshold": [1],
    "facet_name": "g",
    "facet_values_or_threshold": ["d"],
}


@pytest.fixture
def loans() -> pd.DataFrame:
    # group a: 6 rows, 4 positive labels; group d: 4 rows, 1 positive label
    return pd.DataFrame({
        "g": ["a"] * 6 + ["d"] * 4,
        "x": [0.1, 0.5, 0.3, 0.9, 0.7, 0.2, 0.4, 0.8, 0.6, 0.0],
        "y": [1, 1, 1, 1, 0, 0, 1, 0, 0, 0],
        "y_hat": [1, 1, 1, 0, 1, 0, 0, 0, 1, 0],
        "region": [0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
    })  # fmt: skip


def test_pretraining_by_hand(loans):
    out = pretraining_bias(loans, **CONFIG, methods=["CI", "DPL", "KL", "TVD", "KS", "LP"])
    q_a, q_d = 4 / 6, 1 / 4
    assert out["CI"] == pytest.approx((6 - 4) / 10)
    assert out["DPL"] == pytest.approx(q_a - q_d)
    kl = q_a * math.log(q_a / q_d) + (1 - q_a) * math.log((1 - q_a) / (1 - q_d))
    assert out["KL"] == pytest.approx(kl)
    assert out["TVD"] == pytest.approx(abs(q_a - q_d))  # half of |dq| + |dq|
    assert out["KS"] == pytest.approx(abs(q_a - q_d))
    assert out["LP"] == pytest.approx(math.sqrt(2) * abs(q_a - q_d))


def test_posttraining_by_hand(loans):
    out = posttraining_bias(
        loans, **CONFIG, predicted_label="y_hat", methods=["DPPL", "DI", "RD", "AD", "TE"]
    )
    # a: TP=3 FP=1 FN=1 TN=1; d: TP=0 FP=1 FN=1 TN=2
    assert out["DPPL"] == pytest.approx(4 / 6 - 1 / 4)
    assert out["DI"] == pytest.approx((1 / 4) / (4 / 6))
    assert out["RD"] == pytest.approx(3 / 4 - 0 / 1)
    assert out["AD"] == pytest.approx(4 / 6 - 2 / 4)
    assert out["TE"] == pytest.approx(1 / 1 - 1 / 1)


def test_division_by_zero_gives_infinity(loans):
    loans = loans.assign(y_hat=np.where(loans["g"] == "a", 1, loans["y"]))  # no predicted negative in a
    out = posttraining_bias(loans, **CONFIG, predicted_label="y_hat", methods=["DCR", "DRR"])
    assert out["DCR"] == -math.inf
    loans = loans.assign(y_hat=np.where(loans["g"] == "d", 0, 1))
    assert posttraining_bias(loans, **CONFIG, predicted_label="y_hat", methods=["DI"])["DI"] == 0.0


def test_all_methods_and_group(loans):
    assert list(pretraining_bias(loans, **CONFIG)) == [m for m in PRETRAINING_METRICS if m != "CDDL"]
    with_group = pretraining_bias(loans, **CONFIG, group_name="region")
    assert list(with_group) == list(PRETRAINING_METRICS)
    post = posttraining_bias(loans.drop(columns="region"), **CONFIG, predicted_label="y_hat")
    assert list(post) == [m for m in POSTTRAINING_METRICS if m != "CDDPL"]


def test_numeric_facet_threshold_is_exclusive():
    df = pd.DataFrame({"age": [20.0, 40.0, 40.0, 60.0], "y": ["no", "yes", "yes", "no"]})
    out = pretraining_bias(df, label="y", label_values_or_threshold=["yes"], facet_name="age",
                           facet_values_or_threshold=[40], methods=["CI"])  # fmt: skip
    assert out["CI"] == pytest.approx((3 - 1) / 4)  # only 60 is above 40


def test_input_is_not_modified(loans):
    before = loans.copy()
    posttraining_bias(loans, **CONFIG, predicted_label="y_hat", group_name="region")
    pd.testing.assert_frame_equal(loans, before)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"facet_name": "sex"}, "facet_name 'sex' is not a column"),
        ({"label": "approved"}, "label 'approved' is not a column"),
        ({"facet_values_or_threshold": ["z"]}, "selects no row"),
        ({"facet_values_or_threshold": ["a", "d"]}, "selects every row"),
        ({"label_values_or_threshold": [7]}, "selects no positive outcome"),
        ({"methods": ["XYZ"]}, "unknown metric"),
        ({"methods": ["CDDL"]}, "need group_name"),
        ({"methods": "some"}, "methods must be 'all'"),
    ],
)
def test_bad_input_is_a_clear_error(loans, change, message):
    with pytest.raises(ValueError, match=message):
        pretraining_bias(loans, **{**CONFIG, **change})


def test_posttraining_errors(loans):
    with pytest.raises(ValueError, match="predicted_label 'p' is not a column"):
        posttraining_bias(loans, **CONFIG, predicted_label="p")
    with pytest.raises(ValueError, match="no predicted label"):
        posttraining_bias(loans.assign(y_hat=0), **CONFIG, predicted_label="y_hat")
    with pytest.raises(ValueError, match="FT needs numeric features"):
        posttraining_bias(loans.assign(name="n"), **CONFIG, predicted_label="y_hat", methods=["FT"])
    with pytest.raises(TypeError, match="DataFrame"):
        pretraining_bias(loans.to_dict(), **CONFIG)
    with pytest.raises(ValueError, match="missing values"):
        pretraining_bias(loans.assign(y=loans["y"].where(loans.index > 0)), **CONFIG)


def test_predicted_labels_from_scores():
    assert predicted_labels_from_scores([0.1, 0.5, 0.7]).tolist() == [0, 0, 1]
    assert predicted_labels_from_scores([0.1, 0.5, 0.7], probability_threshold=0.3).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="between 0 and 1"):
        predicted_labels_from_scores([0.1], probability_threshold=2)


rows = st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=4, max_size=60)


@settings(max_examples=60, deadline=None)
@given(rows)
def test_properties_against_brute_force(data):
    facet, y, y_hat = (np.array(col) for col in zip(*data, strict=True))
    if facet.all() or not facet.any() or not y.any() or not y_hat.any():
        return
    df = pd.DataFrame({"g": np.where(facet, "d", "a"), "y": np.where(y, "yes", "no"),
                       "y_hat": np.where(y_hat, "yes", "no"), "x": np.arange(len(facet), dtype=float)})  # fmt: skip
    config = {**CONFIG, "label_values_or_threshold": ["yes"]}
    shared = set(y[facet].tolist()) & set(y[~facet].tolist())
    methods = ["CI", "DPL", "TVD", "KS"] if shared else ["CI", "DPL"]
    pre = pretraining_bias(df, **config, methods=methods)
    n_a, n_d = (~facet).sum(), facet.sum()
    assert pre["CI"] == pytest.approx((n_a - n_d) / len(facet))
    assert pre["DPL"] == pytest.approx(y[~facet].mean() - y[facet].mean())
    if shared:
        assert 0.0 <= pre["TVD"] <= 1.0 and 0.0 <= pre["KS"] <= 1.0
    else:
        with pytest.raises(ValueError, match="share no label value"):
            pretraining_bias(df, **config, methods=["KL"])
    post = posttraining_bias(df, **config, predicted_label="y_hat", methods=["DPPL", "DI", "AD"])
    assert post["DPPL"] == pytest.approx(y_hat[~facet].mean() - y_hat[facet].mean())
    rate_a, rate_d = y_hat[~facet].mean(), y_hat[facet].mean()
    assert post["DI"] == (pytest.approx(rate_d / rate_a) if rate_a else (math.inf if rate_d else 0.0))
    correct = y == y_hat
    assert post["AD"] == pytest.approx(correct[~facet].mean() - correct[facet].mean())
