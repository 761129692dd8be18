"""Plausible wrong answers to assignment 00 (choosing the SageMaker service).

``WRONG_ANSWERS`` maps a variant name to replacement sources for solution cells
(by ``grade_id``); each variant must score less than full marks. ``PARTIAL`` is
one "partly right" student, worth roughly half the marks, for a demo class.
"""

from __future__ import annotations

ASSIGNMENT = "00_platform_map"
NOTEBOOK = "platform_map.ipynb"

_SIGNATURE = '''def choose_inference_option(
    payload_mb: float, processing_seconds: float, traffic: str, *, latency_sensitive: bool
) -> str:
    """Pick the SageMaker inference option for one kind of request."""
'''

_VALIDATION = """    if traffic not in TRAFFIC_PATTERNS:
        raise ValueError(f"traffic must be one of {TRAFFIC_PATTERNS}, got {traffic!r}")
    if payload_mb < 0 or processing_seconds < 0:
        raise ValueError("payload_mb and processing_seconds must be >= 0")
"""

_NO_FIT = """    raise ValueError("no inference option fits this request")
"""


def _choose(body: str, *, validation: str = _VALIDATION) -> str:
    """A complete choose_inference_option cell with the given rule body."""
    return _SIGNATURE + validation + body + _NO_FIT


def _answer(key: str, service: str) -> str:
    """A complete answer cell for scenario ``key``."""
    return f'answer_{key} = "{service}"'


# Serverless whenever the request fits 60 s, forgetting its 4 MB payload limit.
_IGNORES_SERVERLESS_PAYLOAD = _choose(
    """    if traffic == "offline":
        return "batch transform"
    if traffic == "intermittent" and not latency_sensitive and processing_seconds <= 60:
        return "serverless"
    if payload_mb <= 6 and processing_seconds <= 60:
        return "real-time"
    if payload_mb <= 1024 and processing_seconds <= 3600:
        return "asynchronous"
"""
)

# Right order, but every limit is treated as exclusive.
_STRICT_BOUNDARIES = _choose(
    """    if traffic == "offline":
        return "batch transform"
    if (
        traffic == "intermittent"
        and not latency_sensitive
        and payload_mb < SERVERLESS_MAX_PAYLOAD_MB
        and processing_seconds < SERVERLESS_MAX_SECONDS
    ):
        return "serverless"
    if payload_mb < REALTIME_MAX_PAYLOAD_MB and processing_seconds < REALTIME_MAX_SECONDS:
        return "real-time"
    if payload_mb < ASYNC_MAX_PAYLOAD_MB and processing_seconds < ASYNC_MAX_SECONDS:
        return "asynchronous"
"""
)

# The right rule, with the options spelled like headings.
_CAPITALIZED_OPTIONS = _choose(
    """    if traffic == "offline":
        return "Batch Transform"
    if (
        traffic == "intermittent"
        and not latency_sensitive
        and payload_mb <= SERVERLESS_MAX_PAYLOAD_MB
        and processing_seconds <= SERVERLESS_MAX_SECONDS
    ):
        return "Serverless"
    if payload_mb <= REALTIME_MAX_PAYLOAD_MB and processing_seconds <= REALTIME_MAX_SECONDS:
        return "Real-time"
    if payload_mb <= ASYNC_MAX_PAYLOAD_MB and processing_seconds <= ASYNC_MAX_SECONDS:
        return "Asynchronous"
"""
)

# Only the time limit counts: a 400 MB scan that takes 30 s goes to real-time.
_REALTIME_IGNORES_PAYLOAD = _choose(
    """    if traffic == "offline":
        return "batch transform"
    if (
        traffic == "intermittent"
        and not latency_sensitive
        and payload_mb <= SERVERLESS_MAX_PAYLOAD_MB
        and processing_seconds <= SERVERLESS_MAX_SECONDS
    ):
        return "serverless"
    if processing_seconds <= REALTIME_MAX_SECONDS:
        return "real-time"
    if payload_mb <= ASYNC_MAX_PAYLOAD_MB and processing_seconds <= ASYNC_MAX_SECONDS:
        return "asynchronous"
"""
)

# Serverless for every small request, whatever the traffic or latency needs.
_SERVERLESS_FOR_ALL_SMALL = _choose(
    """    if traffic == "offline":
        return "batch transform"
    if payload_mb <= SERVERLESS_MAX_PAYLOAD_MB and processing_seconds <= SERVERLESS_MAX_SECONDS:
        return "serverless"
    if payload_mb <= REALTIME_MAX_PAYLOAD_MB and processing_seconds <= REALTIME_MAX_SECONDS:
        return "real-time"
    if payload_mb <= ASYNC_MAX_PAYLOAD_MB and processing_seconds <= ASYNC_MAX_SECONDS:
        return "asynchronous"
"""
)

# No input checks, and anything too big for an endpoint is sent to batch transform.
_NO_VALIDATION = _SIGNATURE + (
    """    if traffic == "offline":
        return "batch transform"
    if (
        traffic == "intermittent"
        and not latency_sensitive
        and payload_mb <= SERVERLESS_MAX_PAYLOAD_MB
        and processing_seconds <= SERVERLESS_MAX_SECONDS
    ):
        return "serverless"
    if payload_mb <= REALTIME_MAX_PAYLOAD_MB and processing_seconds <= REALTIME_MAX_SECONDS:
        return "real-time"
    if payload_mb <= ASYNC_MAX_PAYLOAD_MB and processing_seconds <= ASYNC_MAX_SECONDS:
        return "asynchronous"
    return "batch transform"
"""
)

WRONG_ANSWERS: dict[str, dict[str, str]] = {
    "ignores_serverless_payload_limit": {"choose_inference_option": _IGNORES_SERVERLESS_PAYLOAD},
    "exclusive_limits": {"choose_inference_option": _STRICT_BOUNDARIES},
    "capitalized_option_names": {"choose_inference_option": _CAPITALIZED_OPTIONS},
    "realtime_ignores_payload_size": {"choose_inference_option": _REALTIME_IGNORES_PAYLOAD},
    "serverless_for_all_small_requests": {"choose_inference_option": _SERVERLESS_FOR_ALL_SMALL},
    "no_input_validation": {"choose_inference_option": _NO_VALIDATION},
    "realtime_for_400_mb_scans": {"answer_large_scans": _answer("large_scans", "Real-Time Inference")},
    "ground_truth_for_production_review": {"answer_human_review": _answer("human_review", "Ground Truth")},
    "augmented_ai_for_training_labels": {"answer_label_images": _answer("label_images", "Augmented AI")},
    "model_monitor_explains_one_decision": {
        "answer_explain_denial": _answer("explain_denial", "Model Monitor")
    },
    "clarify_detects_drift": {"answer_prediction_drift": _answer("prediction_drift", "Clarify")},
    "jumpstart_instead_of_bedrock": {
        "answer_foundation_model_api": _answer("foundation_model_api", "JumpStart")
    },
    "asynchronous_for_nightly_scoring": {
        "answer_nightly_scoring": _answer("nightly_scoring", "Asynchronous Inference")
    },
    "service_name_misspelled": {"answer_idle_traffic": _answer("idle_traffic", "Serverless")},
}

# Right on the easy scenarios, wrong on the look-alikes, and a decision rule with
# exclusive limits: about half the marks.
PARTIAL: dict[str, str] = {
    "choose_inference_option": _STRICT_BOUNDARIES,
    "answer_fine_tune_open_model": _answer("fine_tune_open_model", "Bedrock"),
    "answer_approve_versions": _answer("approve_versions", "Pipelines"),
    "answer_large_scans": _answer("large_scans", "Real-Time Inference"),
    "answer_instance_choice": _answer("instance_choice", "Shadow Testing"),
    "answer_prediction_drift": _answer("prediction_drift", "Clarify"),
    "answer_explain_denial": _answer("explain_denial", "Model Monitor"),
    "answer_human_review": _answer("human_review", "Ground Truth"),
}
