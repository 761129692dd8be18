import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from course.datasets import (
    load_digits_frame,
    make_credit_applicants,
    make_tabular,
    train_test_split_frame,
)


def test_load_digits_frame_matches_scikit_learn():
    frame = load_digits_frame()
    digits = load_digits()
    assert frame.shape == (1797, 65)
    assert frame.columns[0] == "pixel_0_0" and frame.columns[-1] == "label"
    np.testing.assert_array_equal(frame.drop(columns="label").to_numpy(), digits.data)
    np.testing.assert_array_equal(frame["label"].to_numpy(), digits.target)


@pytest.mark.parametrize("make", [make_tabular, make_credit_applicants])
def test_same_seed_same_table_other_seed_other_table(make):
    pd.testing.assert_frame_equal(make(200, seed=3), make(200, seed=3))
    assert not make(200, seed=3).equals(make(200, seed=4))


@pytest.mark.parametrize("make", [make_tabular, make_credit_applicants])
@pytest.mark.parametrize(
    ("n_samples", "error", "message"),
    [(0, ValueError, "at least 1"), (-5, ValueError, "at least 1"), (2.5, TypeError, "an int")],
)
def test_bad_n_samples(make, n_samples, error, message):
    with pytest.raises(error, match=message):
        make(n_samples, seed=0)


def test_make_tabular_columns_and_types():
    frame = make_tabular(50, seed=0)
    assert list(frame.columns) == [f"x{i}" for i in range(8)] + ["label"]
    assert (frame.dtypes.iloc[:8] == np.float64).all()
    assert frame["label"].dtype == np.int64
    assert set(frame["label"]) == {0, 1}


def test_make_credit_applicants_columns_and_ranges():
    frame = make_credit_applicants(1000, seed=0)
    assert list(frame.columns) == ["age", "gender", "income", "loan_amount", "label"]
    assert frame["age"].between(18, 75).all()
    assert set(frame["gender"]) == {"female", "male"}
    assert (frame["income"] > 0).all()
    assert (frame["loan_amount"] <= frame["income"]).all()
    assert set(frame["label"]) == {0, 1}
    assert frame["label"].dtype == np.int64


def approval_gap(frame: pd.DataFrame) -> float:
    rates = frame.groupby("gender")["label"].mean()
    return rates["male"] - rates["female"]


def test_bias_controls_the_approval_gap():
    assert approval_gap(make_credit_applicants(20_000, seed=0, bias=1.0)) > 0.1
    assert abs(approval_gap(make_credit_applicants(20_000, seed=0, bias=0.0))) < 0.03


@pytest.mark.parametrize("test_size", [0.2, 0.5])
def test_split_is_disjoint_complete_and_stratified(test_size):
    frame = make_credit_applicants(1000, seed=0)
    train, test = train_test_split_frame(frame, test_size=test_size, seed=0)
    assert len(test) == round(test_size * len(frame))
    assert sorted(train.index.append(test.index)) == list(frame.index)
    assert train["label"].mean() == pytest.approx(frame["label"].mean(), abs=0.01)
    pd.testing.assert_frame_equal(test, frame.loc[test.index])


def test_split_same_seed_same_split():
    frame = make_tabular(100, seed=0)
    first = train_test_split_frame(frame, seed=1, stratify=None)
    second = train_test_split_frame(frame, seed=1, stratify=None)
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_split_with_missing_stratify_column_says_what_to_do():
    with pytest.raises(ValueError, match="stratify=None"):
        train_test_split_frame(make_tabular(10, seed=0), seed=0, stratify="target")
