"""Amazon Augmented AI (A2I): human review of low-confidence production predictions.

Ground Truth labels *training data*; A2I reviews *predictions*. A flow
definition says when a human loop starts (here: the model's confidence is
below ``activation_threshold``) and who reviews (a workforce,
``workers_per_object`` reviewers per prediction, A2I's ``TaskCount``). Every
prediction yields a record with the model's answer beside the reviewers'.

Examples
--------
>>> import numpy as np
>>> from course.labeling.workforce import Worker, Workforce
>>> reviewers = Workforce([Worker("ana", 1.0, 0.05)], seed=0)
>>> flow = FlowDefinition("digits-review", activation_threshold=0.8, workforce=reviewers,
...                       consolidation="weighted")
>>> proba = np.array([[0.9, 0.1], [0.6, 0.4]])
>>> [r.human_reviewed for r in flow.review(proba, y_true=np.array([0, 1]))]
[False, True]
>>> flow.review(proba, y_true=np.array([0, 1]))[1].final_label
1
"""

from __future__ import annotations

from dataclasses import KW_ONLY, asdict, dataclass

import numpy as np
import pandas as pd

from course.labeling._validation import MISSING, check_proba
from course.labeling.consolidation import (
    Consolidation,
    agreement,
    resolve_consolidation,
    run_consolidation,
)
from course.labeling.workforce import Workforce

__all__ = ["FlowDefinition", "HumanLoopRecord", "records_frame"]


@dataclass(frozen=True)
class HumanLoopRecord:
    """One prediction and, if a human loop ran, the reviewers' answer.

    ``human_label`` and ``human_confidence`` are None when the prediction was
    not reviewed; ``final_label`` is the human label if reviewed, else the
    model's.
    """

    index: int
    model_label: int
    model_confidence: float
    human_reviewed: bool
    human_label: int | None
    human_confidence: float | None
    cost: float

    @property
    def final_label(self) -> int:
        return self.model_label if self.human_label is None else self.human_label


@dataclass
class FlowDefinition:
    """When to ask humans, and who.

    Parameters
    ----------
    flow_definition_name : str
        Name shown in reports.
    activation_threshold : float
        A human loop starts when the model's confidence (max probability) is
        strictly below this value, in ``[0, 1]``.
    workforce : Workforce
        The reviewers.
    consolidation : str or callable
        How the reviewers' answers become one label: ``"weighted"`` or
        ``consolidate(answers) -> labels``, such as your ``majority_vote``
        (see ``consolidation``).
    workers_per_object : int
        Reviewers per prediction (A2I's ``TaskCount``).

    Raises
    ------
    ValueError
        For an activation threshold outside ``[0, 1]`` or an unknown consolidation name.
    TypeError
        For a consolidation that is neither a name nor a callable.
    """

    flow_definition_name: str
    activation_threshold: float
    workforce: Workforce
    _: KW_ONLY
    consolidation: str | Consolidation
    workers_per_object: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.activation_threshold <= 1.0:
            raise ValueError(f"activation_threshold ({self.activation_threshold}) must be in [0, 1]")
        resolve_consolidation(self.consolidation)

    def review(self, proba: np.ndarray, *, y_true: np.ndarray) -> list[HumanLoopRecord]:
        """Route each prediction below the threshold to human review.

        Parameters
        ----------
        proba : np.ndarray
            The production model's ``(n_samples, n_classes)`` probabilities.
        y_true : np.ndarray
            Hidden truth the simulated reviewers answer from.
        """
        proba = check_proba(proba)
        y_true = np.asarray(y_true, dtype=int)
        if y_true.shape != (proba.shape[0],):
            raise ValueError(
                f"y_true has shape {y_true.shape}; it needs one label per row of proba ({proba.shape[0]})"
            )
        n_classes = proba.shape[1]
        model_label = proba.argmax(axis=1)
        model_confidence = proba.max(axis=1)
        routed = np.flatnonzero(model_confidence < self.activation_threshold)
        human_label: dict[int, tuple[int, float, float]] = {}
        if routed.size:
            batch = self.workforce.annotate(
                y_true[routed], n_classes=n_classes, workers_per_object=self.workers_per_object
            )
            labels = run_consolidation(self.consolidation, batch.answers, n_classes=n_classes)
            share = agreement(batch.answers, labels)
            given = batch.answers != MISSING
            costs = (given * self.workforce.cost_per_label).sum(axis=1)
            for row, i in enumerate(routed):
                human_label[int(i)] = (int(labels[row]), float(share[row]), float(costs[row]))
        records = []
        for i in range(proba.shape[0]):
            label, share, cost = human_label.get(i, (None, None, 0.0))
            records.append(
                HumanLoopRecord(
                    index=i,
                    model_label=int(model_label[i]),
                    model_confidence=float(model_confidence[i]),
                    human_reviewed=i in human_label,
                    human_label=label,
                    human_confidence=share,
                    cost=cost,
                )
            )
        return records


def records_frame(records: list[HumanLoopRecord]) -> pd.DataFrame:
    """The review records as a table, one row per prediction, with ``final_label``."""
    frame = pd.DataFrame([asdict(record) for record in records])
    frame["final_label"] = [record.final_label for record in records]
    return frame
