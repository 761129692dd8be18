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

**Checkpoints are the user's code**, as on SageMaker, where the training script
is yours and writes its own checkpoints. This script does not write any by
itself: if a module ``checkpointing`` sits next to it in ``source_dir`` (see
:func:`course.training.checkpointing_source_dir`), the script calls its
``load_latest_checkpoint(directory)`` once on start and its
``save_checkpoint(directory, state)`` every ``checkpoint_interval`` steps.
Without that module it trains without checkpoints and says so, and every
restart begins at step 0. A checkpoint state is the dict
``{"step": int, "weights": float64 ndarray, "rng_state": dict}`` of
assignment 03: ``weights`` stacks the parameters and the momentum as an array
of shape ``(2, n_features + 1, n_classes)`` (the last row of each holds the
biases) and ``rng_state`` is the generator's state before the current epoch's
order was drawn, so the order is drawn again on resume. That is everything
the next step depends on: a job resumed from any checkpoint ends with weights
bit-for-bit equal to a job that was never interrupted, provided the
checkpoint functions give back exactly what they were given.

On start the script deletes temporary files (``.*.tmp``) that a checkpoint
write cut short left in the folder, saying so. If the user's loader passes
over newer checkpoint files (``checkpoint-<8 digits>.ckpt``) for an older one,
because they could not be read, the script names them.

On SIGTERM the default is to stop at once, as a script without a handler
does; with ``checkpoint_on_sigterm`` it finishes the current step, saves a
checkpoint and exits.

Each epoch prints one line that metric definitions such as
``{"Name": "train:loss", "Regex": "train_loss=([0-9.]+)"}`` parse::

    epoch=2 step=58 train_loss=0.312345 train_accuracy=0.912345
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

HYPERPARAMETERS = {
    "epochs": 5,
    "batch_size": 32,
    "learning_rate": 0.05,
    "momentum": 0.9,
    "seed": 0,
    "checkpoint_interval": 10,
    "seconds_per_step": 0.0,
    "checkpoint_on_sigterm": False,
    "log_interval": 0,
}
"""Defaults of the hyperparameters the script reads (``checkpoint_interval`` is in steps;
``seconds_per_step`` is simulated compute time per mini-batch, to stand in for a larger model;
``log_interval`` > 0 prints ``step=<n>`` every that many steps)."""

CHECKPOINT_MODULE = "checkpointing"
CHECKPOINT_NAME = re.compile(r"checkpoint-(?P<step>[0-9]{8})[.]ckpt")
"""A checkpoint file's name (the step as 8 digits): newer ones the user's loader passed over are reported."""
"""The module in ``source_dir`` that holds the user's checkpoint functions."""


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
    if hps["log_interval"] < 0:
        raise ValueError("log_interval must be >= 0")
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


def checkpoint_functions() -> ModuleType | None:
    """The user's ``checkpointing`` module next to this script, or None if there is none.

    Raises
    ------
    AttributeError
        If the module lacks ``save_checkpoint`` or ``load_latest_checkpoint``.
    """
    try:
        module = importlib.import_module(CHECKPOINT_MODULE)
    except ModuleNotFoundError as error:
        if error.name != CHECKPOINT_MODULE:
            raise
        return None
    missing = [name for name in ("save_checkpoint", "load_latest_checkpoint") if not hasattr(module, name)]
    if missing:
        raise AttributeError(f"{module.__file__} defines no {' or '.join(missing)}")
    return module


def to_checkpoint(state: dict) -> dict:
    """The training state as the checkpoint functions take it: step, stacked weights, generator."""
    params = np.vstack([state["W"], state["b"][None, :]])
    velocity = np.vstack([state["vW"], state["vb"][None, :]])
    return {
        "step": int(state["step"]),
        "weights": np.stack([params, velocity]),
        "rng_state": state["epoch_rng_state"],
    }


def from_checkpoint(checkpoint: dict, *, n_samples: int) -> dict:
    """Inverse of :func:`to_checkpoint`: the epoch's order is drawn again from the stored generator."""
    weights = np.asarray(checkpoint["weights"], dtype=np.float64)
    order, rng_state = draw_order(checkpoint["rng_state"], n_samples)
    return {
        "W": weights[0, :-1].copy(),
        "b": weights[0, -1].copy(),
        "vW": weights[1, :-1].copy(),
        "vb": weights[1, -1].copy(),
        "order": order,
        "step": int(checkpoint["step"]),
        "epoch_rng_state": checkpoint["rng_state"],
        "rng_state": rng_state,
    }


def draw_order(rng_state: dict, n_samples: int) -> tuple[np.ndarray, dict]:
    """An epoch's order drawn by a generator in ``rng_state``, and the generator's state after."""
    rng = np.random.default_rng()
    rng.bit_generator.state = rng_state
    order = rng.permutation(n_samples)
    return order, rng.bit_generator.state


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
    start = np.random.default_rng(seed).bit_generator.state
    order, after = draw_order(start, n_samples)
    return {
        "W": np.zeros((n_features, n_classes)),
        "b": np.zeros(n_classes),
        "vW": np.zeros((n_features, n_classes)),
        "vb": np.zeros(n_classes),
        "order": order,
        "step": 0,
        "epoch_rng_state": start,
        "rng_state": after,
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

    Each epoch's order is drawn by the generator in ``state["rng_state"]``
    (``state["epoch_rng_state"]`` keeps its state before the draw);
    ``after_step(state)`` runs after every step and may return True to stop
    early. Returns True if ``until_step`` was reached.
    """
    batch_size = hps["batch_size"]
    steps_per_epoch = math.ceil(len(y) / batch_size)
    while state["step"] < until_step:
        step = state["step"]
        position = step % steps_per_epoch
        if position == 0 and step > 0:
            state["epoch_rng_state"] = state["rng_state"]
            state["order"], state["rng_state"] = draw_order(state["rng_state"], len(y))
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

    user = checkpoint_functions()
    for unfinished in sorted(checkpoints.glob(".*.tmp")):
        unfinished.unlink()
        print(f"removed {unfinished.name}: a checkpoint write that was interrupted", flush=True)
    found = user.load_latest_checkpoint(str(checkpoints)) if user is not None else None
    if user is None:
        print(
            f"no {CHECKPOINT_MODULE}.py next to the script: training without checkpoints "
            "(every restart begins at step 0)",
            flush=True,
        )
    if found is None:
        state = fresh_state(n_features, n_classes, n_samples, hps["seed"])
        print(f"no checkpoint in {checkpoints}: starting from step 0", flush=True)
    else:
        step, checkpoint = found
        state = from_checkpoint(checkpoint, n_samples=n_samples)
        print(f"resuming from the checkpoint of step {step}", flush=True)
    unread = [
        path.name
        for path in sorted(checkpoints.iterdir())
        if (named := CHECKPOINT_NAME.fullmatch(path.name)) and int(named[1]) > (found[0] if found else -1)
    ]
    if user is not None and unread:
        print(f"could not read {', '.join(unread)} (damaged?): skipped for an older one", flush=True)

    def save(state: dict) -> str:
        """Save a checkpoint with the user's function; its file name, or "" without checkpoints."""
        return user.save_checkpoint(str(checkpoints), to_checkpoint(state)) if user is not None else ""

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
        saved = save(state) if state["step"] % hps["checkpoint_interval"] == 0 else None
        if stop_requested:
            saved = save(state) if saved is None else saved
            print(f"SIGTERM at step {state['step']}: saved {saved or 'nothing'}, exiting", flush=True)
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
