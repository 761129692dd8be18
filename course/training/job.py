"""Running one training job: instances, the script's process, status and billing (private to the package).

:class:`course.training.Estimator` validates its arguments and hands a
:class:`JobSpec` to :func:`run_training_job`, which plays the job through
SageMaker's lifecycle on the simulated clock and keeps its DescribeTrainingJob
description in ``<local_root>/<job name>/description.json``.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from course.storage import LocalS3
from course.training.pricing import price_per_hour
from course.training.spot import SimulatedClock, SpotMarket
from course.training.sync import CheckpointSync

HOST = "algo-1"
FAILURE_REASON_CHARS = 1024  # DescribeTrainingJob's FailureReason is at most 1024 characters
FAILURE_LINES = 10
POLL_SECONDS = 0.005

_running: set[subprocess.Popen] = set()


@atexit.register
def _kill_leftovers() -> None:
    """Kill the process group of any training script still running when Python exits."""
    for process in list(_running):
        _kill_group(process, signal.SIGKILL)


def _kill_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass(frozen=True)
class JobSpec:
    """Everything a training job needs, already validated by the Estimator."""

    name: str
    code_dir: Path
    entry_point: str
    hyperparameters: dict[str, Any]
    channels: dict[str, str]
    instance_type: str
    instance_count: int
    use_spot_instances: bool
    max_run: int
    max_wait: int | None
    checkpoint_s3_uri: str | None
    checkpoint_local_path: str
    output_path: str
    metric_definitions: tuple[tuple[str, re.Pattern[str]], ...]
    market: SpotMarket
    time_scale: float
    s3: LocalS3
    root: Path
    logs: bool = True


class UnexpectedStatusException(ValueError):
    """A training job ended in a status the caller did not allow (Failed), as in the SageMaker SDK.

    Attributes
    ----------
    allowed_statuses : list of str
    actual_status : str
    """

    def __init__(self, message: str, *, allowed_statuses: list[str], actual_status: str) -> None:
        super().__init__(message)
        self.allowed_statuses = allowed_statuses
        self.actual_status = actual_status


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _from_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if key.endswith("Time") or key == "Timestamp":
        return datetime.fromisoformat(value)
    return value


def describe_training_job(
    job_name: str, *, local_root: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The DescribeTrainingJob response of a local training job.

    Parameters
    ----------
    job_name : str
        The job's ``TrainingJobName``.
    local_root : str or os.PathLike, optional
        Folder holding the local jobs (see :class:`course.training.Estimator`).

    Returns
    -------
    dict
        ``TrainingJobName``, ``TrainingJobArn``, ``TrainingJobStatus``,
        ``SecondaryStatus``, ``SecondaryStatusTransitions`` (each with
        ``Status``, ``StartTime``, ``EndTime`` once ended, ``StatusMessage``),
        ``CreationTime``, ``TrainingStartTime``, ``TrainingEndTime``,
        ``LastModifiedTime``, ``TrainingTimeInSeconds``,
        ``BillableTimeInSeconds``, ``EnableManagedSpotTraining``,
        ``StoppingCondition``, ``CheckpointConfig`` (if set),
        ``ModelArtifacts`` (if a model was uploaded), ``FailureReason`` (if
        it failed), ``HyperParameters``, ``InputDataConfig``,
        ``OutputDataConfig``, ``ResourceConfig``, ``FinalMetricDataList``.
        Times are timezone-aware datetimes on the job's simulated clock.

    Raises
    ------
    ValueError
        If there is no job of that name under ``local_root``.
    """
    root = local_root_path(local_root)
    path = root / job_name / "description.json"
    if not path.is_file():
        raise ValueError(
            f"no training job named {job_name!r} under {root}; pass the local_root the Estimator used"
        )
    return _from_json(json.loads(path.read_text()))


def local_root_path(local_root: str | os.PathLike[str] | None) -> Path:
    """The folder holding local training jobs: the argument, ``COURSE_TRAINING_ROOT``, or ``.local_sagemaker``."""
    if local_root is None:
        local_root = os.environ.get("COURSE_TRAINING_ROOT") or ".local_sagemaker/training-jobs"
    return Path(local_root).resolve()


class _Record:
    """The job's description, persisted at every change."""

    def __init__(self, spec: JobSpec, folder: Path, clock: SimulatedClock, *, echo: bool) -> None:
        self.folder = folder
        self.clock = clock
        self.echo = echo
        self.d: dict[str, Any] = {
            "TrainingJobName": spec.name,
            "TrainingJobArn": f"arn:aws:sagemaker:local:000000000000:training-job/{spec.name.lower()}",
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Starting",
            "SecondaryStatusTransitions": [],
            "CreationTime": clock.now(),
            "LastModifiedTime": clock.now(),
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "HyperParameters": {k: json.dumps(v) for k, v in spec.hyperparameters.items()},
            "InputDataConfig": [
                {
                    "ChannelName": name,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": uri,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
                for name, uri in spec.channels.items()
            ],
            "OutputDataConfig": {"S3OutputPath": spec.output_path},
            "ResourceConfig": {
                "InstanceType": spec.instance_type,
                "InstanceCount": spec.instance_count,
                "VolumeSizeInGB": 30,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": spec.max_run},
            "EnableManagedSpotTraining": spec.use_spot_instances,
            "FinalMetricDataList": [],
        }
        if spec.max_wait is not None:
            self.d["StoppingCondition"]["MaxWaitTimeInSeconds"] = spec.max_wait
        if spec.checkpoint_s3_uri is not None:
            self.d["CheckpointConfig"] = {
                "S3Uri": spec.checkpoint_s3_uri,
                "LocalPath": spec.checkpoint_local_path,
            }
        self.save()

    def save(self) -> None:
        tmp = self.folder / "description.json.tmp"
        tmp.write_text(json.dumps(_to_json(self.d), indent=1))
        os.replace(tmp, self.folder / "description.json")

    def transition(self, status: str, message: str, *, primary: str | None = None) -> float:
        """Close the current secondary status and open ``status``; return the simulated time."""
        elapsed = self.clock.elapsed()
        now = self.clock.at(elapsed)
        transitions = self.d["SecondaryStatusTransitions"]
        if transitions:
            transitions[-1]["EndTime"] = now
        transitions.append({"Status": status, "StartTime": now, "StatusMessage": message})
        self.d["SecondaryStatus"] = status
        if primary is not None:
            self.d["TrainingJobStatus"] = primary
        self.d["LastModifiedTime"] = now
        self.save()
        if self.echo:
            print(f"{now:%Y-%m-%d %H:%M:%S} {status} - {message}", flush=True)
        return elapsed

    def finish(
        self,
        primary: str,
        secondary: str,
        message: str,
        *,
        billing: _Billing,
        instance_start: float | None = None,
    ) -> None:
        """End the job; an instance still running since ``instance_start`` is billed up to now."""
        elapsed = self.transition(secondary, message, primary=primary)
        if instance_start is not None:
            billing.running += elapsed - instance_start
        now = self.d["LastModifiedTime"]
        self.d["SecondaryStatusTransitions"][-1]["EndTime"] = now
        self.d["TrainingEndTime"] = now
        started = billing.started
        self.d["TrainingTimeInSeconds"] = round(elapsed - started) if started is not None else 0
        self.d["BillableTimeInSeconds"] = round(billing.running * billing.ratio)
        self.save()


@dataclass
class _Billing:
    """Simulated seconds instances ran, when the first one started, and the price ratio billed.

    Billable time on spot is running time at the spot price, in on-demand
    seconds: ``running * spot price / on-demand price``.
    """

    ratio: float
    running: float = 0.0
    started: float | None = None


def _prepare_instance(spec: JobSpec, instance: Path) -> tuple[dict[str, str], Path]:
    """A fresh instance disk with the code, the channels and the config files; return env and checkpoint dir."""
    if instance.exists():
        shutil.rmtree(instance)
    ml = instance / "opt" / "ml"
    code = ml / "code"
    shutil.copytree(spec.code_dir, code)
    data = ml / "input" / "data"
    config = ml / "input" / "config"
    model = ml / "model"
    output_data = ml / "output" / "data"
    for folder in (config, model, output_data):
        folder.mkdir(parents=True, exist_ok=True)
    for channel, uri in spec.channels.items():
        prefix = uri.rstrip("/") + "/"
        for obj in spec.s3.list_objects(prefix):
            target = data / channel / obj[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            spec.s3.download_file(obj, target)
    hyperparameters = {k: json.dumps(v) for k, v in spec.hyperparameters.items()}
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": HOST, "hosts": [HOST], "network_interface_name": "eth0"})
    )
    (config / "inputdataconfig.json").write_text(
        json.dumps({name: {"TrainingInputMode": "File"} for name in spec.channels})
    )
    checkpoint_dir = instance / spec.checkpoint_local_path.lstrip("/")
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "SM_MODEL_DIR": str(model),
        "SM_INPUT_DIR": str(ml / "input"),
        "SM_INPUT_CONFIG_DIR": str(config),
        "SM_OUTPUT_DIR": str(ml / "output"),
        "SM_OUTPUT_DATA_DIR": str(output_data),
        "SM_CHANNELS": json.dumps(sorted(spec.channels)),
        "SM_HPS": json.dumps(spec.hyperparameters),
        "SM_CURRENT_HOST": HOST,
        "SM_HOSTS": json.dumps([HOST]),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_USER_ENTRY_POINT": spec.entry_point,
        "SM_CHECKPOINT_DIR": str(checkpoint_dir),
        "COURSE_TIME_SCALE": repr(spec.time_scale),
    }
    for channel in spec.channels:
        env[f"SM_CHANNEL_{channel.upper()}"] = str(data / channel)
    for name, value in spec.hyperparameters.items():
        env[f"SM_HP_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env, checkpoint_dir


def _pack(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    return buffer.getvalue()


def _stop_process(process: subprocess.Popen, *, grace_seconds: float, clock: SimulatedClock) -> None:
    """SIGTERM, up to ``grace_seconds`` (simulated) to exit, then SIGKILL; always reaps the group."""
    if process.poll() is None:
        _kill_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=grace_seconds * clock.time_scale)
        except subprocess.TimeoutExpired:
            pass
    _kill_group(process, signal.SIGKILL)
    process.wait()
    _running.discard(process)


def _tail(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return "\n".join(lines[-FAILURE_LINES:])


class _Attempt:
    """One launch: an instance, the script's process and (optionally) checkpoint sync."""

    def __init__(self, spec: JobSpec, folder: Path, number: int) -> None:
        self.spec = spec
        self.number = number
        self.stdout = folder / "logs" / f"attempt-{number}.stdout"
        self.stderr = folder / "logs" / f"attempt-{number}.stderr"
        self.instance = folder / "instance"

    def launch(self, env: dict[str, str], stack: ExitStack) -> subprocess.Popen:
        code = self.instance / "opt" / "ml" / "code"
        out = stack.enter_context(self.stdout.open("wb"))
        err = stack.enter_context(self.stderr.open("wb"))
        process = subprocess.Popen(
            [sys.executable, self.spec.entry_point],
            cwd=code,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        _running.add(process)
        return process


def run_training_job(spec: JobSpec) -> dict[str, Any]:
    """Play a training job through SageMaker's lifecycle; return its final description."""
    folder = spec.root / spec.name
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        raise ValueError(
            f"a training job named {spec.name!r} already exists under {spec.root}; "
            "job names must be unique: pass another job_name or base_job_name"
        ) from None
    (folder / "logs").mkdir()
    clock = SimulatedClock(time_scale=spec.time_scale)
    record = _Record(spec, folder, clock, echo=spec.logs)
    try:
        return _play(spec, folder, clock, record)
    except BaseException as error:
        if record.d["TrainingJobStatus"] == "InProgress":
            record.d["FailureReason"] = f"InternalServerError: {type(error).__name__}: {error}"[
                :FAILURE_REASON_CHARS
            ]
            record.finish("Failed", "Failed", "Training job failed", billing=_Billing(ratio=1.0))
        raise


def _play(spec: JobSpec, folder: Path, clock: SimulatedClock, record: _Record) -> dict[str, Any]:
    spot = spec.use_spot_instances
    ratio = price_per_hour(spec.instance_type, spot=True) / price_per_hour(spec.instance_type)
    billing = _Billing(ratio=ratio if spot else 1.0)
    metrics: list[dict[str, Any]] = []
    attempt = 0
    while True:
        message = "Launching requested ML instances" if attempt == 0 else "Waiting for spot capacity"
        record.transition("Starting", message)
        wait = spec.market.capacity_wait(attempt) if spot else 0.0
        if spot and clock.elapsed() + wait >= spec.max_wait:
            clock.sleep(spec.max_wait - clock.elapsed())
            record.transition("Stopping", "Stopping the training job", primary="Stopping")
            message = "The job exceeded MaxWaitTimeInSeconds"
            record.finish("Stopped", "MaxWaitTimeExceeded", message, billing=billing)
            return record.d
        clock.sleep(wait)
        instance_start = record.transition("Downloading", "Downloading input data")
        if billing.started is None:
            billing.started = instance_start
            record.d["TrainingStartTime"] = clock.at(instance_start)
        current = _Attempt(spec, folder, attempt)
        env, checkpoint_dir = _prepare_instance(spec, current.instance)
        with ExitStack() as stack:
            if spec.checkpoint_s3_uri is not None:
                stack.enter_context(CheckpointSync(checkpoint_dir, spec.checkpoint_s3_uri, s3=spec.s3))
            record.transition("Training", "Training image download completed. Training in progress.")
            process = current.launch(env, stack)
            stack.callback(_stop_process, process, grace_seconds=0.0, clock=clock)
            outcome = _watch(spec, clock, process, attempt, billing.running, instance_start)
            if outcome == "Interrupted":
                grace = spec.market.grace_seconds
                message = f"Spot interruption notice: SIGTERM sent, instance reclaimed in {grace:g} s"
                record.transition("Interrupted", message)
            elif outcome != "exited":
                record.transition("Stopping", "Stopping the training job", primary="Stopping")
            if outcome != "exited":
                _stop_process(process, grace_seconds=spec.market.grace_seconds, clock=clock)
        metrics.extend(_parse_metrics(spec, current.stdout, clock.now()))
        if spec.logs:
            sys.stdout.write(current.stdout.read_text(errors="replace"))
            sys.stdout.write(current.stderr.read_text(errors="replace"))
        if outcome == "Interrupted":
            billing.running += clock.elapsed() - instance_start
            attempt += 1
            continue
        record.d["FinalMetricDataList"] = _final_metrics(metrics)
        if outcome == "exited" and process.returncode != 0:
            record.d["FailureReason"] = (
                f"AlgorithmError: ExecuteUserScriptError:\nExitCode {process.returncode}\n"
                f"{_tail(current.stderr)}"
            )[:FAILURE_REASON_CHARS]
            message = "Training job failed"
            record.finish("Failed", "Failed", message, billing=billing, instance_start=instance_start)
            return record.d
        record.transition("Uploading", "Uploading generated training model")
        ml = current.instance / "opt" / "ml"
        base = f"{spec.output_path.rstrip('/')}/{spec.name}/output"
        spec.s3.put_object(f"{base}/model.tar.gz", _pack(ml / "model"))
        spec.s3.put_object(f"{base}/output.tar.gz", _pack(ml / "output" / "data"))
        record.d["ModelArtifacts"] = {"S3ModelArtifacts": f"{base}/model.tar.gz"}
        if outcome == "exited":
            primary, secondary, message = "Completed", "Completed", "Training job completed"
        else:
            limit = "MaxRuntimeInSeconds" if outcome == "MaxRuntimeExceeded" else "MaxWaitTimeInSeconds"
            primary, secondary, message = "Stopped", outcome, f"The job exceeded {limit}"
        record.finish(primary, secondary, message, billing=billing, instance_start=instance_start)
        return record.d


def _watch(
    spec: JobSpec,
    clock: SimulatedClock,
    process: subprocess.Popen,
    attempt: int,
    running_before: float,
    instance_start: float,
) -> str:
    """Wait until the script exits or a stopping condition hits; return what happened."""
    training_start = clock.elapsed()
    notice = spec.market.interruption_after(attempt) if spec.use_spot_instances else None
    while process.poll() is None:
        now = clock.elapsed()
        if notice is not None and now - training_start >= notice:
            return "Interrupted"
        if running_before + now - instance_start >= spec.max_run:
            return "MaxRuntimeExceeded"
        if spec.max_wait is not None and now >= spec.max_wait:
            return "MaxWaitTimeExceeded"
        time.sleep(POLL_SECONDS)
    return "exited"


def _parse_metrics(spec: JobSpec, stdout: Path, when: datetime) -> list[dict[str, Any]]:
    found = []
    for line in stdout.read_text(errors="replace").splitlines():
        for name, pattern in spec.metric_definitions:
            match = pattern.search(line)
            if match:
                try:
                    value = float(match.group(1))
                except ValueError:
                    continue
                found.append({"MetricName": name, "Value": value, "Timestamp": when})
    return found


def _final_metrics(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    last: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        last[metric["MetricName"]] = metric
    return list(last.values())
