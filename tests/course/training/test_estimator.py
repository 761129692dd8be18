"""Training jobs end to end: the training contract, the lifecycle, spot, checkpoints, bad input."""

from __future__ import annotations

import io
import json
import re
import tarfile

import numpy as np
import pytest

from course.training import (
    SpotMarket,
    UnexpectedStatusException,
    describe_training_job,
    load_model,
)

from .conftest import FAST_HPS, process_alive

SPOT = {"use_spot_instances": True, "max_run": 3600, "max_wait": 7200}


def statuses(description):
    return [t["Status"] for t in description["SecondaryStatusTransitions"]]


def resumed_steps(logs):
    """The step each launch started from (0 when it found no checkpoint)."""
    steps = []
    for log in logs:
        match = re.search(r"resuming from the checkpoint of step (\d+)", log)
        steps.append(int(match.group(1)) if match else 0)
    return steps


def test_the_script_sees_the_training_contract(make_estimator, write_script, s3, channels):
    code = write_script(
        """
        import json, os, pathlib
        model = pathlib.Path(os.environ["SM_MODEL_DIR"])
        config = pathlib.Path(os.environ["SM_INPUT_CONFIG_DIR"])
        seen = {k: v for k, v in os.environ.items() if k.startswith("SM_")}
        seen["hyperparameters.json"] = json.loads((config / "hyperparameters.json").read_text())
        seen["train_files"] = sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"]))
        seen["cwd_files"] = sorted(os.listdir("."))
        (model / "seen.json").write_text(json.dumps(seen))
        out = pathlib.Path(os.environ["SM_OUTPUT_DATA_DIR"])
        (out / "note.txt").write_text("output data")
        """
    )
    estimator = make_estimator(
        entry_point="train.py",
        source_dir=code,
        hyperparameters={"epochs": 3, "optimizer": "adam", "layers": [4, 2]},
        output_path="s3://models-bucket/runs",
    )
    estimator.fit(channels, job_name="contract")
    description = estimator.latest_training_job.describe()
    assert (
        description["ModelArtifacts"]["S3ModelArtifacts"]
        == "s3://models-bucket/runs/contract/output/model.tar.gz"
    )
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(estimator.model_data())), mode="r:gz") as tar:
        seen = json.loads(tar.extractfile("seen.json").read())
    with tarfile.open(
        fileobj=io.BytesIO(s3.get_object("s3://models-bucket/runs/contract/output/output.tar.gz")),
        mode="r:gz",
    ) as tar:
        assert tar.extractfile("note.txt").read() == b"output data"
    assert json.loads(seen["SM_HPS"]) == {"epochs": 3, "optimizer": "adam", "layers": [4, 2]}
    assert seen["hyperparameters.json"] == {"epochs": "3", "optimizer": '"adam"', "layers": "[4, 2]"}
    assert description["HyperParameters"] == seen["hyperparameters.json"]
    assert seen["SM_HP_OPTIMIZER"] == "adam" and seen["SM_HP_EPOCHS"] == "3"
    assert json.loads(seen["SM_CHANNELS"]) == ["train", "validation"]
    assert seen["SM_CHANNEL_TRAIN"].endswith("/opt/ml/input/data/train")
    assert seen["SM_MODEL_DIR"].endswith("/opt/ml/model")
    assert seen["SM_OUTPUT_DATA_DIR"].endswith("/opt/ml/output/data")
    assert seen["SM_CHECKPOINT_DIR"].endswith("/opt/ml/checkpoints")
    assert seen["train_files"] == ["digits.npz"] and seen["cwd_files"] == ["train.py"]
    assert seen["SM_CURRENT_HOST"] == "algo-1"


def test_an_on_demand_job_completes(make_estimator, channels, s3, capsys):
    estimator = make_estimator(
        metric_definitions=[{"Name": "validation:accuracy", "Regex": r"validation_accuracy=([0-9.]+)"}]
    )
    estimator.fit(channels, job_name="on-demand")
    description = describe_training_job("on-demand", local_root=estimator.local_root)
    assert description["TrainingJobStatus"] == "Completed"
    assert statuses(description) == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    transitions = description["SecondaryStatusTransitions"]
    for before, after in zip(transitions, transitions[1:], strict=False):
        assert before["EndTime"] == after["StartTime"] >= before["StartTime"]
    assert description["TrainingStartTime"] == transitions[1]["StartTime"]
    assert description["TrainingEndTime"] == transitions[-1]["EndTime"]
    assert description["TrainingTimeInSeconds"] == description["BillableTimeInSeconds"] > 0
    assert description["EnableManagedSpotTraining"] is False
    assert description["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert "CheckpointConfig" not in description and "FailureReason" not in description
    [metric] = description["FinalMetricDataList"]
    assert metric["MetricName"] == "validation:accuracy" and 0.5 < metric["Value"] <= 1.0
    model = load_model(s3, estimator.model_data())
    assert model["W"].shape == (64, 10) and model["b"].shape == (10,)
    out = capsys.readouterr().out
    assert f"Training seconds: {description['TrainingTimeInSeconds']}\n" in out
    assert f"Billable seconds: {description['BillableTimeInSeconds']}\n" in out
    assert "Managed Spot Training savings" not in out


def test_instance_count_multiplies_the_printed_seconds(make_estimator, channels, capsys):
    estimator = make_estimator(instance_count=3, hyperparameters={**FAST_HPS, "epochs": 1})
    estimator.fit(channels, job_name="three-instances", logs=True)
    description = estimator.latest_training_job.describe()
    assert f"Training seconds: {3 * description['TrainingTimeInSeconds']}\n" in capsys.readouterr().out


@pytest.mark.slow
def test_a_spot_job_resumes_to_the_same_weights_and_reports_savings(make_estimator, channels, s3, capsys):
    reference = make_estimator()
    reference.fit(channels, job_name="reference", logs=False)
    market = SpotMarket(interruptions=(60, 50), capacity_waits=(0, 40, 25), grace_seconds=10)
    # 20 steps of 10 s: no launch can finish before its interruption, however fast the machine
    spot = make_estimator(
        **SPOT, checkpoint_s3_uri="s3://ckpt-bucket/spot", spot_market=market,
        hyperparameters={**FAST_HPS, "seconds_per_step": 10.0},
    )  # fmt: skip
    spot.fit(channels, job_name="spot")
    description = spot.latest_training_job.describe()
    assert description["TrainingJobStatus"] == "Completed"
    assert statuses(description) == [
        "Starting", "Downloading", "Training", "Interrupted",
        "Starting", "Downloading", "Training", "Interrupted",
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]  # fmt: skip
    assert description["CheckpointConfig"] == {
        "S3Uri": "s3://ckpt-bucket/spot",
        "LocalPath": "/opt/ml/checkpoints",
    }
    assert description["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    first, second = (load_model(s3, job.model_data()) for job in (reference, spot))
    assert np.array_equal(first["W"], second["W"]) and np.array_equal(first["b"], second["b"])
    training, billable = description["TrainingTimeInSeconds"], description["BillableTimeInSeconds"]
    # waiting for capacity (65 s) is training time but not billable; billable is at the spot price
    assert 0 < billable < 0.3 * (training - 65) + 1
    out = capsys.readouterr().out
    assert f"Managed Spot Training savings: {(1 - billable / training) * 100:.1f}%\n" in out
    assert s3.list_objects("s3://ckpt-bucket/spot/")


def test_without_checkpoints_each_interruption_restarts_from_zero(make_estimator, channels):
    market = SpotMarket(interruptions=(40, 40), grace_seconds=0)
    estimator = make_estimator(**SPOT, spot_market=market)
    estimator.fit(channels, job_name="no-checkpoints", logs=False)
    logs = estimator.latest_training_job.logs()
    assert len(logs) == 3
    assert not any("resuming" in log for log in logs)
    assert "starting from step 0" in logs[-1] and "training finished after 20 steps" in logs[-1]


@pytest.mark.slow
def test_checkpoint_on_sigterm_saves_within_the_grace_period(make_estimator, channels):
    # late enough for the script to have installed its handler even on a busy machine
    market = SpotMarket(interruptions=(400,), grace_seconds=200)
    hps = {**FAST_HPS, "seconds_per_step": 40.0, "checkpoint_interval": 1000, "checkpoint_on_sigterm": True}
    estimator = make_estimator(
        **SPOT, hyperparameters=hps, checkpoint_s3_uri="s3://ckpt-bucket/sigterm", spot_market=market
    )
    estimator.fit(channels, job_name="sigterm", logs=False)
    first, second = estimator.latest_training_job.logs()
    saved = int(re.search(r"SIGTERM at step \d+: saved checkpoint-(\d{8})\.ckpt", first).group(1))
    assert saved > 0 and resumed_steps([second]) == [saved]


def test_a_damaged_newest_checkpoint_is_skipped_and_named(make_estimator, channels, s3):
    """The user's loader falls back to the checkpoint before a damaged one; the script says which it skipped."""
    uri = "s3://ckpt-bucket/damaged"
    make_estimator(checkpoint_s3_uri=uri).fit(channels, job_name="first", logs=False)
    saved = sorted(key.rsplit("/", 1)[1] for key in s3.list_objects(f"{uri}/"))
    assert saved[-2:] == ["checkpoint-00000015.ckpt", "checkpoint-00000018.ckpt"]
    s3.put_object(f"{uri}/{saved[-1]}", b"cut short")
    again = make_estimator(checkpoint_s3_uri=uri, hyperparameters={**FAST_HPS, "epochs": 3})
    again.fit(channels, job_name="second", logs=False)
    [log] = again.latest_training_job.logs()
    assert "resuming from the checkpoint of step 15" in log
    assert "could not read checkpoint-00000018.ckpt (damaged?): skipped for an older one" in log


def test_a_crashing_script_fails_the_job_with_its_last_lines(make_estimator, write_script, channels):
    code = write_script(
        """
        import sys
        print("about to fail", file=sys.stderr)
        1 / 0
        """
    )
    estimator = make_estimator(entry_point="train.py", source_dir=code)
    with pytest.raises(UnexpectedStatusException, match="ZeroDivisionError") as raised:
        estimator.fit(channels, job_name="crash", logs=False)
    assert isinstance(raised.value, ValueError) and raised.value.actual_status == "Failed"
    description = estimator.latest_training_job.describe()
    assert description["TrainingJobStatus"] == "Failed" and description["SecondaryStatus"] == "Failed"
    reason = description["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError:\nExitCode 1\n")
    assert "about to fail" in reason and reason.endswith("ZeroDivisionError: division by zero")
    assert "ModelArtifacts" not in description


def test_a_hanging_script_is_stopped_at_max_run_and_killed(make_estimator, write_script, channels, tmp_path):
    pid_file = tmp_path / "pid"
    code = write_script(
        f"""
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        open({str(pid_file)!r}, "w").write(str(os.getpid()))
        while True:
            time.sleep(0.01)
        """
    )
    estimator = make_estimator(entry_point="train.py", source_dir=code, max_run=200)
    estimator.fit(channels, job_name="hang", logs=False)
    description = estimator.latest_training_job.describe()
    assert description["TrainingJobStatus"] == "Stopped"
    assert description["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert statuses(description)[-3:] == ["Stopping", "Uploading", "MaxRuntimeExceeded"]
    assert not process_alive(int(pid_file.read_text()))


def test_no_spot_capacity_within_max_wait_stops_the_job(make_estimator, channels):
    market = SpotMarket(capacity_waits=(5000,))
    estimator = make_estimator(use_spot_instances=True, max_run=100, max_wait=200, spot_market=market)
    estimator.fit(channels, job_name="no-capacity", logs=False)
    description = estimator.latest_training_job.describe()
    assert description["TrainingJobStatus"] == "Stopped"
    assert statuses(description) == ["Starting", "Stopping", "MaxWaitTimeExceeded"]
    assert description["BillableTimeInSeconds"] == 0 and description["TrainingTimeInSeconds"] == 0
    assert "ModelArtifacts" not in description and "TrainingStartTime" not in description


def test_max_wait_also_stops_a_job_interrupted_too_often(make_estimator, channels):
    market = SpotMarket(interruptions=(30,) * 20, capacity_waits=(0,) + (40,) * 19, grace_seconds=0)
    estimator = make_estimator(use_spot_instances=True, max_run=150, max_wait=151, spot_market=market)
    estimator.fit(channels, job_name="too-many-interruptions", logs=False)
    description = estimator.latest_training_job.describe()
    assert description["SecondaryStatus"] == "MaxWaitTimeExceeded"
    assert "Interrupted" in statuses(description)
    assert (description["TrainingEndTime"] - description["CreationTime"]).total_seconds() < 151 + 60


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"entry_point": "missing.py"}, "entry point 'missing.py' not found"),
        ({"source_dir": "/nonexistent/folder"}, "is not a folder"),
        ({"hyperparameters": {"tags": {"a", "b"}}}, "'tags' .* is not JSON-serialisable"),
        ({"hyperparameters": {"lr": float("nan")}}, "'lr' .* is not JSON-serialisable"),
        ({"hyperparameters": {"bad name": 1}}, "hyperparameter name"),
        (
            {"use_spot_instances": True, "max_run": 3600, "max_wait": 3600},
            r"max_wait \(3600\) must be larger than max_run \(3600\)",
        ),
        ({"use_spot_instances": True}, "needs max_wait"),
        ({"max_wait": 7200}, "only to Managed Spot Training"),
        ({"spot_market": SpotMarket()}, "only to Managed Spot Training"),
        ({"max_run": 0}, "max_run must be"),
        ({"checkpoint_local_path": "checkpoints"}, "must be an absolute path"),
        ({"checkpoint_local_path": "/opt/ml/../../etc"}, "must not contain"),
        ({"checkpoint_s3_uri": "/local/folder"}, "is not an S3 URI"),
        ({"output_path": "s3://Bad_Bucket/x"}, "invalid bucket name"),
        ({"instance_type": "ml.x9.huge"}, "unknown instance_type"),
        ({"instance_count": 0}, "instance_count"),
        ({"metric_definitions": [{"Name": "loss", "Regex": "loss=[0-9.]+"}]}, "exactly one group"),
        ({"time_scale": 0}, "time_scale"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(make_estimator, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_estimator(**kwargs)


def test_bad_inputs_to_fit_are_refused(make_estimator, channels):
    estimator = make_estimator()
    with pytest.raises(ValueError, match="no objects under"):
        estimator.fit({"train": "s3://course-data/empty"})
    with pytest.raises(ValueError, match="channel name"):
        estimator.fit({"train data": channels["train"]})
    with pytest.raises(ValueError, match="job_name"):
        estimator.fit(channels, job_name="not_valid!")
    assert not estimator.local_root.exists()


def test_a_job_name_cannot_be_reused(make_estimator, channels):
    estimator = make_estimator(hyperparameters={**FAST_HPS, "epochs": 1})
    estimator.fit(channels, job_name="once", logs=False)
    before = estimator.latest_training_job.describe()
    with pytest.raises(ValueError, match="already exists"):
        estimator.fit(channels, job_name="once", logs=False)
    assert describe_training_job("once", local_root=estimator.local_root) == before


def test_an_unwritable_checkpoint_location_is_refused_before_the_job_starts(make_estimator, channels, s3):
    s3.put_object("s3://ckpt-bucket/taken", b"an object where the checkpoint folder should be")
    estimator = make_estimator(**SPOT, checkpoint_s3_uri="s3://ckpt-bucket/taken/checkpoints")
    with pytest.raises(ValueError, match="cannot write checkpoints to 's3://ckpt-bucket/taken/checkpoints'"):
        estimator.fit(channels, job_name="unwritable", logs=False)
    assert s3.get_object("s3://ckpt-bucket/taken") == b"an object where the checkpoint folder should be"
    with pytest.raises(ValueError, match="no training job named 'unwritable'"):
        describe_training_job("unwritable", local_root=estimator.local_root)


def test_a_string_input_is_the_training_channel(make_estimator, write_script, channels):
    code = write_script(
        """
        import os, pathlib
        pathlib.Path(os.environ["SM_MODEL_DIR"], "channels").write_text(os.environ["SM_CHANNELS"])
        """
    )
    estimator = make_estimator(entry_point="train.py", source_dir=code)
    estimator.fit(channels["train"], job_name="one-channel", logs=False)
    assert estimator.latest_training_job.describe()["InputDataConfig"][0]["ChannelName"] == "training"
