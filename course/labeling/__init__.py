"""Ground Truth and Augmented AI, locally: labeling jobs with active learning.

- ``workforce``: simulated workers with their own accuracy and price.
- ``consolidation``: one label from several workers (your function, or ``"weighted"``).
- ``strategies``: which objects humans label next (your function, or ``"random"``).
- ``automated``: the automated data labeling loop and its output manifest.
- ``manifest``: JSON Lines input and output manifests.
- ``a2i``: human review of low-confidence production predictions.
- ``curves``: learning curves (test accuracy against human labels).
- ``datasets``: the digits, offline.

The uncertainty scores, top-k selection, threshold rule and majority vote are
graded exercises, so the package does not contain them: the job and the
learning curves take the student's functions as parameters.
"""

from course.labeling.a2i import FlowDefinition, HumanLoopRecord, records_frame
from course.labeling.automated import (
    AUTO_LABEL_TARGET_ACCURACY,
    MIN_OBJECTS,
    IterationRecord,
    LabelingJobResult,
    default_estimator,
    predict_proba,
    run_labeling_job,
    validation_fraction,
)
from course.labeling.consolidation import CONSOLIDATION_NAMES, agreement, weighted_vote
from course.labeling.curves import labels_to_reach, learning_curve
from course.labeling.datasets import LabelingData, load_digits_objects
from course.labeling.manifest import label_record, parse_manifest, read_manifest, write_manifest
from course.labeling.strategies import STRATEGY_NAMES, select_batch, uncertainty_strategy
from course.labeling.workforce import MISSING, Annotations, Worker, Workforce

__all__ = [
    "AUTO_LABEL_TARGET_ACCURACY",
    "CONSOLIDATION_NAMES",
    "MIN_OBJECTS",
    "MISSING",
    "STRATEGY_NAMES",
    "Annotations",
    "FlowDefinition",
    "HumanLoopRecord",
    "IterationRecord",
    "LabelingData",
    "LabelingJobResult",
    "Worker",
    "Workforce",
    "agreement",
    "default_estimator",
    "label_record",
    "labels_to_reach",
    "learning_curve",
    "load_digits_objects",
    "parse_manifest",
    "predict_proba",
    "read_manifest",
    "records_frame",
    "run_labeling_job",
    "select_batch",
    "uncertainty_strategy",
    "validation_fraction",
    "weighted_vote",
    "write_manifest",
]
