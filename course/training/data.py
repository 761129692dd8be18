"""The course's training script and its data: the digits as ``.npz`` channels, and trained models.

Used by assignment 03. :data:`SCRIPT_DIR` holds ``train_sgd.py`` (see its
docstring for the hyperparameters); pass it as ``source_dir`` and
:data:`SCRIPT` as ``entry_point`` to train without checkpoints. The script
writes no checkpoints of its own: :func:`checkpointing_source_dir` makes a
``source_dir`` in which it uses *your* checkpoint functions, as a SageMaker
training script (your code) writes its own.

Examples
--------
>>> import tempfile
>>> from course.storage import LocalS3
>>> s3 = LocalS3(tempfile.mkdtemp())
>>> channels = upload_digits(s3, "s3://my-bucket/digits", seed=0)
>>> channels
{'train': 's3://my-bucket/digits/train', 'validation': 's3://my-bucket/digits/validation'}
>>> s3.list_objects("s3://my-bucket/digits/train/")
['s3://my-bucket/digits/train/digits.npz']
"""

from __future__ import annotations

import inspect
import io
import re
import shutil
import tarfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from course.storage import LocalS3

__all__ = [
    "CHECKPOINT_IMPORTS",
    "SCRIPT",
    "SCRIPT_DIR",
    "checkpointing_source_dir",
    "load_model",
    "upload_digits",
    "work_lost",
]

SCRIPT_DIR = Path(__file__).resolve().parent / "scripts"
"""The folder to pass as ``source_dir``."""

SCRIPT = "train_sgd.py"
"""The entry point in :data:`SCRIPT_DIR`."""

CHECKPOINT_IMPORTS = """import hashlib
import io
import json
import os
import re
import tempfile

import numpy as np
"""
"""The imports at the top of the ``checkpointing.py`` that :func:`checkpointing_source_dir` writes."""

REQUIRED_FUNCTIONS = ("save_checkpoint", "load_latest_checkpoint")


def checkpointing_source_dir(folder: str | Path, functions: Sequence[Callable]) -> Path:
    """A ``source_dir`` in which the course's script checkpoints with the given functions.

    Copies :data:`SCRIPT` into ``folder`` (created if missing) and writes
    ``checkpointing.py`` next to it: :data:`CHECKPOINT_IMPORTS`, then the
    source of each function, in the given order. The script imports that
    module and calls ``load_latest_checkpoint(directory)`` on start and
    ``save_checkpoint(directory, state)`` every ``checkpoint_interval``
    steps; the other functions are there for those two to call.

    Parameters
    ----------
    folder : str or os.PathLike
        Where to put the two files.
    functions : sequence of callables
        Functions defined in a file or a notebook cell (their source is
        copied, so they may use only the imports above, each other and
        built-ins). Must include ``save_checkpoint`` and
        ``load_latest_checkpoint``.

    Returns
    -------
    pathlib.Path
        ``folder``, to pass as ``source_dir`` with ``entry_point=SCRIPT``.

    Raises
    ------
    ValueError
        If a required function is missing, an item is not a function, or a
        function's source cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> def load_latest_checkpoint(directory):
    ...     return None
    >>> def save_checkpoint(directory, state):
    ...     return ""
    >>> code = checkpointing_source_dir(tempfile.mkdtemp(), [load_latest_checkpoint, save_checkpoint])
    >>> sorted(p.name for p in code.iterdir())
    ['checkpointing.py', 'train_sgd.py']
    >>> checkpointing_source_dir(tempfile.mkdtemp(), [save_checkpoint])
    Traceback (most recent call last):
    ...
    ValueError: functions must include load_latest_checkpoint (the script calls it); got ['save_checkpoint']
    """
    sources = []
    for function in functions:
        if not inspect.isfunction(function):
            raise ValueError(f"functions must be functions, got {function!r}")
        try:
            sources.append(textwrap.dedent(inspect.getsource(function)))
        except (OSError, TypeError) as error:
            raise ValueError(
                f"cannot read the source of {function.__name__} ({error}); define it in a file or notebook cell"
            ) from error
    names = [function.__name__ for function in functions]
    missing = [name for name in REQUIRED_FUNCTIONS if name not in names]
    if missing:
        raise ValueError(f"functions must include {' and '.join(missing)} (the script calls it); got {names}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SCRIPT_DIR / SCRIPT, folder / SCRIPT)
    module = '"""Checkpoint functions for train_sgd.py, written by checkpointing_source_dir."""\n\n'
    (folder / "checkpointing.py").write_text(module + CHECKPOINT_IMPORTS + "\n\n" + "\n\n".join(sources))
    return folder


def upload_digits(
    s3: LocalS3,
    uri: str,
    *,
    n_samples: int | None = None,
    validation_fraction: float = 0.2,
    seed: int = 0,
) -> dict[str, str]:
    """Store scikit-learn's bundled digits as ``train`` and ``validation`` channels.

    Pixels are scaled to [0, 1]. The split is stratified and fixed by ``seed``.

    Parameters
    ----------
    s3 : LocalS3
        The object store.
    uri : str
        ``s3://`` prefix; the channels go to ``<uri>/train/digits.npz`` and
        ``<uri>/validation/digits.npz``.
    n_samples : int, optional
        Use only the first ``n_samples`` digits (all 1,797 by default).
    validation_fraction : float, optional
        Share of the samples held out, in (0, 1).
    seed : int, optional
        Seed of the split.

    Returns
    -------
    dict of str to str
        Channel name to S3 URI, ready for ``Estimator.fit``.

    Raises
    ------
    ValueError
        If ``n_samples`` is not between 20 and 1,797, or ``validation_fraction``
        is not in (0, 1).
    """
    X, y = load_digits(return_X_y=True)
    if n_samples is not None:
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or not 20 <= n_samples <= len(y):
            raise ValueError(f"n_samples must be an int between 20 and {len(y)}, got {n_samples!r}")
        X, y = X[:n_samples], y[:n_samples]
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction ({validation_fraction}) must be in (0, 1)")
    X_train, X_val, y_train, y_val = train_test_split(
        X / 16.0, y, test_size=validation_fraction, random_state=seed, stratify=y
    )
    base = uri.rstrip("/")
    channels = {}
    for name, features, labels in (("train", X_train, y_train), ("validation", X_val, y_val)):
        buffer = io.BytesIO()
        np.savez(buffer, X=features, y=labels.astype(np.int64))
        s3.put_object(f"{base}/{name}/digits.npz", buffer.getvalue())
        channels[name] = f"{base}/{name}"
    return channels


def load_model(s3: LocalS3, model_data: str) -> dict[str, np.ndarray]:
    """Unpack ``model.tar.gz`` written by the course's script and return its arrays (``W``, ``b``).

    Raises
    ------
    ValueError
        If the archive holds no ``model.npz``.
    """
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(model_data)), mode="r:gz") as tar:
        try:
            member = tar.extractfile("model.npz")
        except KeyError:
            member = None
        if member is None:
            raise ValueError(f"{model_data} holds no model.npz; was it written by {SCRIPT}?")
        with np.load(io.BytesIO(member.read())) as arrays:
            return {name: arrays[name] for name in arrays.files}


def work_lost(logs: Sequence[str]) -> list[int]:
    r"""Steps the course's script did again at each resume, read from its launches' logs.

    Each launch logs the step it starts from (``resuming from the checkpoint of
    step N`` or ``starting from step 0``) and, with ``log_interval``, every
    ``step=N`` it reaches. Work lost at a resume is the furthest step reached
    so far minus the step resumed from; a launch stopped before it said where
    it starts did no work and is skipped.

    >>> work_lost(["starting from step 0\nstep=5\nstep=6", "resuming from the checkpoint of step 5\nstep=9"])
    [1]
    """
    lost, done = [], None
    for log in logs:
        resumed = re.search(r"resuming from the checkpoint of step (\d+)", log)
        if resumed:
            start = int(resumed.group(1))
        elif "starting from step 0" in log:
            start = 0
        else:
            continue
        if done is not None:
            lost.append(done - start)
        steps = re.findall(r"^step=(\d+)$", log, flags=re.MULTILINE)
        done = max(start, int(steps[-1]) if steps else 0)
    return lost
