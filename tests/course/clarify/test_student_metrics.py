"""The five metrics students write: handed over with use_metrics, the reference otherwise, a clear error without either."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course.clarify import (
    STUDENT_METRICS,
    MissingMetricError,
    bias_report,
    posttraining_bias,
    pretraining_bias,
    use_metrics,
)
from course.clarify import bias as bias_module
from course.monitor import bias_drift

CONFIG = {
    "label": "y",
    "label_values_or_threshold": [1],
    "facet_name": "g",
    "facet_values_or_threshold": ["d"],
}
FRAME = pd.DataFrame({
    "g": ["a"] * 6 + ["d"] * 4,
    "x": [0.1, 0.5, 0.3, 0.9, 0.7, 0.2, 0.4, 0.8, 0.6, 0.0],
    "y": [1, 1, 1, 1, 0, 0, 1, 0, 0, 0],
    "y_hat": [1, 1, 1, 0, 1, 0, 0, 0, 1, 0],
})  # fmt: skip
PRE = ["CI", "DPL"]
POST = ["DI", "DPPL", "RD"]


@pytest.fixture(autouse=True)
def nothing_supplied(monkeypatch):
    """Each test starts with no student function handed over, and leaves none behind."""
    monkeypatch.setattr(bias_module, "_supplied", {})


@pytest.fixture
def no_reference(monkeypatch):
    """The student edition and the grading sandbox: the instructor-only module is absent."""
    monkeypatch.setattr(bias_module, "_REFERENCE", {})


def test_reference_has_the_contracts_the_notebook_states():
    from course.clarify import _reference

    path = _reference.__file__
    with open(path) as f:
        assert f.readline().startswith("# course: instructor-only")
    assert _reference.class_imbalance([1, 0, 0, 0]) == 0.5
    assert type(_reference.dpl(np.array([True, False]), np.array([True, True]))) is float
    facet = np.array([True, False, False])
    _reference.dppl(facet, [1, 1, 0])
    assert facet.tolist() == [True, False, False]
    for call, word in [
        (lambda: _reference.dpl([True, False], [True]), "length"),
        (lambda: _reference.class_imbalance([True, True]), "group"),
        (lambda: _reference.recall_difference([[True, False]], [[True, False]], [[True, False]]), "1-D"),
    ]:
        with pytest.raises(ValueError, match=word):
            call()


def test_supplied_functions_are_called_with_copies_of_the_masks():
    calls = []

    def spy(name, value):
        def metric(*masks):
            calls.append((name, [m.tolist() for m in masks]))
            for mask in masks:
                mask[:] = True  # must not reach the package's own masks
            return value

        return metric

    use_metrics(**{name: spy(name, float(i)) for i, name in enumerate(PRE + POST)})
    out = posttraining_bias(FRAME, **CONFIG, predicted_label="y_hat", methods=["DI", "DPPL", "RD", "AD"])
    assert out == {"DI": 2.0, "DPPL": 3.0, "RD": 4.0, "AD": pytest.approx(4 / 6 - 2 / 4)}
    facet = [False] * 6 + [True] * 4
    y, y_hat = FRAME["y"].astype(bool).tolist(), FRAME["y_hat"].astype(bool).tolist()
    assert calls == [("DI", [facet, y_hat]), ("DPPL", [facet, y_hat]), ("RD", [facet, y, y_hat])]
    assert pretraining_bias(FRAME, **CONFIG, methods=PRE) == {"CI": 0.0, "DPL": 1.0}
    assert calls[-2:] == [("CI", [facet]), ("DPL", [facet, y])]


def test_none_forgets_a_function_and_the_reference_fills_in():
    expected = pretraining_bias(FRAME, **CONFIG, methods=["CI"])["CI"]
    use_metrics(CI=lambda facet: 7.0)
    assert pretraining_bias(FRAME, **CONFIG, methods=["CI"])["CI"] == 7.0
    use_metrics(CI=None)
    assert pretraining_bias(FRAME, **CONFIG, methods=["CI"])["CI"] == expected == pytest.approx(0.2)


@pytest.mark.usefixtures("no_reference")
@pytest.mark.parametrize("name", PRE + POST)
def test_without_reference_or_student_function_the_error_says_what_to_do(name):
    part, signature = STUDENT_METRICS[name]
    compute = (
        (lambda: pretraining_bias(FRAME, **CONFIG, methods=[name]))
        if name in PRE
        else (lambda: posttraining_bias(FRAME, **CONFIG, predicted_label="y_hat", methods=[name]))
    )
    with pytest.raises(MissingMetricError) as error:
        compute()
    message = str(error.value)
    function = signature.split("(")[0]
    assert part in message and signature in message
    assert f"course.clarify.use_metrics({name}={function})" in message


@pytest.mark.usefixtures("no_reference")
def test_without_reference_the_students_functions_carry_reports_and_drift():
    from course.clarify import _reference

    # everything else is still there
    assert pretraining_bias(FRAME, **CONFIG, methods=["KL", "TVD"])["TVD"] == pytest.approx(4 / 6 - 1 / 4)
    with pytest.raises(MissingMetricError, match="Part A"):
        bias_report(FRAME, **CONFIG)
    with pytest.raises(MissingMetricError, match="Part B"):
        bias_drift(
            FRAME, metric="DPPL", allowed_range=(-0.1, 0.1), n_bootstrap=5, **CONFIG, predicted_label="y_hat"
        )
    use_metrics(**{name: getattr(_reference, STUDENT_METRICS[name][1].split("(")[0]) for name in PRE + POST})
    report = bias_report(FRAME, **CONFIG, predicted_label="y_hat")
    names = [m["name"] for m in report["post_training_bias_metrics"]["facets"]["g"][0]["metrics"]]
    assert set(POST) <= set(names)
    drift = bias_drift(
        FRAME, metric="DPPL", allowed_range=(-1, 1), n_bootstrap=5, **CONFIG, predicted_label="y_hat"
    )
    assert drift["value"] == pytest.approx(4 / 6 - 1 / 4)


def test_use_metrics_rejects_unknown_names_and_non_functions():
    with pytest.raises(ValueError, match=r"takes the metrics \['CI', 'DPL', 'DI', 'DPPL', 'RD'\].*\['KL'\]"):
        use_metrics(KL=lambda facet: 0.0)
    with pytest.raises(
        ValueError, match=r"CI must be a function such as class_imbalance\(facet\), got float"
    ):
        use_metrics(CI=0.5)
    assert bias_module._supplied == {}
