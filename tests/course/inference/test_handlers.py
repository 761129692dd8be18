"""The handler contract: default decoders and encoders, user scripts, model artifacts."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course.inference import (
    HandlerError,
    InferenceHandler,
    InvalidInput,
    UnsupportedContentType,
    artifact_members,
    create_model_artifact,
    extract_model_artifact,
    load_handlers,
)
from course.inference.handlers import _decode_large_csv, decode, encode

finite = st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)
matrices = hnp.arrays(
    np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8), elements=finite
)


@given(matrices)
def test_csv_round_trip_matches_pandas(X):
    body = encode(X, "text/csv")
    np.testing.assert_array_equal(decode(body, "text/csv"), X)  # short payloads: Python's float, exact
    expected = pd.read_csv(
        io.BytesIO(body), header=None, dtype=float, float_precision="round_trip"
    ).to_numpy()
    # long payloads: Arrow's reader, exact too
    np.testing.assert_array_equal(_decode_large_csv(body), expected)
    np.testing.assert_array_equal(_decode_large_csv(body), X)


@given(matrices)
def test_json_and_npy_round_trips(X):
    body = encode(X, "application/json")
    assert json.loads(body) == X.tolist()
    np.testing.assert_array_equal(decode(body, "application/json"), X)
    np.testing.assert_array_equal(decode(encode(X, "application/x-npy"), "application/x-npy"), X)


def test_one_record_becomes_one_row_and_parameters_are_ignored():
    np.testing.assert_array_equal(decode(b"[1, 2, 3]", "application/json; charset=utf-8"), [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(decode(b"1,2,3", "text/csv"), [[1.0, 2.0, 3.0]])
    assert encode(np.array(["setosa", "virginica"]), "text/csv") == b"setosa\nvirginica\n"
    assert encode(np.array([[0.25, 0.75]]), "text/csv") == b"0.25,0.75\n"


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [(b"1,2\n3", "text/csv", InvalidInput), (b"1,a", "text/csv", InvalidInput), (b"", "text/csv", InvalidInput),
     (b'{"a": 1}', "application/json", InvalidInput), (b"[[1], [2, 3]]", "application/json", InvalidInput),
     (b'["a"]', "application/json", InvalidInput), (b"\xff", "application/json", InvalidInput),
     (b"not npy", "application/x-npy", InvalidInput), (b"1", "text/plain", UnsupportedContentType),
     (("1,2\n" * 5000 + "1\n").encode(), "text/csv", InvalidInput)],
)  # fmt: skip
def test_malformed_payloads(body, content_type, error):
    with pytest.raises(error) as raised:
        decode(body, content_type)
    assert raised.value.status_code == (415 if error is UnsupportedContentType else 400)


def test_unsupported_accept():
    with pytest.raises(UnsupportedContentType, match="accept type"):
        encode(np.array([1]), "application/xml")


def _handler(tmp_path, s3, model, script=None) -> InferenceHandler:
    uri = create_model_artifact(model, "s3://models/h/model.tar.gz", inference_script=script, s3=s3)
    return InferenceHandler(extract_model_artifact(uri, tmp_path / "model", s3=s3))


def test_default_handlers_serve_a_scikit_learn_model(tmp_path, s3, model, iris):
    X, _ = iris
    handler = _handler(tmp_path, s3, model)
    body, content_type = handler.invoke(encode(X, "text/csv"), "text/csv", "*/*")
    assert content_type == "application/json"
    assert json.loads(body) == model.predict(X).tolist()


def test_user_handlers_replace_the_defaults(tmp_path, s3, model, iris):
    X, _ = iris
    script = (
        "import json\nimport numpy as np\n"
        "def input_fn(body, content_type):\n    return np.array(json.loads(body)['instances'])\n"
        "def predict_fn(data, model):\n    return model.predict_proba(data)\n"
        "def output_fn(prediction, accept):\n    return json.dumps({'p': prediction.tolist()}), 'application/vnd+json'\n"
    )
    handler = _handler(tmp_path, s3, model, script)
    body, content_type = handler.invoke(
        json.dumps({"instances": X[:3].tolist()}).encode(), "application/json", None
    )
    assert content_type == "application/vnd+json"
    np.testing.assert_allclose(json.loads(body)["p"], model.predict_proba(X[:3]))


def test_transform_fn(tmp_path, s3, model):
    script = "def transform_fn(model, body, content_type, accept):\n    return body[::-1]\n"
    assert _handler(tmp_path, s3, model, script).invoke(b"abc", "text/plain", "text/plain") == (
        b"cba",
        "text/plain",
    )


def test_transform_fn_with_another_handler_is_refused(tmp_path):
    script = tmp_path / "inference.py"
    script.write_text("def transform_fn(m, b, c, a):\n    pass\ndef output_fn(p, a):\n    pass\n")
    with pytest.raises(ValueError, match="transform_fn and output_fn"):
        load_handlers(script)


def test_handler_failures_are_500_with_the_reason(tmp_path, s3, model):
    handler = _handler(tmp_path, s3, model, "def predict_fn(data, model):\n    raise KeyError('feature 7')\n")
    with pytest.raises(HandlerError) as raised:
        handler.invoke(b"1,2,3,4", "text/csv", None)
    assert raised.value.status_code == 500 and "feature 7" in str(raised.value)
    wrong_type = _handler(tmp_path, s3, model, "def output_fn(prediction, accept):\n    return prediction\n")
    with pytest.raises(HandlerError, match="must return bytes or str"):
        wrong_type.invoke(b"1,2,3,4", "text/csv", None)


def test_missing_model_file(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="model.joblib"):
        InferenceHandler(tmp_path / "empty")


def test_artifact_layout_and_bad_archives(s3, model, tmp_path):
    uri = create_model_artifact(model, "s3://models/layout/model.tar.gz", inference_script="# handlers\n",
                                extra_files={"code/requirements.txt": "scikit-learn\n"}, s3=s3)  # fmt: skip
    assert sorted(artifact_members(uri, s3=s3)) == [
        "code/inference.py",
        "code/requirements.txt",
        "model.joblib",
    ]
    with pytest.raises(ValueError, match=r"\.tar\.gz"):
        create_model_artifact(model, "s3://models/layout/model.pkl", s3=s3)
    s3.put_object("s3://models/layout/broken.tar.gz", b"not a tarball")
    with pytest.raises(ValueError, match="not a model.tar.gz"):
        extract_model_artifact("s3://models/layout/broken.tar.gz", tmp_path / "x", s3=s3)


@settings(max_examples=30)
@given(st.lists(st.sampled_from([b"1", b"2.5", b"-3", b"x", b"", b"1e3", b"nan"]), min_size=1, max_size=6))
def test_small_and_large_csv_parsers_agree_on_errors(fields):
    body = b",".join(fields)
    outcomes = []
    for parse in (
        decode,
        lambda b, t: _decode_large_csv(b) if not np.isnan(_decode_large_csv(b)).any() else decode(b, t),
    ):
        try:
            outcomes.append(parse(body, "text/csv").tolist())
        except InvalidInput:
            outcomes.append("invalid")
    assert outcomes[0] == outcomes[1]
