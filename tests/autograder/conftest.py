"""Fixtures: the toy course, released once per session, and the sandbox."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from toycourse import ASSIGNMENT, make_course  # noqa: E402

from autograder.course import Course  # noqa: E402
from autograder.release import release  # noqa: E402
from autograder.sandbox import Limits, detect  # noqa: E402


@pytest.fixture(scope="session")
def sandbox():
    return detect()


@pytest.fixture(scope="session")
def limits():
    return Limits(cell_timeout=10, notebook_timeout=60, memory_mb=2048)


@pytest.fixture(scope="session")
def released_course(tmp_path_factory, sandbox, limits) -> Course:
    """A toy course with its assignment released (built once; copy it before grading)."""
    course = make_course(tmp_path_factory.mktemp("toy") / "course")
    release(course, ASSIGNMENT, sandbox, limits)
    return course


@pytest.fixture
def course(released_course, tmp_path) -> Course:
    """A private copy of the released toy course."""
    root = tmp_path / "course"
    shutil.copytree(released_course.root, root)
    return Course(root)
