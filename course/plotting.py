"""Plotting helpers shared by the notebooks.

Each function draws on the Axes it is given, or on a new figure, and returns
the Axes so a notebook can adjust it further.  This module does not choose a
matplotlib backend: Jupyter sets its own, and without a display matplotlib
falls back to the non-interactive Agg backend by itself.

Examples
--------
>>> ax = bar_compare({"real-time": 12.0, "serverless": 310.0}, ylabel="latency (ms)")
>>> [text.get_text() for text in ax.texts]
['12', '310']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

__all__ = ["bar_compare", "plot_learning_curves"]


def _axes(ax: Axes | None) -> Axes:
    return plt.subplots()[1] if ax is None else ax


def plot_learning_curves(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float] | None]],
    *,
    ax: Axes | None = None,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
) -> Axes:
    """Plot one line per curve, with a band of one standard deviation around it.

    Parameters
    ----------
    curves : mapping of str to (x, y_mean, y_std)
        Legend label to the curve's x values, mean y values and standard
        deviations (for example over seeds).  ``y_std`` may be None for a
        curve measured once, which is drawn without a band.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    xlabel, ylabel, title : str, optional
        Axis labels and title.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``curves`` is empty or a curve's arrays differ in length.

    Examples
    --------
    >>> ax = plot_learning_curves(
    ...     {
    ...         "uncertainty": ([100, 200, 300], [0.80, 0.88, 0.92], [0.02, 0.01, 0.01]),
    ...         "random": ([100, 200, 300], [0.78, 0.84, 0.88], None),
    ...     },
    ...     xlabel="labeled examples",
    ...     ylabel="accuracy",
    ... )
    >>> [line.get_label() for line in ax.get_lines()]
    ['uncertainty', 'random']
    """
    if not curves:
        raise ValueError("curves is empty; pass {label: (x, y_mean, y_std)}")
    ax = _axes(ax)
    for label, (x, y_mean, y_std) in curves.items():
        x, y_mean = np.asarray(x, dtype=float), np.asarray(y_mean, dtype=float)
        lengths = {"x": len(x), "y_mean": len(y_mean)}
        if y_std is not None:
            y_std = np.asarray(y_std, dtype=float)
            lengths["y_std"] = len(y_std)
        if len(set(lengths.values())) > 1:
            raise ValueError(f"curve {label!r}: arrays differ in length {lengths}")
        (line,) = ax.plot(x, y_mean, marker="o", markersize=3, label=label)
        if y_std is not None:
            ax.fill_between(x, y_mean - y_std, y_mean + y_std, color=line.get_color(), alpha=0.2)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def bar_compare(
    values: Mapping[str, float] | Mapping[str, Mapping[str, float]],
    *,
    ax: Axes | None = None,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
) -> Axes:
    """Draw a bar chart comparing values, each bar labelled with its value.

    Parameters
    ----------
    values : mapping of str to float, or of str to mapping of str to float
        ``{category: value}`` draws one bar per category.  ``{series:
        {category: value}}`` draws a group of bars per category, one bar per
        series, with a legend; every series must have the same categories.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    xlabel, ylabel, title : str, optional
        Axis labels and title.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``values`` is empty or the series have different categories.

    Examples
    --------
    >>> ax = bar_compare(
    ...     {"model A": {"accuracy": 0.91, "f1": 0.88}, "model B": {"accuracy": 0.93, "f1": 0.86}},
    ...     ylabel="score",
    ... )
    >>> [tick.get_text() for tick in ax.get_xticklabels()]
    ['accuracy', 'f1']
    """
    if not values:
        raise ValueError("values is empty; pass {category: value} or {series: {category: value}}")
    kinds = {isinstance(value, Mapping) for value in values.values()}
    if len(kinds) > 1:
        raise ValueError(
            "values mixes numbers and mappings; pass {category: value} or {series: {category: value}}"
        )
    grouped = kinds == {True}
    series = values if grouped else {"": values}
    categories = list(next(iter(series.values())))
    for name, bars in series.items():
        if list(bars) != categories:
            raise ValueError(
                f"series {name!r} has categories {list(bars)}, expected {categories}; "
                "give every series the same categories in the same order"
            )
    ax = _axes(ax)
    positions = np.arange(len(categories))
    width = 0.8 / len(series)
    for i, (name, bars) in enumerate(series.items()):
        offset = (i - (len(series) - 1) / 2) * width
        container = ax.bar(positions + offset, list(bars.values()), width, label=name)
        ax.bar_label(container, fmt="{:.3g}")
    ax.set_xticks(positions, categories)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if grouped:
        ax.legend()
    return ax
