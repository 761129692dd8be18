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

What it mirrors (SageMaker Developer Guide: sms-automated-labeling,
sms-data-output, a2i-use-augmented-ai-a2i-human-review-loops): automated data
labeling needs at least 1,250 objects; people label a random sample first, 20%
of it (10% above 5,000 objects) validates the model; a confidence threshold
chosen on the validation set auto-labels objects at the fixed 95% target
accuracy; the rest go to people, most informative first, until every object
is labeled; several workers per object are consolidated into one label; the
output manifest is JSON Lines with Ground Truth's ``-metadata`` fields.
Augmented AI sends low-confidence *production predictions* to human review.

Where it simplifies: a simulated workforce (each worker an accuracy and a
price per answer), a scikit-learn logistic regression on the bundled digits,
and a job that runs in one process instead of a managed service. The details:
``docs/SAGEMAKER.md``.
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
