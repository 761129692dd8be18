"""Plausible wrong answers to assignment 01 (labeling with active learning).

``WRONG_ANSWERS`` maps a variant name to replacement sources for solution cells
(by ``grade_id``); each variant must score less than full marks. ``PARTIAL`` is
one "partly right" student, worth roughly half the marks, for a demo class.
"""

from __future__ import annotations

ASSIGNMENT = "01_labeling"
NOTEBOOK = "labeling.ipynb"

_AS_MATRIX = """    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 1:
        proba = proba[np.newaxis, :]
    if proba.ndim != 2:
        raise ValueError(f"proba must be 1-D or 2-D, got shape {proba.shape}")
"""


def _score(name: str, body: str, *, prologue: str = _AS_MATRIX) -> str:
    """A complete score cell ``name(proba)`` with the given body."""
    return (
        f"def {name}(proba: np.ndarray) -> np.ndarray:\n"
        f'    """The {name.replace("_", " ")} score of each sample."""\n' + prologue + body
    )


_TOP_K_SIGNATURE = '''def select_top_k(scores: np.ndarray, k: int, labeled_mask: np.ndarray) -> np.ndarray:
    """Indices of the k highest-scoring unlabeled objects, best first, ties by smaller index."""
'''

_THRESHOLD_SIGNATURE = '''def choose_threshold(confidence: np.ndarray, correct: np.ndarray, *, target_accuracy: float = 0.95) -> float:
    """Smallest validation confidence t whose auto-labels (confidence >= t) reach the target."""
'''

_THRESHOLD_CHECKS = """    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    if confidence.ndim != 1 or confidence.shape != correct.shape or confidence.size == 0:
        raise ValueError("confidence and correct must be non-empty 1-D arrays of the same length")
    if not 0.0 < target_accuracy <= 1.0:
        raise ValueError(f"target_accuracy ({target_accuracy}) must be in (0, 1]")
"""

_MAJORITY_SIGNATURE = '''def majority_vote(answers: np.ndarray) -> np.ndarray:
    """Most frequent answer per object, ignoring MISSING; ties go to the smallest class id."""
    answers = np.asarray(answers)
    if answers.ndim != 2:
        raise ValueError(f"answers must be 2-D, got shape {answers.shape}")
    if answers.shape[0] and (answers == MISSING).all(axis=1).any():
        raise ValueError("an object has no answer from any worker")
'''

_COST_SIGNATURE = '''def cost_saving(job_cost: float, all_human_cost: float) -> float:
    """Fraction of the all-human labeling cost saved by the job."""
    if all_human_cost <= 0:
        raise ValueError(f"all_human_cost ({all_human_cost}) must be > 0")
    if job_cost < 0:
        raise ValueError(f"job_cost ({job_cost}) must be >= 0")
'''

# The first two columns, as if every row were sorted.
_MARGIN_UNSORTED = _score(
    "margin",
    """    if proba.shape[1] == 1:
        return 1.0 - proba[:, 0]
    return 1.0 - (proba[:, 0] - proba[:, 1])
""",
)

# np.log(0) = -inf and 0 * -inf = nan: rows with a zero probability become NaN.
_ENTROPY_LOG_ZERO = _score("entropy", "    return -(proba * np.log(proba)).sum(axis=1)\n")

# Entropy in bits instead of nats.
_ENTROPY_LOG2 = _score(
    "entropy",
    """    logs = np.log2(np.where(proba > 0, proba, 1.0))
    return -(proba * logs).sum(axis=1)
""",
)

# Never converted to float: an integer proba gives an integer result.
_LEAST_CONFIDENCE_KEEPS_DTYPE = _score(
    "least_confidence",
    "    return 1 - proba.max(axis=1)\n",
    prologue="""    proba = np.asarray(proba)
    if proba.ndim == 1:
        proba = proba[np.newaxis, :]
    if proba.ndim != 2:
        raise ValueError(f"proba must be 1-D or 2-D, got shape {proba.shape}")
""",
)

# A Python list of scores, not an ndarray.
_LEAST_CONFIDENCE_LIST = _score("least_confidence", "    return [1.0 - row.max() for row in proba]\n")

# Ignores the mask: objects people already labeled are picked again.
_TOP_K_REPICKS_LABELED = (
    _TOP_K_SIGNATURE
    + """    scores = np.asarray(scores, dtype=float)
    if not 1 <= k <= scores.size:
        raise ValueError(f"k ({k}) must be between 1 and {scores.size}")
    return np.argsort(-scores, kind="stable")[:k]
"""
)

# Descending by reversing an ascending sort: ties come out by the larger index.
_TOP_K_TIES_BY_LARGER_INDEX = (
    _TOP_K_SIGNATURE
    + """    scores = np.asarray(scores, dtype=float)
    labeled_mask = np.asarray(labeled_mask, dtype=bool)
    if labeled_mask.shape != scores.shape:
        raise ValueError("scores and labeled_mask must have the same shape")
    pool = np.flatnonzero(~labeled_mask)
    if not 1 <= k <= pool.size:
        raise ValueError(f"k ({k}) must be between 1 and {pool.size}")
    return pool[np.argsort(scores[pool], kind="stable")[::-1][:k]]
"""
)

# Auto-labels confidence > t, so the object at the threshold is left out.
_THRESHOLD_STRICT = (
    _THRESHOLD_SIGNATURE
    + _THRESHOLD_CHECKS
    + """    for t in sorted(set(confidence.tolist())):
        chosen = correct[confidence > t]
        if chosen.size and chosen.mean() >= target_accuracy:
            return float(t)
    return math.inf
"""
)

# The largest threshold reaching the target: safe, but auto-labels the fewest objects.
_THRESHOLD_LARGEST = (
    _THRESHOLD_SIGNATURE
    + _THRESHOLD_CHECKS
    + """    for t in sorted(set(confidence.tolist()), reverse=True):
        if correct[confidence >= t].mean() >= target_accuracy:
            return float(t)
    return math.inf
"""
)

# Walks down from the most confident and stops at the first dip below the target.
_THRESHOLD_STOPS_AT_FIRST_DIP = (
    _THRESHOLD_SIGNATURE
    + _THRESHOLD_CHECKS
    + """    best = math.inf
    for t in sorted(set(confidence.tolist()), reverse=True):
        if correct[confidence >= t].mean() < target_accuracy:
            break
        best = float(t)
    return best
"""
)

# None when nothing reaches the target, and np.float64 otherwise.
_THRESHOLD_NONE = (
    _THRESHOLD_SIGNATURE
    + _THRESHOLD_CHECKS
    + """    for t in np.unique(confidence):
        if correct[confidence >= t].mean() >= target_accuracy:
            return t
    return None
"""
)

# Counter.most_common keeps the first answer seen among tied classes.
_MAJORITY_FIRST_SEEN = (
    _MAJORITY_SIGNATURE
    + """    labels = [
        Counter(a for a in row if a != MISSING).most_common(1)[0][0] for row in answers.tolist()
    ]
    return np.array(labels, dtype=int)
"""
)

# Ties go to the largest class id.
_MAJORITY_LARGEST_CLASS = (
    _MAJORITY_SIGNATURE
    + """    if answers.shape[0] == 0:
        return np.zeros(0, dtype=int)
    classes = np.arange(answers.max() + 1)
    votes = (answers[:, :, np.newaxis] == classes).sum(axis=1)
    return votes.shape[1] - 1 - votes[:, ::-1].argmax(axis=1)
"""
)

# The right labels, as a Python list.
_MAJORITY_LIST = (
    _MAJORITY_SIGNATURE
    + """    labels = []
    for row in answers.tolist():
        counts = Counter(a for a in row if a != MISSING)
        top = max(counts.values())
        labels.append(min(k for k, c in counts.items() if c == top))
    return labels
"""
)

# The fraction spent, not the fraction saved.
_COST_INVERTED = _COST_SIGNATURE + "    return float(job_cost / all_human_cost)\n"

# Borrows the package's weighted (Dawid-Skene) vote instead of counting the votes itself.
_MAJORITY_FROM_PACKAGE = '''from course.labeling import weighted_vote


def majority_vote(answers: np.ndarray) -> np.ndarray:
    """Most frequent answer per object, borrowed from the package's consolidation."""
    return weighted_vote(answers)[0]'''


WRONG_ANSWERS: dict[str, dict[str, str]] = {
    "margin_on_unsorted_columns": {"margin": _MARGIN_UNSORTED},
    "entropy_log_zero_is_nan": {"entropy": _ENTROPY_LOG_ZERO},
    "entropy_in_bits": {"entropy": _ENTROPY_LOG2},
    "least_confidence_keeps_int_dtype": {"least_confidence": _LEAST_CONFIDENCE_KEEPS_DTYPE},
    "least_confidence_returns_list": {"least_confidence": _LEAST_CONFIDENCE_LIST},
    "top_k_repicks_labeled": {"select_top_k": _TOP_K_REPICKS_LABELED},
    "top_k_ties_by_larger_index": {"select_top_k": _TOP_K_TIES_BY_LARGER_INDEX},
    "threshold_strict_greater": {"choose_threshold": _THRESHOLD_STRICT},
    "threshold_largest_not_smallest": {"choose_threshold": _THRESHOLD_LARGEST},
    "threshold_stops_at_first_dip": {"choose_threshold": _THRESHOLD_STOPS_AT_FIRST_DIP},
    "threshold_none_when_unreachable": {"choose_threshold": _THRESHOLD_NONE},
    "majority_ties_first_seen": {"majority_vote": _MAJORITY_FIRST_SEEN},
    "majority_ties_largest_class": {"majority_vote": _MAJORITY_LARGEST_CLASS},
    "majority_returns_list": {"majority_vote": _MAJORITY_LIST},
    "cost_saving_inverted": {"cost_saving": _COST_INVERTED},
    "majority_from_package": {"majority_vote": _MAJORITY_FROM_PACKAGE},
}

# Scores and consolidation right, margin on unsorted columns, entropy NaN on zeros,
# a selection that re-picks labeled objects and the largest threshold: about half.
PARTIAL: dict[str, str] = {
    "margin": _MARGIN_UNSORTED,
    "entropy": _ENTROPY_LOG_ZERO,
    "select_top_k": _TOP_K_REPICKS_LABELED,
    "choose_threshold": _THRESHOLD_LARGEST,
}
