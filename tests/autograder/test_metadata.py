"""check_metadata: nbgrader's cell-metadata check, with valid verdicts cached."""

from __future__ import annotations

import copy

import pytest
from nbgrader.nbgraderformat import ValidationError
from nbgrader.nbgraderformat.common import SchemaMismatchError
from toycourse import toy_notebook

from autograder.grading import check_metadata


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_valid_notebook_passes_twice():
    nb = toy_notebook()
    check_metadata(nb)
    check_metadata(copy.deepcopy(nb))


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m.update(schema_version=99),
        lambda m: m.pop("points"),
        lambda m: m.update(grade_id=""),
        lambda m: m.update(points="lots"),
    ],
)
def test_damaged_metadata_is_refused_even_after_valid_cells_were_cached(damage):
    check_metadata(toy_notebook())
    nb = toy_notebook()
    damage(_cell(nb, "add_hidden").metadata.nbgrader)
    with pytest.raises((ValidationError, SchemaMismatchError)):
        check_metadata(nb)


def test_duplicate_grade_ids_are_refused():
    nb = toy_notebook()
    _cell(nb, "add_hidden").metadata.nbgrader["grade_id"] = "add_visible"
    with pytest.raises(ValidationError, match="Duplicate grade id"):
        check_metadata(nb)
