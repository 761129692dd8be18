"""A monitoring schedule simulated over captured traffic, one execution per hourly window.

Used by assignment 05. A real schedule (``CronExpressionGenerator.hourly()``)
starts a processing job at the top of every hour over the data captured in
the previous hour. Here the captured requests are cut into the same windows
and each monitor runs on each window; the result is one row per window and
monitor, ready to plot.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [1, 2, 3],
...                       "inference_time": pd.to_datetime(["2024-05-01T10:05Z", "2024-05-01T10:50Z",
...                                                         "2024-05-01T12:01Z"])})
>>> simulate_schedule(frame, monitors={"rows": lambda window: len(window)})
               window_start monitor  n_rows  violations
0 2024-05-01 10:00:00+00:00    rows       2           2
1 2024-05-01 11:00:00+00:00    rows       0           0
2 2024-05-01 12:00:00+00:00    rows       1           1
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pandas as pd
from matplotlib.axes import Axes

__all__ = ["hourly_windows", "plot_violations", "simulate_schedule"]

Monitor = Callable[[pd.DataFrame], Any]


def hourly_windows(frame: pd.DataFrame, *, freq: str = "1h") -> Iterator[tuple[pd.Timestamp, pd.DataFrame]]:
    """``(window_start, rows)`` for each window from the first request's hour to the last's, empty ones included."""
    if "inference_time" not in frame.columns:
        raise ValueError("frame needs an 'inference_time' column (read it with read_capture)")
    if frame.empty:
        return
    times = pd.to_datetime(frame["inference_time"], utc=True)
    starts = pd.date_range(times.min().floor(freq), times.max().floor(freq), freq=freq)
    for start in starts:
        end = start + pd.Timedelta(freq)
        yield start, frame[(times >= start) & (times < end)]


def _count(result: Any) -> int:
    """A monitor returns a list of violations, a dict with ``"violation"``/``"violations"``, or a count."""
    if isinstance(result, bool):
        return int(result)
    if isinstance(result, int):
        return result
    if isinstance(result, list):
        return len(result)
    if isinstance(result, Mapping):
        if "violations" in result:
            return len(result["violations"])
        if "violation" in result:
            return int(bool(result["violation"]))
    raise TypeError(
        f"a monitor must return a list of violations, a dict with 'violation(s)', or an int; got {type(result).__name__}"
    )


def simulate_schedule(
    frame: pd.DataFrame, *, monitors: Mapping[str, Monitor], freq: str = "1h", min_rows: int = 1
) -> pd.DataFrame:
    """Run each monitor on each window of captured traffic.

    Parameters
    ----------
    frame : pandas.DataFrame
        Captured requests with ``inference_time`` (and whatever the monitors read).
    monitors : mapping of name to callable
        Each takes the window's rows and returns its violations (a list, a dict
        with ``"violations"`` or ``"violation"``, or a count).
    freq : str
        Window length (``"1h"``: an hourly schedule).
    min_rows : int
        Windows with fewer rows are not monitored (0 violations), as an
        execution with no captured data has nothing to analyse.

    Returns
    -------
    pandas.DataFrame
        Columns ``window_start``, ``monitor``, ``n_rows``, ``violations``.
    """
    if not monitors:
        raise ValueError("give at least one monitor")
    rows = []
    for start, window in hourly_windows(frame, freq=freq):
        for name, monitor in monitors.items():
            count = _count(monitor(window)) if len(window) >= min_rows else 0
            rows.append({"window_start": start, "monitor": name, "n_rows": len(window), "violations": count})
    return pd.DataFrame(rows, columns=["window_start", "monitor", "n_rows", "violations"])


def plot_violations(
    schedule: pd.DataFrame, *, ax: Axes | None = None, title: str = "Violations per hourly execution"
) -> Axes:
    """One line per monitor: violations against window start."""
    import matplotlib.pyplot as plt

    ax = plt.subplots(figsize=(8, 3))[1] if ax is None else ax
    for name, group in schedule.groupby("monitor", sort=False):
        ax.step(group["window_start"], group["violations"], where="post", label=str(name))
    ax.set_xlabel("window start (UTC)")
    ax.set_ylabel("violations")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return ax
