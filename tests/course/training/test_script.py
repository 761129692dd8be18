"""The course's training script, in process: SGD, the checkpoint state it hands over, resume, bad input.

The script has no checkpoint functions of its own; the reference ones come
from the source notebook (the instructor's side).
"""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import check_grad
from scipy.special import log_softmax

from course.training import SCRIPT, SCRIPT_DIR, checkpointing_source_dir

from .conftest import CHECKPOINT_FUNCTIONS, solution_namespace

spec = importlib.util.spec_from_file_location("train_sgd", SCRIPT_DIR / SCRIPT)
train_sgd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train_sgd)

SOLUTION = solution_namespace("03_spot_training")
HPS = {**train_sgd.HYPERPARAMETERS, "batch_size": 7, "learning_rate": 0.1}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 5))
    y = rng.integers(0, 3, size=40)
    return X, y


def fresh(data):
    X, y = data
    return train_sgd.fresh_state(X.shape[1], 3, len(y), seed=11)


def assert_same_state(a, b):
    for key in ("W", "b", "vW", "vb", "order"):
        assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key
    assert a["step"] == b["step"] and a["rng_state"] == b["rng_state"]
    assert a["epoch_rng_state"] == b["epoch_rng_state"]


def test_loss_and_gradient_match_scipy(data):
    X, y = data
    n_features, n_classes = X.shape[1], 3
    rng = np.random.default_rng(0)
    b = rng.normal(size=n_classes)

    def loss(flat):
        return train_sgd.softmax_loss_grad(flat.reshape(n_features, n_classes), b, X, y)[0]

    def grad(flat):
        return train_sgd.softmax_loss_grad(flat.reshape(n_features, n_classes), b, X, y)[1].ravel()

    W = rng.normal(size=n_features * n_classes)
    assert check_grad(loss, grad, W) < 1e-5
    expected = -log_softmax(X @ W.reshape(n_features, n_classes) + b, axis=1)[np.arange(len(y)), y].mean()
    assert loss(W) == pytest.approx(expected, rel=1e-9)


def through_checkpoint(state, *, n_samples):
    """The state after a trip through the reference pack/unpack, as a resumed launch sees it."""
    packed = SOLUTION["pack_checkpoint"](train_sgd.to_checkpoint(state))
    return train_sgd.from_checkpoint(SOLUTION["unpack_checkpoint"](packed), n_samples=n_samples)


def test_checkpoint_state_holds_everything_the_next_step_needs(data):
    state = fresh(data)
    train_sgd.train(state, *data, HPS, until_step=9)
    checkpoint = train_sgd.to_checkpoint(state)
    assert sorted(checkpoint) == ["rng_state", "step", "weights"]
    assert checkpoint["weights"].dtype == np.float64 and checkpoint["weights"].shape == (2, 6, 3)
    assert_same_state(through_checkpoint(state, n_samples=len(data[1])), state)


@given(stops=st.lists(st.integers(1, 29), max_size=5))
@settings(max_examples=40, deadline=None)
def test_resuming_from_checkpoints_gives_the_same_weights_bit_for_bit(data, stops):
    """Stop at any steps, go through the checkpoint bytes, resume: same state as never stopping."""
    uninterrupted = fresh(data)
    train_sgd.train(uninterrupted, *data, HPS, until_step=30)
    state = fresh(data)
    for stop in sorted(set(stops)) + [30]:
        train_sgd.train(state, *data, HPS, until_step=stop)
        state = through_checkpoint(state, n_samples=len(data[1]))
    assert_same_state(state, uninterrupted)


def test_restarting_the_generator_from_the_seed_would_not_be_the_same(data):
    """The generator's state matters: re-seeding on resume changes the data order."""
    uninterrupted = fresh(data)
    train_sgd.train(uninterrupted, *data, HPS, until_step=20)
    state = fresh(data)
    train_sgd.train(state, *data, HPS, until_step=10)
    state["rng_state"] = np.random.default_rng(11).bit_generator.state
    train_sgd.train(state, *data, HPS, until_step=20)
    assert not np.array_equal(state["W"], uninterrupted["W"])


def test_the_script_needs_both_checkpoint_functions(tmp_path, monkeypatch):
    (tmp_path / "checkpointing.py").write_text("def save_checkpoint(directory, state):\n    return ''\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "checkpointing", raising=False)
    with pytest.raises(AttributeError, match="defines no load_latest_checkpoint"):
        train_sgd.checkpoint_functions()
    monkeypatch.delitem(sys.modules, "checkpointing")


def test_without_a_checkpointing_module_there_are_no_checkpoints(monkeypatch):
    monkeypatch.delitem(sys.modules, "checkpointing", raising=False)
    assert train_sgd.checkpoint_functions() is None


def test_checkpointing_source_dir_copies_the_functions_and_refuses_bad_ones(tmp_path):
    functions = [SOLUTION[name] for name in CHECKPOINT_FUNCTIONS]
    code = checkpointing_source_dir(tmp_path / "code", functions)
    assert (code / SCRIPT).read_bytes() == (SCRIPT_DIR / SCRIPT).read_bytes()
    module = {}
    exec((code / "checkpointing.py").read_text(), module)
    state = {"step": 4, "weights": np.arange(3.0), "rng_state": np.random.default_rng(2).bit_generator.state}
    assert module["save_checkpoint"](str(tmp_path / "ckpt"), state) == "checkpoint-00000004.ckpt"
    step, restored = module["load_latest_checkpoint"](str(tmp_path / "ckpt"))
    assert step == 4 and np.array_equal(restored["weights"], state["weights"])
    with pytest.raises(ValueError, match="must include save_checkpoint"):
        checkpointing_source_dir(tmp_path / "x", functions[:2])
    with pytest.raises(ValueError, match="must be functions"):
        checkpointing_source_dir(tmp_path / "x", [*functions, print])
    with pytest.raises(ValueError, match="cannot read the source"):
        checkpointing_source_dir(tmp_path / "x", [*functions, eval("lambda: 0")])


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ('{"epoch": 3}', "unknown hyperparameters"),
        ('{"epochs": "3"}', "epochs must be a int"),
        ('{"epochs": 2.5}', "epochs must be a int"),
        ('{"learning_rate": true}', "learning_rate must be a float"),
        ('{"epochs": 0}', ">= 1"),
    ],
)
def test_bad_hyperparameters_are_refused(monkeypatch, given, message):
    monkeypatch.setenv("SM_HPS", given)
    with pytest.raises(ValueError, match=message):
        train_sgd.read_hyperparameters()


def test_an_epoch_visits_every_sample_once(data):
    X, y = data
    state = fresh(data)
    seen = []

    def record(s):
        position = (s["step"] - 1) % math.ceil(len(y) / HPS["batch_size"])
        seen.extend(s["order"][position * HPS["batch_size"] : (position + 1) * HPS["batch_size"]].tolist())
        return False

    train_sgd.train(state, X, y, HPS, until_step=math.ceil(len(y) / HPS["batch_size"]), after_step=record)
    assert sorted(seen) == list(range(len(y)))
