"""Where the hosting service runs logic that assignment 04 asks students to write.

Three decisions of the service are exercises of assignment 04: routing a
request to a production variant by weight (Part A, ``route_requests``),
packing a file's records into MultiRecord mini-batches (Part B, used through
``Transformer(mini_batch_fn=...)``) and choosing which models a multi-model
endpoint unloads (Part D, ``choose_evictions``). The service takes the
student's function for each; :func:`plug_in` returns the one given, or the
instructor's reference where the package has it, or raises a ``ValueError``
saying which Part writes the function and how to hand it over.

Functions go to the endpoint's server process pickled by value
(:func:`dump_function`), so a function defined in a notebook works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cloudpickle

try:
    from course.inference._reference import choose_evictions, mini_batches, route_requests
except ImportError:  # the student edition and the grading sandbox have no reference answers
    choose_evictions = mini_batches = route_requests = None

__all__ = ["dump_function", "load_function", "plug_in"]

_WHERE = {
    "route_requests": ("Part A", "router=route_requests (to Endpoint, Model.deploy)", route_requests),
    "mini_batch_fn": (
        "Part B",
        "mini_batch_fn=... (to Transformer; the notebook's student_mini_batches adapts your "
        "split_mini_batches), or use strategy='SingleRecord'",
        mini_batches,
    ),
    "choose_evictions": (
        "Part D",
        "choose_evictions=choose_evictions (to MultiDataModel.deploy)",
        choose_evictions,
    ),
}


def plug_in(function: Callable[..., Any] | None, *, role: str) -> Callable[..., Any]:
    """The function to use for ``role``: ``function`` if given, else the reference, else a clear error.

    Parameters
    ----------
    function : callable, optional
        The student's function.
    role : str
        ``"route_requests"``, ``"mini_batch_fn"`` or ``"choose_evictions"``.

    Raises
    ------
    ValueError
        If ``function`` is given but not callable, or is missing where the
        package has no reference (the student edition).

    Examples
    --------
    >>> plug_in(len, role="mini_batch_fn") is len
    True
    >>> plug_in("len", role="route_requests")
    Traceback (most recent call last):
    ...
    ValueError: route_requests must be a function, got 'len'
    """
    part, how, reference = _WHERE[role]
    if function is not None:
        if not callable(function):
            raise ValueError(f"{role} must be a function, got {function!r}")
        return function
    if reference is None:
        raise ValueError(
            f"this needs your function from assignment 04 {part}: write it in the notebook, run its cell, "
            f"and pass {how}"
        )
    return reference


def dump_function(function: Callable[..., Any]) -> bytes:
    """Pickle ``function`` by value (a notebook's function included) for the server process.

    Raises
    ------
    ValueError
        If it cannot be pickled (it holds an open file, a lock, ...).

    Examples
    --------
    >>> load_function(dump_function(lambda x: x + 1))(1)
    2
    """
    try:
        return cloudpickle.dumps(function)
    except Exception as error:  # cloudpickle raises many types for what it cannot pickle
        raise ValueError(f"cannot send {function!r} to the endpoint process: {error}") from None


def load_function(data: bytes) -> Callable[..., Any]:
    """The function :func:`dump_function` pickled."""
    return cloudpickle.loads(data)
