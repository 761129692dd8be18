"""Deterministic mini-batch SGD on the digits, under the SageMaker training contract.

The training script shipped with the course (assignment 03). It runs as a
subprocess of :class:`course.training.Estimator` and reads everything from the
environment, as a SageMaker script-mode container does:

- ``SM_CHANNEL_TRAIN``: a folder of ``.npz`` files holding ``X`` (features)
  and ``y`` (integer class ids); ``SM_CHANNEL_VALIDATION`` optionally the same.
- ``SM_HPS``: the hyperparameters as JSON (see ``HYPERPARAMETERS``).
- ``SM_MODEL_DIR``: where the final model (``model.npz``) goes.
- ``SM_OUTPUT_DATA_DIR``: where ``metrics.json`` goes.
- ``SM_CHECKPOINT_DIR``: the instance's checkpoint folder (the Estimator's
  ``checkpoint_local_path``). SageMaker sets no such variable; the local
  version needs it because the script cannot see a real ``/opt/ml``.
- ``COURSE_TIME_SCALE``: real seconds per simulated second (for
  ``seconds_per_step``).

The model is softmax regression trained with momentum SGD. Each epoch visits
the samples in an order drawn from a NumPy ``Generator`` seeded with ``seed``.
A checkpoint holds everything the next step depends on: weights, momentum,
the step count, the current epoch's order and the generator's state. So a job
resumed from any checkpoint ends with weights bit-for-bit equal to a job that
was never interrupted.

Checkpoints are written atomically (temporary file in the same folder, fsync,
rename, fsync of the folder) and carry a SHA-256 digest of their content. On
start the script deletes temporary files left by a write that was cut short
(saying so), then resumes from the newest checkpoint that verifies; if the
newest is corrupt it says so and falls back to the one before. It keeps the
newest ``keep_checkpoints`` files and deletes older ones.

On SIGTERM the default is to stop at once, as a script without a handler
does; with ``checkpoint_on_sigterm`` it finishes the current step, saves a
checkpoint and exits.

Each epoch prints one line that metric definitions such as
``{"Name": "train:loss", "Regex": "train_loss=([0-9.]+)"}`` parse::

    epoch=2 step=58 train_loss=0.312345 train_accuracy=0.912345
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HYPERPARAMETERS = {
    "epochs": 5,
    "batch_size": 32,
    "learning_rate": 0.05,
    "momentum": 0.9,
    "seed": 0,
    "checkpoint_interval": 10,
    "keep_checkpoints": 2,
    "seconds_per_step": 0.0,
    "checkpoint_on_sigterm": False,
    "log_interval": 0,
}
"""Defaults of the hyperparameters the script reads (``checkpoint_interval`` is in steps;
``seconds_per_step`` is simulated compute time per mini-batch, to stand in for a larger model;
``log_interval`` > 0 prints ``step=<n>`` every that many steps)."""

MAGIC = b"COURSE-CKPT-1\n"
PREFIX = "checkpoint-"
SUFFIX = ".npz"


def read_hyperparameters() -> dict:
    """Merge ``SM_HPS`` over the defaults, refusing unknown names and wrong types."""
    given = json.loads(os.environ.get("SM_HPS", "{}"))
    unknown = sorted(set(given) - set(HYPERPARAMETERS))
    if unknown:
        raise ValueError(f"unknown hyperparameters {unknown}; this script takes {sorted(HYPERPARAMETERS)}")
    hps = dict(HYPERPARAMETERS)
    for name, value in given.items():
        default = HYPERPARAMETERS[name]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            raise ValueError(f"hyperparameter {name} must be a {type(default).__name__}, got {value!r}")
        hps[name] = value
    if hps["epochs"] < 1 or hps["batch_size"] < 1 or hps["checkpoint_interval"] < 1:
        raise ValueError("epochs, batch_size and checkpoint_interval must be >= 1")
    if hps["keep_checkpoints"] < 1 or hps["log_interval"] < 0:
        raise ValueError("keep_checkpoints must be >= 1 and log_interval >= 0")
    return hps


def load_channel(folder: str) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate ``X`` and ``y`` of every ``.npz`` file in a channel folder, in name order."""
    files = sorted(Path(folder).rglob("*.npz"))
    if not files:
        raise FileNotFoundError(f"no .npz file in the channel folder {folder}")
    parts = [np.load(f) for f in files]
    X = np.concatenate([p["X"] for p in parts]).astype(np.float64)
    y = np.concatenate([p["y"] for p in parts]).astype(np.int64)
    return X, y


def checkpoint_name(step: int) -> str:
    """The file name of the checkpoint taken after ``step`` mini-batches."""
    return f"{PREFIX}{step:08d}{SUFFIX}"


def encode_checkpoint(state: dict) -> bytes:
    """Serialise a training state: a magic line, a SHA-256 digest, then an ``.npz`` payload."""
    buffer = io.BytesIO()
    meta = {"step": state["step"], "rng_state": state["rng_state"]}
    np.savez(
        buffer,
        W=state["W"],
        b=state["b"],
        vW=state["vW"],
        vb=state["vb"],
        order=state["order"],
        meta=np.array(json.dumps(meta)),
    )
    payload = buffer.getvalue()
    return MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def decode_checkpoint(data: bytes) -> dict:
    """Inverse of :func:`encode_checkpoint`; ValueError if the content does not verify."""
    if not data.startswith(MAGIC):
        raise ValueError("not a checkpoint of this script (bad header)")
    digest, newline, payload = data[len(MAGIC) :].partition(b"\n")
    if not newline or hashlib.sha256(payload).hexdigest().encode() != digest:
        raise ValueError("checksum mismatch (truncated or modified)")
    with np.load(io.BytesIO(payload)) as arrays:
        meta = json.loads(str(arrays["meta"]))
        return {
            "W": arrays["W"],
            "b": arrays["b"],
            "vW": arrays["vW"],
            "vb": arrays["vb"],
            "order": arrays["order"],
            "step": int(meta["step"]),
            "rng_state": meta["rng_state"],
        }


def write_atomically(path: Path, data: bytes) -> None:
    """Write a temporary file next to ``path``, fsync it, rename it onto ``path``, fsync the folder."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def checkpoint_steps(folder: Path) -> list[int]:
    """Steps of the finished checkpoint files in ``folder``, newest first (temporary files ignored)."""
    steps = []
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        digits = path.name[len(PREFIX) : -len(SUFFIX)]
        if digits.isdigit():
            steps.append(int(digits))
    return sorted(steps, reverse=True)


def latest_checkpoint(folder: Path) -> dict | None:
    """The newest checkpoint that verifies, falling back past corrupt ones (and saying so)."""
    steps = checkpoint_steps(folder)
    for i, step in enumerate(steps):
        path = folder / checkpoint_name(step)
        try:
            return decode_checkpoint(path.read_bytes())
        except (ValueError, OSError, KeyError) as error:
            after = (
                f"falling back to {checkpoint_name(steps[i + 1])}" if i + 1 < len(steps) else "no older one"
            )
            print(f"checkpoint {path.name} is corrupt ({error}); {after}", flush=True)
    return None


def save_checkpoint(folder: Path, state: dict, *, keep: int) -> None:
    """Write the state atomically, then delete all but the newest ``keep`` checkpoints."""
    write_atomically(folder / checkpoint_name(state["step"]), encode_checkpoint(state))
    for old in checkpoint_steps(folder)[keep:]:
        (folder / checkpoint_name(old)).unlink(missing_ok=True)


def softmax_loss_grad(W, b, X, y):
    """Mean cross-entropy of softmax regression and its gradients."""
    logits = X @ W + b
    logits -= logits.max(axis=1, keepdims=True)
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    n = X.shape[0]
    loss = -np.log(proba[np.arange(n), y] + 1e-12).mean()
    proba[np.arange(n), y] -= 1.0
    proba /= n
    return loss, X.T @ proba, proba.sum(axis=0)


def evaluate(W, b, X, y) -> tuple[float, float]:
    """Loss and accuracy on a whole dataset."""
    loss, _, _ = softmax_loss_grad(W, b, X, y)
    accuracy = float(np.mean(np.argmax(X @ W + b, axis=1) == y))
    return float(loss), accuracy


def fresh_state(n_features: int, n_classes: int, n_samples: int, seed: int) -> dict:
    """The state before the first step: zero weights, the first epoch's order drawn."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_samples)
    return {
        "W": np.zeros((n_features, n_classes)),
        "b": np.zeros(n_classes),
        "vW": np.zeros((n_features, n_classes)),
        "vb": np.zeros(n_classes),
        "order": order,
        "step": 0,
        "rng_state": rng.bit_generator.state,
    }


def train(
    state: dict,
    X: np.ndarray,
    y: np.ndarray,
    hps: dict,
    *,
    until_step: int,
    pause: float = 0.0,
    after_step: Callable[[dict], bool] | None = None,
) -> bool:
    """Run momentum SGD on ``state`` in place until ``until_step`` steps are done.

    Each epoch's order comes from the generator restored from
    ``state["rng_state"]``; ``after_step(state)`` runs after every step and
    may return True to stop early. Returns True if ``until_step`` was reached.
    """
    rng = np.random.default_rng()
    rng.bit_generator.state = state["rng_state"]
    batch_size = hps["batch_size"]
    steps_per_epoch = math.ceil(len(y) / batch_size)
    while state["step"] < until_step:
        step = state["step"]
        position = step % steps_per_epoch
        if position == 0 and step > 0:
            state["order"] = rng.permutation(len(y))
            state["rng_state"] = rng.bit_generator.state
        batch = state["order"][position * batch_size : (position + 1) * batch_size]
        if pause:
            time.sleep(pause)
        _, gW, gb = softmax_loss_grad(state["W"], state["b"], X[batch], y[batch])
        state["vW"] = hps["momentum"] * state["vW"] - hps["learning_rate"] * gW
        state["vb"] = hps["momentum"] * state["vb"] - hps["learning_rate"] * gb
        state["W"] = state["W"] + state["vW"]
        state["b"] = state["b"] + state["vb"]
        state["step"] = step + 1
        if after_step is not None and after_step(state):
            return False
    return True


def main() -> int:
    hps = read_hyperparameters()
    X, y = load_channel(os.environ["SM_CHANNEL_TRAIN"])
    validation = os.environ.get("SM_CHANNEL_VALIDATION")
    X_val, y_val = load_channel(validation) if validation else (None, None)
    n_samples, n_features = X.shape
    n_classes = int(y.max()) + 1
    steps_per_epoch = math.ceil(n_samples / hps["batch_size"])
    total_steps = hps["epochs"] * steps_per_epoch
    checkpoints = Path(os.environ["SM_CHECKPOINT_DIR"])
    checkpoints.mkdir(parents=True, exist_ok=True)
    pause = hps["seconds_per_step"] * float(os.environ.get("COURSE_TIME_SCALE", "1"))

    for unfinished in sorted(checkpoints.glob(f".{PREFIX}*.tmp")):
        unfinished.unlink()
        print(f"removed {unfinished.name}: a checkpoint write that was interrupted", flush=True)
    state = latest_checkpoint(checkpoints)
    if state is None:
        state = fresh_state(n_features, n_classes, n_samples, hps["seed"])
        print(f"no checkpoint in {checkpoints}: starting from step 0", flush=True)
    else:
        print(f"resuming from {checkpoint_name(state['step'])} (step {state['step']})", flush=True)
    stop_requested = False
    if hps["checkpoint_on_sigterm"]:

        def request_stop(signum, frame):
            nonlocal stop_requested
            stop_requested = True

        signal.signal(signal.SIGTERM, request_stop)

    def after_step(state: dict) -> bool:
        """Print progress and the epoch's metrics, checkpoint on schedule; True to stop after a SIGTERM."""
        if hps["log_interval"] and state["step"] % hps["log_interval"] == 0:
            print(f"step={state['step']}", flush=True)
        if state["step"] % steps_per_epoch == 0:
            loss, accuracy = evaluate(state["W"], state["b"], X, y)
            line = (
                f"epoch={state['step'] // steps_per_epoch} step={state['step']} "
                f"train_loss={loss:.6f} train_accuracy={accuracy:.6f}"
            )
            if X_val is not None:
                val_loss, val_accuracy = evaluate(state["W"], state["b"], X_val, y_val)
                line += f" validation_loss={val_loss:.6f} validation_accuracy={val_accuracy:.6f}"
            print(line, flush=True)
        if state["step"] % hps["checkpoint_interval"] == 0:
            save_checkpoint(checkpoints, state, keep=hps["keep_checkpoints"])
        if stop_requested:
            if state["step"] % hps["checkpoint_interval"]:
                save_checkpoint(checkpoints, state, keep=hps["keep_checkpoints"])
            print(f"SIGTERM: saved {checkpoint_name(state['step'])}, exiting", flush=True)
        return stop_requested

    if not train(state, X, y, hps, until_step=total_steps, pause=pause, after_step=after_step):
        return 0

    model_dir = Path(os.environ["SM_MODEL_DIR"])
    np.savez(model_dir / "model.npz", W=state["W"], b=state["b"])
    loss, accuracy = evaluate(state["W"], state["b"], X, y)
    output = Path(os.environ["SM_OUTPUT_DATA_DIR"])
    output.mkdir(parents=True, exist_ok=True)
    (output / "metrics.json").write_text(
        json.dumps({"steps": state["step"], "train_loss": loss, "train_accuracy": accuracy})
    )
    print(f"training finished after {state['step']} steps", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
