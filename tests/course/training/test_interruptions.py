"""Property: any interruption schedule ends with the uninterrupted weights, losing at most one interval.

Each example draws a spot market from a seed: interruptions at random times
(with a checkpoint every step, and in some examples no grace period, so a
SIGKILL regularly lands during a checkpoint write or while the sync uploads).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course.training import SCRIPT, SCRIPT_DIR, SpotMarket, load_model, work_lost

from .conftest import FAST_HPS, reference_checkpointing

_names = itertools.count()


@pytest.fixture(scope="module")
def reference_weights(tmp_path_factory):
    from course.storage import LocalS3
    from course.training import Estimator, upload_digits

    root = tmp_path_factory.mktemp("reference")
    # the course's script alone: never interrupted, it needs no checkpoints
    s3 = LocalS3(root / "s3")
    channels = upload_digits(s3, "s3://course-data/digits", n_samples=200, seed=0)
    estimator = Estimator(
        entry_point=SCRIPT, source_dir=SCRIPT_DIR, hyperparameters=FAST_HPS, s3=s3,
        local_root=root / "jobs", time_scale=0.005,
    )  # fmt: skip
    estimator.fit(channels, job_name="reference", logs=False)
    return load_model(s3, estimator.model_data())


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), interval=st.sampled_from([1, 4]), grace=st.sampled_from([0.0, 10.0]))
def test_resumed_weights_equal_uninterrupted_weights(
    make_estimator, channels, s3, reference_weights, seed, interval, grace
):
    market = SpotMarket.random(
        seed=seed, max_interruptions=3, mean_seconds_to_interruption=80, mean_capacity_wait=10,
        grace_seconds=grace,
    )  # fmt: skip
    name = f"spot-{next(_names)}"
    estimator = make_estimator(
        use_spot_instances=True, max_run=3600, max_wait=7200, spot_market=market,
        checkpoint_s3_uri=f"s3://ckpt-bucket/{name}",
        hyperparameters={**FAST_HPS, "checkpoint_interval": interval, "log_interval": 1},
    )  # fmt: skip
    estimator.fit(channels, job_name=name, logs=False)
    assert estimator.latest_training_job.describe()["TrainingJobStatus"] == "Completed"
    weights = load_model(s3, estimator.model_data())
    assert np.array_equal(weights["W"], reference_weights["W"])
    assert np.array_equal(weights["b"], reference_weights["b"])
    assert all(0 <= lost <= interval for lost in work_lost(estimator.latest_training_job.logs()))


SLOW_FILE_FSYNC = """
import os
import stat
import sys
import time

import train_sgd

real_fsync = os.fsync


def slow_fsync(fd):
    # most of each step is now spent between writing a checkpoint and renaming it
    if not stat.S_ISDIR(os.fstat(fd).st_mode):
        time.sleep(0.16)
    real_fsync(fd)


os.fsync = slow_fsync
sys.exit(train_sgd.main())
"""


@pytest.mark.slow
def test_kills_during_checkpoint_writes_and_uploads_lose_nothing(
    make_estimator, write_script, channels, s3, reference_weights
):
    """With slow writes and no grace period, SIGKILL lands mid-write; the job still ends exact."""
    code = reference_checkpointing(write_script(SLOW_FILE_FSYNC, name="slow_writes.py"))
    market = SpotMarket(interruptions=(250.0, 270.0, 290.0), grace_seconds=0.0)
    estimator = make_estimator(
        entry_point="slow_writes.py", source_dir=code, use_spot_instances=True, max_run=36000,
        max_wait=72000, spot_market=market, checkpoint_s3_uri="s3://ckpt-bucket/slow",
        hyperparameters={**FAST_HPS, "checkpoint_interval": 1, "seconds_per_step": 1.0, "log_interval": 1},
    )  # fmt: skip
    estimator.fit(channels, job_name="slow-writes", logs=False)
    weights = load_model(s3, estimator.model_data())
    assert np.array_equal(weights["W"], reference_weights["W"])
    assert np.array_equal(weights["b"], reference_weights["b"])
    logs = estimator.latest_training_job.logs()
    assert any("a checkpoint write that was interrupted" in log for log in logs), logs
    assert all(0 <= lost <= 1 for lost in work_lost(logs))
    # the resumed script deleted the unfinished files, and the sync deleted their uploaded copies
    assert not [uri for uri in s3.list_objects("s3://ckpt-bucket/slow/") if uri.endswith(".tmp")]
