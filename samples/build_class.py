"""Build a sample class of submissions from the course's own notebooks.

For every assignment with a ``samples/a<assignment>.py`` module, writes
nbgrader's submitted layout ``OUT/<student>/<assignment>/<notebook>`` for:

- ``full_marks``: the release notebook with every solution filled in;
- ``blank``: the release notebook untouched;
- ``partial``: the solutions with the module's ``PARTIAL`` replacements;
- ``wrong_<name>``: one per ``WRONG_ANSWERS`` variant;
- ``broken_json``: a truncated file that is not valid JSON;
- ``crashes``: solutions, but the last solution cell calls ``os._exit``;
- ``edits_tests``: a wrong answer whose author also emptied one test cell and
  deleted another (grading restores both);
- ``missing_notebook``: an assignment folder with no notebook in it.

Answers come from ``source/`` at build time; no answer is stored here.

Usage: ``python samples/build_class.py OUT [--root COURSE]``
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import nbformat

HERE = Path(__file__).resolve().parent


def sample_modules() -> dict[str, ModuleType]:
    """``{assignment id: module}`` for every ``samples/a*.py``."""
    modules = {}
    for path in sorted(HERE.glob("a*.py")):
        spec = importlib.util.spec_from_file_location(f"samples_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules[module.ASSIGNMENT] = module
    return modules


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_solution(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def fill(release_nb, source_nb, replacements: dict[str, str] | None = None, *, solve: bool = True):
    """The release notebook with solution cells answered from the source (then replaced)."""
    solutions = {_grade_id(c): c.source for c in source_nb.cells if _is_solution(c)}
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        if _is_solution(cell):
            grade_id = _grade_id(cell)
            if solve:
                cell.source = solutions[grade_id]
            if replacements and grade_id in replacements:
                cell.source = replacements[grade_id]
    unknown = set(replacements or {}) - set(solutions)
    if unknown:
        raise KeyError(f"replacements name cells that are not solution cells: {sorted(unknown)}")
    return nb


def students(root: Path, module: ModuleType) -> dict[str, nbformat.NotebookNode | str | None]:
    """``{student: notebook, raw text (broken), or None (missing)}`` for one assignment."""
    source = nbformat.read(root / "source" / module.ASSIGNMENT / module.NOTEBOOK, as_version=4)
    release = nbformat.read(root / "release" / module.ASSIGNMENT / module.NOTEBOOK, as_version=4)
    full = fill(release, source)
    out: dict[str, nbformat.NotebookNode | str | None] = {
        "full_marks": full,
        "blank": release,
        "partial": fill(release, source, module.PARTIAL),
    }
    for name, replacements in module.WRONG_ANSWERS.items():
        out[f"wrong_{name}"] = fill(release, source, replacements)
    out["broken_json"] = nbformat.writes(full)[: len(nbformat.writes(full)) // 2]
    last_solution = [_grade_id(c) for c in release.cells if _is_solution(c)][-1]
    out["crashes"] = fill(release, source, {last_solution: "import os\n\nos._exit(1)"})
    first_wrong = next(iter(module.WRONG_ANSWERS.values()))
    edited = fill(release, source, first_wrong)
    tests = [c for c in edited.cells if c.metadata.get("nbgrader", {}).get("grade")]
    tests[0].source = "pass"
    edited.cells.remove(tests[-1])
    out["edits_tests"] = edited
    out["missing_notebook"] = None
    return out


def build(root: Path, out: Path) -> list[Path]:
    """Write the sample class for every assignment with a samples module under ``out``."""
    written = []
    for assignment, module in sample_modules().items():
        if not (root / "release" / assignment).is_dir():
            continue
        for student, nb in students(root, module).items():
            folder = out / student / assignment
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            if nb is None:
                continue
            path = folder / module.NOTEBOOK
            path.write_text(nb if isinstance(nb, str) else nbformat.writes(nb))
            written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--root", type=Path, default=HERE.parent)
    args = parser.parse_args()
    written = build(args.root, args.out)
    print(f"wrote {len(written)} sample submissions to {args.out}")


if __name__ == "__main__":
    main()
