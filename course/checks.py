"""Type-strict checking helpers for the test cells of graded notebooks.

A plain ``assert answer == expected`` is fooled by an object whose ``__eq__``
always returns True.  These helpers compare the exact type first and only then
the value, recursing into lists, tuples, dicts and arrays.

Failure messages describe what was received, never the expected value, so a
message shown in feedback does not give a hidden test's answer away. Each
failure is a :class:`CheckFailed` whose ``hint`` says what was expected in
terms of the expected value's form only (its type, length, keys, shape or
dtype; never the student's answer and never a value), which feedback shows
for a failed check in a visible test.

Examples
--------
>>> check_equal("serverless", "serverless", what="q1")
>>> class Liar(str):
...     def __eq__(self, other):
...         return True
>>> check_equal(Liar("x"), "serverless", what="q1")
Traceback (most recent call last):
...
course.checks.CheckFailed: q1: expected a str, got a Liar
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = ["CheckFailed", "check_close", "check_equal", "check_one_of", "check_raises", "check_type"]


class CheckFailed(AssertionError):
    """A failed check.

    ``hint`` is built from the test's side only (the expected type, length,
    keys, shape or dtype, or the error a call should raise), so it can be shown
    to a student for a visible test: it says what to fix without quoting the
    answer, whose form student code controls.
    """

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _type_name(value: Any) -> str:
    return type(value).__name__


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def check_type(actual: Any, expected_type: type | tuple[type, ...], *, what: str = "answer") -> None:
    """Fail unless ``type(actual)`` is exactly ``expected_type`` (or one of them).

    Subclasses do not pass: a ``str`` subclass could override ``__eq__``.
    ``bool`` is not accepted where ``int`` is expected.

    >>> check_type(3, int)
    >>> check_type(True, int, what="n_labels")
    Traceback (most recent call last):
    ...
    course.checks.CheckFailed: n_labels: expected an int, got a bool
    """
    types = expected_type if isinstance(expected_type, tuple) else (expected_type,)
    if type(actual) not in types:
        wanted = _a(" or ".join(t.__name__ for t in types))
        raise CheckFailed(f"{what}: expected {wanted}, got {_a(_type_name(actual))}", f"expected {wanted}")


def check_one_of(actual: Any, options: Iterable[Any], *, what: str = "answer") -> None:
    """Fail unless ``actual`` is exactly one of ``options`` (same type and value).

    Meant for visible tests: they check that an answer is well-formed without
    revealing which option is right.

    >>> check_one_of("batch transform", ["real-time", "batch transform"])
    >>> check_one_of("Batch", ["real-time", "batch transform"], what="q4")
    Traceback (most recent call last):
    ...
    course.checks.CheckFailed: q4: 'Batch' is not one of the allowed answers: 'real-time', 'batch transform'
    """
    options = list(options)
    for option in options:
        if type(actual) is type(option) and actual == option:
            return
    allowed = ", ".join(repr(o) for o in options)
    raise CheckFailed(
        f"{what}: {actual!r} is not one of the allowed answers: {allowed}", f"expected one of {allowed}"
    )


def check_raises(
    error: type[Exception],
    function: Callable[..., Any],
    *args: Any,
    mentions: Iterable[str] = (),
    what: str = "the call",
    **kwargs: Any,
) -> None:
    """Fail unless ``function(*args, **kwargs)`` raises ``error`` with a message naming each of ``mentions``.

    An exception's message should say what was wrong: an empty message fails,
    and so does one that leaves out any text in ``mentions`` (for example the
    argument's name and the value it got). Other exceptions propagate.

    >>> def sqrt(x):
    ...     if x < 0:
    ...         raise ValueError(f"x must be >= 0, got {x}")
    ...     return x**0.5
    >>> check_raises(ValueError, sqrt, -4, mentions=("x", "-4"))
    >>> check_raises(ValueError, sqrt, 4, what="sqrt(4)")
    Traceback (most recent call last):
    ...
    course.checks.CheckFailed: sqrt(4) should raise ValueError
    >>> check_raises(ValueError, sqrt, -1, mentions=("got -1.0",), what="sqrt(-1)")
    Traceback (most recent call last):
    ...
    course.checks.CheckFailed: sqrt(-1): the ValueError's message does not mention 'got -1.0'
    """
    try:
        function(*args, **kwargs)
    except error as raised:
        message = str(raised)
        if not message.strip():
            raise CheckFailed(
                f"{what}: the {error.__name__} has no message saying what was wrong",
                f"the {error.__name__} should say what was wrong",
            ) from None
        for text in mentions:
            if text not in message:
                raise CheckFailed(
                    f"{what}: the {error.__name__}'s message does not mention {text!r}",
                    f"the {error.__name__}'s message should mention {text!r}",
                ) from None
    else:
        raise CheckFailed(f"{what} should raise {error.__name__}", f"expected {_a(error.__name__)}")


def check_close(
    actual: Any, expected: Any, *, what: str = "answer", rtol: float = 1e-7, atol: float = 0.0
) -> None:
    """Like :func:`check_equal`, but floats and float arrays compare within a tolerance.

    >>> check_close(0.30000000000000004, 0.3)
    >>> check_close(np.array([0.1, 0.2]), np.array([0.1, 0.2 + 1e-12]))
    """
    check_equal(actual, expected, what=what, rtol=rtol, atol=atol)


def check_equal(
    actual: Any, expected: Any, *, what: str = "answer", rtol: float = 0.0, atol: float = 0.0
) -> None:
    """Fail unless ``actual`` has exactly the type of ``expected`` and an equal value.

    Lists, tuples and dicts are compared element by element with the same rule;
    NumPy arrays must be real ``ndarray`` objects of the same shape and dtype
    kind. ``rtol``/``atol`` apply to floats (NaN equals NaN).

    >>> check_equal([1, 2.5], [1, 2.5])
    >>> check_equal({"a": 1}, {"a": 2}, what="counts")
    Traceback (most recent call last):
    ...
    course.checks.CheckFailed: counts['a']: got 1, which is not the expected value
    """
    if isinstance(expected, np.ndarray):
        _check_array(actual, expected, what=what, rtol=rtol, atol=atol)
        return
    check_type(actual, type(expected), what=what)
    if isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise CheckFailed(
                f"{what}: got {len(actual)} items, expected {len(expected)}",
                f"expected {len(expected)} items",
            )
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            check_equal(a, e, what=f"{what}[{i}]", rtol=rtol, atol=atol)
    elif isinstance(expected, dict):
        if set(actual) != set(expected):
            missing = sorted(map(repr, set(expected) - set(actual)))
            extra = sorted(map(repr, set(actual) - set(expected)))
            keys = ", ".join(sorted(map(repr, expected)))
            raise CheckFailed(
                f"{what}: keys differ (missing {missing}, unexpected {extra})", f"expected the keys {keys}"
            )
        for key in expected:
            check_equal(actual[key], expected[key], what=f"{what}[{key!r}]", rtol=rtol, atol=atol)
    elif isinstance(expected, float):
        both_nan = math.isnan(actual) and math.isnan(expected)
        if not both_nan and not math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol):
            raise CheckFailed(f"{what}: got {actual!r}, which is not the expected value", _WRONG_VALUE)
    elif not bool(actual == expected):
        raise CheckFailed(f"{what}: got {actual!r}, which is not the expected value", _WRONG_VALUE)


_WRONG_VALUE = "the type is right; the value is not the expected one"
_DTYPE_KINDS = {
    "b": "booleans",
    "i": "signed integers",
    "u": "unsigned integers",
    "f": "floats",
    "c": "complex numbers",
    "U": "strings",
    "O": "Python objects",
}


def _check_array(actual: Any, expected: np.ndarray, *, what: str, rtol: float, atol: float) -> None:
    check_type(actual, np.ndarray, what=what)
    if actual.shape != expected.shape:
        raise CheckFailed(
            f"{what}: got shape {actual.shape}, expected {expected.shape}",
            f"expected an array of shape {expected.shape}",
        )
    if actual.dtype.kind != expected.dtype.kind:
        kind = _DTYPE_KINDS.get(expected.dtype.kind, f"{expected.dtype.kind!r}-kind")
        raise CheckFailed(
            f"{what}: got dtype {actual.dtype}, expected a {expected.dtype.kind!r}-kind dtype",
            f"expected an array of {kind} (dtype kind {expected.dtype.kind!r})",
        )
    if expected.dtype.kind in "fc":
        ok = np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        ok = np.array_equal(actual, expected)
    if not ok:
        raise CheckFailed(
            f"{what}: array values are not the expected ones",
            f"the shape {expected.shape} and dtype are right; some values are not the expected ones",
        )
