"""Small offline datasets shared by the lifecycle stages.

Everything here is bundled with scikit-learn or generated from a seed, so the
notebooks run without a network connection, and the same seed always gives the
same table.

Examples
--------
>>> digits = load_digits_frame()
>>> digits.shape
(1797, 65)
>>> applicants = make_credit_applicants(500, seed=0)
>>> list(applicants.columns)
['age', 'gender', 'income', 'loan_amount', 'label']
>>> train, test = train_test_split_frame(applicants, test_size=0.2, seed=0)
>>> len(train), len(test)
(400, 100)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits, make_classification
from sklearn.model_selection import train_test_split

__all__ = [
    "load_digits_frame",
    "make_credit_applicants",
    "make_tabular",
    "train_test_split_frame",
]


def _check_n_samples(n_samples: int) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        raise TypeError(f"n_samples must be an int, got {type(n_samples).__name__}")
    if n_samples < 1:
        raise ValueError(f"n_samples ({n_samples}) must be at least 1")


def load_digits_frame() -> pd.DataFrame:
    """Load scikit-learn's bundled 8x8 handwritten digits as a DataFrame.

    Returns
    -------
    pandas.DataFrame
        1,797 rows: 64 pixel columns ``pixel_<row>_<col>`` with intensities
        0-16, and ``label``, the digit 0-9.

    Examples
    --------
    >>> digits = load_digits_frame()
    >>> images = digits.filter(like="pixel_").to_numpy().reshape(-1, 8, 8)
    >>> images.shape
    (1797, 8, 8)
    >>> sorted(digits["label"].unique().tolist())
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    frame = load_digits(as_frame=True).frame
    return frame.rename(columns={"target": "label"})


def make_tabular(n_samples: int, *, seed: int) -> pd.DataFrame:
    """Generate a binary classification table with eight numeric features.

    A seeded wrapper around :func:`sklearn.datasets.make_classification`: four
    features are informative, four are noise.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    seed : int
        Random seed; the same seed gives the same table.

    Returns
    -------
    pandas.DataFrame
        Float columns ``x0`` to ``x7`` and an int column ``label`` (0 or 1).

    Examples
    --------
    >>> frame = make_tabular(100, seed=0)
    >>> frame.shape
    (100, 9)
    >>> frame.equals(make_tabular(100, seed=0))
    True
    """
    _check_n_samples(n_samples)
    X, y = make_classification(
        n_samples=n_samples, n_features=8, n_informative=4, n_redundant=0, random_state=seed
    )
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["label"] = y
    return frame


def make_credit_applicants(n_samples: int, *, seed: int, bias: float = 1.0) -> pd.DataFrame:
    """Generate a synthetic table of credit applicants with a sensitive attribute.

    About 40% of applicants are female.  Approval is drawn from a logistic
    model: higher income and a smaller loan relative to income raise the
    chance, and being female lowers the log-odds by ``bias``.  A model trained
    on this table therefore learns a bias that Clarify's metrics can measure.

    Parameters
    ----------
    n_samples : int
        Number of applicants.
    seed : int
        Random seed; the same seed gives the same table.
    bias : float, default 1.0
        How much being female lowers the log-odds of approval; 0 makes the
        label independent of gender given the other columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``age`` (int, 18-75), ``gender`` ("female" or "male"),
        ``income`` and ``loan_amount`` (float, whole dollars per year), and
        ``label`` (int, 1 = approved).

    Examples
    --------
    >>> applicants = make_credit_applicants(2000, seed=0)
    >>> rates = applicants.groupby("gender")["label"].mean()
    >>> bool(rates["female"] < rates["male"])
    True
    """
    _check_n_samples(n_samples)
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 76, size=n_samples)
    female = rng.random(n_samples) < 0.4
    income = np.round(np.exp(rng.normal(np.log(35_000) + 0.015 * (age - 18), 0.4)))
    loan_amount = np.round(income * rng.uniform(0.1, 1.0, size=n_samples))
    logit = (
        0.5
        + 1.5 * np.log(income / 40_000)
        - 3.0 * (loan_amount / income - 0.5)
        + 0.02 * (age - 40)
        - bias * female
    )
    label = (rng.random(n_samples) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "age": age,
            "gender": np.where(female, "female", "male"),
            "income": income,
            "loan_amount": loan_amount,
            "label": label,
        }
    )


def train_test_split_frame(
    frame: pd.DataFrame, *, test_size: float = 0.2, seed: int, stratify: str | None = "label"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a DataFrame into a training and a test part, keeping the row index.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to split.
    test_size : float, default 0.2
        Fraction of rows that go to the test part.
    seed : int
        Random seed; the same seed gives the same split.
    stratify : str or None, default "label"
        Column whose class proportions both parts keep; None splits at random.

    Returns
    -------
    train, test : pandas.DataFrame
        Disjoint row subsets of ``frame``.

    Examples
    --------
    >>> frame = make_tabular(10, seed=0)
    >>> train, test = train_test_split_frame(frame, test_size=0.2, seed=0)
    >>> sorted(train.index.tolist() + test.index.tolist()) == list(range(10))
    True
    """
    if stratify is not None and stratify not in frame.columns:
        raise ValueError(
            f"stratify column {stratify!r} is not in the frame (columns: {list(frame.columns)}); "
            "pass stratify=None to split without stratifying"
        )
    train, test = train_test_split(
        frame,
        test_size=test_size,
        random_state=seed,
        stratify=None if stratify is None else frame[stratify],
    )
    return train, test
