"""SageMaker training jobs and Managed Spot Training, locally (assignment 03).

- ``estimator``: :class:`Estimator` (the SDK's names) and :class:`TrainingJob`.
- ``job``: the job's lifecycle on instances, :func:`describe_training_job`.
- ``spot``: :class:`SpotMarket`, interruptions and waits for capacity; the
  simulated clock (:data:`TIME_SCALE`).
- ``sync``: :class:`CheckpointSync`, checkpoint sync between an instance and S3.
- ``pricing``: on-demand and spot prices per instance type.
- ``plots``: status timelines, training against billable time.
- ``data``: the course's training script (``scripts/train_sgd.py``), the
  digits as channels, reading a trained model back, and
  :func:`checkpointing_source_dir`, which puts your checkpoint functions next
  to the script.

The checkpoint format, atomic save, recovery, resume logic, savings formula and
purchase choice that assignment 03 grades are written by students in the
notebook; nothing here implements them. The shipped script does the SGD and
calls the student's checkpoint functions (without them it trains without
checkpoints), as a SageMaker training script is the user's code.
"""

from course.training.data import (
    CHECKPOINT_IMPORTS,
    SCRIPT,
    SCRIPT_DIR,
    checkpointing_source_dir,
    load_model,
    upload_digits,
    work_lost,
)
from course.training.estimator import DEFAULT_BUCKET, Estimator, TrainingJob, savings_lines
from course.training.job import UnexpectedStatusException, describe_training_job
from course.training.plots import STATUS_COLORS, plot_status_timeline, plot_training_vs_billable
from course.training.pricing import INSTANCE_PRICES, price_per_hour, training_cost
from course.training.spot import GRACE_SECONDS, TIME_SCALE, SimulatedClock, SpotMarket
from course.training.sync import CheckpointSync

__all__ = [
    "CHECKPOINT_IMPORTS",
    "DEFAULT_BUCKET",
    "GRACE_SECONDS",
    "INSTANCE_PRICES",
    "SCRIPT",
    "SCRIPT_DIR",
    "STATUS_COLORS",
    "TIME_SCALE",
    "CheckpointSync",
    "Estimator",
    "SimulatedClock",
    "SpotMarket",
    "TrainingJob",
    "UnexpectedStatusException",
    "checkpointing_source_dir",
    "describe_training_job",
    "load_model",
    "plot_status_timeline",
    "plot_training_vs_billable",
    "price_per_hour",
    "savings_lines",
    "training_cost",
    "upload_digits",
    "work_lost",
]
