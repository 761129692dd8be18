"""The course folder: nbgrader's configuration, directories and gradebook."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbgrader.api
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.dbutil import ALEMBIC_DIR
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .errors import UserError

CONFIG_FILE = "nbgrader_config.py"


@functools.cache
def _alembic_head() -> str:
    """The schema version nbgrader stamps on a new gradebook, read once in this process.

    nbgrader starts an ``alembic heads`` process for it every time it creates a
    gradebook (a release creates one, a selftest another): many seconds each,
    for a constant of the installed nbgrader.
    """
    config = AlembicConfig()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


nbgrader.api.get_alembic_version = _alembic_head


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` that holds ``nbgrader_config.py``."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise UserError(
        f"no {CONFIG_FILE} found in {start} or any folder above it: "
        "run autograder inside the course folder or pass --root"
    )


class Course:
    """An nbgrader course folder (``source/``, ``release/``, ``submitted/``, ...)."""

    def __init__(self, root: Path | None = None, *, db_url: str | None = None) -> None:
        self.root = find_root(root) if root is None else Path(root).resolve()
        if not (self.root / CONFIG_FILE).is_file():
            raise UserError(f"{self.root} is not a course folder: it has no {CONFIG_FILE}")
        self.config: Config = PyFileConfigLoader(CONFIG_FILE, path=str(self.root)).load_config()
        self.config.CourseDirectory.root = str(self.root)
        if db_url is not None:
            self.config.CourseDirectory.db_url = db_url
        self.coursedir = CourseDirectory(config=self.config)
        # nbgrader runs `alembic` from the PATH; make this environment's scripts findable
        # when autograder is started as .venv/bin/autograder without activating the venv.
        scripts = str(Path(sys.executable).parent)
        if scripts not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    def path(self, step: str, student_id: str, assignment_id: str) -> Path:
        """nbgrader's folder for a step (``source``, ``release``, ``submitted``...)."""
        directory = getattr(self.coursedir, f"{step}_directory")
        return Path(self.coursedir.format_path(directory, student_id, assignment_id))

    def assignments(self) -> list[str]:
        source = self.root / self.coursedir.source_directory
        if not source.is_dir():
            return []
        return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def check_assignment(self, assignment_id: str) -> str:
        known = self.assignments()
        if assignment_id not in known:
            raise UserError(
                f"unknown assignment {assignment_id!r}: the course has {', '.join(known) or 'none'}"
            )
        return assignment_id

    def notebooks(self, assignment_id: str) -> list[str]:
        """File names of the assignment's notebooks, e.g. ``['platform_map.ipynb']``."""
        folder = self.path("source", ".", assignment_id)
        return sorted(p.name for p in folder.glob("*.ipynb"))

    @contextmanager
    def gradebook(self) -> Iterator[Gradebook]:
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            yield gb

    def result_path(self, student_id: str, assignment_id: str) -> Path:
        return self.path("autograded", student_id, assignment_id) / "grading.json"

    def read_result(self, student_id: str, assignment_id: str) -> dict | None:
        path = self.result_path(student_id, assignment_id)
        return json.loads(path.read_text()) if path.is_file() else None
