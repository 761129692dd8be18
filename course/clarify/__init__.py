"""SageMaker Clarify, locally: bias metrics, bias reports, Kernel SHAP and mitigation.

Used by assignment 05 (``source/05_clarify_drift``).

- ``bias``: :func:`pretraining_bias` and :func:`posttraining_bias`, with the
  SageMaker SDK's parameter names and AWS's open-source Clarify library's
  definitions (CI, DPL, KL, JS, LP, TVD, KS, CDDL; DPPL, DI, DCA, DCR, RD, SD,
  DAR, DRR, AD, TE, FT, CDDPL, GE).
- ``report``: the bias report in the shape of Clarify's ``analysis.json``,
  stored in the local S3 (:mod:`course.storage`).
- ``shap``: Kernel SHAP against a baseline (given, or k-means of the data),
  and exact Shapley values for checking.
- ``mitigation``: reweighing, and an output filter that hides bias.
- ``lending``: the assignment's lending data, with an injected historical
  bias, and live traffic that drifts.

Assignment 05 asks students to write CI, DPL, DI, DPPL and RD themselves,
so the package does not ship them: the notebook hands the student's
functions over with :func:`use_metrics` after Parts A and B, and from then on
reports, comparisons and bias drift compute those five with the student's
code. Asking for one of them before it is handed over raises
:class:`MissingMetricError`, naming the Part that writes it. (The
instructor's tests and the trusted grader fill in from an instructor-only
reference module that students never receive.)
"""

from course.clarify.bias import (
    METRIC_DESCRIPTIONS,
    POSTTRAINING_METRICS,
    PRETRAINING_METRICS,
    STUDENT_METRICS,
    MissingMetricError,
    bias_masks,
    posttraining_bias,
    posttraining_from_masks,
    predicted_labels_from_scores,
    pretraining_bias,
    pretraining_from_masks,
    use_metrics,
)
from course.clarify.mitigation import bias_comparison, equal_acceptance_labels, reweighing_weights
from course.clarify.report import bias_report, read_bias_report, write_bias_report
from course.clarify.shap import AGG_METHODS, ShapResult, exact_shapley, kernel_shap, kmeans_baseline

__all__ = [
    "AGG_METHODS",
    "METRIC_DESCRIPTIONS",
    "POSTTRAINING_METRICS",
    "PRETRAINING_METRICS",
    "STUDENT_METRICS",
    "MissingMetricError",
    "ShapResult",
    "bias_comparison",
    "bias_masks",
    "bias_report",
    "equal_acceptance_labels",
    "exact_shapley",
    "kernel_shap",
    "kmeans_baseline",
    "posttraining_bias",
    "posttraining_from_masks",
    "predicted_labels_from_scores",
    "pretraining_bias",
    "pretraining_from_masks",
    "read_bias_report",
    "reweighing_weights",
    "use_metrics",
    "write_bias_report",
]
