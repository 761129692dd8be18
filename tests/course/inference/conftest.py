"""Shared fixtures for the inference tests: a local S3 store, models and their artifacts."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from course.inference import create_model_artifact
from course.storage import LocalS3

SLOW_SCRIPT = """
import time

def predict_fn(input_data, model):
    time.sleep(float(input_data[0, 0]))
    return model.predict(input_data)
"""

FAILING_SCRIPT = """
def predict_fn(input_data, model):
    raise RuntimeError("the model exploded")
"""


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> LocalS3:
    return LocalS3(tmp_path_factory.mktemp("s3"))


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def model(iris: tuple[np.ndarray, np.ndarray]) -> LogisticRegression:
    X, y = iris
    return LogisticRegression(max_iter=500).fit(X, y)


@pytest.fixture(scope="module")
def model_uri(s3: LocalS3, model: LogisticRegression) -> str:
    return create_model_artifact(model, "s3://models/iris/model.tar.gz", s3=s3)


@pytest.fixture(scope="module")
def proba_uri(s3: LocalS3, model: LogisticRegression) -> str:
    """The same model, answering class probabilities through a custom predict_fn."""
    script = "def predict_fn(input_data, model):\n    return model.predict_proba(input_data)\n"
    return create_model_artifact(model, "s3://models/iris-proba/model.tar.gz", inference_script=script, s3=s3)
