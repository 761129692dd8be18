import matplotlib.pyplot as plt
import numpy as np
import pytest

from course.plotting import bar_compare, plot_learning_curves


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


CURVES = {
    "uncertainty": ([1, 2, 3], [0.5, 0.7, 0.8], [0.1, 0.05, 0.02]),
    "random": ([1, 2, 3], [0.4, 0.6, 0.7], None),
}


def test_learning_curves_draw_lines_bands_and_labels():
    ax = plot_learning_curves(CURVES, xlabel="labels", ylabel="accuracy", title="Active learning")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["uncertainty", "random"]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.5, 0.7, 0.8])
    assert len(ax.collections) == 1
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(0.4)
    assert band[:, 1].max() == pytest.approx(0.82)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "labels",
        "accuracy",
        "Active learning",
    )
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["uncertainty", "random"]


@pytest.mark.parametrize("plot", [plot_learning_curves, bar_compare])
def test_draws_on_given_axes(plot):
    _, ax = plt.subplots()
    data = CURVES if plot is plot_learning_curves else {"a": 1.0}
    assert plot(data, ax=ax) is ax


@pytest.mark.parametrize(
    "curve",
    [([1, 2, 3], [0.5, 0.7], None), ([1, 2], [0.5, 0.7], [0.1, 0.1, 0.1])],
)
def test_learning_curves_reject_length_mismatch(curve):
    with pytest.raises(ValueError, match="curve 'bad': arrays differ in length"):
        plot_learning_curves({"bad": curve})


@pytest.mark.parametrize("plot", [plot_learning_curves, bar_compare])
def test_empty_input_is_refused(plot):
    with pytest.raises(ValueError, match="is empty"):
        plot({})


def test_bar_compare_single_series():
    ax = bar_compare({"real-time": 12.0, "serverless": 310.0, "async": 45.5}, title="Latency")
    assert [bar.get_height() for bar in ax.patches] == [12.0, 310.0, 45.5]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == [
        "real-time",
        "serverless",
        "async",
    ]
    assert [text.get_text() for text in ax.texts] == ["12", "310", "45.5"]
    assert ax.get_legend() is None
    assert ax.get_title() == "Latency"


def test_bar_compare_groups_series_side_by_side():
    ax = bar_compare({"A": {"acc": 0.9, "f1": 0.8}, "B": {"acc": 0.7, "f1": 0.6}})
    heights = [bar.get_height() for bar in ax.patches]
    centers = [bar.get_x() + bar.get_width() / 2 for bar in ax.patches]
    assert heights == [0.9, 0.8, 0.7, 0.6]
    np.testing.assert_allclose(centers, [-0.2, 0.8, 0.2, 1.2])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"A": {"acc": 0.9}, "B": {"f1": 0.6}}, "series 'B' has categories"),
        ({"A": {"acc": 0.9, "f1": 0.8}, "B": {"f1": 0.6, "acc": 0.7}}, "same order"),
        ({"A": {"acc": 0.9}, "B": 0.7}, "mixes numbers and mappings"),
    ],
)
def test_bar_compare_rejects_inconsistent_series(values, message):
    with pytest.raises(ValueError, match=message):
        bar_compare(values)
