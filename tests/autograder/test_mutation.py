"""Mutation operators: the right mutants on small code, only inside the solution, each once."""

from __future__ import annotations

import ast

import pytest

from autograder.mutation import OPERATORS, changes, mutant_id, mutate_cell, solution_lines

FUNCTION = '''def pick(values, limit: float, *, scale: float = 1.0) -> float:
    """Docstring stays."""
    ### BEGIN SOLUTION
    if limit < 0:
        raise ValueError(f"limit ({limit}) must be >= 0")
    total = 0.0
    for v in values:
        total = total + max(v, limit)
    return float(total * scale)
    ### END SOLUTION'''


def _mutants(source: str, **kwargs):
    return mutate_cell(source, notebook="nb.ipynb", grade_id="pick", **kwargs)


def _by(mutants, operator):
    return [m for m in mutants if m.operator == operator]


def _body(source: str) -> str:
    first, last = solution_lines(source)
    return "\n".join(source.splitlines()[first - 1 : last])


def test_comparison_boundary_and_sense():
    sources = {m.source for m in _by(_mutants("ok = a < b and c == d and e in f"), "compare")}
    assert sources == {
        "ok = a <= b and c == d and e in f",
        "ok = a < b and c != d and e in f",
        "ok = a < b and c == d and e not in f",
    }


def test_conditions_and_boolean_operators():
    sources = {m.source for m in _by(_mutants("if not x and y:\n    z = 1"), "condition")}
    assert "if True:\n    z = 1" in sources and "if False:\n    z = 1" in sources
    assert "if (x) and y:\n    z = 1" in sources
    assert "if not x or y:\n    z = 1" in sources
    assert not any("while True" in m.source for m in _mutants("while x > 0:\n    x -= 1"))


def test_off_by_one_constants_and_strings():
    descriptions = {m.description for m in _by(_mutants('n = x[1] + 0.5\ns = "a"'), "constant")}
    assert descriptions == {
        "1 changed to 2",
        "1 changed to 0",
        "0.5 changed to 1.5",
        "0.5 changed to -0.5",
        "string 'a' emptied",
    }
    negative = {m.source for m in _mutants("n = 0")}
    assert "n = (-1)" in negative and "n = 1" in negative


def test_swapped_and_dropped_arguments():
    mutants = _mutants("r = f(a, b, key=c)")
    assert [m.source for m in _by(mutants, "swap_args")] == ["r = f(b, a, key=c)"]
    assert {m.source for m in _by(mutants, "drop_arg")} == {
        "r = f(b, key=c)",
        "r = f(a, key=c)",
        "r = f(a, b)",
    }


def test_axis_changes():
    assert {m.source for m in _by(_mutants("s = x.sum(axis=1)"), "axis")} == {"s = x.sum(axis=0)"}
    assert {m.source for m in _by(_mutants("s = x.max(axis=-1)"), "axis")} == {"s = x.max(axis=0)"}


def test_removed_statements_and_raises():
    mutants = _mutants(FUNCTION)
    [raised] = _by(mutants, "remove_raise")
    assert "        pass\n" in raised.source and "raise" not in _body(raised.source)
    removed = {m.description for m in _by(mutants, "remove")}
    assert "`if limit < 0:` removed" in removed
    assert "`total = 0.0` removed" in removed
    assert all('"""Docstring stays."""' in m.source for m in mutants)


def test_early_return_in_a_loop():
    [early] = _by(_mutants(FUNCTION), "early_return")
    assert "        total = total + max(v, limit)\n        return float(total * scale)\n" in early.source


def test_in_place_change_of_mutable_arguments_only():
    mutants = _by(_mutants(FUNCTION, numpy="np"), "in_place")
    assert [m.description for m in mutants] == ["argument `values` reversed in place before returning"]
    namespace = {}
    exec("import numpy as np\n" + mutants[0].source, namespace)
    values = [3.0, 1.0]
    assert namespace["pick"](values, 2.0) == 5.0
    assert values == [1.0, 3.0]
    assert _by(_mutants(FUNCTION), "in_place") == []  # without NumPy in the notebook


@pytest.mark.parametrize(
    ("annotation", "value", "kind"),
    [("np.ndarray", "np.arange(3)", list), ("float", "1.5", "float64"), ("list[int]", "[1]", "ndarray")],
)
def test_return_type_follows_the_annotation(annotation, value, kind):
    source = f"def f() -> {annotation}:\n    ### BEGIN SOLUTION\n    return {value}\n    ### END SOLUTION"
    [mutant] = _by(_mutants(source, numpy="np"), "return_type")
    namespace = {}
    exec("import numpy as np\n" + mutant.source, namespace)
    result = namespace["f"]()
    assert type(result) is kind if isinstance(kind, type) else type(result).__name__ == kind


def test_only_the_solution_region_changes():
    source = "x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION\nz = 3"
    mutants = _mutants(source)
    assert mutants and all(m.source.startswith("x = 1\n") and m.source.endswith("\nz = 3") for m in mutants)
    assert {m.line for m in mutants} == {3}


def test_mutants_compile_differ_and_are_distinct():
    mutants = _mutants(FUNCTION, numpy="np")
    trees = [ast.dump(ast.parse(m.source)) for m in mutants]
    assert len(set(trees)) == len(trees)
    assert ast.dump(ast.parse(FUNCTION)) not in trees
    assert len({m.id for m in mutants}) == len(mutants)
    assert {m.operator for m in mutants} <= set(OPERATORS)
    assert all(m.diff.startswith("--- pick (solution)") for m in mutants)


def test_deterministic_and_ids_survive_unrelated_edits():
    first, again = _mutants(FUNCTION, numpy="np"), _mutants(FUNCTION, numpy="np")
    assert first == again
    edited = FUNCTION.replace('    """Docstring stays."""', '    """Docstring stays."""\n    # a comment')
    assert {m.id for m in first} == {m.id for m in _mutants(edited, numpy="np")}
    assert mutant_id("a", "x = 1", "x = 2") != mutant_id("b", "x = 1", "x = 2")


def test_cells_that_do_not_parse_have_no_mutants():
    assert changes("def (:") == [] and _mutants("def (:") == []
