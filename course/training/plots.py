"""Plots of training jobs for assignment 03: status timelines, training against billable time.

Each function draws on the Axes it is given, or on a new figure, and returns it.

Examples
--------
>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
>>> def at(s):
...     return t0 + timedelta(seconds=s)
>>> job = {"CreationTime": t0, "SecondaryStatusTransitions": [
...     {"Status": "Starting", "StartTime": at(0), "EndTime": at(30)},
...     {"Status": "Training", "StartTime": at(30), "EndTime": at(500)},
...     {"Status": "Completed", "StartTime": at(500), "EndTime": at(500)}]}
>>> ax = plot_status_timeline({"on demand": job})
>>> [label.get_text() for label in ax.get_yticklabels()]
['on demand']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Patch

__all__ = ["STATUS_COLORS", "plot_status_timeline", "plot_training_vs_billable"]

STATUS_COLORS = {
    "Starting": "#bdbdbd",
    "Downloading": "#9ecae1",
    "Training": "#3182bd",
    "Interrupted": "#e6550d",
    "Uploading": "#31a354",
    "Stopping": "#756bb1",
}
"""The colour of each secondary status in :func:`plot_status_timeline`."""


def _axes(ax: Axes | None, **subplots: Any) -> Axes:
    return plt.subplots(**subplots)[1] if ax is None else ax


def plot_status_timeline(descriptions: Mapping[str, Mapping[str, Any]], *, ax: Axes | None = None) -> Axes:
    """One bar per job, coloured by secondary status, against seconds since the job was created.

    Parameters
    ----------
    descriptions : mapping of str to DescribeTrainingJob responses
        Label to the job's description (``CreationTime`` and
        ``SecondaryStatusTransitions`` are used).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``descriptions`` is empty.
    """
    if not descriptions:
        raise ValueError("descriptions is empty: pass {label: describe_training_job(...)}")
    ax = _axes(ax, figsize=(9, 0.7 * len(descriptions) + 1.2))
    labels = list(descriptions)
    for row, label in enumerate(labels):
        description = descriptions[label]
        start = description["CreationTime"]
        for transition in description["SecondaryStatusTransitions"]:
            color = STATUS_COLORS.get(transition["Status"])
            end = transition.get("EndTime")
            if color is None or end is None:
                continue
            left = (transition["StartTime"] - start).total_seconds()
            width = (end - transition["StartTime"]).total_seconds()
            ax.broken_barh([(left, width)], (row - 0.35, 0.7), color=color)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the job was created")
    handles = [Patch(color=color, label=status) for status, color in STATUS_COLORS.items()]
    ax.legend(handles=handles, ncols=3, fontsize="small", loc="lower right")
    return ax


def plot_training_vs_billable(
    descriptions: Mapping[str, Mapping[str, Any]], *, ax: Axes | None = None
) -> Axes:
    """Grouped bars of ``TrainingTimeInSeconds`` and ``BillableTimeInSeconds`` per job.

    Parameters
    ----------
    descriptions : mapping of str to DescribeTrainingJob responses
        Label to the job's description.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_training_vs_billable({"spot": {"TrainingTimeInSeconds": 500, "BillableTimeInSeconds": 100}})
    >>> [float(bar.get_height()) for bar in ax.patches]
    [500.0, 100.0]
    """
    if not descriptions:
        raise ValueError("descriptions is empty: pass {label: describe_training_job(...)}")
    ax = _axes(ax)
    x = np.arange(len(descriptions))
    training = [float(d["TrainingTimeInSeconds"]) for d in descriptions.values()]
    billable = [float(d["BillableTimeInSeconds"]) for d in descriptions.values()]
    ax.bar(x - 0.2, training, width=0.4, label="TrainingTimeInSeconds", color="#3182bd")
    ax.bar(x + 0.2, billable, width=0.4, label="BillableTimeInSeconds", color="#e6550d")
    ax.set_xticks(x, list(descriptions))
    ax.set_ylabel("seconds")
    ax.legend()
    return ax
