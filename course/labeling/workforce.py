"""A simulated Ground Truth workforce: workers with their own accuracy and price.

In Ground Truth a labeling job sends each object to
``NumberOfHumanWorkersPerDataObject`` workers of a work team and consolidates
their answers. Here every worker is simulated: with probability ``accuracy``
they give the true class, otherwise a uniformly chosen wrong one, and each
answer costs their ``cost_per_label``.

Examples
--------
>>> import numpy as np
>>> workforce = Workforce.simulate(4, seed=0)
>>> batch = workforce.annotate(np.array([0, 1, 2]), n_classes=3, workers_per_object=2)
>>> batch.answers.shape
(3, 4)
>>> [int((row >= 0).sum()) for row in batch.answers]
[2, 2, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from course.labeling._validation import MISSING

__all__ = ["MISSING", "Annotations", "Worker", "Workforce"]


@dataclass(frozen=True)
class Worker:
    """One simulated worker.

    Parameters
    ----------
    worker_id : str
        Name shown in reports.
    accuracy : float
        Probability of giving the true class, in ``[0, 1]``.
    cost_per_label : float
        Price of one answer (dollars), ``>= 0``.
    """

    worker_id: str
    accuracy: float
    cost_per_label: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.accuracy <= 1.0:
            raise ValueError(f"accuracy of {self.worker_id} ({self.accuracy}) must be in [0, 1]")
        if self.cost_per_label < 0:
            raise ValueError(f"cost_per_label of {self.worker_id} ({self.cost_per_label}) must be >= 0")


@dataclass(frozen=True)
class Annotations:
    """Answers to one batch of objects.

    Attributes
    ----------
    answers : np.ndarray
        ``(n_objects, n_workers)`` class ids; column ``w`` is worker ``w`` of the
        workforce and ``MISSING`` (-1) means that worker was not asked.
    cost : float
        Total price of the batch.
    """

    answers: np.ndarray
    cost: float


class Workforce:
    """A team of simulated workers sharing one seeded random generator.

    Parameters
    ----------
    workers : sequence of Worker
        The team, at least one worker.
    seed : int
        Seeds who is asked and which mistakes are made; the same seed and the
        same calls give the same answers.
    """

    def __init__(self, workers: Sequence[Worker], *, seed: int = 0) -> None:
        if len(workers) == 0:
            raise ValueError("a workforce needs at least one worker")
        self.workers = tuple(workers)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    @classmethod
    def simulate(
        cls,
        n_workers: int = 5,
        *,
        accuracy: tuple[float, float] = (0.7, 0.95),
        cost_per_label: tuple[float, float] = (0.02, 0.08),
        seed: int = 0,
    ) -> Workforce:
        """Draw ``n_workers`` workers with accuracy and price uniform in the given ranges."""
        if n_workers < 1:
            raise ValueError(f"n_workers ({n_workers}) must be >= 1")
        for name, (low, high) in (("accuracy", accuracy), ("cost_per_label", cost_per_label)):
            if low > high:
                raise ValueError(f"{name} range ({low}, {high}) must be (low, high) with low <= high")
        rng = np.random.default_rng(seed)
        accuracies = rng.uniform(*accuracy, size=n_workers)
        costs = rng.uniform(*cost_per_label, size=n_workers)
        workers = [
            Worker(f"worker-{i:02d}", round(float(a), 3), round(float(c), 4))
            for i, (a, c) in enumerate(zip(accuracies, costs, strict=True))
        ]
        return cls(workers, seed=seed + 1)

    @property
    def accuracy(self) -> np.ndarray:
        """True accuracy of each worker (hidden from the consolidation)."""
        return np.array([w.accuracy for w in self.workers])

    @property
    def cost_per_label(self) -> np.ndarray:
        """Price of one answer from each worker."""
        return np.array([w.cost_per_label for w in self.workers])

    def annotate(self, y_true: np.ndarray, *, n_classes: int, workers_per_object: int = 3) -> Annotations:
        """Ask ``workers_per_object`` distinct random workers to label each object.

        Parameters
        ----------
        y_true : np.ndarray
            Hidden true class ids of the objects, in ``[0, n_classes)``.
        n_classes : int
            Number of classes a worker can choose from (at least 2).
        workers_per_object : int
            Workers asked per object (Ground Truth's
            ``NumberOfHumanWorkersPerDataObject``), at most the team size.
        """
        y_true = np.asarray(y_true, dtype=int)
        n_workers = len(self.workers)
        if n_classes < 2:
            raise ValueError(f"n_classes ({n_classes}) must be >= 2")
        if not 1 <= workers_per_object <= n_workers:
            raise ValueError(
                f"workers_per_object ({workers_per_object}) must be between 1 and the number "
                f"of workers ({n_workers})"
            )
        if y_true.size and (y_true.min() < 0 or y_true.max() >= n_classes):
            raise ValueError(f"y_true must hold class ids in [0, {n_classes})")
        n_objects = y_true.size
        asked = np.argsort(self._rng.random((n_objects, n_workers)), axis=1)[:, :workers_per_object]
        rows = np.repeat(np.arange(n_objects), workers_per_object)
        cols = asked.ravel()
        truth = y_true[rows]
        right = self._rng.random(rows.size) < self.accuracy[cols]
        shift = self._rng.integers(1, n_classes, size=rows.size)
        answers = np.full((n_objects, n_workers), MISSING, dtype=int)
        answers[rows, cols] = np.where(right, truth, (truth + shift) % n_classes)
        return Annotations(answers=answers, cost=float(self.cost_per_label[cols].sum()))
