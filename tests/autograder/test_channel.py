"""The data-only channel: plain data round-trips exactly; nothing else crosses."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograder.channel import ChannelClosed, ChannelTimeout, NotData, Reader, decode, encode, send

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text() | st.binary()
keys = st.none() | st.booleans() | st.integers() | st.text() | st.binary()
data = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=20,
)


def roundtrip(value):
    return decode(*encode(value))


def same(a, b) -> bool:
    """Equal, with exactly the same types all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


@given(data)
def test_plain_data_roundtrips_with_exact_types(value):
    assert same(roundtrip(value), value)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6, dtype=np.int8).reshape(2, 3),
        np.array([0.5, np.nan, -np.inf]),
        np.array([True, False]),
        np.zeros((0, 3), dtype=np.uint16),
        np.array([1 + 2j], dtype=np.complex64),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.arange(10)[::3],
    ],
)
def test_arrays_keep_dtype_shape_and_values(array):
    back = roundtrip(array)
    assert type(back) is np.ndarray and back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


@pytest.mark.parametrize("scalar", [np.float64(2.5), np.int32(-3), np.bool_(True), np.uint8(200)])
def test_numpy_scalars_keep_their_type(scalar):
    back = roundtrip(scalar)
    assert type(back) is type(scalar) and back == scalar


def test_dataframes_and_series():
    frame = pd.DataFrame(
        {"x": [1, 2, 3], "y": [0.5, None, 2.0], "name": ["a", None, "c"], "ok": [True, False, True]},
        index=[10, 20, 30],
    )
    frame["when"] = pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"])
    pd.testing.assert_frame_equal(roundtrip(frame), frame)
    series = pd.Series([1.5, 2.5], index=["a", "b"], name="score")
    back = roundtrip(series)
    assert type(back) is pd.Series
    pd.testing.assert_series_equal(back, series)


class Liar(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class Anything:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (Liar(3), "Liar"),
        (Anything(), "Anything"),
        ([1, Liar(2)], "Liar"),
        ({"a": Anything()}, "Anything"),
        (np.array([1, 2]).view(type("Sub", (np.ndarray,), {})), "Sub"),
        (np.array(["a", "b"]), "dtype <U1"),
        (np.array([object()], dtype=object), "dtype object"),
        (lambda: 1, "function"),
        ({1, 2}, "set"),
        (pd.DataFrame({"x": [Anything()]}), "DataFrame"),
    ],
)
def test_everything_else_is_refused_naming_its_type(value, name):
    with pytest.raises(NotData, match=name):
        encode(value)


def test_deep_nesting_is_refused():
    value: list = []
    for _ in range(200):
        value = [value]
    with pytest.raises(NotData, match="nested"):
        encode(value)


@pytest.mark.parametrize(
    "header",
    [
        {"ndarray": 0, "dtype": "O", "shape": [1]},
        {"ndarray": 0, "dtype": "<f8", "shape": [3]},  # the buffer holds one float, not three
        {"ndarray": 5, "dtype": "<f8", "shape": [1]},
        {"ndarray": 0, "dtype": "<f8", "shape": [-1]},
        {"scalar": 0, "dtype": "<i4"},
        {"pickle": 0},
        {"int": 7},
        {"dict": [[{"list": []}, 1]]},  # an unhashable key
        {"dataframe": 0},
        [1, 2],
    ],
)
def test_malformed_data_is_a_value_error(header):
    with pytest.raises(ValueError, match="malformed"):
        decode(header, [np.float64(1.0).tobytes()])


def test_frames_over_a_pipe():
    read, write = os.pipe()
    with os.fdopen(write, "wb") as out:
        header, buffers = encode({"x": np.arange(3)})
        send(out, {"value": header}, buffers)
    reader = Reader(read)
    message, buffers = reader.recv()
    assert decode(message["value"], buffers)["x"].tolist() == [0, 1, 2]
    with pytest.raises(ChannelClosed):
        reader.recv()
    os.close(read)


def test_a_frame_announcing_too_many_bytes_is_refused():
    read, write = os.pipe()
    os.write(write, (2**40).to_bytes(8, "big"))
    with pytest.raises(ValueError, match="was refused"):
        Reader(read, max_bytes=1024).recv()
    os.close(read)
    os.close(write)


def test_a_silent_peer_times_out():
    import time

    read, write = os.pipe()
    with pytest.raises(ChannelTimeout):
        Reader(read).recv(time.monotonic() + 0.1)
    os.close(read)
    os.close(write)


def test_send_flushes_one_frame():
    out = io.BytesIO()
    send(out, {"op": "get", "name": "x"})
    assert out.getvalue()[8:].startswith(b'{"op": "get"')
