"""``autograder report``: every source notebook executed with papermill, kept as notebook and HTML.

An instructor sees every figure of the course without opening Jupyter. Each
notebook runs at *full size*: papermill injects the values in the notebook's
``metadata.autograder.report_parameters`` after its ``parameters`` cell (the
cell itself holds the small sizes CI and students run). ``small=True`` runs
with the parameters cell's own values instead, injected the same way, which is
how CI checks that every notebook takes its parameters from papermill.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter

from .course import Course, UserError


def report_parameters(nb: nbformat.NotebookNode) -> dict:
    """The full-size parameters the notebook asks for (``metadata.autograder.report_parameters``)."""
    parameters = nb.metadata.get("autograder", {}).get("report_parameters", {})
    if not isinstance(parameters, dict):
        raise UserError(
            "metadata.autograder.report_parameters must be a JSON object of parameter names and values"
        )
    return parameters


#: What papermill injects as the same Python value (it writes a tuple or a set back as a string).
INJECTABLE = (bool, int, float, str, list, dict, type(None))


def default_parameters(nb: nbformat.NotebookNode) -> dict:
    """The literal values of papermill-injectable types assigned in the notebook's ``parameters`` cell."""
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return {}
    values = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue  # computed from other parameters: left as the cell computes it
            if isinstance(value, INJECTABLE):
                values[node.targets[0].id] = value
    return values


def run_report(course: Course, assignments: list[str], out: Path, *, small: bool = False) -> list[Path]:
    """Execute each source notebook of ``assignments`` into ``out/<assignment>/``; return the HTML pages."""
    pages = []
    for assignment_id in assignments:
        folder = course.path("source", ".", assignment_id)
        target = out / assignment_id
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            parameters = default_parameters(nb) if small else report_parameters(nb)
            executed = target / path.name
            try:
                papermill.execute_notebook(
                    str(path),
                    str(executed),
                    parameters=parameters,
                    cwd=str(folder),
                    kernel_name="python3",
                    progress_bar=False,
                    log_output=False,
                )
            except papermill.PapermillExecutionError as error:
                raise UserError(
                    f"{path.relative_to(course.root)}: cell {error.exec_count} failed with {error.ename}: "
                    f"{error.evalue} (the executed notebook is {executed})"
                ) from None
            html, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
            page = executed.with_suffix(".html")
            page.write_text(html)
            pages.append(page)
    return pages
