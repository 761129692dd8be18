"""environment.yml (conda) and pyproject.toml (pip) describe the same environment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _conda() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pip_list(env: dict) -> list[str]:
    lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(lists) == 1, "environment.yml needs exactly one pip: list"
    return lists[0]


def test_pip_list_matches_pyproject_dependencies():
    pip = _pip_list(_conda())
    assert "-e ." in pip, "environment.yml must install the course package itself"
    assert [p for p in pip if p != "-e ."] == _pyproject()["project"]["dependencies"]


def test_python_versions_agree():
    conda_deps = [d for d in _conda()["dependencies"] if isinstance(d, str)]
    assert "python>=3.11,<3.14" in conda_deps
    assert "pip" in conda_deps
    assert _pyproject()["project"]["requires-python"] == ">=3.11,<3.14"
