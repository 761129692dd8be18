"""The SageMaker ``Estimator``, locally: training jobs with Managed Spot Training and checkpoints.

Used by assignment 03 (``source/03_spot_training``). The names are the
SageMaker Python SDK's; what the job does follows the training contract
(``/opt/ml`` layout and ``SM_*`` variables), checkpoint sync and the spot
lifecycle as the SageMaker Developer Guide documents them. Where the local
version simplifies is listed in :class:`Estimator`'s notes and in
``docs/SAGEMAKER.md``.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from course.storage import LocalS3, parse_s3_uri
from course.training.job import (
    JobSpec,
    UnexpectedStatusException,
    describe_training_job,
    local_root_path,
    run_training_job,
)
from course.training.pricing import price_per_hour, training_cost
from course.training.spot import TIME_SCALE, SpotMarket

__all__ = ["DEFAULT_BUCKET", "Estimator", "TrainingJob", "savings_lines"]

DEFAULT_BUCKET = "sagemaker-course-local"
"""The bucket of the default ``output_path`` (the SDK uses ``sagemaker-<region>-<account>``)."""

_CHANNEL_NAME = re.compile(r"[A-Za-z0-9.\-_]{1,64}")
_JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_HYPERPARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int number of seconds >= 1, got {value!r}")
    return value


def _check_writable_prefix(s3: LocalS3, uri: str, what: str) -> None:
    """Fail early, with a message, if objects cannot be written under ``uri``."""
    folder = s3.local_path(uri.rstrip("/") + "/probe").parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(
            f"cannot write {what} to {uri!r} (local folder {folder}: {error.strerror or error}); "
            "choose an S3 URI the local store can write to"
        ) from None


def savings_lines(description: Mapping[str, Any]) -> list[str]:
    """The lines the SageMaker SDK prints when a training job ends, and the course's cost line.

    ``Training seconds`` and ``Billable seconds`` are multiplied by the
    instance count, as the SDK does; with Managed Spot Training the savings
    are ``(1 - BillableTimeInSeconds / TrainingTimeInSeconds) * 100``.

    Parameters
    ----------
    description : mapping
        A DescribeTrainingJob response.

    Returns
    -------
    list of str

    Examples
    --------
    >>> for line in savings_lines({
    ...     "TrainingTimeInSeconds": 500, "BillableTimeInSeconds": 100,
    ...     "EnableManagedSpotTraining": True,
    ...     "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    ... }):
    ...     print(line)
    Training seconds: 500
    Billable seconds: 100
    Managed Spot Training savings: 80.0%
    Cost: $0.0032 (the same training time on demand: $0.0160)
    """
    training = description.get("TrainingTimeInSeconds")
    billable = description.get("BillableTimeInSeconds")
    count = description["ResourceConfig"]["InstanceCount"]
    instance_type = description["ResourceConfig"]["InstanceType"]
    lines = []
    if training is not None:
        lines.append(f"Training seconds: {training * count}")
    if billable is not None:
        lines.append(f"Billable seconds: {billable * count}")
        cost = training_cost(billable, instance_type=instance_type, instance_count=count)
        if description.get("EnableManagedSpotTraining") and training:
            lines.append(f"Managed Spot Training savings: {(1 - billable / training) * 100:.1f}%")
            on_demand = training_cost(training, instance_type=instance_type, instance_count=count)
            lines.append(f"Cost: ${cost:.4f} (the same training time on demand: ${on_demand:.4f})")
        else:
            lines.append(f"Cost: ${cost:.4f}")
    return lines


class TrainingJob:
    """A local training job, as the SDK's ``estimator.latest_training_job``.

    Parameters
    ----------
    name : str
        ``TrainingJobName``.
    local_root : pathlib.Path
        The folder holding the local jobs.
    """

    def __init__(self, name: str, local_root: Path) -> None:
        self.name = name
        self.local_root = local_root

    def __repr__(self) -> str:
        return f"TrainingJob(name={self.name!r})"

    def describe(self) -> dict[str, Any]:
        """The DescribeTrainingJob response (see :func:`course.training.describe_training_job`)."""
        return describe_training_job(self.name, local_root=self.local_root)

    def logs(self) -> list[str]:
        """The script's output per launch, in order: stdout, then stderr."""
        folder = self.local_root / self.name / "logs"
        attempts = sorted(folder.glob("attempt-*.stdout"), key=lambda p: int(p.stem.split("-")[1]))
        return [
            stdout.read_text(errors="replace") + stdout.with_suffix(".stderr").read_text(errors="replace")
            for stdout in attempts
        ]


class Estimator:
    """Run a training script as a SageMaker training job, on demand or on spot instances.

    Parameters
    ----------
    entry_point : str
        The script to run: a path relative to ``source_dir``, or a path to the
        file when ``source_dir`` is None.
    source_dir : str or os.PathLike, optional
        A folder copied to the instance (``/opt/ml/code``) and used as the
        working directory.
    hyperparameters : mapping of str to JSON value, optional
        Passed to the script as ``SM_HPS`` (JSON), ``SM_HP_<NAME>`` and
        ``/opt/ml/input/config/hyperparameters.json`` (each value JSON-encoded
        as a string, as the SDK does).
    instance_type : str, optional
        A key of :data:`course.training.INSTANCE_PRICES`; sets the prices.
    instance_count : int, optional
        Multiplies the price (the local job runs one process; see Notes).
    use_spot_instances : bool, optional
        Managed Spot Training: spot prices, interruptions and waits for capacity
        from ``spot_market``.
    max_run : int, optional
        ``MaxRuntimeInSeconds``: the job is stopped after this many seconds of
        running instances (default one day).
    max_wait : int, optional
        ``MaxWaitTimeInSeconds``: with spot, the limit on the whole job,
        waiting for capacity included; it must be larger than ``max_run``.
        Required with spot, refused without.
    checkpoint_s3_uri : str, optional
        Where checkpoints are kept in S3; enables checkpoint sync.
    checkpoint_local_path : str, optional
        The instance's checkpoint folder (absolute; default
        ``/opt/ml/checkpoints``). The script finds it in ``SM_CHECKPOINT_DIR``.
    output_path : str, optional
        ``s3://`` prefix for ``<job name>/output/model.tar.gz`` (default
        ``s3://sagemaker-course-local/``).
    base_job_name : str, optional
        Job names are ``<base_job_name>-<timestamp>``; default the script's name.
    metric_definitions : sequence of {"Name": str, "Regex": str}, optional
        Regular expressions with one group, applied to every line the script
        prints; the last value of each is in ``FinalMetricDataList``.
    spot_market : SpotMarket, optional
        Interruptions and waits for capacity (spot only). Default: none.
    time_scale : float, optional
        Real seconds per simulated second (see :mod:`course.training.spot`).
    s3 : LocalS3, optional
        The object store; default ``LocalS3()``.
    local_root : str or os.PathLike, optional
        Where jobs keep their instance disks, logs and descriptions; default
        ``COURSE_TRAINING_ROOT`` or ``.local_sagemaker/training-jobs``.

    Raises
    ------
    ValueError
        For any invalid argument, with what to pass instead: a missing entry
        point, hyperparameters that are not JSON-serialisable, ``max_wait``
        not larger than ``max_run``, an unknown instance type, a relative
        ``checkpoint_local_path``, an invalid S3 URI.

    Notes
    -----
    Simplifications: the script runs as a local process with this Python, not
    in a container, and a job with several instances runs one process (the
    count only multiplies the price). There is no network isolation or
    distributed training. Time is simulated (``time_scale``); billable time on
    spot is the instances' running time at the spot price, expressed in
    on-demand seconds, which is how the SDK's savings line reads.

    Examples
    --------
    >>> Estimator(entry_point=__file__, use_spot_instances=True, max_run=3600, max_wait=1800)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: max_wait (1800) must be larger than max_run (3600): ...
    """

    def __init__(
        self,
        *,
        entry_point: str,
        source_dir: str | os.PathLike[str] | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        instance_type: str = "ml.m5.large",
        instance_count: int = 1,
        use_spot_instances: bool = False,
        max_run: int = 24 * 60 * 60,
        max_wait: int | None = None,
        checkpoint_s3_uri: str | None = None,
        checkpoint_local_path: str | None = None,
        output_path: str | None = None,
        base_job_name: str | None = None,
        metric_definitions: Sequence[Mapping[str, str]] | None = None,
        spot_market: SpotMarket | None = None,
        time_scale: float = TIME_SCALE,
        s3: LocalS3 | None = None,
        local_root: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(entry_point, str) or not entry_point:
            raise ValueError(f"entry_point must be the script's path as a str, got {entry_point!r}")
        if source_dir is None:
            script = Path(entry_point)
            self.code_dir, self.entry_point = script.parent.resolve(), script.name
        else:
            self.code_dir, self.entry_point = Path(source_dir).resolve(), entry_point
            if not self.code_dir.is_dir():
                raise ValueError(f"source_dir {str(source_dir)!r} is not a folder")
        if not (self.code_dir / self.entry_point).is_file():
            raise ValueError(
                f"entry point {self.entry_point!r} not found in {self.code_dir}; pass the script's path "
                "relative to source_dir (or its full path without source_dir)"
            )
        self.hyperparameters = self._check_hyperparameters(hyperparameters or {})
        price_per_hour(instance_type)
        if isinstance(instance_count, bool) or not isinstance(instance_count, int) or instance_count < 1:
            raise ValueError(f"instance_count must be an int >= 1, got {instance_count!r}")
        self.instance_type, self.instance_count = instance_type, instance_count
        self.use_spot_instances = bool(use_spot_instances)
        self.max_run = _positive_int(max_run, "max_run")
        if self.use_spot_instances:
            if max_wait is None:
                raise ValueError(
                    "use_spot_instances=True needs max_wait (MaxWaitTimeInSeconds), larger than "
                    f"max_run ({max_run}): it limits waiting for spot capacity plus running"
                )
            _positive_int(max_wait, "max_wait")
            if max_wait <= max_run:
                raise ValueError(
                    f"max_wait ({max_wait}) must be larger than max_run ({max_run}): it covers "
                    "waiting for spot capacity as well as running; raise max_wait or lower max_run"
                )
        elif max_wait is not None:
            raise ValueError("max_wait applies only to Managed Spot Training: set use_spot_instances=True")
        if spot_market is not None and not self.use_spot_instances:
            raise ValueError("spot_market applies only to Managed Spot Training: set use_spot_instances=True")
        self.max_wait = max_wait
        self.spot_market = spot_market if spot_market is not None else SpotMarket()
        if checkpoint_s3_uri is not None:
            parse_s3_uri(checkpoint_s3_uri)
        self.checkpoint_s3_uri = checkpoint_s3_uri
        local_path = "/opt/ml/checkpoints" if checkpoint_local_path is None else checkpoint_local_path
        if not isinstance(local_path, str) or not PurePosixPath(local_path).is_absolute():
            raise ValueError(
                f"checkpoint_local_path must be an absolute path such as '/opt/ml/checkpoints', "
                f"got {local_path!r}"
            )
        if ".." in PurePosixPath(local_path).parts:
            raise ValueError(f"checkpoint_local_path {local_path!r} must not contain '..'")
        self.checkpoint_local_path = local_path
        self.output_path = output_path if output_path is not None else f"s3://{DEFAULT_BUCKET}/"
        parse_s3_uri(self.output_path)
        self.base_job_name = base_job_name or Path(self.entry_point).stem.replace("_", "-")
        self.metric_definitions = self._check_metric_definitions(metric_definitions or [])
        if not isinstance(time_scale, int | float) or not math.isfinite(time_scale) or time_scale <= 0:
            raise ValueError(f"time_scale must be a number > 0, got {time_scale!r}")
        self.time_scale = float(time_scale)
        self.s3 = s3 if s3 is not None else LocalS3()
        self.local_root = local_root_path(local_root)
        self.latest_training_job: TrainingJob | None = None

    @staticmethod
    def _check_hyperparameters(hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(hyperparameters, Mapping):
            raise ValueError(f"hyperparameters must be a dict, got {type(hyperparameters).__name__}")
        checked = {}
        for name, value in hyperparameters.items():
            if not isinstance(name, str) or not _HYPERPARAMETER_NAME.fullmatch(name):
                raise ValueError(
                    f"hyperparameter name {name!r} must be a str of letters, digits and '_' "
                    "(it becomes the environment variable SM_HP_<NAME>)"
                )
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"hyperparameter {name!r} = {value!r} is not JSON-serialisable ({error}); "
                    "pass numbers, strings, booleans, lists or dicts of them"
                ) from None
            checked[name] = value
        return checked

    @staticmethod
    def _check_metric_definitions(definitions: Sequence[Mapping[str, str]]) -> tuple:
        checked = []
        for definition in definitions:
            if not isinstance(definition, Mapping) or set(definition) != {"Name", "Regex"}:
                raise ValueError(
                    f'each metric definition must be {{"Name": ..., "Regex": ...}}, got {definition!r}'
                )
            try:
                pattern = re.compile(definition["Regex"])
            except re.error as error:
                raise ValueError(f"metric {definition['Name']!r}: invalid Regex ({error})") from None
            if pattern.groups != 1:
                raise ValueError(f"metric {definition['Name']!r}: the Regex must have exactly one group")
            checked.append((definition["Name"], pattern))
        return tuple(checked)

    def _channels(self, inputs: str | Mapping[str, str] | None) -> dict[str, str]:
        if inputs is None:
            return {}
        if isinstance(inputs, str):
            inputs = {"training": inputs}
        if not isinstance(inputs, Mapping):
            raise ValueError(f"inputs must be an S3 URI or a dict of channel name to S3 URI, got {inputs!r}")
        channels = {}
        for name, uri in inputs.items():
            if not isinstance(name, str) or not _CHANNEL_NAME.fullmatch(name):
                raise ValueError(f"channel name {name!r} must be 1-64 letters, digits, '.', '-' or '_'")
            parse_s3_uri(uri)
            if not self.s3.list_objects(uri.rstrip("/") + "/"):
                raise ValueError(f"channel {name!r}: no objects under {uri!r}; upload the data first")
            channels[name] = uri
        return channels

    def fit(
        self,
        inputs: str | Mapping[str, str] | None = None,
        *,
        job_name: str | None = None,
        logs: bool = True,
    ) -> None:
        """Run a training job to its end.

        Parameters
        ----------
        inputs : str or mapping of str to str, optional
            An S3 URI (the ``training`` channel) or channel names to S3 URIs;
            each prefix's objects are copied to ``/opt/ml/input/data/<channel>``.
        job_name : str, optional
            ``TrainingJobName``; default ``<base_job_name>-<timestamp>``.
        logs : bool, optional
            Print status changes and the script's output.

        Raises
        ------
        UnexpectedStatusException
            If the job ends ``Failed`` (its ``FailureReason`` is in the message);
            a job ``Stopped`` by a stopping condition does not raise, as in the SDK.
        ValueError
            For invalid inputs, a job name already used, or a checkpoint or
            output location that cannot be written.
        """
        channels = self._channels(inputs)
        if job_name is None:
            stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H-%M-%S-%f")[:-3]
            job_name = f"{self.base_job_name[: 63 - len(stamp) - 1]}-{stamp}"
        if not isinstance(job_name, str) or not _JOB_NAME.fullmatch(job_name):
            raise ValueError(
                f"job_name {job_name!r} must be 1-63 letters, digits and hyphens, starting with a letter or digit"
            )
        if self.checkpoint_s3_uri is not None:
            _check_writable_prefix(self.s3, self.checkpoint_s3_uri, "checkpoints")
        _check_writable_prefix(self.s3, self.output_path, "the model")
        spec = JobSpec(
            name=job_name,
            code_dir=self.code_dir,
            entry_point=self.entry_point,
            hyperparameters=self.hyperparameters,
            channels=channels,
            instance_type=self.instance_type,
            instance_count=self.instance_count,
            use_spot_instances=self.use_spot_instances,
            max_run=self.max_run,
            max_wait=self.max_wait,
            checkpoint_s3_uri=self.checkpoint_s3_uri,
            checkpoint_local_path=self.checkpoint_local_path,
            output_path=self.output_path,
            metric_definitions=self.metric_definitions,
            market=self.spot_market,
            time_scale=self.time_scale,
            s3=self.s3,
            root=self.local_root,
            logs=logs,
        )
        self.latest_training_job = TrainingJob(job_name, self.local_root)
        description = run_training_job(spec)
        if logs:
            print("\n".join(savings_lines(description)))
        if description["TrainingJobStatus"] == "Failed":
            raise UnexpectedStatusException(
                f"Error for Training job {job_name}: Failed. Reason: {description['FailureReason']}",
                allowed_statuses=["Completed", "Stopped"],
                actual_status="Failed",
            )

    def model_data(self) -> str | None:
        """The S3 URI of the latest job's ``model.tar.gz``, or None if it produced none."""
        if self.latest_training_job is None:
            return None
        return self.latest_training_job.describe().get("ModelArtifacts", {}).get("S3ModelArtifacts")
