"""Shared fixtures for the training tests: a private object store and job root per test.

The course package ships no checkpoint functions (they are assignment 03's
exercises). Jobs that need checkpoints run the course's script with the
instructor's answers from the source notebook, put next to it by
``checkpointing_source_dir`` as the notebook does with a student's.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from course.storage import LocalS3
from course.training import SCRIPT, Estimator, checkpointing_source_dir, upload_digits

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "samples"))
from solutions import solution_namespace  # noqa: E402

# Small and fast: 160 training digits, batches of 16 -> 10 steps per epoch.
FAST_HPS = {"epochs": 2, "batch_size": 16, "checkpoint_interval": 3, "seconds_per_step": 2.0}
TIME_SCALE = 0.005
CHECKPOINT_FUNCTIONS = (
    "pack_checkpoint",
    "unpack_checkpoint",
    "latest_checkpoint",
    "save_checkpoint",
    "load_latest_checkpoint",
)
"""The assignment's checkpoint functions, in the order the notebook defines them."""


def reference_checkpointing(folder: Path) -> Path:
    """A source_dir with the course's script and the instructor's checkpoint functions."""
    solution = solution_namespace("03_spot_training")
    return checkpointing_source_dir(folder, [solution[name] for name in CHECKPOINT_FUNCTIONS])


@pytest.fixture(scope="session")
def checkpoint_code(tmp_path_factory) -> Path:
    return reference_checkpointing(tmp_path_factory.mktemp("checkpoint-code"))


@pytest.fixture
def s3(tmp_path: Path) -> LocalS3:
    return LocalS3(tmp_path / "s3")


@pytest.fixture
def channels(s3: LocalS3) -> dict[str, str]:
    return upload_digits(s3, "s3://course-data/digits", n_samples=200, seed=0)


@pytest.fixture
def make_estimator(s3: LocalS3, tmp_path: Path, checkpoint_code: Path):
    """An Estimator factory: the course's script with the reference checkpoints, the test's store, fast settings."""

    def make(**kwargs) -> Estimator:
        settings = {
            "entry_point": SCRIPT,
            "source_dir": checkpoint_code,
            "hyperparameters": FAST_HPS,
            "s3": s3,
            "local_root": tmp_path / "jobs",
            "time_scale": TIME_SCALE,
        }
        settings.update(kwargs)
        return Estimator(**settings)

    return make


@pytest.fixture
def write_script(tmp_path: Path):
    """Write a training script into its own source folder; return the folder."""

    def write(source: str, name: str = "train.py") -> Path:
        folder = tmp_path / f"code-{len(list(tmp_path.glob('code-*')))}"
        folder.mkdir()
        (folder / name).write_text(textwrap.dedent(source))
        return folder

    return write


def process_alive(pid: int) -> bool:
    """True if ``pid`` is a live (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture(autouse=True)
def no_script_left_running():
    """Every test ends with no training script still running."""
    from course.training import job

    yield
    assert not job._running, "a training script was left running"
