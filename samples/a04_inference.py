"""Plausible wrong answers to assignment 04 (inference).

``WRONG_ANSWERS`` maps a variant name to replacement sources for solution cells
(by ``grade_id``); each variant must score less than full marks. ``PARTIAL`` is
one "partly right" student, worth roughly half the marks, for a demo class.

Each wrong answer is the instructor's solution (read from the source notebook,
so the answers live in one place) with one plausible mistake edited in.
"""

from __future__ import annotations

import json
from pathlib import Path

ASSIGNMENT = "04_inference"
NOTEBOOK = "inference.ipynb"

_SOURCE = Path(__file__).resolve().parents[1] / "source" / ASSIGNMENT / NOTEBOOK


def _solution(grade_id: str) -> str:
    """The solution cell ``grade_id`` of the source notebook, without the solution markers."""
    for cell in json.loads(_SOURCE.read_text())["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            lines = "".join(cell["source"]).splitlines(keepends=True)
            return "".join(
                line for line in lines if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
            )
    raise KeyError(f"no cell {grade_id!r} in {_SOURCE}")


def _variant(grade_id: str, *edits: tuple[str, str]) -> str:
    """The solution of ``grade_id`` with each ``(old, new)`` edit applied once (``old`` must occur)."""
    source = _solution(grade_id)
    for old, new in edits:
        if old not in source:
            raise ValueError(
                f"{old!r} is not in the solution of {grade_id!r}; update samples/a04_inference.py"
            )
        source = source.replace(old, new, 1)
    return source


WRONG_ANSWERS: dict[str, dict[str, str]] = {
    # A draw exactly on a share boundary stays with the earlier variant.
    "route_boundary_to_earlier_variant": {
        "route_requests": _variant("route_requests", ("bisect.bisect_right(", "bisect.bisect_left("))
    },
    # Empties the caller's list of targets while routing.
    "route_consumes_target_list": {
        "route_requests": _variant(
            "route_requests",
            (
                "for draw, target in zip(draws, target_variants):",
                "for draw in draws:\n        target = target_variants.pop(0)",
            ),
        )  # fmt: skip
    },
    # Forgets the newline after each record.
    "batches_without_newline": {
        "split_mini_batches": _variant("split_mini_batches", ("need = size + 1", "need = size"))
    },
    # Skips a record that does not fit instead of failing its file.
    "batches_skip_oversized_record": {
        "split_mini_batches": _variant(
            "split_mini_batches", ("batches = None\n                break", "continue")
        )
    },
    # Bills the exact duration, not whole milliseconds.
    "break_even_without_rounding": {
        "serverless_break_even": _variant(
            "serverless_break_even", ("math.ceil(seconds_per_request * 1000) / 1000", "seconds_per_request")
        )
    },
    # Needs strictly less than the limit: an exact fit unloads one model too many.
    "evict_until_strictly_below": {
        "choose_evictions": _variant(
            "choose_evictions",
            (
                "if used + sizes[new_model] <= memory_limit_bytes:",
                "if used + sizes[new_model] < memory_limit_bytes:",
            ),
        )
    },
}

PARTIAL: dict[str, str] = {
    "split_mini_batches": WRONG_ANSWERS["batches_without_newline"]["split_mini_batches"],
    "serverless_break_even": WRONG_ANSWERS["break_even_without_rounding"]["serverless_break_even"],
    # Unloads the most recently used model first.
    "choose_evictions": _variant(
        "choose_evictions", ("for name in loaded:\n", "for name in reversed(loaded):\n")
    ),
}
