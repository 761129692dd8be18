"""course.checks: type before value, so an always-equal object never passes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course.checks import check_close, check_equal, check_one_of, check_raises, check_type


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class EqualStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


class EqualArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)


@pytest.mark.parametrize(
    "liar, expected",
    [
        (AlwaysEqual(), "serverless"),
        (AlwaysEqual(), 3),
        (AlwaysEqual(), 0.5),
        (AlwaysEqual(), [1, 2]),
        (EqualStr("nope"), "serverless"),
        (np.array([1.0, 2.0]).view(EqualArray), np.array([5.0, 6.0])),
        ([AlwaysEqual(), 2], [1, 2]),
        ({"a": AlwaysEqual()}, {"a": 1}),
    ],
)
def test_always_equal_objects_fail(liar, expected):
    with pytest.raises(AssertionError):
        check_equal(liar, expected)
    with pytest.raises(AssertionError):
        check_close(liar, expected)


@pytest.mark.parametrize(
    "actual, expected",
    [
        (1, 1.0),  # int is not float
        (True, 1),  # bool is not int
        ((1, 2), [1, 2]),
        ([1, 2], np.array([1, 2])),
        (np.array([1, 2]), np.array([1.0, 2.0])),  # integer vs float dtype
        (np.array([1.0, 2.0]), np.array([[1.0, 2.0]])),  # shape
        (np.float64(0.5), 0.5),  # a NumPy scalar is not a Python float
    ],
)
def test_wrong_types_fail(actual, expected):
    with pytest.raises(AssertionError, match="expected|got"):
        check_equal(actual, expected)


def test_equal_values_pass():
    check_equal("real-time", "real-time")
    check_equal([1, {"b": (2.0, "x")}], [1, {"b": (2.0, "x")}])
    check_equal(np.array([1, 2]), np.array([1, 2]))
    check_equal(math.nan, math.nan)
    check_close(0.1 + 0.2, 0.3)
    check_close(np.array([0.1 + 0.2, math.nan]), np.array([0.3, math.nan]))


def test_close_respects_tolerance():
    with pytest.raises(AssertionError):
        check_close(0.31, 0.3, rtol=1e-3)
    with pytest.raises(AssertionError):
        check_equal(0.1 + 0.2, 0.3)  # exact by default


def test_messages_never_reveal_the_expected_value():
    with pytest.raises(AssertionError) as info:
        check_equal("serverless", "batch transform", what="q3")
    assert "batch transform" not in str(info.value) and "q3" in str(info.value)
    with pytest.raises(AssertionError) as info:
        check_equal(np.array([1.0]), np.array([42.0]))
    assert "42" not in str(info.value)


def test_check_one_of_and_type():
    check_one_of("b", ["a", "b"])
    with pytest.raises(AssertionError):
        check_one_of(EqualStr("zzz"), ["a", "b"])
    check_type(np.zeros(2), np.ndarray)
    with pytest.raises(AssertionError, match="expected a float or int, got a str"):
        check_type("1", (float, int))


def _sqrt(x):
    if x < 0:
        raise ValueError(f"x must be >= 0, got {x}")
    return x**0.5


def _silent(x):
    raise ValueError()


def test_check_raises_passes_on_the_right_error_and_message():
    check_raises(ValueError, _sqrt, -4, mentions=("x", "-4"))


@pytest.mark.parametrize(
    ("function", "arg", "mentions", "message"),
    [
        (_sqrt, 4, (), "sqrt should raise ValueError"),
        (_silent, 1, (), "has no message saying what was wrong"),
        (_sqrt, -1, ("y",), "message does not mention 'y'"),
    ],
)
def test_check_raises_fails(function, arg, mentions, message):
    with pytest.raises(AssertionError, match=message):
        check_raises(ValueError, function, arg, mentions=mentions, what="sqrt")


def test_check_raises_lets_other_errors_through():
    with pytest.raises(TypeError):
        check_raises(ValueError, _sqrt, "a")
