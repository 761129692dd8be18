"""A spot market simulator, and the scaled clock the local training jobs run on.

EC2 reclaims spot capacity when it needs it back. It gives a best-effort
two-minute notice; SageMaker then stops the training container the way it
stops any job: SIGTERM, 120 seconds to finish, then SIGKILL. After an
interruption the job waits until spot capacity is available again, and it
may also wait before its first start.

:class:`SpotMarket` scripts when that happens, per launch of the job
("attempt"): how long the attempt waits for capacity, and after how many
seconds of training it is interrupted. A schedule is either written out or
drawn from a seed (:meth:`SpotMarket.random`).

Time is simulated: a job reports simulated seconds, and one simulated second
lasts ``time_scale`` real seconds (:data:`TIME_SCALE` by default), so a
two-minute grace period takes 1.2 s on your machine. The training script
really runs meanwhile, so everything it does is measured on the same clock.

Examples
--------
>>> market = SpotMarket(interruptions=(300.0, 450.0), capacity_waits=(0.0, 60.0))
>>> market.interruption_after(0), market.interruption_after(1), market.interruption_after(2)
(300.0, 450.0, None)
>>> market.capacity_wait(1), market.capacity_wait(5)
(60.0, 0.0)
>>> SpotMarket.random(seed=0, max_interruptions=3) == SpotMarket.random(seed=0, max_interruptions=3)
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

__all__ = ["GRACE_SECONDS", "TIME_SCALE", "SimulatedClock", "SpotMarket"]

TIME_SCALE = 0.01
"""Real seconds per simulated second: 120 simulated seconds take 1.2 real seconds."""

GRACE_SECONDS = 120.0
"""SageMaker's time between SIGTERM and SIGKILL (and EC2's spot notice), in seconds."""


def _check_seconds(values: tuple[float, ...], name: str) -> tuple[float, ...]:
    values = tuple(float(v) for v in values)
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError(f"{name} must be finite numbers of seconds >= 0, got {values}")
    return values


@dataclass(frozen=True)
class SpotMarket:
    """When spot capacity is available, and when it is taken away, for each launch of a job.

    Parameters
    ----------
    interruptions : tuple of float
        ``interruptions[k]`` is how many seconds after the ``k``-th launch
        starts training the interruption notice arrives (``k = 0`` is the first
        launch). Launches beyond the tuple run uninterrupted.
    capacity_waits : tuple of float
        ``capacity_waits[k]`` is how long the ``k``-th launch waits for spot
        capacity before it starts; 0 beyond the tuple.
    grace_seconds : float
        Time between SIGTERM and SIGKILL (real SageMaker: 120 s).

    Raises
    ------
    ValueError
        If a time is negative or not finite.
    """

    interruptions: tuple[float, ...] = ()
    capacity_waits: tuple[float, ...] = ()
    grace_seconds: float = GRACE_SECONDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "interruptions", _check_seconds(tuple(self.interruptions), "interruptions"))
        object.__setattr__(
            self, "capacity_waits", _check_seconds(tuple(self.capacity_waits), "capacity_waits")
        )
        object.__setattr__(self, "grace_seconds", _check_seconds((self.grace_seconds,), "grace_seconds")[0])

    @classmethod
    def random(
        cls,
        *,
        seed: int,
        max_interruptions: int,
        mean_seconds_to_interruption: float = 600.0,
        mean_capacity_wait: float = 60.0,
        grace_seconds: float = GRACE_SECONDS,
    ) -> SpotMarket:
        """A market whose times are drawn from exponential distributions with a seed.

        Parameters
        ----------
        seed : int
            Seed of the NumPy generator; the same seed gives the same market.
        max_interruptions : int
            The first ``max_interruptions`` launches are interrupted; later ones
            run to the end, so a job that checkpoints always finishes.
        mean_seconds_to_interruption : float, optional
            Mean training time of a launch before its notice.
        mean_capacity_wait : float, optional
            Mean wait for capacity before each launch after an interruption
            (the first launch gets capacity at once).
        grace_seconds : float, optional
            Time between SIGTERM and SIGKILL.

        Examples
        --------
        >>> market = SpotMarket.random(seed=1, max_interruptions=2, mean_seconds_to_interruption=100)
        >>> len(market.interruptions), market.capacity_waits[0]
        (2, 0.0)
        """
        if (
            isinstance(max_interruptions, bool)
            or not isinstance(max_interruptions, int)
            or max_interruptions < 0
        ):
            raise ValueError(f"max_interruptions ({max_interruptions!r}) must be an int >= 0")
        rng = np.random.default_rng(seed)
        interruptions = rng.exponential(mean_seconds_to_interruption, size=max_interruptions)
        waits = rng.exponential(mean_capacity_wait, size=max_interruptions)
        return cls(
            interruptions=tuple(interruptions.tolist()),
            capacity_waits=(0.0, *waits.tolist()),
            grace_seconds=grace_seconds,
        )

    def interruption_after(self, attempt: int) -> float | None:
        """Seconds of training before launch ``attempt`` gets its notice, or None if never."""
        return self.interruptions[attempt] if attempt < len(self.interruptions) else None

    def capacity_wait(self, attempt: int) -> float:
        """Seconds launch ``attempt`` waits for spot capacity."""
        return self.capacity_waits[attempt] if attempt < len(self.capacity_waits) else 0.0


class SimulatedClock:
    """Simulated seconds since a start, running ``1 / time_scale`` times faster than real time.

    Parameters
    ----------
    time_scale : float
        Real seconds per simulated second (> 0).
    start : datetime, optional
        The simulated wall-clock time at creation; now (UTC) by default.

    Examples
    --------
    >>> clock = SimulatedClock(time_scale=0.001)
    >>> clock.sleep(50)  # 50 simulated seconds, 0.05 real seconds
    >>> 50 <= clock.elapsed() < 5000
    True
    """

    def __init__(self, *, time_scale: float, start: datetime | None = None) -> None:
        if not math.isfinite(time_scale) or time_scale <= 0:
            raise ValueError(f"time_scale ({time_scale}) must be a finite number > 0")
        self.time_scale = float(time_scale)
        self.start = start if start is not None else datetime.now(UTC)
        self._origin = time.monotonic()

    def elapsed(self) -> float:
        """Simulated seconds since the start."""
        return (time.monotonic() - self._origin) / self.time_scale

    def now(self) -> datetime:
        """The simulated wall-clock time."""
        return self.start + timedelta(seconds=self.elapsed())

    def at(self, elapsed: float) -> datetime:
        """The simulated wall-clock time ``elapsed`` simulated seconds after the start."""
        return self.start + timedelta(seconds=elapsed)

    def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` simulated seconds."""
        time.sleep(max(0.0, seconds) * self.time_scale)
