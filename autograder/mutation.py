"""Wrong answers made from a right one: mutation operators on a solution cell's code.

:func:`mutate_cell` takes the source of one solution cell and returns every
*mutant*: the same cell with one small change inside the part between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` (the whole cell when it has no
markers). Each change is a text edit of the original, so a mutant differs from
the solution only where it was mutated, and its diff reads like a student's
slip. The operators model the mistakes tests most often let through:

=================  ================================================================
``compare``        a comparison's boundary or sense: ``<`` and ``<=``, ``>`` and
                   ``>=``, ``==`` and ``!=``, ``in`` and ``not in``, ``is`` and ``is not``
``condition``      an ``if``/``while`` test or conditional expression replaced by
                   ``True`` or ``False``; ``not x`` by ``x``; ``and`` and ``or`` swapped
``axis``           ``axis=`` of a call changed (``0`` and ``1``, others to ``0``)
``constant``       a number off by one (``k`` to ``k + 1`` and ``k - 1``); a string
                   emptied; ``True`` and ``False`` swapped
``arithmetic``     ``+`` and ``-``, ``*`` and ``/``, ``/`` and ``//`` swapped
``swap_args``      two neighbouring positional arguments of a call swapped
``drop_arg``       one argument of a call left out
``remove``         a statement removed (``pass`` in its place)
``remove_raise``   a ``raise`` removed: bad input silently accepted
``early_return``   the function's final ``return`` also at the end of a loop body
``in_place``       an array or list argument reversed in place before returning
``return_type``    the return value converted to a near-miss type, from the
                   return annotation: a list for an ``ndarray``, ``numpy.float64``
                   for ``float``, a NumPy scalar for ``int``/``bool``/``str``, an
                   ``ndarray`` for a ``list``
=================  ================================================================

Mutants are deterministic: the same source gives the same mutants in the same
order. Mutants that do not compile, or whose syntax tree equals the original's
or an earlier mutant's, are left out.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

#: The operators, in the order their mutants are listed.
OPERATORS = (
    "compare",
    "condition",
    "axis",
    "constant",
    "arithmetic",
    "swap_args",
    "drop_arg",
    "remove",
    "remove_raise",
    "early_return",
    "in_place",
    "return_type",
)
BEGIN_SOLUTION = re.compile(r"^\s*### BEGIN SOLUTION\s*$")
END_SOLUTION = re.compile(r"^\s*### END SOLUTION\s*$")

_COMPARE_FLIPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_ARITHMETIC_SWAPS = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Div,),
    ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div,),
}


@dataclass(frozen=True)
class Change:
    """One mutation of a cell, before it is checked and named."""

    operator: str
    line: int  # 1-based line of the cell where the change starts
    description: str
    source: str  # the whole mutated cell


@dataclass(frozen=True)
class Mutant:
    """A solution cell with one change: a generated wrong answer.

    ``id`` is ``<grade_id>-<8 hex digits>``, a hash of the lines the change
    removes and adds (not of their position), so it stays the same when other
    lines of the cell are edited; it is what an author writes to declare the
    mutant equivalent.
    """

    id: str
    notebook: str
    grade_id: str
    operator: str
    line: int
    description: str
    source: str
    diff: str


def solution_lines(source: str) -> tuple[int, int]:
    """First and last 1-based line between the solution markers (the whole cell without markers).

    >>> solution_lines("def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n    ### END SOLUTION")
    (3, 3)
    >>> solution_lines("x = 1\\ny = 2")
    (1, 2)
    """
    lines = source.splitlines()
    begin = next((i for i, line in enumerate(lines, 1) if BEGIN_SOLUTION.match(line)), None)
    end = next((i for i, line in enumerate(lines, 1) if END_SOLUTION.match(line)), None)
    if begin is None or end is None or end <= begin:
        return 1, len(lines)
    return begin + 1, end - 1


class _Cell:
    """A cell's source, its syntax tree and text edits by node position."""

    def __init__(self, source: str, first: int, last: int) -> None:
        self.source = source
        self.data = source.encode()
        self.tree = ast.parse(source)
        self.first, self.last = first, last
        starts, offset = [], 0
        for line in self.data.splitlines(keepends=True):
            starts.append(offset)
            offset += len(line)
        self.starts = starts or [0]
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def inside(self, node: ast.AST) -> bool:
        return self.first <= node.lineno and node.end_lineno <= self.last

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.starts[node.lineno - 1] + node.col_offset,
            self.starts[node.end_lineno - 1] + node.end_col_offset,
        )

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.data[start:end].decode()

    def indent(self, node: ast.AST) -> str:
        line = self.data[self.starts[node.lineno - 1] :].split(b"\n", 1)[0].decode()
        return line[: len(line) - len(line.lstrip())]

    def edit(self, *edits: tuple[int, int, str]) -> str:
        """The source with each ``(start, end, text)`` byte range replaced."""
        data = self.data
        for start, end, text in sorted(edits, reverse=True):
            data = data[:start] + text.encode() + data[end:]
        return data.decode()

    def replace(self, node: ast.AST, text: str) -> str:
        return self.edit((*self.span(node), text))

    def function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return node if not isinstance(node, ast.Lambda) else None
        return None

    def in_fstring(self, node: ast.AST) -> bool:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.JoinedStr):
                return True
        return False

    def is_docstring(self, node: ast.AST) -> bool:
        parent = self.parents.get(node)
        if not isinstance(parent, ast.Expr):
            return False
        holder = self.parents.get(parent)
        body = getattr(holder, "body", None)
        return isinstance(body, list) and body and body[0] is parent


def _numpy_alias(tree: ast.AST) -> str | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy":
                    return alias.asname or "numpy"
    return None


def _compare(cell: _Cell) -> Iterator[Change]:
    for node in ast.walk(cell.tree):
        if isinstance(node, ast.Compare) and cell.inside(node):
            for i, op in enumerate(node.ops):
                flipped = _COMPARE_FLIPS[type(op)]()
                new = ast.Compare(node.left, [*node.ops[:i], flipped, *node.ops[i + 1 :]], node.comparators)
                yield Change(
                    "compare",
                    node.lineno,
                    f"`{_op(op)}` changed to `{_op(flipped)}`",
                    cell.replace(node, ast.unparse(new)),
                )


def _op(op: ast.cmpop) -> str:
    return ast.unparse(ast.Compare(ast.Name("a"), [op], [ast.Name("b")]))[2:-2]


def _condition(cell: _Cell) -> Iterator[Change]:
    for node in ast.walk(cell.tree):
        if isinstance(node, ast.If | ast.While | ast.IfExp) and cell.inside(node.test):
            kind = {ast.If: "if", ast.While: "while", ast.IfExp: "conditional expression"}[type(node)]
            for value in (True, False):
                if isinstance(node, ast.While) and value:
                    continue  # an endless loop only tests the time limit
                yield Change(
                    "condition",
                    node.test.lineno,
                    f"{kind} condition replaced by {value}",
                    cell.replace(node.test, str(value)),
                )
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and cell.inside(node):
            yield Change(
                "condition",
                node.lineno,
                "`not` removed",
                cell.replace(node, f"({cell.text(node.operand)})"),
            )
        elif isinstance(node, ast.BoolOp) and cell.inside(node):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            names = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            yield Change(
                "condition",
                node.lineno,
                f"`{names[0]}` changed to `{names[1]}`",
                cell.replace(node, ast.unparse(ast.BoolOp(other, node.values))),
            )


def _constant(cell: _Cell) -> Iterator[Change]:
    for node in ast.walk(cell.tree):
        if not isinstance(node, ast.Constant) or not cell.inside(node) or cell.in_fstring(node):
            continue
        value = node.value
        if isinstance(value, bool):
            yield Change(
                "constant", node.lineno, f"{value} changed to {not value}", cell.replace(node, str(not value))
            )
        elif isinstance(value, int | float):
            for new in (value + 1, value - 1):
                text = repr(new)
                yield Change(
                    "constant",
                    node.lineno,
                    f"{value!r} changed to {text}",
                    cell.replace(node, f"({text})" if new < 0 else text),
                )
        elif isinstance(value, str) and value and not cell.is_docstring(node):
            yield Change("constant", node.lineno, f"string {value[:30]!r} emptied", cell.replace(node, '""'))


def _arithmetic(cell: _Cell) -> Iterator[Change]:
    symbols = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//"}
    for node in ast.walk(cell.tree):
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC_SWAPS and cell.inside(node):
            for kind in _ARITHMETIC_SWAPS[type(node.op)]:
                new = ast.BinOp(node.left, kind(), node.right)
                yield Change(
                    "arithmetic",
                    node.lineno,
                    f"`{symbols[type(node.op)]}` changed to `{symbols[kind]}`",
                    cell.replace(node, f"({ast.unparse(new)})"),
                )


def _calls(cell: _Cell) -> Iterator[ast.Call]:
    for node in ast.walk(cell.tree):
        if isinstance(node, ast.Call) and cell.inside(node) and not cell.in_fstring(node):
            yield node


def _swap_args(cell: _Cell) -> Iterator[Change]:
    for call in _calls(cell):
        args = call.args
        if any(isinstance(a, ast.Starred) for a in args):
            continue
        for a, b in zip(args, args[1:], strict=False):
            if ast.dump(a) == ast.dump(b):
                continue
            (a0, a1), (b0, b1) = cell.span(a), cell.span(b)
            yield Change(
                "swap_args",
                call.lineno,
                f"arguments `{_short(cell.text(a))}` and `{_short(cell.text(b))}` of "
                f"`{_short(ast.unparse(call.func))}` swapped",
                cell.edit((a0, a1, cell.text(b)), (b0, b1, cell.text(a))),
            )


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _drop_arg(cell: _Cell) -> Iterator[Change]:
    for call in _calls(cell):
        func = _short(ast.unparse(call.func))
        for i, arg in enumerate(call.args):
            new = ast.Call(call.func, [*call.args[:i], *call.args[i + 1 :]], call.keywords)
            yield Change(
                "drop_arg",
                call.lineno,
                f"argument `{_short(cell.text(arg))}` of `{func}` left out",
                cell.replace(call, ast.unparse(new)),
            )
        for i, keyword in enumerate(call.keywords):
            new = ast.Call(call.func, call.args, [*call.keywords[:i], *call.keywords[i + 1 :]])
            yield Change(
                "drop_arg",
                call.lineno,
                f"argument `{_short(cell.text(keyword))}` of `{func}` left out",
                cell.replace(call, ast.unparse(new)),
            )


def _axis(cell: _Cell) -> Iterator[Change]:
    for call in _calls(cell):
        for keyword in call.keywords:
            if keyword.arg != "axis":
                continue
            old = keyword.value
            value = old.value if isinstance(old, ast.Constant) else None
            if isinstance(old, ast.UnaryOp) and isinstance(old.operand, ast.Constant):
                value = -old.operand.value
            choices = {0: ["1"], 1: ["0"]}.get(value, ["0"]) if isinstance(value, int) else ["0"]
            for new in choices:
                yield Change(
                    "axis",
                    keyword.value.lineno,
                    f"axis={cell.text(old)} changed to axis={new}",
                    cell.replace(old, new),
                )


def _statements(cell: _Cell) -> Iterator[ast.stmt]:
    for node in ast.walk(cell.tree):
        if (
            isinstance(node, ast.stmt)
            and cell.inside(node)
            and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Pass)
            and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        ):
            yield node


def _remove(cell: _Cell) -> Iterator[Change]:
    for node in _statements(cell):
        first = cell.text(node).splitlines()[0]
        if isinstance(node, ast.Raise):
            yield Change(
                "remove_raise", node.lineno, f"`{_short(first)}` removed", cell.replace(node, "pass")
            )
        else:
            yield Change("remove", node.lineno, f"`{_short(first)}` removed", cell.replace(node, "pass"))


def _early_return(cell: _Cell) -> Iterator[Change]:
    for function in ast.walk(cell.tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or not function.body:
            continue
        final = function.body[-1]
        if not isinstance(final, ast.Return) or final.value is None:
            continue
        for loop in ast.walk(function):
            if (
                isinstance(loop, ast.For | ast.While)
                and cell.inside(loop)
                and cell.function(loop) is function
            ):
                last = loop.body[-1]
                end = cell.span(last)[1]
                text = f"\n{cell.indent(last)}return {cell.text(final.value)}"
                yield Change(
                    "early_return",
                    last.end_lineno,
                    "returns at the end of the loop's first pass",
                    cell.edit((end, end, text)),
                )


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    args = function.args
    return [*args.posonlyargs, *args.args, *args.kwonlyargs]


#: Parameter annotations that say the argument cannot be changed in place.
_IMMUTABLE = re.compile(r"^(int|float|bool|str|bytes|complex|None|tuple.*)$")


def _returns_in(cell: _Cell) -> Iterator[tuple[ast.Return, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in ast.walk(cell.tree):
        if isinstance(node, ast.Return) and node.value is not None and cell.inside(node):
            function = cell.function(node)
            if function is not None:
                yield node, function


def _in_place(cell: _Cell, np: str | None) -> Iterator[Change]:
    if np is None:
        return
    for node, function in _returns_in(cell):
        used = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
        result = next(name for name in ("returned", "_returned", "__returned") if name not in used)
        indent = cell.indent(node)
        for arg in _parameters(function):
            if arg.annotation is not None and _IMMUTABLE.match(ast.unparse(arg.annotation)):
                continue
            name = arg.arg
            text = (
                f"{result} = {cell.text(node.value)}\n"
                f"{indent}if isinstance({name}, (list, {np}.ndarray)) and {np}.ndim({name}) > 0:\n"
                f"{indent}    {name}[:] = {name}[::-1]\n"
                f"{indent}return {result}"
            )
            yield Change(
                "in_place",
                node.lineno,
                f"argument `{name}` reversed in place before returning",
                cell.replace(node, text),
            )


def _return_type(cell: _Cell, np: str | None) -> Iterator[Change]:
    if np is None:
        return
    for node, function in _returns_in(cell):
        if function.returns is None:
            continue
        annotation = ast.unparse(function.returns)
        value = cell.text(node.value)
        conversions = {
            "ndarray": (f"{np}.asarray({value}).tolist()", "a list instead of an ndarray"),
            "float": (f"{np}.float64({value})", "numpy.float64 instead of float"),
            "int": (f"{np}.int64({value})", "numpy.int64 instead of int"),
            "bool": (f"{np}.bool_({value})", "numpy.bool_ instead of bool"),
            "str": (f"{np}.str_({value})", "numpy.str_ instead of str"),
            "list": (f"{np}.asarray({value})", "an ndarray instead of a list"),
        }
        kind = annotation.split(".")[-1].split("[")[0]
        if kind in conversions:
            text, what = conversions[kind]
            yield Change("return_type", node.lineno, f"returns {what}", cell.replace(node.value, text))


def changes(source: str, *, numpy: str | None = None) -> list[Change]:
    """Every change the operators make to ``source``, unchecked, in a fixed order.

    Only the lines between the solution markers are changed (the whole cell
    when it has none). A cell that does not parse has no changes. ``numpy`` is
    the name NumPy is imported as where the cell runs (the cell's own import
    wins); without one, the operators that need NumPy (``in_place``,
    ``return_type``) make no changes.

    >>> [c.description for c in changes("x = 1 < 2")]
    ['`<` changed to `<=`', '1 changed to 2', '1 changed to 0', '2 changed to 3', '2 changed to 1', \
'`x = 1 < 2` removed']
    """
    try:
        cell = _Cell(source, *solution_lines(source))
    except SyntaxError:
        return []
    np = _numpy_alias(cell.tree) or numpy
    found: list[Change] = []
    for generate in (
        _compare,
        _condition,
        _axis,
        _constant,
        _arithmetic,
        _swap_args,
        _drop_arg,
        _remove,
        _early_return,
    ):
        found.extend(generate(cell))
    found.extend(_in_place(cell, np))
    found.extend(_return_type(cell, np))
    order = {name: i for i, name in enumerate(OPERATORS)}
    return sorted(found, key=lambda c: (order[c.operator], c.line))


def diff(before: str, after: str, *, name: str = "solution") -> str:
    """A unified diff of a cell, three lines of context."""
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), f"{name} (solution)", f"{name} (mutant)", lineterm=""
    )
    return "\n".join(lines)


def mutant_id(grade_id: str, before: str, after: str) -> str:
    """``<grade_id>-<hash>`` of the lines a change removes and adds, without their position.

    >>> mutant_id("f", "x = 1", "x = 2") == mutant_id("f", "y = 0\\nx = 1", "y = 0\\nx = 2")
    True
    """
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    digest = hashlib.sha256("\n".join([grade_id, *changed]).encode()).hexdigest()[:8]
    return f"{grade_id}-{digest}"


def mutate_cell(source: str, *, notebook: str, grade_id: str, numpy: str | None = None) -> list[Mutant]:
    """The distinct, compilable mutants of one solution cell (see :func:`changes`).

    >>> [m.description for m in mutate_cell("y = x + 1", notebook="nb", grade_id="f")]
    ['1 changed to 2', '1 changed to 0', '`+` changed to `-`', '`y = x + 1` removed']
    """
    try:
        seen = {ast.dump(ast.parse(source))}
    except SyntaxError:
        return []
    mutants = []
    for change in changes(source, numpy=numpy):
        try:
            tree = ast.parse(change.source)
            compile(tree, "<mutant>", "exec")
        except (SyntaxError, ValueError):
            continue
        key = ast.dump(tree)
        if key in seen:
            continue
        seen.add(key)
        mutants.append(
            Mutant(
                id=mutant_id(grade_id, source, change.source),
                notebook=notebook,
                grade_id=grade_id,
                operator=change.operator,
                line=change.line,
                description=change.description,
                source=change.source,
                diff=diff(source, change.source, name=grade_id),
            )
        )
    return mutants


def numpy_alias(sources: list[str]) -> str | None:
    """The name ``numpy`` is imported as in any of ``sources`` (cells that do not parse are skipped).

    >>> numpy_alias(["import math", "import numpy as np"])
    'np'
    """
    for source in sources:
        try:
            alias = _numpy_alias(ast.parse(source))
        except SyntaxError:
            continue
        if alias is not None:
            return alias
    return None
