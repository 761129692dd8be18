# course: instructor-only — the answers to assignment 04's Parts A, B and D; the package uses them only when the student has not supplied theirs
"""Reference routing, mini-batch packing and eviction choice (instructor side only).

The student edition leaves this module out and the grading sandbox shows it
empty, so :mod:`course.inference._plugins` falls back to asking for the
student's own function (assignment 04 Parts A, B and D).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

__all__ = ["choose_evictions", "mini_batches", "route_requests"]


def route_requests(weights: dict, draws: list, target_variants: list) -> list:
    """The variant answering each request: its ``TargetVariant``, else the first cumulative share above the draw.

    Examples
    --------
    >>> route_requests({"A": 3, "B": 1}, [0.1, 0.9, 0.5], [None, None, "B"])
    ['A', 'B', 'B']
    """
    if len(draws) != len(target_variants):
        raise ValueError("draws and target_variants must have one item per request")
    if not weights or any(w < 0 for w in weights.values()):
        raise ValueError("weights must be a non-empty dict of weights >= 0")
    names = list(weights)
    bounds = list(accumulate(weights.values()))
    total = bounds[-1]
    out = []
    for draw, target in zip(draws, target_variants, strict=True):
        if target is None:
            if total <= 0:
                raise ValueError("every weight is 0: name a TargetVariant")
            point = draw * total
            positive = [n for n, b in zip(names, bounds, strict=True) if weights[n] > 0 and point < b]
            out.append(positive[0] if positive else next(n for n in reversed(names) if weights[n] > 0))
        elif target in weights:
            out.append(target)
        else:
            raise ValueError(f"TargetVariant {target!r} is not a variant")
    return out


def mini_batches(records: Sequence[bytes], max_payload_bytes: int) -> list[list[int]]:
    """Consecutive records grouped into payloads of at most ``max_payload_bytes`` (each record plus a newline).

    ``0`` means no limit.

    Examples
    --------
    >>> mini_batches([b"1,2", b"3,4", b"5,6"], 8)
    [[0, 1], [2]]
    """
    if max_payload_bytes == 0:
        return [list(range(len(records)))] if records else []
    groups: list[list[int]] = []
    room = 0
    for i, record in enumerate(records):
        size = len(record) + 1
        if size > max_payload_bytes:
            raise ValueError(
                f"record {i} has {size} bytes, more than MaxPayloadInMB allows ({max_payload_bytes})"
            )
        if groups and size <= room:
            groups[-1] += [i]
            room -= size
        else:
            groups += [[i]]
            room = max_payload_bytes - size
    return groups


def choose_evictions(loaded: list, sizes: dict, new_model: str, memory_limit_bytes: int) -> list:
    """The least recently used models to unload (fewest, from the front of ``loaded``) so ``new_model`` fits.

    Examples
    --------
    >>> choose_evictions(["a", "b"], {"a": 10, "b": 10, "c": 10}, "c", 25)
    ['a']
    """
    if new_model in loaded:
        return []
    if any(name not in sizes for name in (*loaded, new_model)):
        raise ValueError("sizes must hold every loaded model and the new one")
    if sizes[new_model] > memory_limit_bytes:
        raise ValueError(f"{new_model!r} alone is larger than the memory limit")
    excess = sum(sizes[name] for name in loaded) + sizes[new_model] - memory_limit_bytes
    count = 0
    while excess > 0:
        excess -= sizes[loaded[count]]
        count += 1
    return loaded[:count]
