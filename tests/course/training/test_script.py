"""The course's training script, in process: checkpoint format, atomic writes, fallback, resume."""

from __future__ import annotations

import importlib.util
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import check_grad
from scipy.special import log_softmax

from course.training import SCRIPT, SCRIPT_DIR

spec = importlib.util.spec_from_file_location("train_sgd", SCRIPT_DIR / SCRIPT)
train_sgd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train_sgd)

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


def test_checkpoint_round_trip_is_exact(data):
    state = fresh(data)
    train_sgd.train(state, *data, HPS, until_step=9)
    restored = train_sgd.decode_checkpoint(train_sgd.encode_checkpoint(state))
    assert_same_state(restored, state)


@given(cut=st.integers(0, 10_000), flip=st.booleans())
@settings(max_examples=60, deadline=None)
def test_any_truncation_or_bit_flip_is_detected(data, cut, flip):
    blob = train_sgd.encode_checkpoint(fresh(data))
    if flip:
        position = cut % len(blob)
        damaged = blob[:position] + bytes([blob[position] ^ 0x01]) + blob[position + 1 :]
    else:
        damaged = blob[: cut % len(blob)]
    with pytest.raises(ValueError):
        train_sgd.decode_checkpoint(damaged)


@given(stops=st.lists(st.integers(1, 29), max_size=5))
@settings(max_examples=40, deadline=None)
def test_resuming_from_checkpoints_gives_the_same_weights_bit_for_bit(data, stops):
    """Stop at any steps, go through the checkpoint bytes, resume: same state as never stopping."""
    uninterrupted = fresh(data)
    train_sgd.train(uninterrupted, *data, HPS, until_step=30)
    state = fresh(data)
    for stop in sorted(set(stops)) + [30]:
        train_sgd.train(state, *data, HPS, until_step=stop)
        state = train_sgd.decode_checkpoint(train_sgd.encode_checkpoint(state))
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


def test_save_keeps_the_newest_and_leaves_no_temporary_file(tmp_path, data):
    state = fresh(data)
    for stop in (3, 6, 9):
        train_sgd.train(state, *data, HPS, until_step=stop)
        train_sgd.save_checkpoint(tmp_path, state, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint-00000006.npz",
        "checkpoint-00000009.npz",
    ]
    assert_same_state(train_sgd.latest_checkpoint(tmp_path), state)


def test_a_crash_during_the_write_keeps_the_previous_checkpoint(tmp_path, data, monkeypatch):
    state = fresh(data)
    train_sgd.save_checkpoint(tmp_path, state, keep=2)
    before = (tmp_path / "checkpoint-00000000.npz").read_bytes()
    train_sgd.train(state, *data, HPS, until_step=4)

    def crash(src, dst):
        raise OSError("killed during the write")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="killed"):
        train_sgd.save_checkpoint(tmp_path, state, keep=2)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-00000000.npz"]
    assert (tmp_path / "checkpoint-00000000.npz").read_bytes() == before


def test_a_corrupt_newest_checkpoint_falls_back_and_says_so(tmp_path, data, capsys):
    state = fresh(data)
    train_sgd.train(state, *data, HPS, until_step=3)
    train_sgd.save_checkpoint(tmp_path, state, keep=5)
    older = train_sgd.decode_checkpoint(train_sgd.encode_checkpoint(state))
    train_sgd.train(state, *data, HPS, until_step=6)
    train_sgd.save_checkpoint(tmp_path, state, keep=5)
    newest = tmp_path / "checkpoint-00000006.npz"
    newest.write_bytes(newest.read_bytes()[:100])
    # what SIGKILL leaves behind mid-write: a half-written temporary file
    (tmp_path / ".checkpoint-00000009.npz.abc.tmp").write_bytes(b"half")
    assert_same_state(train_sgd.latest_checkpoint(tmp_path), older)
    out = capsys.readouterr().out
    assert "checkpoint-00000006.npz is corrupt" in out and "falling back to checkpoint-00000003.npz" in out


def test_no_valid_checkpoint_means_none(tmp_path, capsys):
    (tmp_path / "checkpoint-00000004.npz").write_bytes(b"garbage")
    assert train_sgd.latest_checkpoint(tmp_path) is None
    assert "no older one" in capsys.readouterr().out


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
